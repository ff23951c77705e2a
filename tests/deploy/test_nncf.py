"""INT8 through NNCF, the second quantizer: the same data, accuracy gate, fallback ladder and
report as onnxruntime's (mirroring tests/deploy/test_quantize.py), a QDQ file that
onnxruntime and OpenVINO both run, and both engines' accuracy on the same held-out digits.

Skipped (with the reason) only when NNCF cannot be imported; the dev extra installs it.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
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
from cnnzoo.deploy.quantization import QUANT_METADATA_KEY, QuantResult, quantize
from cnnzoo.deploy.quantization.nncf_engine import ACCURACY_CONTROL
from cnnzoo.errors import AccuracyDropError, BackendUnavailableError, QuantizeError


def _nncf_available() -> bool:
    try:
        from cnnzoo.deploy.quantization.nncf_engine import import_nncf

        import_nncf()
    except BackendUnavailableError:
        return False
    return True


pytestmark = [
    pytest.mark.usefixtures("one_thread"),
    pytest.mark.skipif(not _nncf_available(), reason='nncf is not importable (pip install '
                       '"cnnzoo[openvino]"; the dev extra installs it)'),
]


@functools.cache
def _scratch() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="cnnzoo-test-nncf-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


@functools.cache
def nncf_lenet() -> QuantResult:
    """lenet5 quantized by NNCF: calibrated on 256 train digits, gated on the 360 held-out
    ones (made once; tests/deploy/test_openvino.py runs the file too)."""
    torch.set_num_threads(1)
    model = cnnzoo.create("lenet5", pretrained=True).eval()
    split = digits(model=model)
    return quantize(model, engine="nncf", method="int8-static",
                    calibration=DataLoader(split.train, batch_size=64, shuffle=False),
                    num_calibration=256, eval_data=split.test, max_accuracy_drop=0.005,
                    output=_scratch() / "lenet5.nncf.int8.onnx", latency_repeats=3)


@pytest.fixture(scope="module")
def lenet_onnx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("fp32") / "lenet5.onnx"
    to_onnx(cnnzoo.create("lenet5", pretrained=True), path)
    return path


def test_int8_lenet_on_digits_both_engines_same_data(lenet_onnx: Path, tmp_path: Path) -> None:
    result = nncf_lenet()
    report = result.report
    assert report.engine == "nncf" and result.path.is_file()
    assert report.metric == "accuracy" and report.eval_samples == 360
    assert report.calibration_samples == 256
    assert report.metric_before == pytest.approx(0.9917, abs=0.002)
    assert report.drop <= 0.005
    assert report.size_after < 0.5 * report.size_before
    assert set(report.latency_before) == set(report.latency_after) == {1, 8}
    assert report.per_channel.startswith("per-channel")
    table = report.table()
    assert "engine" in table and "nncf" in table and "accuracy (n=360)" in table
    # a QDQ file with the preprocessing, labels and its quantization (engine included)
    model = onnx.load(str(result.path))
    assert {"QuantizeLinear", "DequantizeLinear"} <= {n.op_type for n in model.graph.node}
    meta = read_metadata(result.path)
    assert meta["labels"] == tuple(str(i) for i in range(10)) and meta["mean"] == (0.5,)
    props = {p.key: p.value for p in model.metadata_props}
    assert json.loads(props[QUANT_METADATA_KEY])["engine"] == "nncf"
    # onnxruntime's engine on the very same calibration and evaluation data
    split = digits(model=cnnzoo.create("lenet5"))
    ort = quantize(lenet_onnx, calibration=DataLoader(split.train, batch_size=64),
                   num_calibration=256, eval_data=split.test, max_accuracy_drop=0.005,
                   output=tmp_path / "lenet5.int8.onnx", latency_batch_sizes=())
    assert ort.report.engine == "onnxruntime" and ort.report.eval_samples == 360
    assert ort.report.metric_before == report.metric_before
    print(f"\nlenet5, 360 held-out digits: fp32 {report.metric_before:.2%}, onnxruntime INT8 "
          f"{ort.report.metric_after:.2%}, NNCF INT8 {report.metric_after:.2%}")
    assert abs(ort.report.metric_after - report.metric_after) <= 0.01


def test_onnxruntime_runs_the_nncf_file(lenet_onnx: Path) -> None:
    import numpy as np

    from cnnzoo.deploy.runtime import ort_session, run_batched

    test = digits(model=cnnzoo.create("lenet5")).test
    x = test.tensors[0].numpy()
    fp32 = run_batched(ort_session(lenet_onnx), x).argmax(1)
    int8 = run_batched(ort_session(nncf_lenet().path), x).argmax(1)
    assert float(np.mean(fp32 == int8)) >= 0.99


# -- the accuracy gate (as tests/deploy/test_quantize.py) -----------------------------------


class Outlier(nn.Module):
    """Channel 0 of the second conv's input is 10,000x the others (its weights 10,000x
    smaller): harmless in float; a per-tensor INT8 scale sized for it crushes the rest.

    (The onnxruntime tests' model undoes the scale before the conv: NNCF, which only
    quantizes the inputs of weighted layers, never sees that outlier.)
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 16, 3, padding=1)
        self.fc = nn.Linear(16, 10)
        scale = torch.ones(1, 16, 1, 1)
        scale[0, 0] = 1e4
        self.register_buffer("scale", scale)
        with torch.no_grad():
            self.conv2.weight[:, 0] /= 1e4
        self.pretrained_cfg = {"input_size": (3, 16, 16), "mean": (0.5,) * 3,
                               "std": (0.5,) * 3}

    def forward(self, x):
        x = torch.relu(self.conv1(x)) * self.scale
        x = torch.relu(self.conv2(x))
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
        quantize(outlier_onnx, engine="nncf", calibration=random_images[:128],
                 eval_data=random_images[128:], max_accuracy_drop=0.02, fallback=False,
                 output=out, latency_batch_sizes=())
    report = info.value.report
    assert report.engine == "nncf" and report.drop > 0.02 and not report.attempts[-1].accepted
    assert not out.exists() and not any(tmp_path.iterdir())


def test_gate_repairs_outlier_model(outlier_onnx: Path, random_images, tmp_path: Path) -> None:
    out = tmp_path / "outlier.int8.onnx"
    result = quantize(outlier_onnx, engine="nncf", calibration=random_images[:128],
                      eval_data=random_images[128:], max_accuracy_drop=0.02, output=out,
                      latency_batch_sizes=())
    report = result.report
    assert out.is_file() and report.drop <= 0.02
    assert report.attempts[0].drop > 0.02 and not report.attempts[0].accepted
    assert report.attempts[-1].accepted and len(report.attempts) > 1
    assert any("accepted fallback" in n for n in report.notes)
    assert "rejected" in report.table() and "accepted" in report.table()


def test_unrepresentative_calibration_repaired_or_refused(lenet_onnx: Path, tmp_path: Path
                                                          ) -> None:
    """Two blank (mid-grey) images as calibration: without fallbacks refused, with them
    repaired — down the ladder to NNCF's accuracy control if need be."""
    blank = torch.zeros(2, 1, 32, 32)
    out = tmp_path / "blank.int8.onnx"
    with pytest.raises(AccuracyDropError):
        quantize(lenet_onnx, engine="nncf", calibration=blank, eval_data="digits",
                 max_accuracy_drop=0.005, fallback=False, output=out, latency_batch_sizes=())
    assert not out.exists()
    result = quantize(lenet_onnx, engine="nncf", calibration=blank, eval_data="digits",
                      max_accuracy_drop=0.005, output=out, latency_batch_sizes=())
    report = result.report
    assert report.drop <= 0.005 and report.attempts[0].drop > 0.005
    assert out.is_file() and report.excluded_nodes  # some layers stay in float
    descriptions = [a.description for a in report.attempts]
    assert descriptions[1].startswith("per-channel (auto) weights, percentile")
    if report.attempts[-1].description.endswith(")") and ACCURACY_CONTROL in \
            report.attempts[-1].description.lower():
        assert "NNCF accuracy control" in report.table()


# -- bad input -------------------------------------------------------------------------------


def test_bad_engine_arguments(lenet_onnx: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.onnx"
    with pytest.raises(QuantizeError, match="not one of onnxruntime, nncf"):
        quantize(lenet_onnx, engine="tensorrt", calibration="digits", output=out)
    with pytest.raises(QuantizeError, match="nncf quantizes int8-static only"):
        quantize(lenet_onnx, engine="nncf", method="fp16", output=out)
    with pytest.raises(QuantizeError, match="calibration set is empty"):
        quantize(lenet_onnx, engine="nncf", calibration=torch.zeros(0, 1, 32, 32), output=out)
    assert not out.exists()


def test_cli_quantize_with_nncf(lenet_onnx: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "lenet5.int8.onnx"
    code = main(["quantize", str(lenet_onnx), "--engine", "nncf", "--calibration", "digits",
                 "--num-calibration", "64", "--eval", "digits", "--max-accuracy-drop", "0.01",
                 "--out", str(out), "--batch", "1", "--json"])
    assert code == 0, capsys.readouterr().err
    payload = json.loads(capsys.readouterr().out)
    assert payload["engine"] == "nncf" and payload["drop"] <= 0.01 and out.is_file()


class Depthwise(nn.Module):
    """Depthwise convolutions, whose inputs NNCF would quantize per channel."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.dw = nn.Conv2d(16, 16, 3, padding=1, groups=16)
        self.pw = nn.Conv2d(16, 24, 1)
        self.dw2 = nn.Conv2d(24, 24, 3, padding=1, groups=24)
        self.fc = nn.Linear(24, 10)
        self.pretrained_cfg = {"input_size": (3, 16, 16), "mean": (0.5,) * 3,
                               "std": (0.5,) * 3}

    def forward(self, x):
        x = nn.functional.hardswish(self.stem(x))
        x = nn.functional.hardswish(self.pw(nn.functional.hardswish(self.dw(x))))
        return self.fc(nn.functional.hardswish(self.dw2(x)).mean((2, 3)))


def test_nncf_file_runs_on_onnxruntime_with_depthwise_convs(random_images, tmp_path: Path
                                                            ) -> None:
    """Activation quantizers are per tensor: onnxruntime's QLinearConv takes a scalar zero
    point only (NNCF's per-channel inputs of depthwise convs broke MobileNetV3 there)."""
    import numpy as np

    from cnnzoo.deploy.runtime import ort_session

    torch.manual_seed(0)
    fp32 = tmp_path / "dw.onnx"
    to_onnx(Depthwise().eval(), fp32)
    result = quantize(fp32, engine="nncf", calibration=random_images[:64],
                      output=tmp_path / "dw.int8.onnx", latency_batch_sizes=())
    model = onnx.load(str(result.path))
    inits = {t.name: t for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "QuantizeLinear" and node.input[0] not in inits:
            assert int(np.prod(inits[node.input[1]].dims)) == 1, node.name  # scalar scale
    out = ort_session(result.path).run(None, {"input": random_images[:4].numpy()})[0]
    assert out.shape == (4, 10) and np.isfinite(out).all()
