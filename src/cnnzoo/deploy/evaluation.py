"""Evaluate: the report that decides whether a model ships.

:func:`evaluate` runs a model — a zoo module, a registered name, a saved folder or an
``.onnx`` file (FP32, INT8 or FP16) — on labelled data through the same
:class:`~cnnzoo.deploy.predict.Predictor` path as ``predict`` (so the numbers of every
backend are comparable) and returns an :class:`EvalReport`:

- classifiers: top-1/top-5 accuracy; per-class precision, recall, F1 and support; the
  confusion matrix; calibration — ECE over :data:`ECE_BINS` equal-width bins of the
  top-1 confidence, negative log-likelihood, multiclass Brier score and the
  reliability-diagram data; the most confident mistakes;
- segmenters: per-class IoU and Dice, mean IoU and pixel accuracy; mask pixels holding
  ``ignore_index`` (255 by default, Pascal VOC's convention) count nowhere, any other
  value outside the model's classes is an :class:`~cnnzoo.errors.EvaluateError` naming
  the sample;
- with ``compare=[…]``: one row per backend with its accuracy, the difference from the
  reference (the first), top-1 agreement with the reference, size on disk and latency
  at batch 1 and batch N, timed interleaved in the same run
  (:mod:`cnnzoo.deploy.timing`).

The metrics follow ``sklearn.metrics``' definitions (the tests hold them to its values,
bit for bit) but are derived here in one vectorised pass from one confusion matrix,
counted with ``np.bincount``: scikit-learn's argument checks cost more than the metrics
(a fixed ~1 ms per call, and a sort of every pixel of a segmentation batch), which
would be a tenth of a small model's whole evaluation (issue 12).
:meth:`EvalReport.save` writes ``report.html``, ``report.md`` and ``metrics.json``
(:mod:`cnnzoo.deploy.evaluation_report`); :meth:`EvalReport.eval_results` gives the
Hugging Face ``model-index`` results that :func:`cnnzoo.hub.save_pretrained` and
:func:`cnnzoo.hub.push_to_hub` write into the model card.

Example:
    >>> import cnnzoo
    >>> report = cnnzoo.evaluate(cnnzoo.create("lenet5", pretrained=True), "digits",
    ...                          progress=False)
    >>> round(report.accuracy * 100, 2), report.num_samples
    (99.17, 360)
"""

from __future__ import annotations

import json
import math
import os
import statistics
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from torch import nn

from cnnzoo._utils import did_you_mean, text_table
from cnnzoo.data.datasets import DIGIT_LABELS, digits_segmentation
from cnnzoo.data.images import ImageSource, as_data, digits_split, image_files
from cnnzoo.data.masks import IGNORE_INDEX, background_only_problem, mask_problem
from cnnzoo.deploy.evaluation_backends import (
    BACKENDS,
    Backend,
    Workdir,
    derived,
    open_backend,
)
from cnnzoo.deploy.predict import Predictor
from cnnzoo.deploy.runtime import ModelSource
from cnnzoo.deploy.timing import measure
from cnnzoo.errors import DataError, EvaluateError

if TYPE_CHECKING:
    from huggingface_hub import EvalResult

__all__ = [
    "BACKENDS",
    "BINNING",
    "ECE_BINS",
    "BackendRow",
    "Calibration",
    "ClassMetrics",
    "ClassificationMetrics",
    "EvalReport",
    "EvaluateError",
    "Mistake",
    "SegmentationMetrics",
    "calibration_metrics",
    "classification_metrics",
    "evaluate",
    "load_evaluation",
    "pixel_confusion",
    "segmentation_metrics",
]

ECE_BINS = 15
"""The default number of equal-width confidence bins of the expected calibration error."""

BINNING = ("{bins} equal-width bins of the top-1 confidence, (0, 1/{bins}], "
           "(1/{bins}, 2/{bins}], …, ({last}/{bins}, 1]; ECE = sum over the bins of "
           "(share of samples) x |accuracy - mean confidence|")
"""How the calibration bins are made (formatted with ``bins``), stated in every report."""

_SEGMENTATION = "segmentation"


# -- metrics -------------------------------------------------------------------------------


@dataclass
class ClassMetrics:
    """Precision, recall, F1 and support (samples, or pixels for segmenters) of one class."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class Calibration:
    """How well the top-1 confidence matches the accuracy.

    Attributes:
        bins: the number of equal-width confidence bins (see :data:`BINNING`).
        ece: expected calibration error (0 is perfect).
        nll: mean negative log-likelihood of the true class.
        brier: multiclass Brier score, mean over samples of ``sum_c (p_c - [y = c])^2``.
        edges: the ``bins + 1`` bin edges.
        confidence: mean top-1 confidence per bin (``None`` for an empty bin).
        accuracy: accuracy per bin (``None`` for an empty bin).
        counts: samples per bin.
    """

    bins: int
    ece: float
    nll: float
    brier: float
    edges: list[float]
    confidence: list[float | None]
    accuracy: list[float | None]
    counts: list[int]

    @property
    def binning(self) -> str:
        """The statement of how the bins are made."""
        return BINNING.format(bins=self.bins, last=self.bins - 1)


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _class_indices(y_true: np.ndarray, num_classes: int) -> np.ndarray:
    """``y_true`` as int64 class indices, checked to lie in ``[0, num_classes)``."""
    y = np.asarray(y_true, dtype=np.int64).ravel()
    if y.size and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        bad = int(y.min()) if int(y.min()) < 0 else int(y.max())
        raise EvaluateError(f"true class {bad} is outside the {num_classes} classes of the "
                            f"probabilities (0–{num_classes - 1})")
    return y


def calibration_metrics(y_true: np.ndarray, probs: np.ndarray, *, bins: int = ECE_BINS
                        ) -> Calibration:
    """ECE (equal-width bins of the top-1 confidence), NLL, Brier score and the bins.

    A sample with confidence ``c`` falls in bin ``ceil(c * bins) - 1`` (right edges
    included, ``(0, 1/bins]`` first). NLL and Brier are scikit-learn's ``log_loss`` (on
    probabilities clipped to ``[1e-15, 1 - eps]``) and ``brier_score_loss(...,
    scale_by_half=False)``, computed in one vectorised pass instead of two calls: their
    argument checks cost more than the metrics (the tests hold the values to
    scikit-learn's).

    Args:
        y_true: true classes ``[N]``.
        probs: class probabilities ``[N, C]`` (rows sum to 1).
        bins: the number of bins.

    Example:
        >>> import numpy as np
        >>> cal = calibration_metrics(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]]),
        ...                           bins=10)
        >>> round(cal.ece, 3), cal.counts[8], cal.counts[7]
        (0.45, 1, 1)
    """
    probs = np.asarray(probs, dtype=np.float64)
    return _calibration(_class_indices(y_true, probs.shape[1]), probs, probs.argmax(axis=1),
                        bins)


def _calibration(y_true: np.ndarray, probs: np.ndarray, top: np.ndarray, bins: int
                 ) -> Calibration:
    """:func:`calibration_metrics` of checked classes, float64 probabilities and their
    argmax ``top``."""
    rows = np.arange(len(y_true))
    confidence = probs[rows, top]
    correct = (top == y_true).astype(np.float64)
    index = np.clip(np.ceil(confidence * bins).astype(np.int64) - 1, 0, bins - 1)
    counts = np.bincount(index, minlength=bins)
    conf_sum = np.bincount(index, weights=confidence, minlength=bins)
    acc_sum = np.bincount(index, weights=correct, minlength=bins)
    ece = float(np.abs(acc_sum - conf_sum).sum() / max(1, len(y_true)))
    filled = counts > 0
    mean_conf = np.divide(conf_sum, counts, out=np.zeros(bins), where=filled)
    mean_acc = np.divide(acc_sum, counts, out=np.zeros(bins), where=filled)
    p_true = probs[rows, y_true]
    eps = np.finfo(np.float64).eps
    nll = float(np.mean(-np.log(np.clip(p_true, 1e-15, 1 - eps)))) if len(y_true) else 0.0
    onehot = np.zeros_like(probs)
    onehot[rows, y_true] = 1.0
    brier = (float(np.mean(np.sum((onehot - probs) ** 2, axis=1)))
             if probs.shape[1] > 1 and len(y_true) else 0.0)
    return Calibration(
        bins=bins, ece=ece, nll=nll, brier=brier,
        edges=np.linspace(0.0, 1.0, bins + 1).tolist(),
        confidence=[c if f else None for c, f in zip(mean_conf.tolist(), filled.tolist(),
                                                      strict=True)],
        accuracy=[a if f else None for a, f in zip(mean_acc.tolist(), filled.tolist(),
                                                    strict=True)],
        counts=counts.tolist(),
    )


@dataclass
class ClassificationMetrics:
    """Top-k accuracy, per-class scores, the confusion matrix and calibration."""

    top_k: dict[int, float]
    per_class: list[ClassMetrics]
    confusion: np.ndarray
    calibration: Calibration

    @property
    def accuracy(self) -> float:
        """Top-1 accuracy."""
        return self.top_k.get(1, float(np.trace(self.confusion) / max(1, self.confusion.sum())))

    @property
    def macro_f1(self) -> float:
        """The mean F1 over the classes present in the data."""
        present = [c.f1 for c in self.per_class if c.support]
        return float(np.mean(present)) if present else 0.0


def classification_metrics(y_true: np.ndarray, probs: np.ndarray, labels: Sequence[str], *,
                           top_k: Sequence[int] = (1, 5), bins: int = ECE_BINS
                           ) -> ClassificationMetrics:
    """Every classification metric of a report, from true classes and probabilities.

    Args:
        y_true: true classes ``[N]`` (indices into ``labels``).
        probs: class probabilities ``[N, C]``.
        labels: the ``C`` class names.
        top_k: the k of the top-k accuracies (a k of ``C`` or more counts every sample).
        bins: the calibration bins.

    Example:
        >>> import numpy as np
        >>> m = classification_metrics(np.array([0, 1, 1]),
        ...                            np.array([[.8, .2], [.6, .4], [.3, .7]]), ["a", "b"])
        >>> round(m.accuracy, 4), m.confusion.tolist()
        (0.6667, [[1, 0], [1, 1]])
    """
    probs = np.asarray(probs, dtype=np.float64)
    num_classes = probs.shape[1]
    y_true = _class_indices(y_true, num_classes)
    pred = probs.argmax(axis=1)
    confusion = _count_confusion(y_true, pred, num_classes)
    precision, recall, f1, support = _per_class_scores(confusion)
    # top-k: the true class's rank under a stable descending sort (ties: lower index first)
    p_true = probs[np.arange(len(y_true)), y_true][:, None]
    ahead = (probs > p_true) | ((probs == p_true) & (np.arange(num_classes) < y_true[:, None]))
    rank = ahead.sum(axis=1)
    accuracies = {int(k): float((rank < int(k)).mean()) if len(y_true) else 0.0
                  for k in top_k}
    return ClassificationMetrics(
        top_k=accuracies,
        per_class=[ClassMetrics(str(labels[i]), p, r, f, n) for i, (p, r, f, n) in
                   enumerate(zip(precision.tolist(), recall.tolist(), f1.tolist(),
                                 support.tolist(), strict=True))],
        confusion=confusion,
        calibration=_calibration(y_true, probs, pred, bins),
    )


def _count_confusion(true: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    """``sklearn.metrics.confusion_matrix(true, pred, labels=range(C))`` of class ids already
    checked to lie in ``0 … C-1``: one ``np.bincount`` (int64, rows: true class)."""
    flat = true.astype(np.int64, copy=False) * num_classes + pred.astype(np.int64, copy=False)
    return np.bincount(flat.ravel(), minlength=num_classes * num_classes).reshape(
        num_classes, num_classes)


def _per_class_scores(confusion: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall, F1 and support per class from a confusion matrix (rows: true
    class), as ``precision_recall_fscore_support(..., zero_division=0)`` defines them:
    ``TP / predicted``, ``TP / true``, ``2 TP / (true + predicted)``, 0 where undefined."""
    tp = np.diag(confusion).astype(np.float64)
    true = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        return np.divide(num, den, out=np.zeros_like(num), where=den > 0)

    return ratio(tp, predicted), ratio(tp, true), ratio(2 * tp, true + predicted), true


@dataclass
class SegmentationMetrics:
    """Per-class IoU and Dice, mean IoU, mean Dice and pixel accuracy of a segmenter.

    Attributes:
        labels: the class names.
        iou: per-class intersection over union (``None`` for a class in neither the
            masks nor the predictions).
        dice: per-class Dice coefficient (``None`` likewise).
        support: pixels of each class in the masks.
        pixel_accuracy: the share of pixels classified right.
        confusion: the pixel confusion matrix (rows: true class).
    """

    labels: tuple[str, ...]
    iou: list[float | None]
    dice: list[float | None]
    support: list[int]
    pixel_accuracy: float
    confusion: np.ndarray

    @property
    def miou(self) -> float:
        """The mean IoU over the classes that occur."""
        values = [v for v in self.iou if v is not None]
        return float(np.mean(values)) if values else 0.0

    @property
    def mean_dice(self) -> float:
        """The mean Dice over the classes that occur."""
        values = [v for v in self.dice if v is not None]
        return float(np.mean(values)) if values else 0.0


def pixel_confusion(masks: np.ndarray, predicted: np.ndarray, num_classes: int, *,
                    ignore_index: int | None = IGNORE_INDEX) -> np.ndarray:
    """The pixel confusion matrix ``[C, C]`` (rows: true class) of masks and predictions.

    Pixels whose mask value is ``ignore_index`` are left out (``None``: none is). Equal to
    ``sklearn.metrics.confusion_matrix`` of the kept pixels, counted with one
    ``np.bincount`` (scikit-learn sorts every pixel to check its arguments).

    Raises:
        EvaluateError: a mask value that is neither a class ``0 … C-1`` nor
            ``ignore_index`` (checked with one min/max over the masks), or a predicted
            class outside ``0 … C-1``.

    Example:
        >>> import numpy as np
        >>> pixel_confusion(np.array([[0, 1, 255]]), np.array([[0, 1, 1]]), 2).tolist()
        [[1, 0], [0, 1]]
    """
    masks, predicted = np.asarray(masks), np.asarray(predicted)
    if masks.shape != predicted.shape:
        raise EvaluateError(f"masks of shape {masks.shape} and predictions of shape "
                            f"{predicted.shape} differ")
    problem = mask_problem(masks, num_classes, ignore_index=ignore_index)
    if problem:
        raise EvaluateError(problem)
    if predicted.size and (int(predicted.min()) < 0 or int(predicted.max()) >= num_classes):
        raise EvaluateError(f"the predictions hold classes {int(predicted.min())} to "
                            f"{int(predicted.max())}, outside the {num_classes} classes "
                            f"(0–{num_classes - 1})")
    true, pred = masks.ravel(), predicted.ravel()
    if ignore_index is not None and masks.size and (
            int(masks.max()) == ignore_index or int(masks.min()) == ignore_index):
        keep = true != ignore_index
        true, pred = true[keep], pred[keep]
    return _count_confusion(true, pred, num_classes)


def segmentation_metrics(confusion: np.ndarray, labels: Sequence[str]) -> SegmentationMetrics:
    """IoU ``TP / (TP + FP + FN)``, Dice ``2TP / (2TP + FP + FN)`` and pixel accuracy.

    Example:
        >>> import numpy as np
        >>> m = segmentation_metrics(np.array([[3, 1], [0, 4]]), ["bg", "fg"])
        >>> m.iou, m.dice[1], m.pixel_accuracy
        ([0.75, 0.8], 0.8888888888888888, 0.875)
    """
    confusion = np.asarray(confusion, dtype=np.int64)
    tp = np.diag(confusion).astype(np.float64)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - tp
    present = union > 0
    iou = np.divide(tp, union, out=np.zeros_like(tp), where=present)
    dice = np.divide(2 * tp, union + tp, out=np.zeros_like(tp), where=present)
    return SegmentationMetrics(
        labels=tuple(str(label) for label in labels),
        iou=[float(v) if p else None for v, p in zip(iou, present, strict=True)],
        dice=[float(v) if p else None for v, p in zip(dice, present, strict=True)],
        support=[int(v) for v in confusion.sum(axis=1)],
        pixel_accuracy=float(tp.sum() / max(1, confusion.sum())),
        confusion=confusion,
    )


# -- the report ----------------------------------------------------------------------------


@dataclass
class Mistake:
    """One wrong prediction: the sample's index in the data, its true and predicted class."""

    index: int
    true: str
    predicted: str
    confidence: float
    source: str | None = None


@dataclass
class BackendRow:
    """One backend of a comparison.

    Attributes:
        name: what was evaluated (``"lenet5 (eager)"``, ``"lenet5.int8.onnx"``).
        backend: ``eager``, ``onnx``, ``onnx-int8-static``, ``onnx-fp16``.
        accuracy: top-1 accuracy (pixel accuracy for segmenters).
        accuracy_delta: ``accuracy`` minus the reference's (a fraction).
        agreement: the share of top-1 predictions (pixels for segmenters) equal to the
            reference's.
        size_bytes: size on disk (for an eager model: its weights).
        latency_ms: median milliseconds per batch, by batch size.
        ece: the backend's expected calibration error (classifiers).
    """

    name: str
    backend: str
    accuracy: float
    accuracy_delta: float
    agreement: float
    size_bytes: int | None = None
    latency_ms: dict[int, float] = field(default_factory=dict)
    ece: float | None = None


def _fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, scale in (("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.2f}%"


@dataclass
class EvalReport:
    """What :func:`evaluate` found.

    Attributes:
        model: the model's name (``"lenet5.digits"``, a file name…).
        backend: ``eager``, ``onnx``, ``onnx-int8-static``…
        task: ``"classification"`` or ``"segmentation"``.
        dataset: where the data came from (``"digits test split"``).
        dataset_id: a short id of the data for the model card (``"digits"``,
            ``"imagefolder"``…).
        num_samples: images evaluated.
        labels: the model's class names.
        classification: the metrics of a classifier (else ``None``).
        segmentation: the metrics of a segmenter (else ``None``).
        mistakes: the most confident wrong predictions, most confident first.
        comparison: with ``compare=``: one row per backend, the reference first.
        size_bytes: the model's size on disk.
        seconds: the evaluation's wall time.
        throughput: images per second of the evaluation pass.
        notes: remarks (e.g. why a picture is missing).
    """

    model: str
    backend: str
    task: str
    dataset: str
    dataset_id: str
    num_samples: int
    labels: tuple[str, ...]
    classification: ClassificationMetrics | None = None
    segmentation: SegmentationMetrics | None = None
    mistakes: list[Mistake] = field(default_factory=list)
    comparison: list[BackendRow] = field(default_factory=list)
    size_bytes: int | None = None
    seconds: float = 0.0
    throughput: float | None = None
    notes: list[str] = field(default_factory=list)
    # for the pictures of the report: not serialised
    eager_model: nn.Module | None = field(default=None, repr=False, compare=False)
    mistake_images: np.ndarray | None = field(default=None, repr=False, compare=False)
    preprocessing: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def accuracy(self) -> float:
        """Top-1 accuracy (classifiers) or pixel accuracy (segmenters)."""
        if self.classification is not None:
            return self.classification.accuracy
        return self.segmentation.pixel_accuracy if self.segmentation is not None else 0.0

    def summary_rows(self) -> list[tuple[str, str]]:
        """``(metric, value)`` rows of the headline figures."""
        rows = [("model", f"{self.model} ({self.backend})"),
                ("data", f"{self.dataset} ({self.num_samples} images)")]
        if self.classification is not None:
            m = self.classification
            rows += [(f"top-{k}", _pct(v)) for k, v in sorted(m.top_k.items())]
            cal = m.calibration
            rows += [("macro F1", f"{m.macro_f1:.4f}"),
                     (f"ECE ({cal.bins} bins)", f"{cal.ece:.4f}"),
                     ("NLL", f"{cal.nll:.4f}"), ("Brier", f"{cal.brier:.4f}")]
        if self.segmentation is not None:
            s = self.segmentation
            rows += [("mIoU", f"{s.miou:.4f}"), ("mean Dice", f"{s.mean_dice:.4f}"),
                     ("pixel accuracy", _pct(s.pixel_accuracy))]
        if self.size_bytes is not None:
            rows.append(("size", _fmt_bytes(self.size_bytes)))
        if self.throughput:
            rows.append(("throughput", f"{self.throughput:,.0f} images/s"))
        return rows

    def comparison_rows(self) -> list[tuple[str, ...]]:
        """The comparison as text cells (empty without ``compare=``)."""
        sizes = sorted({b for row in self.comparison for b in row.latency_ms})
        out = []
        for row in self.comparison:
            cells = [row.name, row.backend, _pct(row.accuracy),
                     f"{row.accuracy_delta * 100:+.2f}", _pct(row.agreement),
                     _fmt_bytes(row.size_bytes)]
            cells += [f"{row.latency_ms[b]:.3f}" if b in row.latency_ms else "-" for b in sizes]
            out.append(tuple(cells))
        return out

    def comparison_headers(self) -> tuple[str, ...]:
        sizes = sorted({b for row in self.comparison for b in row.latency_ms})
        return ("model", "backend", "accuracy", "Δ points", "agreement", "size",
                *(f"ms @ b{b}" for b in sizes))

    def comparison_table(self) -> str:
        """The backends side by side as a text table (``""`` without ``compare=``)."""
        if not self.comparison:
            return ""
        return text_table(self.comparison_headers(), self.comparison_rows())

    def table(self) -> str:
        """A readable summary: headline metrics, per class, mistakes, comparison."""
        parts = [text_table(("evaluation", "value"), self.summary_rows())]
        if self.classification is not None:
            parts.append(text_table(
                ("class", "precision", "recall", "F1", "support"),
                [(c.label, f"{c.precision:.4f}", f"{c.recall:.4f}", f"{c.f1:.4f}", c.support)
                 for c in self.classification.per_class]))
            if self.mistakes:
                parts.append(text_table(
                    ("mistake", "true", "predicted", "confidence"),
                    [(m.source or f"#{m.index}", m.true, m.predicted, f"{m.confidence:.4f}")
                     for m in self.mistakes]))
            parts.append("ECE: " + self.classification.calibration.binning)
        if self.segmentation is not None:
            s = self.segmentation
            parts.append(text_table(
                ("class", "IoU", "Dice", "pixels"),
                [(label, "-" if i is None else f"{i:.4f}", "-" if d is None else f"{d:.4f}", n)
                 for label, i, d, n in zip(s.labels, s.iou, s.dice, s.support, strict=True)]))
        if self.comparison:
            parts.append(self.comparison_table())
        parts += [f"note: {n}" for n in self.notes]
        return "\n\n".join(parts)

    def __str__(self) -> str:
        return self.table()

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (what ``metrics.json`` holds)."""
        return _report_to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EvalReport:
        """A report from :meth:`to_dict`'s data (``metrics.json``), without its pictures."""
        return _report_from_dict(data)

    def save(self, directory: str | os.PathLike[str]) -> Path:
        """Write ``report.html``, ``report.md`` and ``metrics.json`` into ``directory``
        (staged, then moved into place: an error leaves no half-written report)."""
        from cnnzoo.deploy.evaluation_report import write_report

        return write_report(self, directory)

    def eval_results(self, *, dataset_name: str | None = None) -> list[EvalResult]:
        """The headline metrics as ``huggingface_hub.EvalResult`` objects (``model-index``).

        Args:
            dataset_name: the dataset's display name (default: :attr:`dataset`).
        """
        from huggingface_hub import EvalResult

        task = "image-segmentation" if self.task == _SEGMENTATION else "image-classification"
        split = "test" if "test" in self.dataset else None
        return [EvalResult(task_type=task, dataset_type=self.dataset_id,
                           dataset_name=dataset_name or self.dataset, dataset_split=split,
                           metric_type=kind, metric_name=name, metric_value=round(value, 6))
                for kind, name, value in self._card_metrics()]

    def _card_metrics(self) -> list[tuple[str, str, float]]:
        if self.classification is not None:
            m = self.classification
            cal = m.calibration
            out = [("accuracy" if k == 1 else f"top_{k}_accuracy", f"Top-{k} accuracy", v)
                   for k, v in sorted(m.top_k.items())]
            return [*out, ("f1", "Macro F1", m.macro_f1),
                    ("ece", f"ECE ({cal.bins} equal-width bins)", cal.ece),
                    ("nll", "Negative log-likelihood", cal.nll),
                    ("brier", "Brier score", cal.brier)]
        if self.segmentation is not None:
            s = self.segmentation
            return [("mean_iou", "Mean IoU", s.miou), ("dice", "Mean Dice", s.mean_dice),
                    ("pixel_accuracy", "Pixel accuracy", s.pixel_accuracy)]
        return []

    def to_model_index(self, model_name: str) -> list[dict[str, Any]]:
        """The ``model-index`` entry of the model card's YAML, as huggingface_hub writes it."""
        from huggingface_hub.repocard_data import eval_results_to_model_index

        return eval_results_to_model_index(model_name, self.eval_results())

    def summary_markdown(self) -> str:
        """The model card's "Evaluation" section: headline metrics and any comparison."""
        from cnnzoo.deploy.evaluation_report import summary_markdown

        return summary_markdown(self)


def load_evaluation(path: str | os.PathLike[str]) -> EvalReport:
    """An :class:`EvalReport` from a ``metrics.json`` written by :meth:`EvalReport.save`.

    Raises:
        EvaluateError: the file is missing or is not a cnnzoo evaluation.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "metrics.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return EvalReport.from_dict(data)
    except FileNotFoundError:
        raise EvaluateError(f"{str(path)!r}: no such file (write one with "
                            "`cnnzoo evaluate MODEL --report DIR`)") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise EvaluateError(f"{str(path)!r} is not a cnnzoo evaluation (metrics.json): "
                            f"{exc}") from None


def _report_to_dict(report: EvalReport) -> dict[str, Any]:
    out: dict[str, Any] = {
        "format": "cnnzoo-evaluation/1", "model": report.model, "backend": report.backend,
        "task": report.task, "dataset": report.dataset, "dataset_id": report.dataset_id,
        "num_samples": report.num_samples, "labels": list(report.labels),
        "size_bytes": report.size_bytes, "seconds": round(report.seconds, 4),
        "throughput": report.throughput, "notes": list(report.notes),
    }
    if report.classification is not None:
        m = report.classification
        out["classification"] = {
            "top_k": {str(k): v for k, v in m.top_k.items()},
            "accuracy": m.accuracy, "macro_f1": m.macro_f1,
            "per_class": [vars(c).copy() for c in m.per_class],
            "confusion": m.confusion.tolist(),
            "calibration": {**vars(m.calibration), "binning": m.calibration.binning},
        }
    if report.segmentation is not None:
        s = report.segmentation
        out["segmentation"] = {
            "labels": list(s.labels), "iou": s.iou, "dice": s.dice, "support": s.support,
            "miou": s.miou, "mean_dice": s.mean_dice, "pixel_accuracy": s.pixel_accuracy,
            "confusion": s.confusion.tolist()}
    out["mistakes"] = [vars(m).copy() for m in report.mistakes]
    out["comparison"] = [{**vars(r), "latency_ms": {str(b): v for b, v in r.latency_ms.items()}}
                         for r in report.comparison]
    return out


def _report_from_dict(data: Mapping[str, Any]) -> EvalReport:
    if data.get("format") != "cnnzoo-evaluation/1":
        raise ValueError(f"unknown format {data.get('format')!r}")
    report = EvalReport(
        model=data["model"], backend=data["backend"], task=data["task"],
        dataset=data["dataset"], dataset_id=data["dataset_id"],
        num_samples=int(data["num_samples"]), labels=tuple(data["labels"]),
        size_bytes=data.get("size_bytes"), seconds=float(data.get("seconds") or 0.0),
        throughput=data.get("throughput"), notes=list(data.get("notes") or ()),
        mistakes=[Mistake(**m) for m in data.get("mistakes") or ()],
        comparison=[BackendRow(**{**r, "latency_ms": {int(b): v for b, v in
                                                       r["latency_ms"].items()}})
                    for r in data.get("comparison") or ()],
    )
    if data.get("classification"):
        c = data["classification"]
        cal = {k: v for k, v in c["calibration"].items() if k != "binning"}
        report.classification = ClassificationMetrics(
            top_k={int(k): float(v) for k, v in c["top_k"].items()},
            per_class=[ClassMetrics(**p) for p in c["per_class"]],
            confusion=np.asarray(c["confusion"], dtype=np.int64),
            calibration=Calibration(**cal))
    if data.get("segmentation"):
        s = data["segmentation"]
        report.segmentation = SegmentationMetrics(
            labels=tuple(s["labels"]), iou=s["iou"], dice=s["dice"], support=s["support"],
            pixel_accuracy=s["pixel_accuracy"], confusion=np.asarray(s["confusion"]))
    return report


# -- data ----------------------------------------------------------------------------------


def _signature(cfg: Mapping[str, Any]) -> str:
    """What the preprocessing depends on: two configs with the same signature give the
    same input arrays."""
    keys = ("input_size", "mean", "std", "crop_pct", "interpolation")
    return json.dumps({k: list(v) if isinstance(v, tuple) else v
                       for k in keys if (v := cfg.get(k)) is not None}, sort_keys=True)


@dataclass
class _Data:
    """Labelled evaluation data, preprocessed per backend through its Predictor.

    Folders are read one batch at a time (``files``); every other kind is held as
    arrays, made once per preprocessing (``arrays``).
    """

    source: str
    dataset_id: str
    y: np.ndarray
    names: tuple[str, ...] | None
    raw: Any = None
    files: list[Path] | None = None
    fixed: np.ndarray | None = None  # already-preprocessed tensors: every backend takes them
    _cache: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)

    def arrays(self, predictor: Predictor) -> np.ndarray | None:
        if self.files is not None:
            return None
        if self.fixed is not None:
            return self.fixed
        key = _signature(predictor.cfg)
        if key not in self._cache:
            self._cache[key] = _load_arrays(self.raw, predictor)
        return self._cache[key]

    def batches(self, predictor: Predictor, batch_size: int) -> Iterator[np.ndarray]:
        x = self.arrays(predictor)
        for start in range(0, len(self), batch_size):
            if x is not None:
                yield x[start:start + batch_size]
            else:
                yield predictor.preprocess(self.files[start:start + batch_size])  # type: ignore[index]

    def take(self, predictor: Predictor, index: Sequence[int]) -> np.ndarray:
        x = self.arrays(predictor)
        if x is not None:
            return x[np.asarray(index, dtype=np.int64)]
        return predictor.preprocess([self.files[i] for i in index])  # type: ignore[index]

    def name_of(self, index: int) -> str | None:
        return str(self.files[index]) if self.files is not None else None


def _load_arrays(raw: Any, predictor: Predictor) -> np.ndarray:
    if isinstance(raw, tuple) and raw and raw[0] == "digits":
        return _digits_test(predictor.cfg, predictor.task == _SEGMENTATION)[0]
    return as_data(raw, predictor.cfg, limit=None, what="evaluation", split="test",
                   dynamic_hw=predictor.task == _SEGMENTATION).x


_DIGITS_CACHE: dict[str, tuple[np.ndarray, np.ndarray]] = {}
_DIGITS_CACHE_BYTES = 64 * 2**20  # keep the last small test split (LeNet's: 1.5 MB)


def _digits_test(cfg: Mapping[str, Any], masks: bool) -> tuple[np.ndarray, np.ndarray]:
    """The digits test split at ``cfg``'s preprocessing: images and classes (or ink masks).

    The last one made is kept when small, so evaluations one after another
    (a comparison, a CI gate, a benchmark) do not resize the same images again.
    """
    key = f"{masks}:{_signature(cfg)}"
    if key in _DIGITS_CACHE:
        return _DIGITS_CACHE[key]
    if masks:
        class _Cfg:
            pretrained_cfg = cfg

        images, target = digits_segmentation(model=_Cfg()).test.tensors
        x, y = images.numpy().astype(np.float32), target.numpy()
    else:
        x, y = digits_split(cfg, "test")
    if x.nbytes <= _DIGITS_CACHE_BYTES:  # kept writable: torch.from_numpy warns otherwise
        _DIGITS_CACHE.clear()
        _DIGITS_CACHE[key] = (x, y)
    return x, y


def _class_folders(root: Path) -> tuple[list[Path], np.ndarray, tuple[str, ...]]:
    """The images of ``root/<class>/…``, their class indices and the class names."""
    if not root.is_dir():
        raise EvaluateError(f"evaluation data {str(root)!r}: no such directory")
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    files: list[Path] = []
    targets: list[int] = []
    names: list[str] = []
    for folder in classes:
        found = image_files(folder)
        if found:
            targets += [len(names)] * len(found)
            names.append(folder.name)
            files += found
    if not files:
        loose = image_files(root)
        hint = (f"; {len(loose)} images are there but not in class sub-folders" if loose
                else "")
        raise EvaluateError(f"no images in {str(root)!r}: expected one sub-folder per class "
                            f"holding image files, e.g. {root}/cat/001.jpg{hint}")
    return files, np.asarray(targets, dtype=np.int64), tuple(names)


def _dataset_names(data: Any) -> tuple[str, ...] | None:
    classes = getattr(data, "classes", None)
    if classes is None:
        classes = getattr(getattr(data, "dataset", None), "classes", None)
    if isinstance(classes, Sequence) and classes and all(isinstance(c, str) for c in classes):
        return tuple(classes)
    return None


def _open_data(data: ImageSource, predictor: Predictor) -> _Data:
    """Any accepted kind of labelled data → :class:`_Data` (labels checked later)."""
    if isinstance(data, str) and data == "digits":
        segmenter = predictor.task == _SEGMENTATION
        x, y = _digits_test(predictor.cfg, segmenter)
        return _Data("digits test split" + (" (ink masks)" if segmenter else ""), "digits",
                     y.copy(), ("background", "ink") if segmenter else DIGIT_LABELS,
                     raw=("digits",), _cache={_signature(predictor.cfg): x})
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if not path.exists():
            raise EvaluateError(f"evaluation data {str(path)!r}: no such file or directory "
                                "(give 'digits' or a folder with one sub-folder per class)")
        files, y, names = _class_folders(path)
        return _Data(f"images in {path}", "imagefolder", y, names, files=files)
    try:
        found = as_data(data, predictor.cfg, limit=None, what="evaluation",
                        dynamic_hw=predictor.task == _SEGMENTATION)
    except DataError as exc:
        raise EvaluateError(str(exc)) from exc
    if found.y is None:
        raise EvaluateError(f"the evaluation data ({found.source}) carry no labels; give "
                            "(images, labels) pairs, a pair of tensors (x, y), 'digits' or "
                            "a folder with one sub-folder per class")
    is_tensor = isinstance(data, torch.Tensor | np.ndarray) or (
        isinstance(data, tuple) and len(data) == 2)
    return _Data(found.source, "tensors" if is_tensor else type(data).__name__, found.y,
                 _dataset_names(data), raw=data, fixed=found.x if is_tensor else None,
                 _cache={} if is_tensor else {_signature(predictor.cfg): found.x})


def _model_labels(predictor: Predictor, num_outputs: int | None = None) -> tuple[str, ...]:
    labels = predictor.labels
    if labels:
        return labels
    count = int(predictor.cfg.get("num_classes") or num_outputs or 0)
    return tuple(str(i) for i in range(count))


def _align_labels(data: _Data, predictor: Predictor, ignore_index: int | None = IGNORE_INDEX
                  ) -> tuple[str, ...]:
    """Check the data's classes (a segmenter's mask values: classes or ``ignore_index``)
    against the model's; map the labels to its indices."""
    segmenter = predictor.task == _SEGMENTATION
    if segmenter and data.y.ndim != 3:
        raise EvaluateError(
            f"{predictor.source} is a segmenter: its evaluation needs masks [N, H, W] as "
            f"labels, but the data ({data.source}) hold one class per image (shape "
            f"{tuple(data.y.shape)}); give (images, masks) or 'digits' (ink masks)")
    if not segmenter and data.y.ndim != 1:
        raise EvaluateError(
            f"{predictor.source} is a classifier: its evaluation needs one class per image, "
            f"but the data ({data.source}) hold labels of shape {tuple(data.y.shape)}")
    labels = _model_labels(predictor)
    if data.names is not None and predictor.labels and not segmenter:
        unknown = [n for n in data.names if n not in labels]
        if unknown:
            shown = ", ".join(repr(n) for n in unknown[:5])
            raise EvaluateError(
                f"the data's classes do not match the model's labels: {shown} "
                f"{'is' if len(unknown) == 1 else 'are'} not among the model's "
                f"{len(labels)} labels ({', '.join(labels[:10])}"
                f"{', …' if len(labels) > 10 else ''})" + did_you_mean(unknown[0], labels))
        lookup = np.asarray([labels.index(n) for n in data.names], dtype=np.int64)
        data.y = lookup[data.y]
    if segmenter and labels:
        if ignore_index is not None and 0 <= ignore_index < len(labels):
            raise EvaluateError(
                f"ignore_index={ignore_index} is one of the model's {len(labels)} classes "
                f"(0–{len(labels) - 1}): pass a value outside them or ignore_index=None")
        problem = mask_problem(data.y, len(labels), ignore_index=ignore_index,
                               what="evaluation") or background_only_problem(
            data.y, len(labels), ignore_index=ignore_index)
        if problem:
            raise EvaluateError(problem)
    elif labels and len(data.y) and (int(data.y.min()) < 0 or int(data.y.max()) >= len(labels)):
        raise EvaluateError(f"the data hold class {int(data.y.max())} but the model has "
                            f"{len(labels)} classes; the data's classes do not match the "
                            "model's labels")
    return labels


# -- running -------------------------------------------------------------------------------


@dataclass
class _Outputs:
    """What one backend produced: probabilities (classifiers) or per-pixel classes and the
    pixel confusion matrix (segmenters)."""

    probs: np.ndarray | None = None
    pixels: np.ndarray | None = None
    confusion: np.ndarray | None = None
    seconds: float = 0.0

    @property
    def predicted(self) -> np.ndarray:
        if self.probs is not None:
            return self.probs.argmax(axis=1)
        return self.pixels if self.pixels is not None else np.zeros(0, np.int64)


def _run(backend: Backend, data: _Data, labels: tuple[str, ...], batch_size: int,
         progress: bool, ignore_index: int | None = IGNORE_INDEX) -> _Outputs:
    predictor = backend.predictor
    segmenter = predictor.task == _SEGMENTATION
    chunks: list[np.ndarray] = []
    confusion = np.zeros((len(labels), len(labels)) if segmenter else (0, 0), dtype=np.int64)
    batches: Iterator[np.ndarray] = data.batches(predictor, batch_size)
    bar: Any = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(batches, total=math.ceil(len(data) / batch_size), unit="batch",
                   leave=False, desc=f"evaluate {backend.name}", disable=None)
    start, seen = time.perf_counter(), 0
    for batch in bar if bar is not None else batches:
        out = predictor.logits(batch)
        if segmenter:
            pred = out.argmax(axis=1)
            masks = data.y[seen:seen + len(batch)]
            if pred.shape != masks.shape:
                raise EvaluateError(f"the model predicts masks of shape {pred.shape[1:]} but "
                                    f"the data's masks are {masks.shape[1:]}")
            confusion += pixel_confusion(masks, pred, len(labels), ignore_index=ignore_index)
            chunks.append(pred.astype(np.int16 if len(labels) < 2**15 else np.int64))
        else:
            if out.ndim != 2 or out.shape[1] != len(labels):
                raise EvaluateError(f"the model returns outputs of shape {out.shape[1:]} but "
                                    f"has {len(labels)} labels")
            chunks.append(out.astype(np.float32, copy=False))
        seen += len(batch)
    if bar is not None:
        bar.close()
    seconds = time.perf_counter() - start
    if segmenter:
        return _Outputs(pixels=np.concatenate(chunks), confusion=confusion, seconds=seconds)
    return _Outputs(probs=_softmax(np.concatenate(chunks).astype(np.float64)), seconds=seconds)


def _mistakes(data: _Data, probs: np.ndarray, labels: tuple[str, ...], count: int
              ) -> list[Mistake]:
    if count <= 0:
        return []
    pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(pred != data.y)
    confidence = probs[wrong, pred[wrong]]
    order = wrong[np.argsort(-confidence, kind="stable")][:count]
    return [Mistake(int(i), labels[int(data.y[i])], labels[int(pred[i])],
                    float(probs[i, pred[i]]), data.name_of(int(i))) for i in order]


def _report_for(backend: Backend, data: _Data, labels: tuple[str, ...], out: _Outputs, *,
                top_k: Sequence[int], bins: int, num_mistakes: int) -> EvalReport:
    predictor = backend.predictor
    report = EvalReport(
        model=backend.name, backend=backend.backend, task=predictor.task,
        dataset=data.source, dataset_id=data.dataset_id, num_samples=len(data),
        labels=labels, size_bytes=backend.size_bytes, seconds=out.seconds,
        throughput=len(data) / out.seconds if out.seconds > 0 else None,
        eager_model=backend.module,
        preprocessing={k: predictor.cfg.get(k) for k in ("mean", "std", "input_size")})
    if out.probs is not None:
        ks = sorted({min(int(k), len(labels)) for k in top_k})
        report.classification = classification_metrics(data.y, out.probs, labels, top_k=ks,
                                                       bins=bins)
        report.mistakes = _mistakes(data, out.probs, labels, num_mistakes)
        if report.mistakes:
            report.mistake_images = data.take(predictor, [m.index for m in report.mistakes])
    elif out.confusion is not None:
        report.segmentation = segmentation_metrics(out.confusion, labels)
    return report


def _latencies(backends: Sequence[Backend], data: _Data, batch_sizes: Sequence[int], *,
               repeats: int, rounds: int = 2, warmup: int = 2) -> list[dict[int, float]]:
    """Median ms per batch for every backend and batch size, timed interleaved.

    Each round runs every backend at every batch size, so a change in the machine's load
    hits all of them alike; the inputs are real samples of the data.
    """
    calls = {}
    for i, backend in enumerate(backends):
        for b in batch_sizes:
            index = np.arange(b) % len(data)
            x = np.ascontiguousarray(data.take(backend.predictor, index.tolist()))
            calls[(i, b)] = (lambda p=backend.predictor, x=x: p.logits(x))
    times: dict[tuple[int, int], list[float]] = {key: [] for key in calls}
    per_round = max(1, math.ceil(repeats / max(1, rounds)))
    for r in range(max(1, rounds)):
        for key, fn in calls.items():
            times[key] += measure(fn, warmup=warmup if r == 0 else 1, repeats=per_round)
    return [{b: statistics.median(times[(i, b)]) * 1e3 for b in batch_sizes}
            for i in range(len(backends))]


def _agreement(out: _Outputs, reference: _Outputs) -> float:
    pred, ref = out.predicted, reference.predicted
    if pred.shape != ref.shape:
        return float("nan")
    return float(np.mean(pred == ref)) if pred.size else 0.0


# -- the verb ------------------------------------------------------------------------------


def _check_arguments(backend: str, top_k: Sequence[int], batch_size: int, bins: int,
                     num_mistakes: int, latency_batch_sizes: Sequence[int]) -> None:
    if backend not in BACKENDS:
        raise EvaluateError(f"unknown backend {backend!r}; choose from {', '.join(BACKENDS)}"
                            + did_you_mean(str(backend), BACKENDS))
    if not top_k or any(int(k) < 1 for k in top_k):
        raise EvaluateError(f"top_k must be positive integers, got {tuple(top_k)}")
    for name, value in (("batch_size", batch_size), ("bins", bins)):
        if int(value) < 1:
            raise EvaluateError(f"{name} must be at least 1, got {value}")
    if num_mistakes < 0:
        raise EvaluateError(f"num_mistakes must be 0 or more, got {num_mistakes}")
    if any(int(b) < 1 for b in latency_batch_sizes):
        raise EvaluateError(f"latency batch sizes must be positive, got {latency_batch_sizes}")


def _same_model(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if isinstance(a, str | os.PathLike) and isinstance(b, str | os.PathLike):
        return os.fspath(a) == os.fspath(b)
    return False


def _open_all(model: ModelSource, compare: Sequence[Any], *, backend: str,
              pretrained: bool | str, workdir: Workdir, data: ImageSource,
              calibration: ImageSource | None) -> list[Backend]:
    """The reference (``model`` on ``backend``) then every other entry of ``compare``."""
    base = open_backend(model, pretrained=pretrained)
    reference = base
    if backend not in ("auto", "eager"):
        reference = derived(base, backend, workdir, data, calibration)
    elif backend == "eager" and base.module is None:
        raise EvaluateError(f"backend 'eager' needs a PyTorch model; {base.name} is an ONNX "
                            "file (use backend='auto')")
    backends = [reference]
    for entry in compare:
        if _same_model(entry, model):
            continue
        if isinstance(entry, str) and entry in BACKENDS[1:]:
            if entry == "eager":
                if base.module is None:
                    raise EvaluateError("compare entry 'eager' needs an eager reference model")
                backends.append(base)
            else:
                backends.append(derived(base, entry, workdir, data, calibration))
        else:
            backends.append(open_backend(entry, pretrained=pretrained))
    return backends


def _compare_rows(backends: Sequence[Backend], reports: Sequence[EvalReport],
                  outputs: Sequence[_Outputs], latencies: Sequence[dict[int, float]]
                  ) -> list[BackendRow]:
    ref_acc = reports[0].accuracy
    rows = []
    for backend, report, out, lat in zip(backends, reports, outputs, latencies, strict=True):
        cal = report.classification.calibration if report.classification else None
        rows.append(BackendRow(
            name=backend.name, backend=report.backend, accuracy=report.accuracy,
            accuracy_delta=report.accuracy - ref_acc, agreement=_agreement(out, outputs[0]),
            size_bytes=backend.size_bytes, latency_ms=dict(lat),
            ece=cal.ece if cal else None))
    return rows


def evaluate(
    model: ModelSource,
    data: ImageSource = "digits",
    *,
    backend: str = "auto",
    top_k: Sequence[int] = (1, 5),
    compare: Sequence[ModelSource] | None = None,
    pretrained: bool | str = False,
    batch_size: int = 64,
    bins: int = ECE_BINS,
    num_mistakes: int = 8,
    calibration: ImageSource | None = None,
    latency: bool | None = None,
    latency_batch_sizes: Sequence[int] = (1, 32),
    latency_repeats: int = 20,
    progress: bool = True,
    report: str | os.PathLike[str] | None = None,
    ignore_index: int | None = IGNORE_INDEX,
) -> EvalReport:
    """Evaluate a model on labelled data; with ``compare``, several backends side by side.

    Args:
        model: an ``nn.Module`` from :func:`cnnzoo.create`, a registered name, a saved
            model folder or an ``.onnx`` file written by cnnzoo (FP32, INT8 or FP16).
        data: ``"digits"`` (the 360 held-out digits; ink masks for a segmenter), a folder
            with one sub-folder per class (named like the model's labels), a
            ``Dataset``/``DataLoader``/list of ``(image, label)`` pairs, or a pair of
            tensors ``(x, y)`` already preprocessed (``y``: masks for a segmenter).
        backend: ``"auto"`` (the model as given), ``"eager"``, or one made from it in
            a temporary folder, each verified as it is made
            (:mod:`~cnnzoo.deploy.evaluation_backends`): ``"onnx"``, ``"int8"``,
            ``"fp16"`` (an export and quantization), ``"eager-bf16"`` (torch.autocast
            bf16, where the hardware has it), ``"openvino"`` (the fastest verified
            precision), ``"openvino-bf16"``, ``"openvino-int8"`` (the OpenVINO extra).
        top_k: the k of the top-k accuracies.
        compare: models to compare with ``model`` (the reference): modules, names,
            folders, ``.onnx`` files, or backend names (made from ``model``, as for
            ``backend``). ``model`` itself in the list is the reference.
        pretrained: weights for a model given by name.
        batch_size: images per forward pass.
        bins: equal-width bins of the expected calibration error.
        num_mistakes: how many of the most confident mistakes to keep.
        calibration: calibration images for an ``"int8"`` backend (default for
            ``data="digits"``: the digits' train split).
        latency: time every backend at ``latency_batch_sizes`` (default: when comparing).
        latency_batch_sizes: the batch sizes of the latency figures.
        latency_repeats: timed runs per backend and batch size (in two interleaved rounds).
        progress: a progress bar (tqdm; off when stderr is not a terminal).
        report: a folder to write ``report.html``, ``report.md`` and ``metrics.json`` into.
        ignore_index: segmenters: the mask value of pixels left out of IoU, Dice and pixel
            accuracy (default 255, Pascal VOC's and torchvision's convention; ``None``:
            every mask value must be a class).

    Returns:
        an :class:`EvalReport` of the reference, with ``comparison`` rows when comparing.

    Raises:
        EvaluateError: a bad argument; data that are empty, unlabelled, or whose classes
            do not match the model's labels; classification data for a segmenter;
            masks with a value that is neither a class nor ``ignore_index`` (the message
            names the sample and the value).
    """
    _check_arguments(backend, top_k, batch_size, bins, num_mistakes, latency_batch_sizes)
    start = time.perf_counter()
    with Workdir() as workdir:
        backends = _open_all(model, compare or (), backend=backend, pretrained=pretrained,
                             workdir=workdir, data=data, calibration=calibration)
        evaluation = _open_data(data, backends[0].predictor)
        labels = _align_labels(evaluation, backends[0].predictor, ignore_index)
        for other in backends[1:]:
            _check_compatible(other, backends[0])
        outputs = [_run(b, evaluation, labels, batch_size, progress, ignore_index)
                   for b in backends]
        reports = [_report_for(b, evaluation, labels, out, top_k=top_k, bins=bins,
                               num_mistakes=num_mistakes) for b, out in zip(backends, outputs,
                                                                            strict=True)]
        timed = latency if latency is not None else len(backends) > 1
        sizes = sorted({int(b) for b in latency_batch_sizes})
        lat = (_latencies(backends, evaluation, sizes, repeats=latency_repeats) if timed
               else [{} for _ in backends])
    result = reports[0]
    if len(backends) > 1 or timed:
        result.comparison = _compare_rows(backends, reports, outputs, lat)
    if result.segmentation is not None and ignore_index is not None:
        ignored = int(np.count_nonzero(evaluation.y == ignore_index))
        if ignored:
            result.notes.append(f"{ignored:,} mask pixels hold the ignore value "
                                f"{ignore_index} and count nowhere")
    if result.eager_model is None and result.classification is not None:
        result.notes.append("Grad-CAM overlays need an eager PyTorch model; "
                            f"{result.model} is an ONNX file ({result.backend})")
    result.seconds = time.perf_counter() - start
    if report is not None:
        result.save(report)
    return result


def _check_compatible(other: Backend, reference: Backend) -> None:
    a, b = other.predictor, reference.predictor
    if a.task != b.task:
        raise EvaluateError(f"cannot compare {other.name} ({a.task}) with {reference.name} "
                            f"({b.task})")
    if a.labels and b.labels and tuple(a.labels) != tuple(b.labels):
        raise EvaluateError(f"cannot compare {other.name} with {reference.name}: their labels "
                            "differ")
