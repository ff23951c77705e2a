"""The docs site build shared by ``test_docs.py`` and ``test_site_browser.py``.

``mkdocs build --strict`` is the slowest single step of the suite, so it runs once per test
session: the ``docs_build`` fixture (``tests/docs/conftest.py``) calls :func:`build_once`
with a directory every xdist worker of the session shares; the first worker to take the
file lock builds, the others wait and read the recorded result.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from filelock import FileLock

from tests.helpers import ROOT

BUILD_TIMEOUT_S = 900


def docs_env() -> dict[str, str]:
    """The environment of the docs build and of the docs' scripts: offline, headless."""
    env = dict(os.environ)
    env.update(
        DISABLE_MKDOCS_2_WARNING="true",  # banners printed by theme/plugins, not build warnings
        NO_MKDOCS_2_WARNING="1",
        HF_HUB_OFFLINE="1",
        MPLBACKEND="Agg",
    )
    return env


@dataclass(frozen=True)
class Build:
    site: Path
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def check(self) -> None:
        """Fail with the build's output unless it succeeded without any warning."""
        assert self.returncode == 0, (
            f"mkdocs build --strict failed:\n{self.stdout}\n{self.stderr}"
        )
        warnings = re.findall(r"^WARNING\s+-.*$", self.stderr, flags=re.MULTILINE)
        assert not warnings, "\n".join(warnings)


def build_site(site: Path) -> Build:
    """``mkdocs build --strict -d site``."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        env=docs_env(),
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    return Build(site, proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start)


def build_once(shared: Path) -> Build:
    """Build the site into ``shared / "docs-site"`` unless a process of this session did.

    ``shared`` is a directory of this test session only (all xdist workers see it); the
    result (return code, output, duration) is recorded next to the site, so a build that
    failed is reported to every worker instead of being retried.
    """
    home = shared / "docs-site"
    record = home / "build.json"
    with FileLock(str(shared / "docs-site.lock")):
        if not record.is_file():
            home.mkdir(parents=True, exist_ok=True)
            build = build_site(home / "site")
            fields = {**asdict(build), "site": str(build.site)}
            tmp = record.with_suffix(".tmp")
            tmp.write_text(json.dumps(fields), encoding="utf-8")
            tmp.replace(record)
        fields = json.loads(record.read_text(encoding="utf-8"))
    return Build(**{**fields, "site": Path(fields["site"])})
