"""``cnnzoo.evaluate`` on eager bf16 and OpenVINO (fp32, bf16, INT8): LeNet-5 keeps its
accuracy on the 360 held-out digits on every backend, each verified as it is made, and
whatever the machine lacks is a one-line error, never a silent fallback."""

from __future__ import annotations

import json

import pytest

from cnnzoo.cli import main
from cnnzoo.deploy import openvino_backend, precision
from cnnzoo.deploy.evaluation import evaluate
from cnnzoo.deploy.evaluation_backends import BACKENDS
from cnnzoo.errors import EvaluateError
from tests.deploy.test_evaluation import LENET_DIGITS_ACCURACY, Artefacts, artefacts
from tests.deploy.test_openvino import HINT, needs_openvino, no_openvino  # noqa: F401

pytestmark = pytest.mark.usefixtures("one_thread")

NATIVE_BF16 = precision.native_bf16("cpu")[0]


@pytest.fixture(scope="module")
def art() -> Artefacts:
    return artefacts()


def test_the_cli_offers_the_library_backends() -> None:
    from cnnzoo.cli import evaluate as cli

    assert cli.BACKENDS == BACKENDS


@needs_openvino
def test_lenet_keeps_its_digits_accuracy_on_every_backend(art: Artefacts) -> None:
    compare = ["openvino", "openvino-int8", "int8"]
    if "bf16" in openvino_backend.native_precisions():
        compare.append("openvino-bf16")
    if NATIVE_BF16:
        compare.append("eager-bf16")
    report = evaluate(art.model, "digits", compare=compare, progress=False, latency=False)
    assert report.accuracy == pytest.approx(LENET_DIGITS_ACCURACY)
    assert len(report.comparison) == 1 + len(compare)
    for row in report.comparison[1:]:
        # every backend within one point of eager and predicting what it predicts
        assert abs(row.accuracy_delta) <= 0.01, row
        assert row.agreement >= 0.98, row
    backends = [r.backend for r in report.comparison]
    assert backends[1].startswith("openvino, ")
    assert backends[2].startswith("openvino-int8-static, ")
    assert "onnx-int8-static" in backends
    if NATIVE_BF16:
        assert "eager, bf16" in backends
    table = report.table()  # names each backend and its precision
    assert all(b in table for b in backends)


@needs_openvino
def test_openvino_as_the_reference_and_on_a_quantized_file(art: Artefacts) -> None:
    fp32 = evaluate(art.model, "digits", backend="openvino", progress=False)
    assert fp32.backend.startswith("openvino, ")
    assert fp32.accuracy == pytest.approx(LENET_DIGITS_ACCURACY, abs=0.01)
    int8 = evaluate(art.int8, "digits", backend="openvino", progress=False)
    assert int8.backend.startswith("openvino-int8-static, ")
    assert abs(int8.accuracy - LENET_DIGITS_ACCURACY) <= 0.01
    with pytest.raises(EvaluateError, match="already quantized"):
        evaluate(art.int8, "digits", backend="openvino-bf16", progress=False)


@needs_openvino
def test_openvino_bf16_only_where_the_cpu_has_it(art: Artefacts, monkeypatch) -> None:
    monkeypatch.setattr(openvino_backend, "capabilities", lambda: ("FP32", "INT8"))
    with pytest.raises(EvaluateError, match="OPTIMIZATION_CAPABILITIES FP32, INT8"):
        evaluate(art.model, "digits", backend="openvino-bf16", progress=False)


def test_eager_bf16_needs_native_bf16_and_a_pytorch_model(art: Artefacts, monkeypatch) -> None:
    with pytest.raises(EvaluateError, match="needs a PyTorch model"):
        evaluate(art.onnx, "digits", backend="eager-bf16", progress=False)
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))
    with pytest.raises(EvaluateError, match="bf16"):
        evaluate(art.model, "digits", backend="eager-bf16", progress=False)


@pytest.mark.skipif(not NATIVE_BF16, reason="eager bf16 needs a CPU with native bf16 "
                                            "(avx512_bf16 or amx_bf16)")
def test_eager_bf16_reference_keeps_the_accuracy(art: Artefacts) -> None:
    report = evaluate(art.model, "digits", backend="eager-bf16", progress=False)
    assert report.backend == "eager, bf16"
    assert abs(report.accuracy - LENET_DIGITS_ACCURACY) <= 0.01


@pytest.mark.usefixtures("no_openvino")
def test_without_the_extra_openvino_says_how_to_install(art: Artefacts, capsys) -> None:
    for backend in ("openvino", "openvino-int8"):
        with pytest.raises(EvaluateError, match=r'pip install "cnnzoo\[openvino\]"'):
            evaluate(art.model, "digits", backend=backend, progress=False)
    assert main(["evaluate", "lenet5", "--compare", "openvino"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and HINT in err, err


@needs_openvino
def test_cli_compares_openvino_as_json(capsys) -> None:
    assert main(["evaluate", "lenet5", "--compare", "openvino", "--no-latency", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    backends = [row["backend"] for row in payload["comparison"]]
    assert backends[0] == "eager" and backends[1].startswith("openvino, ")


def test_an_unknown_backend_suggests_the_nearest(capsys) -> None:
    with pytest.raises(EvaluateError, match="Did you mean: openvino"):
        evaluate("lenet5", "digits", backend="openvno", progress=False)


@needs_openvino
def test_a_segmenter_on_openvino_keeps_its_miou() -> None:
    from tests.deploy.test_evaluation import InkSegmenter

    report = evaluate(InkSegmenter(), "digits", compare=["openvino"], progress=False,
                      latency=False)
    assert report.segmentation.iou == [1.0, 1.0]
    row = report.comparison[1]
    assert row.backend.startswith("openvino, ") and row.agreement == 1.0
