"""The command line: readable tables, JSON for scripts, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import cnnzoo
from cnnzoo.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_every_model_in_a_table(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    for name in cnnzoo.list_models():
        assert f"\n{name} " in out
    assert out.splitlines()[0].split()[:3] == ["name", "family", "task"]


def test_list_filters_and_json(capsys):
    code, out, _ = run(capsys, "list", "resnet*", "--json")
    data = json.loads(out)
    assert code == 0 and [d["name"] for d in data] == cnnzoo.list_models("resnet*")
    assert data[0]["capabilities"]["cam_layer"] == "layer4"
    code, out, _ = run(capsys, "list", "--task", "segmentation", "--json")
    assert [d["name"] for d in json.loads(out)] == cnnzoo.list_models(task="segmentation")
    code, out, _ = run(capsys, "list", "--family", "vgg")
    assert "vgg16_bn" in out and "resnet" not in out


def test_list_with_no_match_says_so(capsys):
    code, _, err = run(capsys, "list", "nothing*")
    assert code == 1 and "no model matches" in err


def test_info_shows_the_spec(capsys):
    code, out, _ = run(capsys, "info", "mobilenet_v3_large")
    assert code == 0
    assert "mobilenetv3_large_100" in out and "Searching for MobileNetV3" in out
    assert "5,483,032" in out and "blocks.6" in out


def test_info_layers_prints_a_per_layer_summary(capsys):
    code, out, _ = run(capsys, "info", "lenet5", "--layers")
    assert code == 0
    assert "61,706" in out
    code, out, _ = run(capsys, "info", "lenet5", "--layers", "--json")
    data = json.loads(out)
    assert data["summary"]["total_params"] == 61_706


def test_unknown_model_is_a_one_line_error_with_suggestions(capsys):
    code, out, err = run(capsys, "info", "resnet51")
    assert code == 2 and out == ""
    assert "Did you mean: resnet50" in err and "Traceback" not in err


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "cnnzoo.cli", "list", "lenet*"],
                            capture_output=True, text=True, check=True)
    assert "lenet5" in result.stdout


def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["list", "--task", "detection"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
