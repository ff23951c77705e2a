"""The documentation builds in strict mode, and the benchmark scripts run."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import cnnzoo

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DISABLE_MKDOCS_2_WARNING="true",  # banners printed by theme/plugins, not build warnings
        NO_MKDOCS_2_WARNING="1",
        HF_HUB_OFFLINE="1",
    )
    return env


@pytest.mark.slow
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocs_gen_files")
    pytest.importorskip("mkdocstrings_handlers.python")
    site = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    warnings = re.findall(r"^WARNING\s+-.*$", proc.stderr, flags=re.MULTILINE)
    assert not warnings, "\n".join(warnings)

    gallery = site / "models" / "index.html"
    assert gallery.is_file(), sorted(p.name for p in (site / "models").iterdir())
    html = gallery.read_text(encoding="utf-8")
    names = cnnzoo.list_models()
    assert names
    missing = [name for name in names if f">{name}<" not in html]
    assert not missing, f"models missing from the gallery: {missing}"

    for family in {cnnzoo.model_info(name).family for name in names}:
        page = site / "models" / family / "index.html"
        assert page.is_file(), f"no gallery page for the family {family!r}"
    assert (site / "reference" / "api" / "index.html").is_file()


def test_import_time_bench_json() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "import_time.py"), "--json", "--repeat", "3"],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["repeat"] == 3
    assert set(result["results"]) == {"torch", "cnnzoo", "timm"}
    for entry in result["results"].values():
        assert len(entry["stmt_s"]) == 3
        assert entry["stmt_median_s"] > 0
    assert result["results"]["cnnzoo"]["models"] == len(cnnzoo.list_models())
    assert isinstance(result["ratios"]["cnnzoo_over_torch"], float)
    assert isinstance(result["meets_goal"], bool)
