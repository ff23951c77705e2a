"""``fit``: one training loop for every zoo model — classifiers and segmenters, one process or many.

``fit(model, train, val, epochs=…)`` trains with AdamW (per-stage parameter groups,
see :func:`cnnzoo.transfer.param_groups`), a warmup + cosine schedule, optional
mixed precision (bf16 autocast on CPU, fp16 with a ``GradScaler`` on CUDA),
gradient accumulation and clipping, label smoothing, MixUp/CutMix, an exponential
moving average of the weights, gradient checkpointing, callbacks (such as
:class:`cnnzoo.transfer.ProgressiveUnfreezing`) and early stopping, and saves the
best model with :func:`cnnzoo.hub.save_pretrained` (``config.json`` +
``model.safetensors`` + model card). It returns a :class:`History`.

Distributed: the same call under ``torchrun --nproc_per_node=N script.py`` trains
with ``DistributedDataParallel`` (gloo on CPU, NCCL on CUDA): each process reads
its share of the data (``DistributedSampler``), gradients are averaged, BatchNorm
buffers are taken from rank 0 at the end of every epoch, the metrics are summed over
all processes (exact, no padding of the validation set) and only rank 0 writes
files or prints. ``batch_size`` is per process.

Segmentation models (``task="segmentation"`` in their spec, e.g. UNet) are trained
on ``(image, mask)`` pairs with CE + Dice by default and report pixel accuracy and
mean IoU. :func:`distill` trains a student on a teacher's softened predictions.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

from cnnzoo.errors import TrainError
from cnnzoo.spec import REGISTRY

__all__ = [
    "EarlyStopping",
    "FitState",
    "History",
    "TrainError",
    "distill",
    "evaluate",
    "fit",
    "format_epoch",
]

SCHEDULES = ("cosine", "linear", "constant")
OPTIMIZERS = ("adamw", "adam", "sgd")


# -- results and callbacks ---------------------------------------------------------------


@dataclass
class History:
    """What :func:`fit` measured, one dict per epoch.

    Keys per epoch: ``epoch``, ``train_loss``, ``train_accuracy`` (classification)
    or ``train_pixel_accuracy``/``train_miou`` (segmentation), the same with a
    ``val_`` prefix when there is validation data, ``lr`` and ``seconds``.
    ``history["val_accuracy"]`` gives one metric over all epochs.
    """

    epochs: list[dict[str, float]] = field(default_factory=list)
    monitor: str = "val_accuracy"
    mode: str = "max"
    best_epoch: int | None = None
    best: float | None = None
    best_checkpoint: Path | None = None
    stopped_early: bool = False
    task: str = "classification"

    def __getitem__(self, key: str) -> list[float]:
        if not self.epochs or key not in self.epochs[-1]:
            known = sorted(self.epochs[-1]) if self.epochs else []
            raise KeyError(f"{key!r} was not recorded; recorded: {', '.join(known) or 'nothing'}")
        return [row[key] for row in self.epochs]

    def __len__(self) -> int:
        return len(self.epochs)

    @property
    def last(self) -> dict[str, float]:
        return self.epochs[-1] if self.epochs else {}

    def to_dict(self) -> dict[str, Any]:
        return {"epochs": self.epochs, "monitor": self.monitor, "best_epoch": self.best_epoch,
                "best": self.best, "stopped_early": self.stopped_early, "task": self.task,
                "best_checkpoint": None if self.best_checkpoint is None
                else str(self.best_checkpoint)}


@dataclass
class FitState:
    """What callbacks see: the (unwrapped) model, the optimizer, progress and history.

    A callback that changes which parameters are trainable calls
    :meth:`trainable_changed` (so a distributed run re-wraps the model); one that
    wants to end training sets ``stop = True``.
    """

    model: nn.Module
    optimizer: torch.optim.Optimizer
    epochs: int
    history: History
    rank: int = 0
    world_size: int = 1
    epoch: int = 0
    stop: bool = False
    _changed: bool = False

    def trainable_changed(self) -> None:
        self._changed = True

    @property
    def is_main(self) -> bool:
        return self.rank == 0


class EarlyStopping:
    """Stop when the monitored metric has not improved for ``patience`` epochs.

    Args:
        patience: epochs without improvement to tolerate.
        min_delta: the smallest change that counts as an improvement.
        monitor: the metric (default: the one :func:`fit` monitors — ``val_accuracy``,
            ``val_miou`` or, without validation data, ``train_loss``).
        mode: ``"max"`` or ``"min"`` (default: from the metric's name).
    """

    def __init__(self, patience: int = 5, *, min_delta: float = 0.0, monitor: str | None = None,
                 mode: str | None = None) -> None:
        if patience < 1:
            raise TrainError(f"patience must be at least 1, got {patience}")
        self.patience, self.min_delta = int(patience), float(min_delta)
        self.monitor, self.mode = monitor, mode
        self.best: float | None = None
        self.bad_epochs = 0

    def on_fit_start(self, state: FitState) -> None:
        self.monitor = self.monitor or state.history.monitor
        self.mode = self.mode or _mode_of(self.monitor)
        self.best, self.bad_epochs = None, 0

    def on_epoch_end(self, state: FitState, epoch: int, metrics: Mapping[str, float]) -> None:
        if self.monitor not in metrics:
            raise TrainError(f"early stopping monitors {self.monitor!r}, which is not recorded; "
                             f"recorded: {', '.join(sorted(metrics))}")
        value = metrics[self.monitor]
        better = self.best is None or (
            value > self.best + self.min_delta if self.mode == "max"
            else value < self.best - self.min_delta)
        if better:
            self.best, self.bad_epochs = value, 0
        else:
            self.bad_epochs += 1
            if self.bad_epochs >= self.patience:
                state.stop = True


def _mode_of(metric: str) -> str:
    return "min" if metric.endswith("loss") else "max"


def format_epoch(row: Mapping[str, float], epochs: int | None = None) -> str:
    """One line for an epoch's metrics, as ``fit(verbose=True)`` and the CLI print it."""
    parts = [f"epoch {int(row['epoch'])}" + (f"/{epochs}" if epochs else "")]
    for prefix in ("train", "val"):
        if f"{prefix}_loss" not in row:
            continue
        part = f"{prefix} loss {row[f'{prefix}_loss']:.4f}"
        if f"{prefix}_accuracy" in row:
            part += f" acc {row[f'{prefix}_accuracy']:.2%}"
        if f"{prefix}_miou" in row:
            part += f" mIoU {row[f'{prefix}_miou']:.3f}"
        parts.append(part)
    if "lr" in row:
        parts.append(f"lr {row['lr']:.2e}")
    if "seconds" in row:
        parts.append(f"{row['seconds']:.1f}s")
    return "  ".join(parts)


# -- distributed helpers ----------------------------------------------------------------


def _dist_env() -> tuple[int, int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    return rank, world, local


def _setup_distributed(device: torch.device) -> tuple[int, int]:
    import torch.distributed as dist

    _, world, _ = _dist_env()
    if world <= 1:
        if dist.is_available() and dist.is_initialized():
            return dist.get_rank(), dist.get_world_size()
        return 0, 1
    if not dist.is_available():
        raise TrainError("WORLD_SIZE > 1 but this PyTorch build has no torch.distributed")
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
        atexit.register(_destroy_group)
    return dist.get_rank(), dist.get_world_size()


def _destroy_group() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        with contextlib.suppress(Exception):
            dist.destroy_process_group()


class _ShardSampler(Sampler[int]):
    """Every ``world``-th index from ``rank``: each sample evaluated exactly once in all."""

    def __init__(self, n: int, rank: int, world: int) -> None:
        self.n, self.rank, self.world = n, rank, world

    def __iter__(self):
        return iter(range(self.rank, self.n, self.world))

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world))


def _all_reduce(vector: torch.Tensor, world: int) -> torch.Tensor:
    if world > 1:
        import torch.distributed as dist

        dist.all_reduce(vector)
    return vector


def _broadcast_buffers(module: nn.Module, world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        for buf in module.buffers():
            dist.broadcast(buf, 0)


# -- data ---------------------------------------------------------------------------------


def _loader(data: Dataset | DataLoader, *, train: bool, batch_size: int, num_workers: int,
            rank: int, world: int, seed: int | None) -> tuple[DataLoader, Sampler | None]:
    from torch.utils.data.distributed import DistributedSampler

    if isinstance(data, DataLoader):
        if world == 1:
            return data, None
        dataset, batch_size = data.dataset, data.batch_size or batch_size
        num_workers, collate = data.num_workers, data.collate_fn
    else:
        dataset, collate = data, None
    n = len(dataset)  # type: ignore[arg-type]
    if n == 0:
        raise TrainError(f"the {'training' if train else 'validation'} data is empty")
    sampler: Sampler | None = None
    generator = None
    if world > 1:
        sampler = (DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True,
                                      seed=seed or 0) if train
                   else _ShardSampler(n, rank, world))
    elif train and seed is not None:
        generator = torch.Generator().manual_seed(seed)
    per_rank = math.ceil(n / world)
    kwargs: dict[str, Any] = {"collate_fn": collate} if collate is not None else {}
    loader = DataLoader(
        dataset, batch_size=batch_size, shuffle=train and sampler is None, sampler=sampler,
        num_workers=num_workers, generator=generator,
        # BatchNorm cannot train on a last batch of one sample
        drop_last=train and per_rank % batch_size == 1, **kwargs,
    )
    return loader, sampler


def _dataset_labels(data: Dataset | DataLoader) -> tuple[list[str] | None, torch.Tensor | None]:
    dataset = data.dataset if isinstance(data, DataLoader) else data
    classes = getattr(dataset, "classes", None)
    labels = None
    tensors = getattr(dataset, "tensors", None)
    if isinstance(tensors, tuple) and len(tensors) >= 2 and not tensors[1].is_floating_point():
        labels = tensors[1]
    elif isinstance(getattr(dataset, "targets", None), list | torch.Tensor):
        labels = torch.as_tensor(dataset.targets)
    return (list(classes) if classes is not None else None), labels


def _num_classes(model: nn.Module) -> int:
    n = getattr(model, "num_classes", None)
    if isinstance(n, int):
        return n
    classifier = model.get_classifier() if hasattr(model, "get_classifier") else None
    for attr in ("out_features", "out_channels"):
        if isinstance(getattr(classifier, attr, None), int):
            return int(getattr(classifier, attr))
    return -1  # unknown: checked per batch against the logits instead


def _check_classes(model_classes: int, data: Dataset | DataLoader | None, what: str,
                   task: str) -> list[str] | None:
    if data is None:
        return None
    classes, labels = _dataset_labels(data)
    if model_classes < 0:
        return classes
    if classes is not None and len(classes) != model_classes:
        shown = ", ".join(map(str, classes[:10])) + (" …" if len(classes) > 10 else "")
        raise TrainError(
            f"the {what} data has {len(classes)} classes ({shown}) but the model predicts "
            f"{model_classes}: create the model with num_classes={len(classes)} or give it a "
            f"new head with cnnzoo.heads.replace_head(model, {len(classes)})"
        )
    if labels is not None and labels.numel():
        top = int(labels.max())
        if top >= model_classes or int(labels.min()) < 0:
            kind = "mask values" if task == "segmentation" else "labels"
            raise TrainError(
                f"the {what} {kind} run from {int(labels.min())} to {top} but the model "
                f"predicts {model_classes} classes (0…{model_classes - 1}): create the model "
                f"with num_classes={top + 1} or give it a new head with "
                f"cnnzoo.build.heads.replace_head(model, {top + 1})"
            )
    return classes


# -- tasks --------------------------------------------------------------------------------


def _main_output(out: Any) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Logits, plus auxiliary logits (GoogLeNet's in training) when the model returns them."""
    if isinstance(out, torch.Tensor):
        return out, []
    if isinstance(out, Mapping):
        out = list(out.values())
    if isinstance(out, Sequence) and out and isinstance(out[0], torch.Tensor):
        return out[0], [o for o in out[1:] if isinstance(o, torch.Tensor)]
    raise TrainError(f"the model returned {type(out).__name__}; fit needs logits (a tensor)")


class _Task:
    kind = "classification"
    aux_weight = 0.3

    def __init__(self, num_classes: int, loss_fn: Callable[..., torch.Tensor]) -> None:
        self.num_classes = num_classes
        self.loss_fn = loss_fn
        self.checked = False

    def check_targets(self, logits: torch.Tensor, targets: torch.Tensor) -> None:
        if self.checked or targets.is_floating_point():
            return
        n = logits.shape[1]
        top = int(targets.max()) if targets.numel() else 0
        if top >= n or (targets.numel() and int(targets.min()) < 0):
            raise TrainError(
                f"a batch holds class {top} but the model predicts {n} classes (0…{n - 1}): "
                f"create the model with num_classes={top + 1} or give it a new head with "
                f"cnnzoo.build.heads.replace_head(model, {top + 1})"
            )

    def loss(self, out: Any, targets: torch.Tensor, inputs: torch.Tensor) -> tuple[
            torch.Tensor, torch.Tensor]:
        logits, aux = _main_output(out)
        self.check_targets(logits, targets)
        loss = self.loss_fn(logits, targets)
        for extra in aux:
            loss = loss + self.aux_weight * self.loss_fn(extra, targets)
        return loss, logits

    def val_loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.float(), targets)

    def meter(self, device: torch.device) -> torch.Tensor:
        return torch.zeros(3, dtype=torch.float64, device=device)  # loss·n, correct, n

    def update(self, meter: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor,
               loss: torch.Tensor) -> None:
        hard = targets.argmax(1) if targets.is_floating_point() else targets
        n = hard.shape[0]
        meter[0] += loss.detach().double() * n
        meter[1] += (logits.detach().argmax(1) == hard).sum()
        meter[2] += n

    def summarize(self, meter: torch.Tensor, prefix: str) -> dict[str, float]:
        n = max(float(meter[2]), 1.0)
        return {f"{prefix}_loss": float(meter[0]) / n, f"{prefix}_accuracy": float(meter[1]) / n}


class _SegmentationTask(_Task):
    kind = "segmentation"

    def __init__(self, num_classes: int, loss_fn: Callable[..., torch.Tensor],
                 ignore_index: int | None = None) -> None:
        super().__init__(num_classes, loss_fn)
        self.ignore_index = ignore_index

    def check_targets(self, logits: torch.Tensor, targets: torch.Tensor) -> None:
        if self.checked:
            return
        if targets.ndim != 3 or tuple(targets.shape[-2:]) != tuple(logits.shape[-2:]):
            raise TrainError(
                f"segmentation masks must be [B, H, W] class indices matching the logits "
                f"{tuple(logits.shape)}; got masks of shape {tuple(targets.shape)}"
            )
        valid = targets if self.ignore_index is None else targets[targets != self.ignore_index]
        super().check_targets(logits, valid.reshape(-1, 1).view(-1))

    def val_loss(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return self.loss_fn(logits, targets)

    def meter(self, device: torch.device) -> torch.Tensor:
        c = self.num_classes
        return torch.zeros(2 + c * c, dtype=torch.float64, device=device)

    def update(self, meter: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor,
               loss: torch.Tensor) -> None:
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


class _DistillTask(_Task):
    def __init__(self, num_classes: int, teacher: nn.Module, temperature: float, alpha: float,
                 label_smoothing: float, autocast: Callable[[], Any]) -> None:
        super().__init__(num_classes, lambda s, t: F.cross_entropy(s, t))
        self.teacher = teacher
        self.temperature, self.alpha, self.label_smoothing = temperature, alpha, label_smoothing
        self.autocast = autocast

    def loss(self, out: Any, targets: torch.Tensor, inputs: torch.Tensor) -> tuple[
            torch.Tensor, torch.Tensor]:
        from cnnzoo.train.losses import distillation_loss

        logits, _ = _main_output(out)
        self.check_targets(logits, targets)
        with torch.no_grad(), self.autocast():
            teacher_logits, _ = _main_output(self.teacher(inputs))
        loss = distillation_loss(logits, teacher_logits, targets, temperature=self.temperature,
                                 alpha=self.alpha, label_smoothing=self.label_smoothing)
        return loss, logits


# -- optimisation -------------------------------------------------------------------------


def _lr_multiplier(schedule: str, step: int, total: int, warmup: int, min_ratio: float) -> float:
    if warmup and step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if schedule == "cosine":
        return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return min_ratio + (1.0 - min_ratio) * (1.0 - progress)  # linear


def _make_optimizer(model: nn.Module, optimizer: Any, groups: Any, lr: float,
                    weight_decay: float, momentum: float) -> torch.optim.Optimizer:
    from cnnzoo.errors import StageError
    from cnnzoo.train.transfer import param_groups

    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if groups is None:
        try:
            groups = param_groups(model, default_lr=lr, weight_decay=weight_decay,
                                  include_frozen=True)
        except StageError:  # a model without stages: decay/no-decay split only
            decay, no_decay = [], []
            for name, p in model.named_parameters():
                (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
            groups = [{"params": decay, "weight_decay": weight_decay, "name": "decay"},
                      {"params": no_decay, "weight_decay": 0.0, "name": "no_decay"}]
            groups = [g for g in groups if g["params"]]
    elif isinstance(groups, Mapping):  # {stage: lr} shorthand
        groups = param_groups(model, lr=groups, default_lr=lr, weight_decay=weight_decay,
                              include_frozen=True)
    groups = list(groups)
    if callable(optimizer):
        return optimizer(groups)
    name = (optimizer or "adamw").lower()
    if name == "adamw":
        return torch.optim.AdamW(groups, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(groups, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(groups, lr=lr, momentum=momentum, weight_decay=weight_decay,
                               nesterov=momentum > 0)
    raise TrainError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}, "
                     "or pass a torch.optim.Optimizer or a callable(param_groups)")


class _EMA:
    """An exponential moving average of a model's weights (and buffers), with warmup."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = float(decay)
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        ours, theirs = self.module.state_dict(), model.state_dict()
        self.pairs = [(ours[k], theirs[k]) for k in ours]

    @torch.no_grad()
    def update(self, step: int) -> None:
        decay = min(self.decay, (1.0 + step) / (10.0 + step))
        for ema, live in self.pairs:
            if ema.is_floating_point():
                ema.lerp_(live, 1.0 - decay)
            else:
                ema.copy_(live)


def _autocast_factory(amp: bool | str, device: torch.device
                      ) -> tuple[Callable[[], Any], bool]:
    """A context-manager factory for autocast, and whether a GradScaler is needed."""
    if not amp:
        return contextlib.nullcontext, False
    kind = amp if isinstance(amp, str) else ("fp16" if device.type == "cuda" else "bf16")
    dtypes = {"bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16,
              "float16": torch.float16}
    if kind not in dtypes:
        raise TrainError(f"amp={amp!r}: use True, 'bf16' or 'fp16'")
    dtype = dtypes[kind]
    return (lambda: torch.autocast(device.type, dtype=dtype)), (
        dtype == torch.float16 and device.type == "cuda")


def _task_of(model: nn.Module, task: str) -> str:
    if task != "auto":
        if task not in ("classification", "segmentation"):
            raise TrainError(f"task must be 'auto', 'classification' or 'segmentation', "
                             f"not {task!r}")
        return task
    arch = (getattr(model, "pretrained_cfg", None) or {}).get("architecture")
    if arch and arch in REGISTRY:
        return REGISTRY.get(arch).task
    return "classification"


def _unwrap(model: nn.Module) -> nn.Module:
    while isinstance(model, nn.parallel.DistributedDataParallel | nn.DataParallel):
        model = model.module
    return model


def _device_of(model: nn.Module, device: str | torch.device | None) -> torch.device:
    if device is not None:
        return torch.device(device)
    _, world, local = _dist_env()
    for p in model.parameters():
        if p.device.type == "cuda" and world > 1:
            return torch.device("cuda", local)
        return p.device
    return torch.device("cpu")


def _write_card(model: nn.Module, folder: Path, metrics: Mapping[str, float]) -> None:
    from cnnzoo.hub import model_card

    (folder / "README.md").write_text(model_card(model, metrics=dict(metrics)))


# -- the loop -------------------------------------------------------------------------------


def fit(
    model: nn.Module,
    train: Dataset | DataLoader,
    val: Dataset | DataLoader | None = None,
    *,
    epochs: int,
    optimizer: str | torch.optim.Optimizer | Callable[..., torch.optim.Optimizer] | None = None,
    lr: float = 1e-3,
    weight_decay: float = 0.01,
    momentum: float = 0.9,
    param_groups: Iterable[Mapping[str, Any]] | Mapping[str, float] | None = None,
    scheduler: str | Callable[[torch.optim.Optimizer, int], Any] | None = "cosine",
    warmup: float = 0.0,
    min_lr_ratio: float = 0.0,
    amp: bool | str = False,
    grad_accum: int = 1,
    clip_grad: float | None = None,
    label_smoothing: float = 0.0,
    mixup: bool | float | str | Callable[..., Any] | None = None,
    ema: bool | float = False,
    grad_checkpointing: bool = False,
    callbacks: Sequence[Any] = (),
    early_stopping: int | EarlyStopping | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
    batch_size: int = 32,
    num_workers: int = 0,
    loss: str | Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    task: str = "auto",
    ignore_index: int | None = None,
    seed: int | None = None,
    device: str | torch.device | None = None,
    progress: bool | None = None,
    verbose: bool = False,
    _teacher: tuple[nn.Module, float, float] | None = None,
) -> History:
    """Train ``model`` on ``train``, evaluating on ``val`` after every epoch.

    Args:
        model: any zoo model (or any ``nn.Module`` returning logits); trained in place.
        train: a ``Dataset`` of ``(image, label)`` — or ``(image, mask)`` for a
            segmenter — or a ``DataLoader``.
        val: the same for validation (optional).
        epochs: passes over ``train``.
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
        grad_checkpointing: trade compute for memory (models with
            ``set_grad_checkpointing``, i.e. the timm-backed families).
        callbacks: objects with any of ``on_fit_start(state)``,
            ``on_epoch_start(state, epoch)``, ``on_epoch_end(state, epoch, metrics)``,
            ``on_fit_end(state)`` — see :class:`FitState`.
        early_stopping: a patience in epochs or an :class:`EarlyStopping`.
        checkpoint_dir: save the best model there (by the monitored metric) with
            :func:`cnnzoo.hub.save_pretrained`; a model card with the best metric is
            written at the end unless the folder already had one.
        batch_size: per process.
        num_workers: ``DataLoader`` workers.
        loss: a callable ``(logits, targets) → loss``, or for segmenters ``"ce"``,
            ``"dice"``, ``"ce+dice"`` (default for segmentation).
        augment: a batch transform applied to training images only (e.g.
            :func:`cnnzoo.data.random_shift`); classification only.
        task: ``"auto"`` (from the model's spec), ``"classification"`` or ``"segmentation"``.
        ignore_index: a mask value to ignore (segmentation).
        seed: seeds the shuffling of the training data.
        device: where to train (default: where the model's parameters are).
        progress: tqdm progress bars (default: when stderr is a terminal).
        verbose: print one line of metrics per epoch.

    Returns:
        the :class:`History`; the model is left in eval mode.

    Raises:
        TrainError: settings that do not fit, or data whose classes contradict the model.

    Example:
        >>> import cnnzoo
        >>> from cnnzoo.data import digits
        >>> from cnnzoo.train import fit
        >>> model = cnnzoo.create("lenet5")
        >>> split = digits(model=model)
        >>> history = fit(model, split.train, split.test, epochs=2, lr=3e-3, seed=0)
        >>> history.last["val_accuracy"] > 0.5
        True
    """
    if epochs < 1:
        raise TrainError(f"epochs must be at least 1, got {epochs}")
    if grad_accum < 1:
        raise TrainError(f"grad_accum must be at least 1, got {grad_accum}")
    if batch_size < 1:
        raise TrainError(f"batch_size must be at least 1, got {batch_size}")
    model = _unwrap(model)
    dev = _device_of(model, device)
    model.to(dev)
    rank, world = _setup_distributed(dev)
    main = rank == 0
    kind = _task_of(model, task)
    n_classes = _num_classes(model)
    if n_classes == 0:
        raise TrainError("the model has no classifier (num_classes=0); give it a head with "
                         "cnnzoo.build.heads.replace_head(model, num_classes)")
    classes = _check_classes(n_classes, train, "training", kind)
    _check_classes(n_classes, val, "validation", kind)
    cfg = getattr(model, "pretrained_cfg", None)
    if classes and isinstance(cfg, dict) and not cfg.get("labels"):
        cfg["labels"] = tuple(str(c) for c in classes)

    autocast, use_scaler = _autocast_factory(amp, dev)
    if kind == "segmentation":
        if mixup:
            raise TrainError("mixup applies to classification, not segmentation")
        if augment is not None:
            raise TrainError("augment= transforms images only; for segmentation augment "
                             "images and masks together in the dataset")
        from cnnzoo.train.losses import segmentation_loss

        loss_fn = segmentation_loss(loss or "ce+dice", label_smoothing=label_smoothing,
                                    ignore_index=ignore_index) if loss is None or isinstance(
            loss, str) else loss
        if n_classes < 1:
            raise TrainError("cannot tell the segmenter's class count; give it num_classes")
        runner: _Task = _SegmentationTask(n_classes, loss_fn, ignore_index)
    elif _teacher is not None:
        teacher, temperature, alpha = _teacher
        teacher.to(dev).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
        runner = _DistillTask(n_classes, teacher, temperature, alpha, label_smoothing, autocast)
    else:
        if isinstance(loss, str):
            raise TrainError(f"loss={loss!r}: named losses are for segmentation; pass a callable")
        loss_fn = loss or nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        runner = _Task(n_classes, loss_fn)

    mix = None
    if mixup:
        from cnnzoo.data import mixup_cutmix

        if callable(mixup):
            mix = mixup
        elif mixup is True:
            mix = mixup_cutmix(n_classes)
        elif mixup == "mixup":
            mix = mixup_cutmix(n_classes, cutmix_alpha=0.0)
        elif mixup == "cutmix":
            mix = mixup_cutmix(n_classes, mixup_alpha=0.0)
        elif isinstance(mixup, int | float):
            mix = mixup_cutmix(n_classes, mixup_alpha=float(mixup), cutmix_alpha=0.0)
        else:
            raise TrainError(f"mixup={mixup!r}: use True, 'mixup', 'cutmix', an alpha or a "
                             "callable")

    if grad_checkpointing:
        setter = getattr(model, "set_grad_checkpointing", None)
        if setter is None:
            raise TrainError(f"{type(model).__name__} does not support gradient checkpointing "
                             "(no set_grad_checkpointing); the timm-backed families do")
        setter(True)

    if checkpoint_dir is not None:
        from cnnzoo.hub import model_config

        model_config(model)  # fail now, not after the first epoch, if it cannot be saved
        checkpoint_dir = Path(checkpoint_dir)
        had_card = (checkpoint_dir / "README.md").exists()

    train_loader, train_sampler = _loader(train, train=True, batch_size=batch_size,
                                          num_workers=num_workers, rank=rank, world=world,
                                          seed=seed)
    val_loader = None if val is None else _loader(
        val, train=False, batch_size=batch_size, num_workers=num_workers, rank=rank,
        world=world, seed=seed)[0]
    steps_per_epoch = math.ceil(len(train_loader) / grad_accum)
    if steps_per_epoch == 0:
        raise TrainError("the training data gives no batch")
    total_steps = steps_per_epoch * epochs
    warmup_steps = round(float(warmup) * steps_per_epoch)

    opt = _make_optimizer(model, optimizer, param_groups, lr, weight_decay, momentum)
    for group in opt.param_groups:
        group.setdefault("initial_lr", group["lr"])
    custom_sched = None
    if callable(scheduler):
        custom_sched = scheduler(opt, total_steps)
    elif scheduler is not None and scheduler not in SCHEDULES:
        raise TrainError(f"unknown scheduler {scheduler!r}; choose one of {', '.join(SCHEDULES)}, "
                         "None, or pass a callable(optimizer, total_steps)")
    schedule = scheduler if isinstance(scheduler, str) else None
    scaler = torch.amp.GradScaler(dev.type) if use_scaler else None

    monitor = ("val_miou" if kind == "segmentation" else "val_accuracy") if val is not None \
        else "train_loss"
    history = History(monitor=monitor, mode=_mode_of(monitor), task=kind)
    state = FitState(model=model, optimizer=opt, epochs=epochs, history=history, rank=rank,
                     world_size=world)
    all_callbacks = list(callbacks)
    if early_stopping is not None:
        all_callbacks.append(early_stopping if isinstance(early_stopping, EarlyStopping)
                             else EarlyStopping(int(early_stopping)))
    for cb in all_callbacks:
        if hasattr(cb, "on_fit_start"):
            cb.on_fit_start(state)

    averaged = _EMA(model, 0.999 if ema is True else float(ema)) if ema else None

    def wrap() -> nn.Module:
        if world == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel as DDP

        if not any(p.requires_grad for p in model.parameters()):
            raise TrainError("every parameter is frozen: nothing to train")
        return DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None)

    net: nn.Module | None = None  # wrapped after the first epoch's callbacks ran
    show = (sys.stderr.isatty() if progress is None else progress) and main
    if show:
        from tqdm.auto import tqdm
    step = 0
    if schedule is not None:
        _set_lr(opt, _lr_multiplier(schedule, 0, total_steps, warmup_steps, min_lr_ratio))

    try:
        for epoch in range(epochs):
            state.epoch = epoch
            for cb in all_callbacks:
                if hasattr(cb, "on_epoch_start"):
                    cb.on_epoch_start(state, epoch)
            if state._changed or net is None:
                state._changed = False
                net = wrap()
            if train_sampler is not None and hasattr(train_sampler, "set_epoch"):
                train_sampler.set_epoch(epoch)
            start = time.perf_counter()
            epoch_lr = float(opt.param_groups[-1]["lr"])
            model.train()
            meter = runner.meter(dev)
            batches: Iterable[Any] = train_loader
            bar = None
            if show:
                bar = tqdm(train_loader, desc=f"epoch {epoch + 1}/{epochs}", leave=False,
                           dynamic_ncols=True)
                batches = bar
            n_batches = len(train_loader)
            for i, (inputs, targets) in enumerate(batches):
                inputs = inputs.to(dev, non_blocking=True)
                targets = targets.to(dev, non_blocking=True)
                if augment is not None:
                    inputs = augment(inputs)
                if mix is not None:
                    inputs, targets = mix(inputs, targets)
                window_start = (i // grad_accum) * grad_accum
                window = min(grad_accum, n_batches - window_start)
                sync = i + 1 == window_start + window
                no_sync = net.no_sync if (world > 1 and not sync) else contextlib.nullcontext
                with no_sync():
                    with autocast():
                        out = net(inputs)
                        batch_loss, logits = runner.loss(out, targets, inputs)
                    scaled = batch_loss / window if window > 1 else batch_loss
                    (scaler.scale(scaled) if scaler is not None else scaled).backward()
                runner.update(meter, logits, targets, batch_loss)
                if not sync:
                    continue
                if clip_grad is not None:
                    if scaler is not None:
                        scaler.unscale_(opt)
                    torch.nn.utils.clip_grad_norm_(
                        [p for p in model.parameters() if p.grad is not None], clip_grad)
                if scaler is not None:
                    scaler.step(opt)
                    scaler.update()
                else:
                    opt.step()
                opt.zero_grad(set_to_none=True)
                step += 1
                if custom_sched is not None:
                    custom_sched.step()
                elif schedule is not None:
                    _set_lr(opt, _lr_multiplier(schedule, step, total_steps, warmup_steps,
                                                min_lr_ratio))
                if averaged is not None:
                    averaged.update(step)
                if bar is not None and step % 10 == 0:
                    bar.set_postfix(loss=f"{float(batch_loss):.4f}", refresh=False)
            runner.checked = True
            if bar is not None:
                bar.close()
            _broadcast_buffers(model, world)
            row: dict[str, float] = {"epoch": float(epoch + 1)}
            row.update(runner.summarize(_all_reduce(meter, world), "train"))
            evaluated = model
            if averaged is not None:
                _broadcast_buffers(averaged.module, world)
                evaluated = averaged.module
            if val_loader is not None:
                row.update(_evaluate(evaluated, val_loader, runner, dev, autocast, world))
            row["lr"] = epoch_lr
            row["seconds"] = time.perf_counter() - start
            history.epochs.append(row)
            value = row[monitor]
            improved = history.best is None or (value > history.best if history.mode == "max"
                                                else value < history.best)
            if improved:
                history.best, history.best_epoch = value, epoch + 1
                if checkpoint_dir is not None:
                    if main:
                        from cnnzoo.hub import save_pretrained

                        save_pretrained(evaluated, checkpoint_dir, write_model_card=False)
                    history.best_checkpoint = checkpoint_dir
            if verbose and main:
                _print(format_epoch(row, epochs), show)
            for cb in all_callbacks:
                if hasattr(cb, "on_epoch_end"):
                    cb.on_epoch_end(state, epoch, row)
            if state.stop:
                history.stopped_early = epoch + 1 < epochs
                break
    finally:
        if grad_checkpointing:
            model.set_grad_checkpointing(False)
    if averaged is not None:
        model.load_state_dict(averaged.module.state_dict())
    if checkpoint_dir is not None and main and not had_card and history.best is not None:
        _write_card(model, checkpoint_dir, {history.monitor: round(history.best, 6)})
    for cb in all_callbacks:
        if hasattr(cb, "on_fit_end"):
            cb.on_fit_end(state)
    model.eval()
    return history


def _set_lr(opt: torch.optim.Optimizer, multiplier: float) -> None:
    for group in opt.param_groups:
        group["lr"] = group["initial_lr"] * multiplier


def _print(line: str, bars: bool) -> None:
    if bars:
        from tqdm.auto import tqdm

        tqdm.write(line)
    else:
        print(line, flush=True)


@torch.no_grad()
def _evaluate(model: nn.Module, loader: DataLoader, runner: _Task, dev: torch.device,
              autocast: Callable[[], Any], world: int) -> dict[str, float]:
    was_training = model.training
    model.eval()
    meter = runner.meter(dev)
    for inputs, targets in loader:
        inputs, targets = inputs.to(dev), targets.to(dev)
        with autocast():
            logits, _ = _main_output(model(inputs))
        runner.check_targets(logits, targets)
        runner.update(meter, logits, targets, runner.val_loss(logits, targets))
    model.train(was_training)
    return runner.summarize(_all_reduce(meter, world), "val")


def evaluate(
    model: nn.Module,
    data: Dataset | DataLoader,
    *,
    batch_size: int = 256,
    task: str = "auto",
    amp: bool | str = False,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | str | None = None,
    ignore_index: int | None = None,
    device: str | torch.device | None = None,
) -> dict[str, float]:
    """Loss and accuracy (classification) or pixel accuracy and mean IoU (segmentation).

    Under ``torchrun`` every process evaluates its share and the result is the total.

    Example:
        >>> import cnnzoo
        >>> from cnnzoo.data import digits
        >>> from cnnzoo.train import evaluate
        >>> model = cnnzoo.create("lenet5", pretrained=True)
        >>> evaluate(model, digits(model=model).test)["accuracy"] > 0.98
        True
    """
    model = _unwrap(model)
    dev = _device_of(model, device)
    kind = _task_of(model, task)
    n_classes = _num_classes(model)
    _check_classes(n_classes, data, "evaluation", kind)
    rank, world = (0, 1)
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        rank, world = dist.get_rank(), dist.get_world_size()
    loader, _ = _loader(data, train=False, batch_size=batch_size, num_workers=0, rank=rank,
                        world=world, seed=None)
    runner: _Task
    if kind == "segmentation":
        from cnnzoo.train.losses import segmentation_loss

        loss_fn = segmentation_loss(loss or "ce+dice", ignore_index=ignore_index) \
            if loss is None or isinstance(loss, str) else loss
        runner = _SegmentationTask(n_classes, loss_fn, ignore_index)
    else:
        runner = _Task(n_classes, F.cross_entropy)
    autocast, _ = _autocast_factory(amp, dev)
    out = _evaluate(model, loader, runner, dev, autocast, world)
    return {k[len("val_"):]: v for k, v in out.items()}


def distill(
    teacher: nn.Module,
    student: nn.Module,
    train: Dataset | DataLoader,
    val: Dataset | DataLoader | None = None,
    *,
    temperature: float = 4.0,
    alpha: float = 0.7,
    **kwargs: Any,
) -> History:
    """Train ``student`` to match ``teacher`` (knowledge distillation).

    The loss is ``alpha · KL(softmax(t/T) ‖ softmax(s/T)) · T² + (1 − alpha) · CE(s, y)``
    (:func:`cnnzoo.losses.distillation_loss`); the teacher runs in eval mode without
    gradients on the same (augmented) batch. Every other argument is :func:`fit`'s.

    Raises:
        TrainError: teacher and student predict different numbers of classes.
    """
    if "loss" in kwargs:
        raise TrainError("distill computes its own loss; do not pass loss=")
    if not 0.0 <= alpha <= 1.0:
        raise TrainError(f"alpha must be in [0, 1], got {alpha}")
    if temperature <= 0:
        raise TrainError(f"temperature must be positive, got {temperature}")
    t_classes, s_classes = _num_classes(_unwrap(teacher)), _num_classes(_unwrap(student))
    if t_classes >= 0 and s_classes >= 0 and t_classes != s_classes:
        raise TrainError(f"the teacher predicts {t_classes} classes and the student "
                         f"{s_classes}: they must predict the same classes")
    if _task_of(_unwrap(student), kwargs.get("task", "auto")) != "classification":
        raise TrainError("distill trains classifiers")
    return fit(student, train, val, _teacher=(_unwrap(teacher), float(temperature),
                                              float(alpha)), **kwargs)
