"""``FitConfig``: every option of :func:`~cnnzoo.train.fit`, typed and validated in one place.

``fit(model, train, val, epochs=3, lr=1e-3)`` folds its keyword options into a
:class:`FitConfig`; ``fit(model, train, val, config=FitConfig(epochs=3, lr=1e-3))``
passes one directly. A config is immutable: derive variants with
:meth:`FitConfig.replace`. Passing a config *and* keyword options that disagree with
it is an error (options equal to the config's values are accepted).

Example:
    >>> from cnnzoo.train import FitConfig
    >>> base = FitConfig(epochs=10, lr=3e-3, amp=True)
    >>> base.replace(epochs=20).epochs, base.epochs
    (20, 10)
    >>> from cnnzoo.errors import TrainError
    >>> try:
    ...     FitConfig(epochs=1, scheduler="cosinus")
    ... except TrainError as exc:
    ...     print(str(exc).split(";")[0])
    unknown scheduler 'cosinus'
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import torch

from cnnzoo._utils import did_you_mean
from cnnzoo.data.masks import IGNORE_INDEX
from cnnzoo.errors import FitOptionError, TrainError
from cnnzoo.train.callbacks import Callback, EarlyStopping, check_callback
from cnnzoo.train.losses import SEGMENTATION_LOSSES
from cnnzoo.train.tasks import TASK_KINDS, LossFn, Task

if TYPE_CHECKING:
    from typing import Unpack

__all__ = [
    "AMP_DTYPES",
    "OPTIMIZERS",
    "SCHEDULES",
    "FitConfig",
    "FitOptions",
    "resolve_config",
]

SCHEDULES: tuple[str, ...] = ("cosine", "linear", "constant")
OPTIMIZERS: tuple[str, ...] = ("adamw", "adam", "sgd")
# amp= names and the torch dtype (attribute of ``torch``) each one means
AMP_DTYPES: Mapping[str, str] = {"bf16": "bfloat16", "bfloat16": "bfloat16",
                                 "fp16": "float16", "float16": "float16"}

OptimizerArg = (str | torch.optim.Optimizer
                | Callable[[list[dict[str, Any]]], torch.optim.Optimizer] | None)
SchedulerArg = str | Callable[[torch.optim.Optimizer, int], Any] | None
ParamGroupsArg = Iterable[dict[str, Any]] | Mapping[str, float] | None
MixupArg = bool | float | str | Callable[[torch.Tensor, torch.Tensor],
                                         tuple[torch.Tensor, torch.Tensor]] | None
BatchTransform = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True, kw_only=True)
class FitConfig:
    """How :func:`~cnnzoo.train.fit` trains: every option, with its default.

    Attributes:
        epochs: passes over the training data (required, ≥ 1).
        optimizer: ``"adamw"`` (default), ``"adam"``, ``"sgd"``, an optimizer instance
            (used as is) or a callable receiving the parameter groups.
        lr: the base learning rate (the head's, with per-stage groups).
        weight_decay: decoupled weight decay (not applied to biases and norms).
        momentum: SGD's momentum.
        param_groups: explicit groups (e.g. :func:`cnnzoo.transfer.param_groups`) or a
            ``{stage: lr}`` dict; default: one group per stage at ``lr``, frozen
            parameters included (the optimizer skips them until they are unfrozen).
        scheduler: ``"cosine"`` (default), ``"linear"``, ``"constant"``, ``None``
            (constant), or a callable ``(optimizer, total_steps) → LRScheduler``
            stepped after every optimizer step.
        warmup: linear warmup, in epochs (fractions allowed).
        min_lr_ratio: the learning rate the schedule ends at, relative to the start.
        amp: mixed precision: ``True`` — bf16 autocast on CPU, fp16 + GradScaler on
            CUDA — or ``"bf16"``/``"fp16"``.
        grad_accum: micro-batches per optimizer step.
        clip_grad: clip the gradient norm to this value.
        label_smoothing: for the cross-entropy.
        mixup: ``True`` (MixUp or CutMix per batch), ``"mixup"``, ``"cutmix"``, a MixUp
            alpha, or a callable ``(images, labels) → (images, soft labels)``.
        ema: keep an exponential moving average of the weights (``True``: decay 0.999,
            or the decay); validation and checkpoints use it, and the model ends
            with the averaged weights.
        grad_checkpointing: trade compute for memory: recompute activations in the
            backward pass (models with ``set_grad_checkpointing``: the timm-backed
            families and the native networks, see :mod:`cnnzoo.train.grad_checkpointing`).
        monitor: log per-stage gradient norms, weight norms and update/weight ratios
            into the history and warn on exploding or vanishing gradients (a
            :class:`~cnnzoo.train.GradientMonitor` with its default thresholds).
        callbacks: :class:`~cnnzoo.train.Callback` objects (any object with some of the
            hooks ``on_fit_start``, ``on_epoch_start``, ``on_epoch_end``, ``on_fit_end``).
        early_stopping: a patience in epochs or an :class:`~cnnzoo.train.EarlyStopping`.
        checkpoint_dir: save the best model there (by the monitored metric) with
            :func:`cnnzoo.hub.save_pretrained`; a model card with the best metric is
            written at the end unless the folder already had one.
        batch_size: per process.
        num_workers: ``DataLoader`` workers.
        loss: a callable ``(logits, targets) → loss``, or for segmenters ``"ce"``,
            ``"dice"``, ``"ce+dice"`` (default for segmentation).
        augment: a batch transform applied to training images only (e.g.
            :func:`cnnzoo.data.random_shift`); classification only.
        task: ``"auto"`` (from the model's spec), ``"classification"``,
            ``"segmentation"``, or a :class:`~cnnzoo.train.Task` object such as
            :class:`~cnnzoo.train.DistillationTask`.
        ignore_index: the mask value of pixels to ignore (segmentation): skipped in the
            loss, Dice and the metrics; 255 by default (Pascal VOC's and torchvision's
            convention); ``None``: every mask value must be a class id.
        seed: seeds the shuffling of the training data.
        device: where to train (default: where the model's parameters are).
        progress: tqdm progress bars (default: when stderr is a terminal).
        verbose: print one line of metrics per epoch.

    Raises:
        TrainError: an option out of range or of the wrong kind (the message says
            what is allowed).
    """

    epochs: int
    optimizer: OptimizerArg = None
    lr: float = 1e-3
    weight_decay: float = 0.01
    momentum: float = 0.9
    param_groups: ParamGroupsArg = None
    scheduler: SchedulerArg = "cosine"
    warmup: float = 0.0
    min_lr_ratio: float = 0.0
    amp: bool | str = False
    grad_accum: int = 1
    clip_grad: float | None = None
    label_smoothing: float = 0.0
    mixup: MixupArg = None
    ema: bool | float = False
    grad_checkpointing: bool = False
    monitor: bool = False
    callbacks: Sequence[Callback] = ()
    early_stopping: int | EarlyStopping | None = None
    checkpoint_dir: str | os.PathLike[str] | None = None
    batch_size: int = 32
    num_workers: int = 0
    loss: str | LossFn | None = None
    augment: BatchTransform | None = None
    task: str | Task = "auto"
    ignore_index: int | None = IGNORE_INDEX
    seed: int | None = None
    device: str | torch.device | None = None
    progress: bool | None = None
    verbose: bool = False

    def __post_init__(self) -> None:
        _check_counts(self)
        _check_rates(self)
        _check_choices(self)
        _check_objects(self)
        # normalise: a path, a tuple of callbacks, parameter groups read once
        set_ = object.__setattr__
        if self.checkpoint_dir is not None:
            set_(self, "checkpoint_dir", Path(self.checkpoint_dir))
        set_(self, "callbacks", tuple(self.callbacks))
        if self.param_groups is not None and not isinstance(self.param_groups, Mapping):
            set_(self, "param_groups", list(self.param_groups))

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The names of all options, in order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    def replace(self, **changes: Unpack[FitOptions]) -> FitConfig:
        """A copy with some options changed (validated like a new config).

        Raises:
            FitOptionError: an option ``FitConfig`` does not have.
        """
        _check_names(changes)
        return dataclasses.replace(self, **changes)


class FitOptions(TypedDict, total=False):
    """The keyword options of :func:`~cnnzoo.train.fit`: the fields of :class:`FitConfig`."""

    epochs: int
    optimizer: OptimizerArg
    lr: float
    weight_decay: float
    momentum: float
    param_groups: ParamGroupsArg
    scheduler: SchedulerArg
    warmup: float
    min_lr_ratio: float
    amp: bool | str
    grad_accum: int
    clip_grad: float | None
    label_smoothing: float
    mixup: MixupArg
    ema: bool | float
    grad_checkpointing: bool
    monitor: bool
    callbacks: Sequence[Callback]
    early_stopping: int | EarlyStopping | None
    checkpoint_dir: str | os.PathLike[str] | None
    batch_size: int
    num_workers: int
    loss: str | LossFn | None
    augment: BatchTransform | None
    task: str | Task
    ignore_index: int | None
    seed: int | None
    device: str | torch.device | None
    progress: bool | None
    verbose: bool


# -- validation ---------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_counts(cfg: FitConfig) -> None:
    for name, low in (("epochs", 1), ("grad_accum", 1), ("batch_size", 1), ("num_workers", 0)):
        value = getattr(cfg, name)
        if not _is_int(value):
            raise TrainError(f"{name} must be an integer, got {value!r}")
        if value < low:
            raise TrainError(f"{name} must be at least {low}, got {value}")
    for name in ("ignore_index", "seed"):
        value = getattr(cfg, name)
        if value is not None and not _is_int(value):
            raise TrainError(f"{name} must be an integer or None, got {value!r}")
    stop = cfg.early_stopping
    if stop is not None and not isinstance(stop, EarlyStopping) and (
            not _is_int(stop) or stop < 1):
        raise TrainError(f"early_stopping={stop!r}: give a patience in epochs (an integer "
                         "≥ 1) or an EarlyStopping")


def _check_rates(cfg: FitConfig) -> None:
    for name in ("lr", "weight_decay", "momentum", "warmup", "min_lr_ratio", "label_smoothing"):
        value = getattr(cfg, name)
        if not _is_number(value) or value < 0:
            raise TrainError(f"{name} must be a number ≥ 0, got {value!r}")
    if cfg.label_smoothing >= 1:
        raise TrainError(f"label_smoothing must be below 1, got {cfg.label_smoothing}")
    if cfg.clip_grad is not None and (not _is_number(cfg.clip_grad) or cfg.clip_grad <= 0):
        raise TrainError(f"clip_grad must be a positive number or None, got {cfg.clip_grad!r}")
    ema = cfg.ema
    if not isinstance(ema, bool) and (not _is_number(ema) or not 0.0 <= ema <= 1.0):
        raise TrainError(f"ema={ema!r}: use True (decay 0.999), False, or a decay in (0, 1]")


def _choice_error(what: str, value: str, choices: Sequence[str], extra: str) -> TrainError:
    return TrainError(f"unknown {what} {value!r}; choose one of {', '.join(choices)}{extra}"
                      + did_you_mean(value, choices))


def _check_choices(cfg: FitConfig) -> None:
    if isinstance(cfg.scheduler, str) and cfg.scheduler not in SCHEDULES:
        raise _choice_error("scheduler", cfg.scheduler, SCHEDULES,
                            ", None, or pass a callable(optimizer, total_steps)")
    if cfg.scheduler is not None and not isinstance(cfg.scheduler, str) \
            and not callable(cfg.scheduler):
        raise TrainError(f"scheduler={cfg.scheduler!r}: use a name, None or a callable")
    opt = cfg.optimizer
    if isinstance(opt, str) and opt.lower() not in OPTIMIZERS:
        raise _choice_error("optimizer", opt, OPTIMIZERS,
                            ", or pass a torch.optim.Optimizer or a callable(param_groups)")
    if opt is not None and not isinstance(opt, str | torch.optim.Optimizer) and not callable(opt):
        raise TrainError(f"optimizer={opt!r}: use a name, an optimizer or a callable")
    if not isinstance(cfg.amp, bool) and cfg.amp not in AMP_DTYPES:
        raise TrainError(f"amp={cfg.amp!r}: use True, 'bf16' or 'fp16'")
    mixup = cfg.mixup
    if not (mixup is None or isinstance(mixup, bool) or mixup in ("mixup", "cutmix")
            or (isinstance(mixup, int | float) and mixup >= 0) or callable(mixup)):
        raise TrainError(f"mixup={mixup!r}: use True, 'mixup', 'cutmix', an alpha or a callable")
    if isinstance(cfg.loss, str) and cfg.loss.lower().replace(" ", "") not in SEGMENTATION_LOSSES:
        raise _choice_error("loss", cfg.loss, SEGMENTATION_LOSSES[:3],
                            " (segmentation), or pass a callable(logits, targets)")
    if isinstance(cfg.task, str) and cfg.task not in ("auto", *TASK_KINDS):
        raise TrainError(f"task must be 'auto', 'classification' or 'segmentation', "
                         f"not {cfg.task!r}" + did_you_mean(cfg.task, ("auto", *TASK_KINDS)))


def _check_objects(cfg: FitConfig) -> None:
    if not isinstance(cfg.task, str) and not isinstance(cfg.task, Task):
        raise TrainError(f"task={cfg.task!r} is neither a task name nor a Task (it needs "
                         "kind, monitor, setup, check_targets, loss, val_loss, meter, update "
                         "and summarize)")
    for name in ("loss", "augment"):
        value = getattr(cfg, name)
        if value is not None and not isinstance(value, str) and not callable(value):
            raise TrainError(f"{name}={value!r} is not callable")
    if isinstance(cfg.callbacks, str) or not isinstance(cfg.callbacks, Iterable):
        raise TrainError(f"callbacks must be a list of callbacks, got {cfg.callbacks!r}")
    if any(hasattr(cfg.callbacks, hook) for hook in ("on_fit_start", "on_epoch_end")):
        raise TrainError("callbacks must be a list: use callbacks=[callback]")
    for callback in cfg.callbacks:
        check_callback(callback)
    for name in ("grad_checkpointing", "monitor", "verbose"):
        if not isinstance(getattr(cfg, name), bool):
            raise TrainError(f"{name} must be True or False, got {getattr(cfg, name)!r}")
    if cfg.progress is not None and not isinstance(cfg.progress, bool):
        raise TrainError(f"progress must be True, False or None, got {cfg.progress!r}")
    if cfg.device is not None:
        try:
            torch.device(cfg.device)
        except (RuntimeError, TypeError) as exc:
            raise TrainError(f"device={cfg.device!r} is not a device ({exc}); use e.g. "
                             "'cpu', 'cuda' or 'cuda:1'") from None


# -- keyword options ----------------------------------------------------------------------


def _check_names(options: Mapping[str, object]) -> None:
    names = FitConfig.field_names()
    for key in options:
        if key not in names:
            raise FitOptionError(f"fit() has no option {key!r}" + did_you_mean(key, names)
                                 + f"; options: {', '.join(names)}")


def _same(a: object, b: object) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # tensors, parameter groups…: only identity counts
        return False


def resolve_config(config: FitConfig | None, options: Mapping[str, Any]) -> FitConfig:
    """The :class:`FitConfig` of one ``fit`` call: ``config``, keyword ``options``, or both.

    Args:
        config: a config, or ``None``.
        options: keyword options (fields of :class:`FitConfig`).

    Returns:
        ``config`` itself when there are no options; else a config built from (or
        equal to) the options.

    Raises:
        FitOptionError: an unknown option, no ``epochs`` anywhere, a ``config`` that is
            not a :class:`FitConfig`, or options that contradict ``config``.
        TrainError: an option out of range (see :class:`FitConfig`).
    """
    _check_names(options)
    if config is None:
        if "epochs" not in options:
            raise FitOptionError("fit() needs epochs=N (or config=FitConfig(epochs=N, ...))")
        return FitConfig(**options)
    if not isinstance(config, FitConfig):
        raise FitOptionError(f"config must be a FitConfig, got {type(config).__name__}")
    if not options:
        return config
    merged = dataclasses.replace(config, **options)
    conflicts = [k for k in options if not _same(getattr(merged, k), getattr(config, k))]
    if conflicts:
        shown = ", ".join(f"{k}={options[k]!r} (config has {getattr(config, k)!r})"
                          for k in conflicts)
        raise FitOptionError(f"fit() got both config= and options that contradict it: {shown}; "
                             "pass config=config.replace(...) instead")
    return config
