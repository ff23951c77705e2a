"""The package surface: a torch-free import, the CLI, the guide's code and the doctests."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.interpret.helpers import ROOT

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


# -- the package surface and the CLI -----------------------------------------------------
def test_importing_cnnzoo_stays_torch_free_and_explain_is_callable():
    code = ("import sys, cnnzoo; assert 'torch' not in sys.modules; "
            "import cnnzoo.interpret.views as v; import cnnzoo.interpret as m; "
            "assert callable(cnnzoo.explain) and cnnzoo.explain is m.explain; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def _digit_pngs(tmp_path: Path, n: int) -> list[str]:
    from PIL import Image

    from cnnzoo.data import digits

    images, labels = digits((1, 32, 32), normalize=False).test.tensors
    paths = []
    for i in range(n):
        path = tmp_path / f"digit{i}_{int(labels[i])}.png"
        Image.fromarray((images[i, 0] * 255).round().byte().numpy()).save(path)
        paths.append(str(path))
    return paths


def test_cli_writes_overlays_and_prints_top_classes(tmp_path, capsys):
    from cnnzoo.cli import main

    paths = _digit_pngs(tmp_path, 3)
    out = tmp_path / "out"
    code = main(["explain", "--model", "lenet5", "--pretrained", *paths, "--method",
                 "gradcam++", "--out", str(out), "--top", "3"])
    printed = capsys.readouterr().out
    assert code == 0
    pngs = sorted(p.name for p in out.iterdir())
    assert pngs == sorted(f"{Path(p).stem}_gradcampp.png" for p in paths)
    for path in paths:
        true = Path(path).stem.rsplit("_", 1)[1]
        line = next(ln for ln in printed.splitlines() if ln.startswith(path))
        assert re.match(rf"{re.escape(path)}: {true} 0\.\d+", line), line  # top-1 is right
    code = main(["explain", "--model", "lenet5.digits", paths[0], "--method", "saliency",
                 "--target", "4", "--out", str(out)])
    assert code == 0 and "saliency for class 4" in capsys.readouterr().out


def test_cli_errors_are_one_line_with_exit_2(tmp_path, capsys):
    from cnnzoo.cli import main

    paths = _digit_pngs(tmp_path, 1)
    assert main(["explain", "--model", "lenet5", str(tmp_path / "missing.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "image not found" in err
    assert main(["explain", "--model", "lenet5", paths[0], "--method", "gradcm"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown method 'gradcm'" in err and "gradcam++" in err
    assert main(["explain", "--model", "lenet5", paths[0], "--layer", "stage9"]) == 2
    assert "Did you mean: stage1" in capsys.readouterr().err



# -- the guide's code runs ----------------------------------------------------------------------
def test_the_guide_code_blocks_run(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    guide = (ROOT / "docs" / "guides" / "explain.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", guide, flags=re.DOTALL)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "explain.md", "exec"), namespace)


def test_docstring_examples_run():
    import doctest

    import cnnzoo.interpret.api
    import cnnzoo.interpret.layers
    import cnnzoo.interpret.methods
    import cnnzoo.interpret.result
    import cnnzoo.interpret.targets
    import cnnzoo.interpret.views

    for module in (cnnzoo.interpret, cnnzoo.interpret.api, cnnzoo.interpret.targets,
                   cnnzoo.interpret.views, cnnzoo.interpret.layers, cnnzoo.interpret.methods,
                   cnnzoo.interpret.result):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted and not result.failed, module.__name__
