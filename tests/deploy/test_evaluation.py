"""``cnnzoo.evaluate``: known answers, LeNet-5 on the held-out digits on every backend, the
side-by-side comparison (a broken INT8 model shows up), the CLI and bad input."""

from __future__ import annotations

import atexit
import functools
import json
import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader

import cnnzoo
from cnnzoo.cli import main
from cnnzoo.data import digits
from cnnzoo.data.images import _digits, digits_split
from cnnzoo.deploy.evaluation import (
    EvalReport,
    calibration_metrics,
    classification_metrics,
    evaluate,
    load_evaluation,
    pixel_confusion,
    segmentation_metrics,
)
from cnnzoo.deploy.export import to_onnx
from cnnzoo.deploy.quantization import quantize
from cnnzoo.errors import EvaluateError

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")

LENET_DIGITS_ACCURACY = 357 / 360  # 99.17 %: three mistakes on the 360 held-out digits


# -- shared artefacts: one export and two quantizations for both evaluation test modules --


@dataclass(frozen=True)
class Artefacts:
    model: nn.Module
    onnx: Path
    int8: Path
    broken: Path  # calibrated on blank images, no fallback, no accuracy gate


@functools.lru_cache(maxsize=1)
def artefacts() -> Artefacts:
    """LeNet-5 (embedded digits weights), its ONNX export, its INT8 model calibrated on the
    digits train split, and an INT8 model broken on purpose (calibrated on zeros)."""
    torch.set_num_threads(1)
    folder = Path(tempfile.mkdtemp(prefix="cnnzoo-eval-tests-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    model = cnnzoo.create("lenet5", pretrained=True).eval()
    onnx_path = folder / "lenet5.onnx"
    to_onnx(model, onnx_path)
    int8 = quantize(onnx_path, calibration="digits", num_calibration=128,
                    output=folder / "lenet5.int8.onnx", latency_batch_sizes=()).path
    broken = quantize(onnx_path, calibration=torch.zeros(16, 1, 32, 32), fallback=False,
                      output=folder / "broken.int8.onnx", latency_batch_sizes=()).path
    return Artefacts(model, onnx_path, int8, broken)


@pytest.fixture(scope="module")
def art() -> Artefacts:
    return artefacts()


def _no_staging_left(parent: Path) -> None:
    assert not [p.name for p in parent.iterdir() if p.name.endswith(".tmp")]


# -- known answers ---------------------------------------------------------------------------

# 3 classes, 6 samples: predictions [0, 1, 1, 1, 2, 0], confidences .7 .6 .8 .55 .8 .45
Y = np.array([0, 0, 1, 1, 2, 2])
P = np.array([[0.70, 0.20, 0.10],
              [0.30, 0.60, 0.10],
              [0.10, 0.80, 0.10],
              [0.20, 0.55, 0.25],
              [0.10, 0.10, 0.80],
              [0.45, 0.15, 0.40]])


def test_known_answer_precision_recall_f1_confusion_topk() -> None:
    m = classification_metrics(Y, P, ["a", "b", "c"], top_k=(1, 2))
    assert m.confusion.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]
    assert [c.precision for c in m.per_class] == pytest.approx([1 / 2, 2 / 3, 1.0])
    assert [c.recall for c in m.per_class] == pytest.approx([1 / 2, 1.0, 1 / 2])
    assert [c.f1 for c in m.per_class] == pytest.approx([1 / 2, 0.8, 2 / 3])
    assert [c.support for c in m.per_class] == [2, 2, 2]
    assert m.top_k == pytest.approx({1: 4 / 6, 2: 1.0})
    assert m.accuracy == pytest.approx(4 / 6)
    assert m.macro_f1 == pytest.approx((0.5 + 0.8 + 2 / 3) / 3)


def test_known_answer_ece_brier_nll() -> None:
    cal = calibration_metrics(Y, P, bins=4)  # bins (0, .25], (.25, .5], (.5, .75], (.75, 1]
    assert cal.counts == [0, 1, 3, 2]
    assert cal.accuracy == [None, 0.0, pytest.approx(2 / 3), 1.0]
    assert cal.confidence == [None, pytest.approx(0.45), pytest.approx(1.85 / 3),
                              pytest.approx(0.8)]
    # (|0 - .45| + |2 - 1.85| + |2 - 1.6|) / 6
    assert cal.ece == pytest.approx(1.0 / 6)
    # sum over classes of (p - onehot)^2: .14 .86 .06 .305 .06 .585
    assert cal.brier == pytest.approx(2.01 / 6)
    assert cal.nll == pytest.approx(-sum(math.log(p) for p in (.7, .3, .8, .55, .8, .4)) / 6)
    assert cal.edges == pytest.approx([0, .25, .5, .75, 1.0])
    assert "4 equal-width bins" in cal.binning and "(3/4, 1]" in cal.binning


def test_ece_agrees_with_torchmetrics() -> None:
    from torchmetrics.classification import MulticlassCalibrationError

    rng = np.random.default_rng(0)
    for n, classes, sharpness in ((500, 10, 0.3), (300, 3, 3.0), (1000, 100, 0.05)):
        probs = rng.dirichlet(np.full(classes, sharpness), size=n)
        y = rng.integers(0, classes, size=n)
        y[: n // 2] = probs[: n // 2].argmax(1)  # half of them right: a mixed calibration
        ours = calibration_metrics(y, probs).ece
        metric = MulticlassCalibrationError(num_classes=classes, n_bins=15, norm="l1")
        theirs = float(metric(torch.from_numpy(probs).float(), torch.from_numpy(y)))
        assert ours == pytest.approx(theirs, abs=1e-5), (n, classes)



def test_metrics_equal_sklearns() -> None:
    """The confusion matrix (np.bincount), P/R/F1/support derived from it, NLL and Brier in
    one pass: the values of confusion_matrix, precision_recall_fscore_support, log_loss and
    brier_score_loss, bit for bit."""
    from sklearn.metrics import (
        brier_score_loss,
        confusion_matrix,
        log_loss,
        precision_recall_fscore_support,
    )

    rng = np.random.default_rng(1)
    for n, classes, sharpness in ((400, 10, 0.3), (60, 7, 0.1), (50, 2, 1.0)):
        probs = rng.dirichlet(np.full(classes, sharpness), size=n)
        probs[0] = np.eye(classes)[0]  # a sure prediction: the clipping
        y = rng.integers(0, classes - 1, size=n)  # the last class never true: zero division
        m = classification_metrics(y, probs, [str(c) for c in range(classes)])
        expected = precision_recall_fscore_support(y, probs.argmax(1),
                                                   labels=list(range(classes)), zero_division=0)
        got = [[getattr(c, k) for c in m.per_class] for k in ("precision", "recall", "f1",
                                                               "support")]
        assert got == [list(e) for e in expected]
        labels = list(range(classes))
        reference = confusion_matrix(y, probs.argmax(1), labels=labels)
        assert m.confusion.dtype == reference.dtype and (m.confusion == reference).all()
        assert m.calibration.nll == log_loss(y, np.clip(probs, 1e-15, 1.0), labels=labels)
        assert m.calibration.brier == brier_score_loss(y, probs, labels=labels,
                                                       scale_by_half=False)


def test_known_answer_iou_dice_pixel_accuracy() -> None:
    true = np.array([[[0, 0, 1], [1, 1, 2], [2, 2, 2]]])
    pred = np.array([[[0, 1, 1], [1, 2, 2], [2, 2, 0]]])
    confusion = pixel_confusion(true, pred, 3)
    assert confusion.tolist() == [[1, 1, 0], [0, 2, 1], [1, 0, 3]]
    m = segmentation_metrics(confusion, ["bg", "a", "b"])
    assert m.iou == pytest.approx([1 / 3, 2 / 4, 3 / 5])
    assert m.dice == pytest.approx([2 / 4, 4 / 6, 6 / 8])
    assert m.miou == pytest.approx((1 / 3 + 0.5 + 0.6) / 3)
    assert m.pixel_accuracy == pytest.approx(6 / 9)
    assert m.support == [2, 3, 4]
    from sklearn.metrics import f1_score, jaccard_score  # the same as sklearn's

    assert m.iou == pytest.approx(list(jaccard_score(true.ravel(), pred.ravel(), average=None)))
    assert m.dice == pytest.approx(list(f1_score(true.ravel(), pred.ravel(), average=None)))
    absent = segmentation_metrics(np.array([[4, 0], [0, 0]]), ["bg", "fg"])
    assert absent.iou == [1.0, None] and absent.miou == 1.0


# -- LeNet-5 on the held-out digits -------------------------------------------------------------


def test_lenet_digits_on_eager_onnx_and_int8(art: Artefacts) -> None:
    eager = evaluate(art.model, "digits", progress=False)
    assert eager.num_samples == 360 and eager.backend == "eager" and eager.task == "classification"
    assert eager.accuracy == pytest.approx(LENET_DIGITS_ACCURACY)
    assert eager.model == "lenet5.digits" and eager.dataset == "digits test split"
    assert eager.classification.top_k[5] >= eager.accuracy
    assert sum(c.support for c in eager.classification.per_class) == 360
    assert eager.classification.confusion.sum() == 360
    assert len(eager.mistakes) == 3 and all(m.true != m.predicted for m in eager.mistakes)
    confidences = [m.confidence for m in eager.mistakes]
    assert confidences == sorted(confidences, reverse=True)
    assert eager.mistake_images.shape == (3, 1, 32, 32)
    assert 0 <= eager.classification.calibration.ece < 0.2

    onnx = evaluate(art.onnx, "digits", progress=False)
    assert onnx.backend == "onnx" and onnx.accuracy == pytest.approx(LENET_DIGITS_ACCURACY)
    assert onnx.classification.confusion.tolist() == eager.classification.confusion.tolist()
    assert any("Grad-CAM" in n and "ONNX" in n for n in onnx.notes)

    int8 = evaluate(art.int8, "digits", progress=False)
    assert int8.backend == "onnx-int8-static"
    print(f"lenet5.digits INT8 on the digits test split: {int8.accuracy:.2%}")
    assert abs(int8.accuracy - LENET_DIGITS_ACCURACY) <= 0.01


def test_by_name_folder_and_backend_option(art: Artefacts, tmp_path: Path) -> None:
    by_name = evaluate("lenet5", "digits", pretrained=True, progress=False, top_k=(1, 3))
    assert by_name.accuracy == pytest.approx(LENET_DIGITS_ACCURACY)
    assert sorted(by_name.classification.top_k) == [1, 3]
    derived = evaluate(art.model, "digits", backend="onnx", progress=False)
    assert derived.backend == "onnx" and derived.accuracy == pytest.approx(LENET_DIGITS_ACCURACY)
    fp16 = evaluate(art.onnx, "digits", backend="fp16", progress=False)  # from the ONNX file
    assert fp16.backend == "onnx-fp16" and fp16.model == "lenet5.fp16.onnx"
    assert fp16.accuracy == pytest.approx(LENET_DIGITS_ACCURACY)
    assert cnnzoo.evaluate is evaluate


def test_comparison_table(art: Artefacts) -> None:
    report = evaluate(art.model, "digits", compare=[art.model, art.onnx, art.int8],
                      progress=False, latency_repeats=4)
    rows = report.comparison
    assert [r.backend for r in rows] == ["eager", "onnx", "onnx-int8-static"]
    assert rows[0].accuracy_delta == 0 and rows[0].agreement == 1.0
    assert rows[1].accuracy_delta == pytest.approx(0) and rows[1].agreement == 1.0
    assert abs(rows[2].accuracy_delta) <= 0.01 and rows[2].agreement >= 0.98
    assert rows[2].size_bytes < rows[1].size_bytes / 2  # INT8 weights: a quarter or so
    for row in rows:
        assert set(row.latency_ms) == {1, 32} and all(v > 0 for v in row.latency_ms.values())
    table = report.table()
    assert "agreement" in table and "ms @ b32" in table and "lenet5.int8.onnx" in table


def test_broken_int8_shows_a_drop_and_low_agreement(art: Artefacts) -> None:
    report = evaluate(art.model, "digits", compare=[art.onnx, art.broken], progress=False,
                      latency=False)
    reference, good, broken = report.comparison
    assert reference.accuracy == pytest.approx(LENET_DIGITS_ACCURACY)
    assert good.accuracy_delta == pytest.approx(0)
    assert broken.accuracy_delta < -0.3 and broken.agreement < 0.6
    assert broken.latency_ms == {}
    cells = dict(zip(report.comparison_headers(), report.comparison_rows()[2], strict=True))
    assert cells["model"] == "broken.int8.onnx" and cells["Δ points"].startswith("-")


# -- other kinds of data ---------------------------------------------------------------------


def _digit_folder(root: Path, classes: dict[str, str]) -> Path:
    """PNGs of real held-out digits in ``root/<folder name>/`` for each digit class."""
    pixels, target = _digits()
    for name, digit in classes.items():
        folder = root / name
        folder.mkdir(parents=True)
        for i in np.flatnonzero(target == int(digit))[:6]:
            image = Image.fromarray((pixels[i] * 255 / 16).astype(np.uint8)).resize((32, 32))
            image.save(folder / f"{i}.png")
    return root


def test_image_folder_with_a_subset_of_the_classes(art: Artefacts, tmp_path: Path) -> None:
    root = _digit_folder(tmp_path / "digits", {"3": "3", "7": "7"})
    report = evaluate(art.model, root, progress=False)
    assert report.num_samples == 12 and report.dataset_id == "imagefolder"
    support = {c.label: c.support for c in report.classification.per_class}
    assert support["3"] == support["7"] == 6 and support["0"] == 0
    assert report.accuracy >= 0.8
    for mistake in report.mistakes:
        assert mistake.source.endswith(".png")


def test_dataset_loader_and_tensors(art: Artefacts) -> None:
    split = digits(model=art.model)
    x, y = split.test.tensors
    for data in (split.test, DataLoader(split.test, batch_size=50), (x, y)):
        report = evaluate(art.model, data, progress=False)
        assert report.accuracy == pytest.approx(LENET_DIGITS_ACCURACY), type(data)
    x2, _ = digits_split(art.model.pretrained_cfg, "test")
    assert np.allclose(x2, x.numpy())


class InkSegmenter(nn.Module):
    """A perfect segmenter of the digits' ink (pixels above 0.5): IoU 1 by construction."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(10.0))
        self.pretrained_cfg = {"architecture": "ink", "task": "segmentation",
                               "input_size": (1, 32, 32), "mean": (0.5,), "std": (0.5,),
                               "labels": ("background", "ink"), "num_classes": 2}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([-x, x], dim=1) * self.scale


def test_segmenter_on_the_digits_ink() -> None:
    report = evaluate(InkSegmenter(), "digits", progress=False)
    assert report.task == "segmentation" and report.classification is None
    seg = report.segmentation
    assert seg.iou == [1.0, 1.0] and seg.dice == [1.0, 1.0] and seg.pixel_accuracy == 1.0
    assert seg.confusion.sum() == 360 * 32 * 32
    assert "mIoU" in report.table()
    assert {r.metric_type for r in report.eval_results()} == {"mean_iou", "dice",
                                                               "pixel_accuracy"}


# -- bad input -----------------------------------------------------------------------------------


def test_classes_that_do_not_match_the_labels(art: Artefacts, tmp_path: Path) -> None:
    root = _digit_folder(tmp_path / "pets", {"cat": "3", "dog": "7"})
    with pytest.raises(EvaluateError, match=r"classes do not match the model's labels: "
                                            r"'cat', 'dog' are not among"):
        evaluate(art.model, root, progress=False, report=tmp_path / "report")
    assert not (tmp_path / "report").exists()
    _no_staging_left(tmp_path)
    x, _ = digits(model=art.model).test.tensors
    with pytest.raises(EvaluateError, match="class 12 but the model has 10 classes"):
        evaluate(art.model, (x[:4], torch.tensor([1, 2, 3, 12])), progress=False)


def test_an_empty_folder(art: Artefacts, tmp_path: Path) -> None:
    (tmp_path / "empty" / "3").mkdir(parents=True)
    with pytest.raises(EvaluateError, match=r"no images in .*one sub-folder per class"):
        evaluate(art.model, tmp_path / "empty", progress=False, report=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    loose = tmp_path / "loose"
    loose.mkdir()
    Image.new("L", (8, 8)).save(loose / "a.png")
    with pytest.raises(EvaluateError, match="1 images are there but not in class sub-folders"):
        evaluate(art.model, loose, progress=False)
    with pytest.raises(EvaluateError, match="no such file or directory"):
        evaluate(art.model, tmp_path / "missing", progress=False)


def test_a_segmenter_given_classification_data(art: Artefacts, tmp_path: Path) -> None:
    x, y = digits((1, 32, 32)).test.tensors
    with pytest.raises(EvaluateError, match=r"is a segmenter: its evaluation needs masks"):
        evaluate(InkSegmenter(), (x, y), progress=False, report=tmp_path / "out")
    root = _digit_folder(tmp_path / "digits", {"3": "3"})
    with pytest.raises(EvaluateError, match="segmenter"):
        evaluate(InkSegmenter(), root, progress=False)
    with pytest.raises(EvaluateError, match="is a classifier"):
        evaluate(art.model, (x, torch.zeros(len(x), 32, 32, dtype=torch.int64)),
                 progress=False)
    assert not (tmp_path / "out").exists()
    _no_staging_left(tmp_path)


def test_bad_arguments(art: Artefacts) -> None:
    x, _ = digits(model=art.model).test.tensors
    with pytest.raises(EvaluateError, match="carry no labels"):
        evaluate(art.model, x[:8], progress=False)
    with pytest.raises(EvaluateError, match=r"unknown backend 'onx'.*Did you mean: onnx"):
        evaluate(art.model, "digits", backend="onx")
    with pytest.raises(EvaluateError, match="top_k"):
        evaluate(art.model, "digits", top_k=(0,))
    with pytest.raises(EvaluateError, match="is already quantized"):
        evaluate(art.int8, "digits", backend="fp16")
    with pytest.raises(EvaluateError, match="no such file"):
        load_evaluation(Path(tempfile.gettempdir()) / "no-such-metrics.json")


def test_report_dict_round_trip(art: Artefacts, tmp_path: Path) -> None:
    report = evaluate(art.model, "digits", compare=[art.onnx], progress=False,
                      latency_repeats=2)
    data = json.loads(json.dumps(report.to_dict()))
    assert EvalReport.from_dict(data).to_dict() == data
    assert data["classification"]["calibration"]["bins"] == 15
    assert "15 equal-width bins" in data["classification"]["calibration"]["binning"]
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(data))
    assert load_evaluation(path).accuracy == pytest.approx(LENET_DIGITS_ACCURACY)
    path.write_text('{"format": "something else"}')
    with pytest.raises(EvaluateError, match="not a cnnzoo evaluation"):
        load_evaluation(path)


# -- the command line ------------------------------------------------------------------------


def test_cli_json_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "lenet5", "--data", "digits", "--json", "--no-latency"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["classification"]["accuracy"] == pytest.approx(LENET_DIGITS_ACCURACY)
    assert main(["evaluate", "lenet5", "--mistakes", "2", "--min-accuracy", "0.99"]) == 0
    out = capsys.readouterr().out
    assert "top-1          99.17%" in out and "ECE: 15 equal-width bins" in out


def test_cli_compare_and_gates(art: Artefacts, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["evaluate", str(art.onnx), "--compare", str(art.broken), "--max-drop",
                 "0.01", "--latency-batches", "1,4"])
    captured = capsys.readouterr()
    assert code == 1
    assert "broken.int8.onnx" in captured.out and "ms @ b4" in captured.out
    assert captured.err.strip().startswith("cnnzoo evaluate: error: broken.int8.onnx loses")
    assert main(["evaluate", "lenet5", "--min-accuracy", "0.995", "--no-latency"]) == 1
    assert "below --min-accuracy 99.50%" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--data", "nowhere"], "--data 'nowhere': no such folder"),
    (["--compare", "missing.onnx"], "--compare 'missing.onnx': no such file"),
    (["--backend", "int9"], "invalid choice"),
])
def test_cli_failures_are_one_line(argv: list[str], message: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) if "choice" in message else _nothing():
        assert main(["evaluate", "lenet5", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and err.startswith("cnnzoo evaluate")


def test_cli_data_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "cat").mkdir()
    assert main(["evaluate", "lenet5", "--data", str(tmp_path), "--report",
                 str(tmp_path / "report")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no images in" in err
    assert not (tmp_path / "report").exists()


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
