"""``pip install cnnzoo`` works: the wheel carries its entry points and package data.

The wheel is built with ``python -m build`` and installed (by pip) into a fresh virtual
environment without dependencies: listing models needs no torch, so ``cnnzoo list``
there proves the entry points, the catalog and the console script all shipped.
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile

import pytest

import cnnzoo

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory, repo_root):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
         str(repo_root)],
        check=True, capture_output=True, text=True,
    )
    (path,) = out.glob("cnnzoo-*.whl")
    return path


def test_wheel_metadata(wheel):
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.endswith("METADATA"))
        metadata = zf.read(f"{dist_info}/METADATA").decode()
        entry_points = zf.read(f"{dist_info}/entry_points.txt").decode()
    assert f"Version: {cnnzoo.__version__}" in metadata
    assert "License-Expression: Apache-2.0" in metadata or "License: Apache-2.0" in metadata
    assert "Requires-Dist: torch>=" in metadata  # ranges, not pins
    assert "[cnnzoo.models]" in entry_points and "cnnzoo.catalog.resnet:SPECS" in entry_points
    assert "[console_scripts]" in entry_points
    assert "cnnzoo/py.typed" in names


def test_wheel_installs_and_lists_every_builtin(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    # no pip of its own (ensurepip costs seconds): this environment's pip installs into it
    venv.EnvBuilder(with_pip=False).create(env_dir)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(env_dir / "bin" / "python"),
                    "install", "--no-deps", "--no-index", "-q", str(wheel)],
                   check=True, capture_output=True, text=True)
    result = subprocess.run([str(env_dir / "bin" / "cnnzoo"), "list", "--json"],
                            check=True, capture_output=True, text=True)
    listed = {d["name"] for d in json.loads(result.stdout)}
    builtins = {n for n in cnnzoo.list_models() if cnnzoo.model_info(n).source == "cnnzoo"}
    assert listed == builtins
