"""``fit``: one training loop for every zoo model — classifiers and segmenters, one process or many.

``fit(model, train, val, epochs=…)`` trains with AdamW (per-stage parameter groups,
see :func:`cnnzoo.transfer.param_groups`), a warmup + cosine schedule, optional
mixed precision (bf16 autocast on CPU, fp16 with a ``GradScaler`` on CUDA),
gradient accumulation and clipping, label smoothing, MixUp/CutMix, an exponential
moving average of the weights, gradient checkpointing, per-stage gradient
statistics, callbacks (such as :class:`cnnzoo.transfer.ProgressiveUnfreezing`) and
early stopping, and saves the best model with :func:`cnnzoo.hub.save_pretrained`
(``config.json`` + ``model.safetensors`` + model card). It returns a
:class:`~cnnzoo.train.History`. Every option is a field of :class:`~cnnzoo.train.FitConfig`.

Distributed: the same call under ``torchrun --nproc_per_node=N script.py`` trains
with ``DistributedDataParallel`` (see :mod:`cnnzoo.train.distributed`);
``batch_size`` is per process.

Segmentation models (``task="segmentation"`` in their spec, e.g. UNet) are trained
on ``(image, mask)`` pairs with CE + Dice by default and report pixel accuracy and
mean IoU. :func:`distill` trains a student on a teacher's softened predictions
(``task=DistillationTask(teacher)``, see :mod:`cnnzoo.train.tasks`).

The steps, each in its module: options (:mod:`~cnnzoo.train.config`), data
(:mod:`~cnnzoo.train.loaders`), the task's loss and metrics
(:mod:`~cnnzoo.train.tasks`), optimizer, schedule, AMP, accumulation and EMA
(:mod:`~cnnzoo.train.optim`), processes (:mod:`~cnnzoo.train.distributed`),
callbacks (:mod:`~cnnzoo.train.callbacks`), gradient checkpointing
(:mod:`~cnnzoo.train.grad_checkpointing`), gradient statistics
(:mod:`~cnnzoo.train.monitor`) and the best checkpoint
(:mod:`~cnnzoo.train.checkpointing`); this module runs the epochs.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler

from cnnzoo._utils import eval_mode, unwrap
from cnnzoo.data.masks import IGNORE_INDEX
from cnnzoo.errors import ConfigError, TrainError
from cnnzoo.train import distributed
from cnnzoo.train.callbacks import Callback, CallbackList, EarlyStopping, check_callback
from cnnzoo.train.checkpointing import BestCheckpoint
from cnnzoo.train.config import FitConfig, FitOptions, resolve_config
from cnnzoo.train.distributed import DistributedContext, training_device
from cnnzoo.train.grad_checkpointing import check_grad_checkpointing, grad_checkpointing
from cnnzoo.train.loaders import BatchMixer, Data, check_classes, make_loader, make_mixer
from cnnzoo.train.monitor import GradientMonitor
from cnnzoo.train.optim import (
    EMA,
    LRSchedule,
    MixedPrecision,
    OptimizerStep,
    accumulation_window,
    make_optimizer,
)
from cnnzoo.train.progress import EpochProgress, print_line
from cnnzoo.train.state import FitState, History, format_epoch, mode_of
from cnnzoo.train.tasks import (
    AutocastFactory,
    DistillationTask,
    LossFn,
    Task,
    TaskContext,
    check_same_classes,
    main_output,
    make_task,
    num_classes_of,
    task_kind,
)

if TYPE_CHECKING:
    from typing import Unpack

__all__ = ["distill", "evaluate", "fit"]


@dataclass
class _Run:
    """Everything one ``fit`` call prepared before its first epoch."""

    config: FitConfig
    model: nn.Module
    dist: DistributedContext
    task: Task
    amp: MixedPrecision
    mixer: BatchMixer | None
    train_loader: DataLoader[Any]
    train_sampler: Sampler[int] | None
    val_loader: DataLoader[Any] | None
    stepper: OptimizerStep
    ema: EMA | None
    checkpoint: BestCheckpoint | None
    history: History
    state: FitState
    callbacks: CallbackList
    show_bars: bool


def fit(
    model: nn.Module,
    train: Data,
    val: Data | None = None,
    *,
    config: FitConfig | None = None,
    evaluate: bool | Callback = False,
    **options: Unpack[FitOptions],
) -> History:
    """Train ``model`` on ``train``, evaluating on ``val`` after every epoch.

    Args:
        model: any zoo model (or any ``nn.Module`` returning logits); trained in place.
        train: a ``Dataset`` of ``(image, label)`` — or ``(image, mask)`` for a
            segmenter — or a ``DataLoader``.
        val: the same for validation (optional).
        config: every option at once, as a :class:`~cnnzoo.train.FitConfig`.
        evaluate: the full evaluation report at the end of training, made by a callback
            of the deploy layer (which training does not import):
            ``evaluate=cnnzoo.deploy.EvaluateAtFitEnd(report_dir)`` appends that callback
            after ``callbacks`` — the report of the best checkpoint (with
            ``checkpoint_dir``) on ``val`` lands in ``history.evaluation`` (and in
            ``report_dir``). ``False`` or ``None``: none (the default). ``True`` is
            refused with a :class:`~cnnzoo.errors.TrainError` saying what to pass instead.
        **options: the options as keywords instead — the fields of
            :class:`~cnnzoo.train.FitConfig`, with the same names and defaults:
            ``epochs`` (required), ``lr``, ``optimizer``, ``weight_decay``,
            ``scheduler``, ``warmup``, ``amp``, ``grad_accum``, ``clip_grad``,
            ``label_smoothing``, ``mixup``, ``ema``, ``grad_checkpointing``,
            ``monitor``, ``callbacks``, ``early_stopping``,
            ``checkpoint_dir``, ``batch_size``, ``loss``, ``augment``, ``task`` (a
            name, or a :class:`~cnnzoo.train.Task` such as
            :class:`~cnnzoo.train.DistillationTask`), ``seed``, ``device``,
            ``progress``, ``verbose``… With ``config=`` too, they must agree with it.

    Returns:
        the :class:`~cnnzoo.train.History`; the model is left in eval mode.

    Raises:
        TrainError: settings that do not fit, data whose classes contradict the model,
            or ``evaluate=True``.
        FitOptionError: an unknown option, or options contradicting ``config``
            (a :class:`TypeError` too).

    Example:
        >>> import cnnzoo
        >>> from cnnzoo.data import digits
        >>> from cnnzoo.train import FitConfig, fit
        >>> model = cnnzoo.create("lenet5")
        >>> split = digits(model=model)
        >>> history = fit(model, split.train, split.test, epochs=2, lr=3e-3, seed=0)
        >>> history.last["val_accuracy"] > 0.5
        True
        >>> quick = FitConfig(epochs=1, lr=3e-3, seed=0)
        >>> len(fit(model, split.train, config=quick))
        1
    """
    cfg = resolve_config(config, options)
    if evaluate is not False and evaluate is not None:
        cfg = cfg.replace(callbacks=[*cfg.callbacks, _evaluation_callback(evaluate)])
    run = _prepare(unwrap(model), train, val, cfg)
    with grad_checkpointing(run.model, cfg.grad_checkpointing):
        net: nn.Module | None = None  # wrapped after the first epoch's callbacks ran
        for epoch in range(cfg.epochs):
            net = _run_epoch(run, epoch, net)
            if run.state.stop:
                run.history.stopped_early = epoch + 1 < cfg.epochs
                break
    return _finish(run)


# -- before the first epoch ---------------------------------------------------------------


def _evaluation_callback(evaluate: object) -> Callback:
    """``fit(evaluate=...)``: the callback that makes the report (never built here)."""
    if evaluate is True:
        raise TrainError(
            "fit(evaluate=True): the evaluation report is made by the deploy layer, which "
            "training does not import; pass callbacks=[cnnzoo.deploy.EvaluateAtFitEnd()] "
            "(or evaluate=cnnzoo.deploy.EvaluateAtFitEnd()) or use cnnzoo.evaluate after fit")
    if isinstance(evaluate, bool | str | int | float):
        raise TrainError(f"evaluate= takes a callback such as cnnzoo.deploy.EvaluateAtFitEnd() "
                         f"(or False), got {evaluate!r}")
    check_callback(evaluate)
    return evaluate  # type: ignore[return-value]  # checked to have a hook


def _record_labels(model: nn.Module, classes: list[str] | None) -> None:
    """Give the model the dataset's class names when its config has none."""
    cfg = getattr(model, "pretrained_cfg", None)
    if classes and isinstance(cfg, MutableMapping) and not cfg.get("labels"):
        with contextlib.suppress(ConfigError):  # a config that rejects them keeps its own
            cfg["labels"] = tuple(str(c) for c in classes)


def _prepare_task(model: nn.Module, train: Data, val: Data | None, cfg: FitConfig,
                  amp: MixedPrecision, device: torch.device) -> tuple[Task, int]:
    """The run's task, set up, and the model's class count (checked against the data)."""
    kind = task_kind(model, cfg.task)
    n_classes = num_classes_of(model)
    if n_classes == 0:
        raise TrainError("the model has no classifier (num_classes=0); give it a head with "
                         "cnnzoo.build.heads.replace_head(model, num_classes)")
    ignore = cfg.ignore_index
    classes = check_classes(n_classes, train, "training", kind, ignore_index=ignore)
    check_classes(n_classes, val, "validation", kind, ignore_index=ignore)
    _record_labels(model, classes)
    if kind == "segmentation":
        if cfg.mixup:
            raise TrainError("mixup applies to classification, not segmentation")
        if cfg.augment is not None:
            raise TrainError("augment= transforms images only; for segmentation augment "
                             "images and masks together in the dataset")
    task = make_task(cfg.task, model)
    task.setup(TaskContext(model, n_classes, device, amp.autocast, loss=cfg.loss,
                           label_smoothing=cfg.label_smoothing, ignore_index=cfg.ignore_index))
    return task, n_classes


def _prepare(model: nn.Module, train: Data, val: Data | None, cfg: FitConfig) -> _Run:
    """Device, processes, task, data, optimizer, callbacks: everything before epoch 1."""
    device = training_device(model, cfg.device)
    model.to(device)
    dist = distributed.setup(device)
    amp = MixedPrecision(cfg.amp, device)
    task, n_classes = _prepare_task(model, train, val, cfg, amp, device)
    mixer = make_mixer(cfg.mixup, n_classes)
    if cfg.grad_checkpointing:
        check_grad_checkpointing(model)
    checkpoint = None if cfg.checkpoint_dir is None else BestCheckpoint(
        cfg.checkpoint_dir, model, is_main=dist.is_main)

    loader_args: dict[str, Any] = {"batch_size": cfg.batch_size,
                                   "num_workers": cfg.num_workers, "dist": dist,
                                   "seed": cfg.seed}
    train_loader, train_sampler = make_loader(train, train=True, **loader_args)
    val_loader = None if val is None else make_loader(val, train=False, **loader_args)[0]
    steps_per_epoch = math.ceil(len(train_loader) / cfg.grad_accum)
    if steps_per_epoch == 0:
        raise TrainError("the training data gives no batch")

    optimizer = make_optimizer(model, cfg.optimizer, cfg.param_groups, lr=cfg.lr,
                               weight_decay=cfg.weight_decay, momentum=cfg.momentum)
    schedule = LRSchedule(optimizer, cfg.scheduler, steps_per_epoch * cfg.epochs,
                          round(float(cfg.warmup) * steps_per_epoch), cfg.min_lr_ratio)
    monitor = f"val_{task.monitor}" if val is not None else "train_loss"
    history = History(monitor=monitor, mode=mode_of(monitor), task=task.kind)
    state = FitState(model=model, optimizer=optimizer, epochs=cfg.epochs, history=history,
                     rank=dist.rank, world_size=dist.world_size, val_data=val)
    stopper = cfg.early_stopping
    if stopper is not None and not isinstance(stopper, EarlyStopping):
        stopper = EarlyStopping(int(stopper))
    monitors = [GradientMonitor()] if cfg.monitor and not any(
        isinstance(cb, GradientMonitor) for cb in cfg.callbacks) else []
    callbacks = CallbackList([*monitors, *cfg.callbacks,
                              *([stopper] if stopper is not None else [])])
    callbacks.fit_start(state)

    ema = EMA(model, 0.999 if cfg.ema is True else float(cfg.ema)) if cfg.ema else None
    schedule.start()  # after on_fit_start, which may rescale the groups' initial_lr
    stepper = OptimizerStep(model, optimizer, amp=amp, schedule=schedule, ema=ema,
                            clip_grad=cfg.clip_grad)
    show_bars = (sys.stderr.isatty() if cfg.progress is None else cfg.progress) and dist.is_main
    return _Run(cfg, model, dist, task, amp, mixer, train_loader, train_sampler, val_loader,
                stepper, ema, checkpoint, history, state, callbacks, show_bars)


# -- one epoch ----------------------------------------------------------------------------


def _train_batches(run: _Run, net: nn.Module, epoch: int) -> torch.Tensor:
    """One pass over the training data; returns this process's metric meter."""
    cfg, task, device = run.config, run.task, run.dist.device
    meter = task.meter(device)
    batches = EpochProgress(run.train_loader, epoch, cfg.epochs, enabled=run.show_bars)
    n_batches, check = len(run.train_loader), epoch == 0
    for i, (inputs, targets) in enumerate(batches):
        inputs = inputs.to(device, non_blocking=True)
        targets = targets.to(device, non_blocking=True)
        if cfg.augment is not None:
            inputs = cfg.augment(inputs)
        if run.mixer is not None:
            inputs, targets = run.mixer(inputs, targets)
        window, sync = accumulation_window(i, n_batches, cfg.grad_accum)
        with run.dist.no_sync(net, sync):
            with run.amp.autocast():
                logits, aux = main_output(net(inputs))
                if check:  # the data's labels are checked during the first epoch
                    task.check_targets(logits, targets)
                loss = task.loss(logits, targets, inputs=inputs, aux=aux)
            run.stepper.backward(loss, window)
        task.update(meter, logits, targets, loss)
        if sync:
            batches.show_loss(run.stepper.step(), loss)
    batches.close()
    return meter


@torch.no_grad()
def _evaluate_batches(model: nn.Module, loader: DataLoader[Any], task: Task,
                      autocast: AutocastFactory, dist: DistributedContext, *,
                      check: bool) -> dict[str, float]:
    """The ``val_`` metrics of ``model`` on ``loader``, summed over all processes."""
    meter = task.meter(dist.device)
    with eval_mode(model):
        for inputs, targets in loader:
            inputs, targets = inputs.to(dist.device), targets.to(dist.device)
            with autocast():
                logits, _ = main_output(model(inputs))
            if check:
                task.check_targets(logits, targets)
            task.update(meter, logits, targets, task.val_loss(logits, targets))
    return task.summarize(dist.all_reduce(meter), "val")


def _run_epoch(run: _Run, epoch: int, net: nn.Module | None) -> nn.Module:
    """Callbacks, training, validation, history and checkpoint of one epoch."""
    cfg, state, dist = run.config, run.state, run.dist
    state.epoch = epoch
    run.callbacks.epoch_start(state, epoch)
    if state.take_trainable_changed() or net is None:
        net = dist.wrap(run.model)  # DDP re-wrapped when the trainable parameters change
    set_epoch = getattr(run.train_sampler, "set_epoch", None)
    if callable(set_epoch):
        set_epoch(epoch)
    start = time.perf_counter()
    epoch_lr = float(state.optimizer.param_groups[-1]["lr"])
    run.model.train()
    meter = _train_batches(run, net, epoch)
    dist.broadcast_buffers(run.model)
    row: dict[str, float] = {"epoch": float(epoch + 1)}
    row.update(run.task.summarize(dist.all_reduce(meter), "train"))
    evaluated = run.model
    if run.ema is not None:
        dist.broadcast_buffers(run.ema.module)
        evaluated = run.ema.module
    if run.val_loader is not None:
        row.update(_evaluate_batches(evaluated, run.val_loader, run.task, run.amp.autocast,
                                     dist, check=epoch == 0))
    row["lr"] = epoch_lr
    row["seconds"] = time.perf_counter() - start
    if run.history.record(row) and run.checkpoint is not None:
        run.history.best_checkpoint = run.checkpoint.save(evaluated)
    if cfg.verbose and dist.is_main:
        print_line(format_epoch(row, cfg.epochs), run.show_bars)
    run.callbacks.epoch_end(state, epoch, row)
    return net


def _finish(run: _Run) -> History:
    """Averaged weights into the model, the model card, ``on_fit_end``, eval mode."""
    history = run.history
    if run.ema is not None:
        run.model.load_state_dict(run.ema.module.state_dict())
    if run.checkpoint is not None and history.best is not None:
        run.checkpoint.finish(run.model, {history.monitor: round(history.best, 6)})
    run.callbacks.fit_end(run.state)
    run.model.eval()
    return history


# -- evaluation and distillation ----------------------------------------------------------


def evaluate(
    model: nn.Module,
    data: Data,
    *,
    batch_size: int = 256,
    task: str | Task = "auto",
    amp: bool | str = False,
    loss: str | LossFn | None = None,
    ignore_index: int | None = IGNORE_INDEX,
    device: str | torch.device | None = None,
) -> dict[str, float]:
    """Loss and accuracy (classification) or pixel accuracy and mean IoU (segmentation).

    Under ``torchrun`` every process evaluates its share and the result is the total.

    Args:
        model: the model (evaluated where its parameters are, unless ``device``).
        data: a ``Dataset`` or ``DataLoader`` of ``(image, label)`` or ``(image, mask)``.
        batch_size: images per forward pass.
        task: ``"auto"``, ``"classification"``, ``"segmentation"`` or a
            :class:`~cnnzoo.train.Task`.
        amp: autocast as in :func:`fit` (``True``, ``"bf16"``, ``"fp16"``).
        loss: the segmentation loss reported (``"ce"``, ``"dice"``, ``"ce+dice"`` or
            a callable); classification reports the cross-entropy.
        ignore_index: the mask value of pixels to ignore (segmentation; default 255,
            ``None``: none).
        device: where to evaluate.

    Returns:
        ``{"loss", "accuracy"}`` or ``{"loss", "pixel_accuracy", "miou"}``.

    Raises:
        TrainError: data whose classes contradict the model, or a bad option.

    Example:
        >>> import cnnzoo
        >>> from cnnzoo.data import digits
        >>> from cnnzoo.train import evaluate
        >>> model = cnnzoo.create("lenet5", pretrained=True)
        >>> evaluate(model, digits(model=model).test)["accuracy"] > 0.98
        True
    """
    if batch_size < 1:
        raise TrainError(f"batch_size must be at least 1, got {batch_size}")
    model = unwrap(model)
    dev = training_device(model, device)
    kind = task_kind(model, task)
    n_classes = num_classes_of(model)
    check_classes(n_classes, data, "evaluation", kind, ignore_index=ignore_index)
    dist = distributed.current(dev)
    loader, _ = make_loader(data, train=False, batch_size=batch_size, num_workers=0, dist=dist,
                            seed=None)
    precision = MixedPrecision(amp, dev)
    runner = make_task(task, model)
    runner.setup(TaskContext(model, n_classes, dev, precision.autocast,
                             loss=loss if kind == "segmentation" else None,
                             ignore_index=ignore_index))
    out = _evaluate_batches(model, loader, runner, precision.autocast, dist, check=True)
    return {k[len("val_"):]: v for k, v in out.items()}


def distill(
    teacher: nn.Module,
    student: nn.Module,
    train: Data,
    val: Data | None = None,
    *,
    temperature: float = 4.0,
    alpha: float = 0.7,
    config: FitConfig | None = None,
    **options: Unpack[FitOptions],
) -> History:
    """Train ``student`` to match ``teacher`` (knowledge distillation).

    The loss is ``alpha · KL(softmax(t/T) ‖ softmax(s/T)) · T² + (1 − alpha) · CE(s, y)``
    (:func:`cnnzoo.losses.distillation_loss`); the teacher runs in eval mode without
    gradients on the same (augmented) batch. Every other argument is :func:`fit`'s.
    This is ``fit(student, train, val, task=DistillationTask(teacher, temperature,
    alpha), ...)`` (:class:`~cnnzoo.train.DistillationTask`) after checking that the
    two models fit together.

    Args:
        teacher: the trained model.
        student: the model to train (a classifier predicting the teacher's classes).
        train: training data, as for :func:`fit`.
        val: validation data, as for :func:`fit`.
        temperature: softens both distributions (> 0).
        alpha: the weight of the distillation term, in ``[0, 1]``.
        config: :func:`fit`'s options as a :class:`~cnnzoo.train.FitConfig`.
        **options: :func:`fit`'s options as keywords (not ``loss``; ``task`` only as
            ``"auto"``/``"classification"``).

    Returns:
        the student's :class:`~cnnzoo.train.History`.

    Raises:
        TrainError: teacher and student predict different numbers of classes, the
            student is not a classifier, ``loss=`` was given, or a bad temperature/alpha.

    Example:
        >>> import cnnzoo
        >>> from cnnzoo.data import digits
        >>> from cnnzoo.train import distill
        >>> teacher = cnnzoo.create("lenet5", pretrained=True)
        >>> split = digits(model=teacher)
        >>> history = distill(teacher, cnnzoo.create("lenet5"), split.train, epochs=1)
    """
    if "loss" in options or (config is not None and config.loss is not None):
        raise TrainError("distill computes its own loss; do not pass loss=")
    task = DistillationTask(teacher, temperature, alpha)
    check_same_classes(teacher, student)
    requested = options.get("task", config.task if config is not None else "auto")
    if not isinstance(requested, str):
        raise TrainError("distill sets the task itself; to train with your own Task call "
                         "fit(student, train, val, task=...)")
    if task_kind(unwrap(student), requested) != "classification":
        raise TrainError("distill trains classifiers")
    others = {k: v for k, v in options.items() if k != "task"}
    return fit(student, train, val, config=resolve_config(config, others).replace(task=task))
