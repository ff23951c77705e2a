"""Tasks: what :func:`~cnnzoo.train.fit` optimises and measures.

A :class:`Task` turns a batch's logits and targets into the training loss and keeps
the epoch's metrics in a tensor "meter" (a tensor so that a distributed run sums it
over processes with one all-reduce). Three are built in:

- :class:`ClassificationTask`: cross-entropy (or ``loss=``), plus 0.3 × the loss of
  auxiliary logits (GoogLeNet's); metrics ``loss`` and ``accuracy``;
- :class:`SegmentationTask`: CE + Dice by default on ``[B, H, W]`` masks; metrics
  ``loss``, ``pixel_accuracy`` and ``miou`` (mean IoU over the classes present);
- :class:`DistillationTask`: Hinton's distillation loss against a frozen teacher
  (what :func:`~cnnzoo.train.distill` uses).

``fit(model, train, task="auto")`` picks the first or second from the model's spec;
any object following the :class:`Task` protocol can be passed instead.

Example:
    >>> import cnnzoo
    >>> from cnnzoo.data import digits
    >>> from cnnzoo.train import DistillationTask, fit
    >>> teacher = cnnzoo.create("lenet5", pretrained=True)
    >>> student = cnnzoo.create("lenet5")
    >>> split = digits(model=student)
    >>> history = fit(student, split.train, epochs=1, seed=0,
    ...               task=DistillationTask(teacher, temperature=4.0, alpha=0.7))
    >>> history.task
    'classification'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo._utils import unwrap
from cnnzoo.data.masks import IGNORE_INDEX, mask_problem
from cnnzoo.errors import TrainError
from cnnzoo.spec import REGISTRY
from cnnzoo.train.losses import distillation_loss, segmentation_loss

__all__ = [
    "TASK_KINDS",
    "ClassificationTask",
    "DistillationTask",
    "LossFn",
    "SegmentationTask",
    "Task",
    "TaskContext",
    "main_output",
    "make_task",
    "num_classes_of",
    "task_kind",
]

TASK_KINDS: tuple[str, ...] = ("classification", "segmentation")

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
AutocastFactory = Callable[[], AbstractContextManager[object]]


def main_output(out: object) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Logits, plus auxiliary logits (GoogLeNet's in training) when the model returns them.

    Raises:
        TrainError: the model returned something without a tensor of logits.
    """
    if isinstance(out, torch.Tensor):
        return out, []
    if isinstance(out, Mapping):
        out = list(out.values())
    if isinstance(out, Sequence) and out and isinstance(out[0], torch.Tensor):
        return out[0], [o for o in out[1:] if isinstance(o, torch.Tensor)]
    raise TrainError(f"the model returned {type(out).__name__}; fit needs logits (a tensor)")


def num_classes_of(model: nn.Module) -> int:
    """The classes ``model`` predicts, or ``-1`` when it cannot tell (checked per batch)."""
    n = getattr(model, "num_classes", None)
    if isinstance(n, int):
        return n
    getter = getattr(model, "get_classifier", None)
    classifier = getter() if callable(getter) else None
    for attr in ("out_features", "out_channels"):
        if isinstance(getattr(classifier, attr, None), int):
            return int(getattr(classifier, attr))
    return -1


@dataclass(frozen=True)
class TaskContext:
    """What :func:`~cnnzoo.train.fit` tells a task in :meth:`Task.setup`.

    Attributes:
        model: the (unwrapped) model being trained.
        num_classes: the classes it predicts (``-1``: unknown).
        device: where training runs.
        autocast: a factory of the run's autocast context (a no-op without AMP).
        loss: the ``loss=`` option (``None``: the task's default).
        label_smoothing: the ``label_smoothing=`` option.
        ignore_index: the ``ignore_index=`` option (segmentation: the mask value of
            ignored pixels, 255 by default; ``None``: none).
    """

    model: nn.Module
    num_classes: int
    device: torch.device
    autocast: AutocastFactory
    loss: str | LossFn | None = None
    label_smoothing: float = 0.0
    ignore_index: int | None = IGNORE_INDEX


@runtime_checkable
class Task(Protocol):
    """What :func:`~cnnzoo.train.fit` asks of a task (see the module docstring).

    Attributes:
        kind: ``"classification"`` or ``"segmentation"`` (recorded as ``History.task``).
        monitor: the validation metric that picks the best epoch, without the
            ``val_`` prefix (``"accuracy"``, ``"miou"``).
    """

    kind: str
    monitor: str

    def setup(self, context: TaskContext) -> None:
        """Bind the task to a run (called once by ``fit`` before training)."""

    def check_targets(self, logits: torch.Tensor, targets: torch.Tensor) -> None:
        """Raise :class:`~cnnzoo.errors.TrainError` for targets the logits cannot match."""

    def loss(self, logits: torch.Tensor, targets: torch.Tensor, *, inputs: torch.Tensor,
             aux: Sequence[torch.Tensor]) -> torch.Tensor:
        """The training loss of one batch (``aux``: auxiliary logits, often empty)."""
        ...

    def val_loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The loss reported on validation data."""
        ...

    def meter(self, device: torch.device) -> torch.Tensor:
        """A fresh (zero) float64 tensor accumulating one epoch's metrics."""
        ...

    def update(self, meter: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor,
               loss: torch.Tensor) -> None:
        """Add one batch to ``meter`` in place."""

    def summarize(self, meter: torch.Tensor, prefix: str) -> dict[str, float]:
        """The metrics of a (summed) meter, keys prefixed with ``prefix + "_"``."""
        ...


def _check_class_range(n: int, targets: torch.Tensor) -> None:
    top = int(targets.max()) if targets.numel() else 0
    if top >= n or (targets.numel() and int(targets.min()) < 0):
        raise TrainError(
            f"a batch holds class {top} but the model predicts {n} classes (0…{n - 1}): "
            f"create the model with num_classes={top + 1} or give it a new head with "
            f"cnnzoo.build.heads.replace_head(model, {top + 1})"
        )


class ClassificationTask:
    """Cross-entropy classification; metrics ``loss`` and ``accuracy``.

    Args:
        aux_weight: the weight of auxiliary logits' losses (GoogLeNet's).
    """

    kind = "classification"
    monitor = "accuracy"

    def __init__(self, *, aux_weight: float = 0.3) -> None:
        self.aux_weight = float(aux_weight)
        self.num_classes = -1
        self.loss_fn: LossFn = nn.CrossEntropyLoss()

    def setup(self, context: TaskContext) -> None:
        """Use ``loss=`` if given, else cross-entropy with the run's label smoothing.

        Raises:
            TrainError: ``loss`` is a name (named losses are for segmentation).
        """
        if isinstance(context.loss, str):
            raise TrainError(f"loss={context.loss!r}: named losses are for segmentation; "
                             "pass a callable")
        self.num_classes = context.num_classes
        self.loss_fn = context.loss or nn.CrossEntropyLoss(
            label_smoothing=context.label_smoothing)

    def check_targets(self, logits: torch.Tensor, targets: torch.Tensor) -> None:
        """Class indices must lie in ``0 … C-1`` (soft labels are not checked)."""
        if not targets.is_floating_point():
            _check_class_range(logits.shape[1], targets)

    def loss(self, logits: torch.Tensor, targets: torch.Tensor, *, inputs: torch.Tensor,
             aux: Sequence[torch.Tensor]) -> torch.Tensor:
        """The loss of the logits, plus ``aux_weight`` × that of each auxiliary output."""
        loss = self.loss_fn(logits, targets)
        for extra in aux:
            loss = loss + self.aux_weight * self.loss_fn(extra, targets)
        return loss

    def val_loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Plain cross-entropy (no smoothing), in float32."""
        return F.cross_entropy(logits.float(), targets)

    def meter(self, device: torch.device) -> torch.Tensor:
        """``[loss × n, correct, n]``."""
        return torch.zeros(3, dtype=torch.float64, device=device)

    def update(self, meter: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor,
               loss: torch.Tensor) -> None:
        """Add the batch's loss and correct predictions (soft labels count by argmax)."""
        hard = targets.argmax(1) if targets.is_floating_point() else targets
        n = hard.shape[0]
        meter[0] += loss.detach().double() * n
        meter[1] += (logits.detach().argmax(1) == hard).sum()
        meter[2] += n

    def summarize(self, meter: torch.Tensor, prefix: str) -> dict[str, float]:
        """``{prefix}_loss`` and ``{prefix}_accuracy``."""
        n = max(float(meter[2]), 1.0)
        return {f"{prefix}_loss": float(meter[0]) / n, f"{prefix}_accuracy": float(meter[1]) / n}


class SegmentationTask(ClassificationTask):
    """Per-pixel classification of ``[B, H, W]`` masks; ``loss``, ``pixel_accuracy``, ``miou``.

    The default loss is CE + Dice (:class:`~cnnzoo.train.losses.CEDiceLoss`);
    ``loss="ce"``/``"dice"``/``"ce+dice"`` or a callable choose another. Pixels whose mask
    value is the run's ``ignore_index`` (255 by default) count nowhere: not in the loss,
    not in Dice, not in the pixel accuracy or the IoU; any other value outside
    ``0 … C-1`` is a :class:`~cnnzoo.errors.TrainError` naming it.
    """

    kind = "segmentation"
    monitor = "miou"

    def __init__(self) -> None:
        super().__init__()
        self.ignore_index: int | None = IGNORE_INDEX

    def setup(self, context: TaskContext) -> None:
        """Build the loss and size the confusion matrix.

        Raises:
            TrainError: the model's class count is unknown, or the ignore value is one
                of its classes.
        """
        if context.num_classes < 1:
            raise TrainError("cannot tell the segmenter's class count; give it num_classes")
        ignore = context.ignore_index
        if ignore is not None and 0 <= ignore < context.num_classes:
            raise TrainError(
                f"ignore_index={ignore} is one of the model's {context.num_classes} classes "
                f"(0–{context.num_classes - 1}): pass a value outside them (e.g. "
                "ignore_index=-1) or ignore_index=None")
        self.num_classes, self.ignore_index = context.num_classes, ignore
        loss = context.loss
        self.loss_fn = segmentation_loss(
            loss or "ce+dice", label_smoothing=context.label_smoothing,
            ignore_index=context.ignore_index) if loss is None or isinstance(loss, str) else loss

    def check_targets(self, logits: torch.Tensor, targets: torch.Tensor) -> None:
        """Masks must be ``[B, H, W]`` like the logits, with values in ``0 … C-1`` or the
        ignore value (checked with one min/max over the batch)."""
        if targets.ndim != 3 or tuple(targets.shape[-2:]) != tuple(logits.shape[-2:]):
            raise TrainError(
                f"segmentation masks must be [B, H, W] class indices matching the logits "
                f"{tuple(logits.shape)}; got masks of shape {tuple(targets.shape)}"
            )
        if targets.is_floating_point():
            return
        problem = mask_problem(targets, logits.shape[1], ignore_index=self.ignore_index,
                               first_sample=None)
        if problem:
            raise TrainError(problem)

    def val_loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The training loss."""
        return self.loss_fn(logits, targets)

    def meter(self, device: torch.device) -> torch.Tensor:
        """``[loss × n, n, confusion matrix (C × C, flattened)]``."""
        c = self.num_classes
        return torch.zeros(2 + c * c, dtype=torch.float64, device=device)

    def update(self, meter: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor,
               loss: torch.Tensor) -> None:
        """Add the batch's loss and its pixels to the confusion matrix."""
        c = self.num_classes
        pred = logits.detach().argmax(1).reshape(-1)
        true = targets.reshape(-1)
        if self.ignore_index is not None:
            keep = true != self.ignore_index
            pred, true = pred[keep], true[keep]
        meter[0] += loss.detach().double() * targets.shape[0]
        meter[1] += targets.shape[0]
        meter[2:] += torch.bincount(true * c + pred, minlength=c * c).double()

    def summarize(self, meter: torch.Tensor, prefix: str) -> dict[str, float]:
        """``{prefix}_loss``, ``{prefix}_pixel_accuracy`` and ``{prefix}_miou``."""
        c = self.num_classes
        conf = meter[2:].view(c, c)
        tp = conf.diag()
        union = conf.sum(0) + conf.sum(1) - tp
        present = union > 0
        iou = (tp[present] / union[present]).mean() if bool(present.any()) else torch.zeros(())
        total = float(conf.sum())
        return {
            f"{prefix}_loss": float(meter[0]) / max(float(meter[1]), 1.0),
            f"{prefix}_pixel_accuracy": float(tp.sum()) / max(total, 1.0),
            f"{prefix}_miou": float(iou),
        }


class DistillationTask(ClassificationTask):
    """Train a student classifier on a teacher's softened predictions.

    The loss is ``alpha · KL(softmax(t/T) ‖ softmax(s/T)) · T² + (1 − alpha) · CE(s, y)``
    (:func:`~cnnzoo.train.losses.distillation_loss`); the teacher runs in eval mode,
    frozen and without gradients, on the same (augmented) batch. Pass it as
    ``fit(student, train, val, task=DistillationTask(teacher))`` — what
    :func:`~cnnzoo.train.distill` does.

    Args:
        teacher: the trained model (DDP/DataParallel wrappers are removed).
        temperature: ``T``, softening both distributions (> 0).
        alpha: the weight of the distillation term, in ``[0, 1]``.

    Raises:
        TrainError: a temperature ≤ 0 or an alpha outside ``[0, 1]``.
    """

    def __init__(self, teacher: nn.Module, temperature: float = 4.0, alpha: float = 0.7) -> None:
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise TrainError(f"alpha must be in [0, 1], got {alpha}")
        if temperature <= 0:
            raise TrainError(f"temperature must be positive, got {temperature}")
        self.teacher = unwrap(teacher)
        self.temperature, self.alpha = float(temperature), float(alpha)
        self.label_smoothing = 0.0
        self.autocast: AutocastFactory | None = None

    def setup(self, context: TaskContext) -> None:
        """Freeze the teacher on the run's device.

        Raises:
            TrainError: ``loss=`` was given, or teacher and student predict different
                numbers of classes.
        """
        if context.loss is not None:
            raise TrainError("distillation computes its own loss; do not pass loss=")
        check_same_classes(self.teacher, context.model)
        self.num_classes, self.label_smoothing = context.num_classes, context.label_smoothing
        self.autocast = context.autocast
        self.teacher.to(context.device).eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)

    def loss(self, logits: torch.Tensor, targets: torch.Tensor, *, inputs: torch.Tensor,
             aux: Sequence[torch.Tensor]) -> torch.Tensor:
        """The distillation loss against the teacher's logits for ``inputs``."""
        if self.autocast is None:
            raise TrainError("DistillationTask.setup() must run before loss(); pass the task "
                             "to fit(task=...)")
        with torch.no_grad(), self.autocast():
            teacher_logits, _ = main_output(self.teacher(inputs))
        return distillation_loss(logits, teacher_logits, targets, temperature=self.temperature,
                                 alpha=self.alpha, label_smoothing=self.label_smoothing)


def check_same_classes(teacher: nn.Module, student: nn.Module) -> None:
    """Raise :class:`~cnnzoo.errors.TrainError` if both tell their class counts and differ."""
    t_classes, s_classes = num_classes_of(unwrap(teacher)), num_classes_of(unwrap(student))
    if t_classes >= 0 and s_classes >= 0 and t_classes != s_classes:
        raise TrainError(f"the teacher predicts {t_classes} classes and the student "
                         f"{s_classes}: they must predict the same classes")


def task_kind(model: nn.Module, task: str | Task) -> str:
    """``"classification"`` or ``"segmentation"``: the task's, or from the model's spec.

    Raises:
        TrainError: a task name other than ``auto`` and :data:`TASK_KINDS`.
    """
    if not isinstance(task, str):
        return task.kind
    if task != "auto":
        if task not in TASK_KINDS:
            raise TrainError(f"task must be 'auto', 'classification' or 'segmentation', "
                             f"not {task!r}")
        return task
    cfg = getattr(model, "pretrained_cfg", None)
    arch = cfg.get("architecture") if isinstance(cfg, Mapping) else None
    if arch and arch in REGISTRY:
        return REGISTRY.get(arch).task
    return "classification"


def make_task(task: str | Task, model: nn.Module) -> Task:
    """The :class:`Task` for ``fit(task=...)``: a Task is used as is, a name is built."""
    if not isinstance(task, str):
        return task
    return SegmentationTask() if task_kind(model, task) == "segmentation" \
        else ClassificationTask()
