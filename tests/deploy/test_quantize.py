"""INT8 / FP16 quantization through onnxruntime: accuracy on real digits, the gate, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

import cnnzoo
from cnnzoo.cli import main
from cnnzoo.data import digits
from cnnzoo.deploy.export import read_metadata, to_onnx
from cnnzoo.deploy.quantization import QUANT_METADATA_KEY, quantize
from cnnzoo.errors import AccuracyDropError, QuantizeError

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def lenet():
    return cnnzoo.create("lenet5", pretrained=True).eval()


@pytest.fixture(scope="module")
def split(lenet):
    return digits(model=lenet)


@pytest.fixture(scope="module")
def lenet_onnx(lenet, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fp32") / "lenet5.onnx"
    to_onnx(lenet, path)
    return path


def test_lazy_api(lenet_onnx: Path, tmp_path: Path) -> None:
    # cnnzoo.quantize is callable whether the lazy attribute or the submodule is bound
    result = cnnzoo.quantize(lenet_onnx, method="fp16", output=tmp_path / "a.onnx",
                             latency_batch_sizes=())
    assert result.path.is_file()
    assert cnnzoo.export.to_onnx is to_onnx


def test_int8_static_lenet_on_digits(lenet, split, tmp_path: Path) -> None:
    """Calibrated on the train split, evaluated on the held-out test split."""
    out = tmp_path / "lenet5.int8.onnx"
    calibration = DataLoader(split.train, batch_size=64, shuffle=False)
    result = quantize(lenet, method="int8-static", calibration=calibration,
                      num_calibration=256, eval_data=split.test, max_accuracy_drop=0.005,
                      output=out, latency_repeats=3)
    report = result.report
    assert result.path == out and out.is_file()
    assert report.metric == "accuracy" and report.eval_samples == len(split.test) == 360
    assert report.calibration_samples == 256
    assert report.metric_before == pytest.approx(0.9917, abs=0.002)
    assert report.drop <= 0.005  # at most half a point lost
    assert report.size_after < 0.5 * report.size_before
    assert set(report.latency_before) == set(report.latency_after) == {1, 8}
    assert report.per_channel.startswith("per-channel") and report.calibrate_method == "minmax"
    # the int8 model is QDQ and carries the preprocessing, labels and its quantization
    model = onnx.load(str(out))
    assert any(n.op_type == "QuantizeLinear" for n in model.graph.node)
    meta = read_metadata(out)
    assert meta["labels"] == tuple(str(i) for i in range(10)) and meta["mean"] == (0.5,)
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props[QUANT_METADATA_KEY])["method"] == "int8-static"
    assert "accuracy (n=360)" in report.table()


@pytest.mark.parametrize("method", ["int8-dynamic", "fp16"])
def test_dynamic_and_fp16(method: str, lenet_onnx: Path, tmp_path: Path) -> None:
    out = tmp_path / f"lenet5.{method}.onnx"
    result = quantize(lenet_onnx, method=method, eval_data="digits", max_accuracy_drop=0.005,
                      output=out, latency_batch_sizes=(1,), latency_repeats=2)
    assert out.is_file() and result.report.drop <= 0.005
    assert result.report.size_after < result.report.size_before
    assert read_metadata(out)["architecture"] == "lenet5"


# -- the accuracy gate -------------------------------------------------------------------


class Outlier(nn.Module):
    """One activation channel 10,000x larger than the others (undone by the next layer).

    In float it is harmless; a per-tensor INT8 activation scale sized for the outlier
    crushes every other channel.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1)
        self.fc = nn.Linear(16, 10)
        scale = torch.ones(1, 16, 1, 1)
        scale[0, 0] = 1e4
        self.register_buffer("scale", scale)
        self.pretrained_cfg = {"input_size": (3, 16, 16), "mean": (0.5,) * 3,
                               "std": (0.5,) * 3}

    def forward(self, x):
        x = torch.relu(self.conv1(x)) * self.scale
        x = torch.relu(self.conv2(x / self.scale))
        return self.fc(x.mean((2, 3)))


@pytest.fixture(scope="module")
def outlier_onnx(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("outlier") / "outlier.onnx"
    to_onnx(Outlier().eval(), path)
    return path


@pytest.fixture(scope="module")
def random_images() -> torch.Tensor:
    return torch.randn(256, 3, 16, 16, generator=torch.Generator().manual_seed(0))


def test_gate_refuses_outlier_model(outlier_onnx: Path, random_images, tmp_path: Path) -> None:
    out = tmp_path / "outlier.int8.onnx"
    with pytest.raises(AccuracyDropError, match=r"loses .* points of top-1 agreement") as info:
        quantize(outlier_onnx, calibration=random_images[:128], eval_data=random_images[128:],
                 max_accuracy_drop=0.02, fallback=False, output=out, latency_batch_sizes=())
    report = info.value.report
    assert report.drop > 0.02 and not report.attempts[-1].accepted
    assert not out.exists() and not any(tmp_path.iterdir())


def test_gate_repairs_outlier_model(outlier_onnx: Path, random_images, tmp_path: Path) -> None:
    out = tmp_path / "outlier.int8.onnx"
    result = quantize(outlier_onnx, calibration=random_images[:128],
                      eval_data=random_images[128:], max_accuracy_drop=0.02, output=out,
                      latency_batch_sizes=())
    report = result.report
    assert out.is_file() and report.drop <= 0.02
    assert report.attempts[0].drop > 0.02 and not report.attempts[0].accepted
    assert report.attempts[-1].accepted and len(report.attempts) > 1
    assert report.excluded_nodes  # the nodes around the outlier stay in float
    assert any("accepted fallback" in n for n in report.notes)
    assert "rejected" in report.table() and "accepted" in report.table()


def test_unrepresentative_calibration_repaired_or_refused(lenet_onnx: Path, tmp_path: Path
                                                          ) -> None:
    """Two blank images as calibration: without fallbacks refused, with them repaired."""
    blank = torch.full((2, 1, 32, 32), -1.0)  # normalised background only
    out = tmp_path / "blank.int8.onnx"
    with pytest.raises(AccuracyDropError):
        quantize(lenet_onnx, calibration=blank, eval_data="digits", max_accuracy_drop=0.005,
                 fallback=False, output=out, latency_batch_sizes=())
    assert not out.exists()
    result = quantize(lenet_onnx, calibration=blank, eval_data="digits",
                      max_accuracy_drop=0.005, output=out, latency_batch_sizes=())
    assert result.report.drop <= 0.005 and result.report.attempts[0].drop > 0.005
    assert out.is_file()


# -- bad input ---------------------------------------------------------------------------


def test_empty_calibration(lenet_onnx: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.onnx"
    with pytest.raises(QuantizeError, match="calibration set is empty"):
        quantize(lenet_onnx, calibration=torch.zeros(0, 1, 32, 32), output=out)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(QuantizeError, match="calibration set is empty"):
        quantize(lenet_onnx, calibration=empty, output=out)
    with pytest.raises(QuantizeError, match="calibration set is empty"):
        quantize(lenet_onnx, calibration=[], output=out)
    with pytest.raises(QuantizeError, match="needs calibration data"):
        quantize(lenet_onnx, output=out)
    assert not out.exists()


def test_wrong_calibration_size(lenet_onnx: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.onnx"
    with pytest.raises(QuantizeError, match=r"size 1x64x64 .* expects 1x32x32"):
        quantize(lenet_onnx, calibration=torch.zeros(4, 1, 64, 64), output=out)
    assert not out.exists()


def test_non_existent_paths(lenet_onnx: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.onnx"
    with pytest.raises(QuantizeError, match="no such file"):
        quantize(tmp_path / "missing.onnx", calibration="digits", output=out)
    with pytest.raises(QuantizeError, match="no such file or directory"):
        quantize(lenet_onnx, calibration=tmp_path / "no-images", output=out)
    with pytest.raises(QuantizeError, match="not one of"):
        quantize(lenet_onnx, method="int4", output=out)
    assert not out.exists()


def test_cli_quantize(lenet_onnx: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "lenet5.int8.onnx"
    code = main(["quantize", str(lenet_onnx), "--method", "int8-static", "--calibration",
                 "digits", "--eval", "digits", "--max-accuracy-drop", "0.005", "--out", str(out),
                 "--latency-batch", "1"])
    assert code == 0, capsys.readouterr().err
    text = capsys.readouterr().out
    assert "accuracy (n=360)" in text and "latency b1" in text and "size" in text
    assert out.is_file()
    missing = tmp_path / "none.int8.onnx"
    assert main(["quantize", str(tmp_path / "nope.onnx"), "--calibration", "digits",
                 "--out", str(missing)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not missing.exists()
