"""The type checker runs on the package: mypy over src/cnnzoo, clean, with pyproject's settings.

The settings (``[tool.mypy]`` in pyproject.toml) are the level the project states:
``check_untyped_defs``, ``warn_unused_ignores``, ``warn_redundant_casts`` and
``no_implicit_optional``, with third-party packages that ship no stubs treated as Any.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_mypy_is_clean_on_src(tmp_path):
    mypy = shutil.which("mypy", path=str(Path(sys.executable).parent))
    if mypy is None:
        pytest.skip("mypy is a dev dependency: pip install -e '.[dev]'")
    result = subprocess.run(
        [mypy, "--cache-dir", str(tmp_path / "mypy-cache"), "--no-error-summary"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert result.returncode == 0 and not errors, "\n".join(errors[:40]) or result.stderr
