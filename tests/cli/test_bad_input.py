"""Every subcommand given bad input: a non-zero exit and ONE line on stderr, no traceback.

The cases stop before anything slow runs (unknown names, missing files, bad values and
tags are all caught before a model is built), so the whole file takes seconds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from cnnzoo.cli import build_parser, main


@pytest.fixture
def image(tmp_path: Path) -> str:
    from PIL import Image

    path = tmp_path / "digit.png"
    Image.new("L", (32, 32), color=128).save(path)
    return str(path)


def _exit_code(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # argparse usage errors
        return int(exc.code or 0)


def fails(capsys: pytest.CaptureFixture[str], command: str, *args: str) -> str:
    """Run ``cnnzoo COMMAND ARGS``; check it fails with one line on stderr; return it."""
    argv = [command, *args] if command else list(args)
    code = _exit_code(argv)
    _, err = capsys.readouterr()
    assert code != 0, f"cnnzoo {' '.join(argv)} succeeded"
    assert "Traceback" not in err
    assert err.endswith("\n") and err.count("\n") == 1, f"not one line on stderr: {err!r}"
    assert err.startswith(f"cnnzoo {command}: error: " if command else "cnnzoo: error: "), err
    return err.strip()


# (command, arguments, what the one line must say); "{image}" and "{tmp}" are filled in
CASES: list[tuple[str, list[str], str]] = [
    ("", [], "required: COMMAND"),
    ("", ["exprot", "lenet5"], "Did you mean: export"),
    ("list", ["--task", "detection"], "invalid choice: 'detection'"),
    ("list", ["--family", "resnt"], "Did you mean: resnet"),
    ("list", ["--json", "--unknown-option"], "unrecognized arguments: --unknown-option"),
    ("info", ["resnet51"], "Did you mean: resnet50"),
    ("info", ["lenet5", "--input-size", "1", "2", "3", "4"], "expected C H W, H W or one side"),
    ("info", ["lenet5", "--input-size", "0", "32", "32"], "expected a positive integer"),
    ("info", ["lenet5", "--layers", "--input-size", "1", "3", "3"], "does not fit the model"),
    ("info", [], "required: MODEL"),
    ("fetch", ["resnet51"], "Did you mean: resnet50"),
    ("fetch", ["lenet5.digts"], "no weights tagged 'digts'"),
    ("convert", ["alexnett", "{tmp}/a.pth", "--out", "{tmp}/out"], "Did you mean: alexnet"),
    ("convert", ["alexnet", "{tmp}/missing.pth", "--out", "{tmp}/out"], "no such file"),
    ("convert", ["alexnet", "{image}", "--out", "{tmp}/out", "--tag", "tv_in1"],
     "Did you mean: tv_in1k"),
    ("push", ["{tmp}/no-folder", "user/repo"], "no such directory"),
    ("push", ["{tmp}"], "required: ORG/NAME"),
    ("demo", ["--epochs", "0"], "expected a positive integer"),
    ("explain", ["lenet6", "{image}"], "Did you mean: lenet"),
    ("explain", ["lenet5", "{tmp}/missing.png"], "no such file"),
    ("explain", ["lenet5", "{image}", "--method", "gradcm"], "unknown method 'gradcm'"),
    ("explain", ["lenet5", "{image}", "--pretrained", "digts"], "Did you mean: digits"),
    ("explain", ["lenet5", "{image}", "--pretrained", "digits", "--random-weights"],
     "not allowed with argument --pretrained"),
    ("explain", ["lenet5", "{image}", "--top-k", "0"], "expected a positive integer"),
    ("finetune", ["resnet51", "--data", "digits", "--out", "{tmp}/o"], "Did you mean: resnet50"),
    ("finetune", ["lenet5", "--data", "{tmp}/none", "--out", "{tmp}/o"], "no such directory"),
    ("finetune", ["lenet5", "--data", "digits", "--out", "{tmp}/o", "--head", "mlp:x"],
     "cannot parse head 'mlp:x'"),
    ("finetune", ["lenet5", "--data", "digits", "--out", "{tmp}/o", "--freeze", "up:2"],
     "use until:STAGE"),
    ("finetune", ["lenet5", "--data", "digits", "--out", "{tmp}/o", "--pretrained", "nope"],
     "no weights tagged 'nope'"),
    ("finetune", ["unet", "--data", "digits", "--out", "{tmp}/o"], "trains classifiers"),
    ("finetune", ["lenet5", "--data", "digits", "--out", "{tmp}/o", "--report", "{image}"],
     "is a file; give a folder for the report"),
    ("export", ["resnet51", "--out", "{tmp}/m.onnx"], "Did you mean: resnet50"),
    ("export", ["{tmp}/no-folder", "--out", "{tmp}/m.onnx"], "no such file or directory"),
    ("export", ["lenet5", "--out", "{tmp}/m.onnx", "--pretrained", "digts"],
     "Did you mean: digits"),
    ("export", ["lenet5", "--out", "{tmp}/m.onnx", "--input-size", "1", "x", "32"],
     "expected a positive integer, got 'x'"),
    ("export", ["lenet5"], "required: -o/--out"),
    ("quantize", ["{tmp}/nope.onnx", "--calibration", "digits"], "no such file"),
    ("quantize", ["resnet51"], "Did you mean: resnet50"),
    ("quantize", ["lenet5", "--batch", "1,x"], "comma-separated positive integers"),
    ("quantize", ["lenet5", "--method", "int9"], "invalid choice: 'int9'"),
    ("predict", ["lenet6", "{image}"], "Did you mean: lenet"),
    ("predict", ["lenet5", "{tmp}/missing.png"], "no such file"),
    ("predict", ["lenet5", "{image}", "--pretrained", "digts"], "Did you mean: digits"),
    ("predict", ["lenet5.digits", "{image}", "--random-weights"], "already selects"),
    ("predict", ["lenet5"], "required: IMAGE"),
    ("bench", ["resnet51"], "Did you mean: resnet50"),
    ("bench", ["lenet5", "--backends", "eager,gpu"], "unknown backend(s) gpu"),
    ("bench", ["lenet5", "--batch", "0"], "comma-separated positive integers"),
    ("bench", ["lenet5", "--warmup", "-1"], "expected an integer ≥ 0"),
    ("evaluate", ["resnet51"], "Did you mean: resnet50"),
    ("evaluate", ["lenet5", "--data", "{tmp}/none"], "no such folder"),
    ("evaluate", ["lenet5", "--compare", "{tmp}/missing.onnx"], "no such file"),
    ("evaluate", ["lenet5", "--backend", "int9"], "invalid choice: 'int9'"),
    ("evaluate", ["lenet5", "--min-accuracy", "99"], "expected a fraction"),
    ("evaluate", ["lenet5", "--ignore-index", "-1"], "a mask value to skip"),
    ("evaluate", ["lenet5", "--data", "{tmp}", "--no-latency"], "but not in class sub-folders"),
]


@pytest.mark.parametrize(("command", "args", "says"), CASES,
                         ids=[f"{c or 'cnnzoo'}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_bad_input_is_one_line_and_a_non_zero_exit(command, args, says, tmp_path, image, capsys):
    line = fails(capsys, command, *(a.format(image=image, tmp=tmp_path) for a in args))
    assert says in line


def test_every_subcommand_has_bad_input_cases():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    covered = {command for command, _, _ in CASES}
    assert set(sub.choices) <= covered, set(sub.choices) - covered


def test_no_traceback_from_the_console_script(tmp_path):
    result = subprocess.run([sys.executable, "-m", "cnnzoo.cli", "predict", "lenet5",
                             str(tmp_path / "missing.png")], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def _failing(exc: BaseException):
    def func(args):
        raise exc
    return func


@pytest.mark.parametrize(("exc", "status", "says"), [
    (FileNotFoundError(2, "No such file or directory", "x.png"), 2,
     "No such file or directory: 'x.png'"),
    (PermissionError(13, "Permission denied", "/root/x"), 2, "Permission denied"),
    (ValueError("bad value\nover two lines"), 2, "bad value over two lines"),
    (KeyError("labels"), 2, "unknown key 'labels'"),
    (RuntimeError("Kernel size can't be greater than actual input size"), 1, "Kernel size"),
    (ZeroDivisionError("division by zero"), 1, "CNNZOO_DEBUG=1"),
    (KeyboardInterrupt(), 130, "interrupted"),
])
def test_every_failure_is_one_line(exc, status, says, monkeypatch, capsys):
    from cnnzoo.cli import zoo

    monkeypatch.delenv("CNNZOO_DEBUG", raising=False)
    monkeypatch.setattr(zoo, "cmd_list", _failing(exc))
    assert main(["list"]) == status
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cnnzoo list: error: ") and says in err


def test_cnnzoo_debug_reraises(monkeypatch):
    from cnnzoo.cli import zoo

    monkeypatch.setattr(zoo, "cmd_list", _failing(ValueError("boom")))
    monkeypatch.setenv("CNNZOO_DEBUG", "1")
    with pytest.raises(ValueError, match="boom"):
        main(["list"])


def test_deprecated_model_option_notes_once_on_success_only(capsys):
    assert main(["info", "--model", "lenet5"]) == 0
    captured = capsys.readouterr()
    assert "lenet5" in captured.out
    assert captured.err.count("\n") == 1 and "--model is deprecated" in captured.err
    assert "cnnzoo info lenet5" in captured.err  # the new spelling
    line = fails(capsys, "info", "--model", "resnet51")
    assert "Did you mean: resnet50" in line and "deprecated" not in line


def test_pretrained_is_the_same_option_everywhere():
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    seen = []
    for name, command in sub.choices.items():
        for action in command._actions:
            if "--pretrained" in action.option_strings:
                seen.append(name)
                assert action.nargs == "?" and action.const is True and action.default is None
                assert action.metavar == ("TAG" if name == "list" else "TAG|hf-hub:ORG/REPO|DIR")
    assert {"export", "quantize", "predict", "bench", "explain", "finetune"} <= set(seen)


def test_bare_pretrained_before_images_and_values(image):
    parser = build_parser()
    args = parser.parse_args(["predict", "lenet5", "--pretrained", image, image])
    assert args.pretrained is True and args.images == [image, image]
    args = parser.parse_args(["predict", "lenet5", "--pretrained", "digits", image])
    assert args.pretrained == "digits" and args.images == [image]
    args = parser.parse_args(["list", "--pretrained", "resnet*"])
    assert args.pretrained is True and args.pattern == "resnet*"
    args = parser.parse_args(["list", "--pretrained", "tv_in1k"])
    assert args.pretrained == "tv_in1k" and args.pattern is None
    args = parser.parse_args(["finetune", "lenet5", "--data", "digits", "--out", "o",
                              "--input-size", "48"])
    assert args.input_size == (48, 48)


def test_list_pretrained_tag_filters(capsys):
    assert main(["list", "--pretrained", "digits", "--json"]) == 0
    import json

    names = [d["name"] for d in json.loads(capsys.readouterr().out)]
    assert names == ["lenet5"]


def test_a_name_without_weights_gets_random_ones_and_a_note(capsys):
    from cnnzoo.cli.options import model_source
    from cnnzoo.spec import list_models

    name = list_models(pretrained=False)[0]
    source = model_source(name, default_pretrained=True, prog="cnnzoo predict")
    assert source.pretrained is False and not source.implicit
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "using random weights" in err
    assert model_source("lenet5", default_pretrained=True).pretrained is True
    assert model_source("lenet5", default_pretrained=True, random_weights=True).pretrained is False
    assert model_source("lenet5.digits") == model_source("lenet5", "digits")
