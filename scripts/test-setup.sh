#!/usr/bin/env bash
# System packages the test suite needs beyond Python: Debian's Chromium and its
# WebDriver, for tests/test_site_browser.py (the docs site checked in a real browser).
# Idempotent and quick when they are already installed; uses sudo when not root.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "test-setup: install Chromium and its chromedriver (same version) for the browser" \
       "check, or set CNNZOO_SKIP_BROWSER=1 to skip it" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "test-setup: installing chromium and chromium-driver with apt-get" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
  chromium chromium-driver >/dev/null
