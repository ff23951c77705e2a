"""One predictor on eager, ONNX and INT8 ONNX (same preprocessing), and the benchmark runner."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import cnnzoo
from cnnzoo.cli import main
from cnnzoo.deploy.bench import run
from cnnzoo.deploy.export import to_onnx
from cnnzoo.deploy.predict import Predictor, predict
from cnnzoo.deploy.quantization import quantize
from cnnzoo.errors import BenchError, PredictError

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def digit_pngs(tmp_path_factory) -> tuple[list[Path], list[int]]:
    """Eight real handwritten digits (sklearn), written as 32x32 grayscale PNG files."""
    from sklearn.datasets import load_digits

    data = load_digits()
    folder = tmp_path_factory.mktemp("digits")
    index = [0, 1, 2, 3, 4, 5, 6, 9]
    paths = []
    for i in index:
        small = torch.tensor(data.images[i], dtype=torch.float32)[None, None] / 16.0
        big = torch.nn.functional.interpolate(small, size=(32, 32), mode="bilinear",
                                              align_corners=False).clamp(0, 1)
        path = folder / f"digit{i}_label{data.target[i]}.png"
        Image.fromarray((big[0, 0].numpy() * 255).round().astype(np.uint8)).save(path)
        paths.append(path)
    return paths, [int(data.target[i]) for i in index]


@pytest.fixture(scope="module")
def backends(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    model = cnnzoo.create("lenet5", pretrained=True)
    fp32 = folder / "lenet5.onnx"
    to_onnx(model, fp32)
    int8 = quantize(fp32, calibration="digits", output=folder / "lenet5.int8.onnx",
                    latency_batch_sizes=()).path
    return {"fp32": fp32, "int8": int8}


def _top1(argv: list[str], capsys) -> tuple[list[str], str]:
    assert main(argv) == 0, capsys.readouterr().err
    payload = json.loads(capsys.readouterr().out)
    return [p["top"][0]["label"] for p in payload["predictions"]], payload["backend"]


def test_cli_same_top1_on_every_backend(digit_pngs, backends, capsys) -> None:
    paths, labels = digit_pngs
    images = [str(p) for p in paths]
    eager, b1 = _top1(["predict", "--model", "lenet5", "--pretrained", *images, "--json"],
                      capsys)
    onnx_, b2 = _top1(["predict", "--model", str(backends["fp32"]), *images, "--json"], capsys)
    int8, b3 = _top1(["predict", "--model", str(backends["int8"]), *images, "--json"], capsys)
    assert (b1, b2, b3) == ("eager", "onnx", "onnx-int8-static")
    assert eager == onnx_ == int8
    assert sum(a == str(b) for a, b in zip(eager, labels, strict=True)) >= len(labels) - 1


def test_cli_table_output(digit_pngs, backends, capsys) -> None:
    paths, _ = digit_pngs
    assert main(["predict", "--model", str(backends["int8"]), str(paths[0]), "--top-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "onnx-int8-static" in out and "rank" in out and "score" in out
    assert len([ln for ln in out.splitlines() if ln.split()[:1] in (["1"], ["2"], ["3"])]) == 3


def test_identical_preprocessing(digit_pngs, backends) -> None:
    paths, _ = digit_pngs
    eager = Predictor(cnnzoo.create("lenet5", pretrained=True))
    onnx_ = Predictor(backends["fp32"])
    int8 = Predictor(backends["int8"])
    a, b, c = (p.preprocess(paths) for p in (eager, onnx_, int8))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert eager.labels == onnx_.labels == int8.labels == tuple(str(i) for i in range(10))
    # PIL images and files give the same input; probabilities close across backends
    pil = [Image.open(p) for p in paths]
    np.testing.assert_array_equal(eager.preprocess(pil), a)
    pe = predict(eager._model, paths, top_k=1)
    po = predict(str(backends["fp32"]), paths, top_k=1)
    for x, y in zip(pe, po, strict=True):
        assert x.best.index == y.best.index
        assert x.best.score == pytest.approx(y.best.score, abs=1e-4)


def test_predict_errors(digit_pngs, backends, tmp_path: Path, capsys) -> None:
    paths, _ = digit_pngs
    with pytest.raises(PredictError, match="no such file"):
        Predictor(tmp_path / "missing.onnx")
    with pytest.raises(PredictError, match="no such file"):
        Predictor(backends["fp32"]).predict([tmp_path / "missing.png"])
    with pytest.raises(PredictError, match="no images"):
        Predictor(backends["fp32"]).predict([])
    assert main(["predict", "--model", str(backends["fp32"]), str(tmp_path / "x.png")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["predict", "--model", str(tmp_path / "m.onnx"), str(paths[0])]) == 2


# -- the benchmark runner ----------------------------------------------------------------


def test_bench_table_and_ratios(monkeypatch) -> None:
    def broken_compile(*args, **kwargs):
        raise RuntimeError("no working C++ compiler")

    monkeypatch.setattr(torch, "compile", broken_compile)
    result = run("lenet5", backends=("eager", "channels_last", "compile", "onnx", "int8"),
                 batch_sizes=(1, 3), warmup=1, repeats=3, num_calibration=16)
    assert {(r.backend, r.batch) for r in result.rows} == {
        (b, n) for b in ("eager", "channels_last", "compile", "onnx", "int8") for n in (1, 3)}
    for row in result.rows:
        if row.backend == "compile":
            assert not row.ok and "C++ compiler" in row.error  # reported, not raised
            continue
        assert row.ok, row.error
        assert row.median_ms > 0 and row.throughput > 0 and row.size_bytes > 0
        assert row.latency_ratio == pytest.approx(row.median_ms
                                                  / result.row("eager", row.batch).median_ms)
    assert result.row("eager", 1).latency_ratio == 1.0
    assert result.row("int8", 1).size_ratio < 0.5
    assert "failed: RuntimeError: no working C++ compiler" in result.table()


def test_cli_bench_json(capsys) -> None:
    assert main(["bench", "lenet5", "--backends", "eager,onnx", "--batch", "1,2", "--repeats",
                 "2", "--warmup", "1", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [(r["backend"], r["batch"]) for r in payload["rows"]] == [
        ("eager", 1), ("eager", 2), ("onnx", 1), ("onnx", 2)]
    assert all(r["latency_ratio"] > 0 for r in payload["rows"])


def test_bench_bad_arguments() -> None:
    with pytest.raises(BenchError, match="unknown backend"):
        run("lenet5", backends=("eager", "tensorrt"))
    assert main(["bench", "lenet5", "--backends", "eager,gpu"]) == 2


def test_docstring_examples() -> None:
    import doctest

    import cnnzoo.data.images
    import cnnzoo.deploy.bench
    import cnnzoo.deploy.export
    import cnnzoo.deploy.predict
    import cnnzoo.deploy.quantization.calibrate
    import cnnzoo.deploy.quantization.plan
    import cnnzoo.deploy.runtime
    import cnnzoo.deploy.timing

    # cnnzoo.quantize is a function: its examples live in the module that defines it
    quantize_module = sys.modules[cnnzoo.quantize.__module__]
    for module in (cnnzoo.export, quantize_module, cnnzoo.predict, cnnzoo.bench,
                   cnnzoo.deploy.runtime, cnnzoo.deploy.timing,
                   cnnzoo.deploy.quantization.plan, cnnzoo.deploy.quantization.calibrate,
                   cnnzoo.data.images):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert not result.failed, module.__name__
