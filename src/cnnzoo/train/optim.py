"""Optimisation for :func:`~cnnzoo.train.fit`: optimizer, schedule, AMP, accumulation, EMA.

- :func:`make_optimizer`: AdamW/Adam/SGD over per-stage parameter groups
  (:func:`~cnnzoo.train.transfer.param_groups`), or a decay/no-decay split for
  models without stages;
- :class:`LRSchedule`: linear warmup then cosine/linear/constant, set per optimizer
  step, or a user's ``LRScheduler`` factory;
- :class:`MixedPrecision`: autocast (bf16 on CPU, fp16 on CUDA) and, for fp16 on
  CUDA, a ``GradScaler``;
- :func:`accumulation_window`: which micro-batches make one optimizer step;
- :class:`EMA`: an exponential moving average of the weights;
- :class:`OptimizerStep`: backward, unscale + clip, step, schedule and EMA update.
"""

from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

import torch
from torch import nn

from cnnzoo.errors import StageError, TrainError
from cnnzoo.train.config import AMP_DTYPES, OPTIMIZERS, OptimizerArg, SchedulerArg
from cnnzoo.train.transfer import param_groups as stage_param_groups

__all__ = [
    "EMA",
    "LRSchedule",
    "MixedPrecision",
    "OptimizerStep",
    "accumulation_window",
    "lr_multiplier",
    "make_optimizer",
]


def _decay_split(model: nn.Module, weight_decay: float) -> list[dict[str, Any]]:
    """Two groups: weights with decay, biases and 1-D (norm) parameters without."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or name.endswith(".bias") else decay).append(p)
    groups = [{"params": decay, "weight_decay": weight_decay, "name": "decay"},
              {"params": no_decay, "weight_decay": 0.0, "name": "no_decay"}]
    return [g for g in groups if g["params"]]


def make_optimizer(
    model: nn.Module,
    optimizer: OptimizerArg,
    groups: Iterable[Mapping[str, Any]] | Mapping[str, float] | None,
    *,
    lr: float,
    weight_decay: float,
    momentum: float,
) -> torch.optim.Optimizer:
    """The optimizer ``fit`` trains with (see :class:`~cnnzoo.train.FitConfig`).

    Args:
        model: the model (unwrapped).
        optimizer: ``"adamw"``/``"adam"``/``"sgd"``/``None`` (AdamW), an optimizer
            (returned as is) or a callable receiving the parameter groups.
        groups: explicit parameter groups, a ``{stage: lr}`` dict, or ``None`` for one
            group per stage (frozen parameters included).
        lr: the base learning rate.
        weight_decay: decoupled weight decay (0 for biases and norms).
        momentum: SGD's momentum (Nesterov when positive).

    Returns:
        the optimizer.

    Raises:
        TrainError: an unknown optimizer name.
    """
    if isinstance(optimizer, torch.optim.Optimizer):
        return optimizer
    if groups is None:
        try:
            groups = stage_param_groups(model, default_lr=lr, weight_decay=weight_decay,
                                        include_frozen=True)
        except StageError:  # a model without stages: decay/no-decay split only
            groups = _decay_split(model, weight_decay)
    elif isinstance(groups, Mapping):  # {stage: lr} shorthand
        groups = stage_param_groups(model, lr=dict(groups), default_lr=lr,
                                    weight_decay=weight_decay, include_frozen=True)
    group_list = [dict(g) for g in groups]
    if callable(optimizer):
        return optimizer(group_list)
    name = (optimizer or "adamw").lower()
    if name == "adamw":
        return torch.optim.AdamW(group_list, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(group_list, lr=lr)
    if name == "sgd":
        return torch.optim.SGD(group_list, lr=lr, momentum=momentum, weight_decay=weight_decay,
                               nesterov=momentum > 0)
    raise TrainError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}, "
                     "or pass a torch.optim.Optimizer or a callable(param_groups)")


def lr_multiplier(schedule: str, step: int, total: int, warmup: int, min_ratio: float) -> float:
    """The learning-rate factor after ``step`` of ``total`` optimizer steps.

    Example:
        >>> lr_multiplier("cosine", 50, 100, 0, 0.0)
        0.5
        >>> lr_multiplier("linear", 0, 100, 10, 0.0)  # warmup
        0.1
    """
    if warmup and step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    if schedule == "cosine":
        return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
    return min_ratio + (1.0 - min_ratio) * (1.0 - progress)  # linear


class LRSchedule:
    """The learning rate per optimizer step: a named schedule or a user's scheduler.

    Every group keeps its ``initial_lr`` (callbacks such as
    :class:`~cnnzoo.train.transfer.ProgressiveUnfreezing` may rescale it before
    :meth:`start`); a named schedule sets ``lr = initial_lr × multiplier``.

    Args:
        optimizer: the optimizer.
        scheduler: a name of :data:`~cnnzoo.train.SCHEDULES`, ``None`` (constant) or a
            callable ``(optimizer, total_steps) → LRScheduler``, stepped after every step.
        total_steps: optimizer steps in the whole run.
        warmup_steps: linear warmup steps (named schedules).
        min_lr_ratio: where a named schedule ends, relative to ``initial_lr``.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, scheduler: SchedulerArg,
                 total_steps: int, warmup_steps: int, min_lr_ratio: float) -> None:
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.custom = scheduler(optimizer, total_steps) if callable(scheduler) else None
        self.name = scheduler if isinstance(scheduler, str) else None
        self.total_steps, self.warmup_steps = total_steps, warmup_steps
        self.min_lr_ratio = min_lr_ratio

    def _set(self, name: str, step: int) -> None:
        multiplier = lr_multiplier(name, step, self.total_steps, self.warmup_steps,
                                   self.min_lr_ratio)
        for group in self.optimizer.param_groups:
            group["lr"] = group["initial_lr"] * multiplier

    def start(self) -> None:
        """Set the learning rate of step 0 (after the callbacks' ``on_fit_start``)."""
        if self.name is not None:
            self._set(self.name, 0)

    def after_step(self, step: int) -> None:
        """Advance after optimizer step number ``step`` (1-based)."""
        if self.custom is not None:
            self.custom.step()
        elif self.name is not None:
            self._set(self.name, step)


class MixedPrecision:
    """Autocast and, for fp16 on CUDA, a ``GradScaler`` (``amp=`` of ``fit``).

    Args:
        amp: ``False`` (off), ``True`` (bf16 on CPU, fp16 on CUDA), ``"bf16"`` or ``"fp16"``.
        device: where the model runs.

    Raises:
        TrainError: an unknown ``amp`` value.
    """

    def __init__(self, amp: bool | str, device: torch.device) -> None:
        self.dtype: torch.dtype | None = None
        if amp:
            kind = amp if isinstance(amp, str) else ("fp16" if device.type == "cuda" else "bf16")
            if kind not in AMP_DTYPES:
                raise TrainError(f"amp={amp!r}: use True, 'bf16' or 'fp16'")
            self.dtype = getattr(torch, AMP_DTYPES[kind])
        self.device_type = device.type
        self.scaler = torch.amp.GradScaler(device.type) \
            if self.dtype == torch.float16 and device.type == "cuda" else None

    def autocast(self) -> AbstractContextManager[object]:
        """A fresh autocast context (a no-op context without AMP)."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor) -> None:
        """``loss.backward()``, scaled when a ``GradScaler`` is in use."""
        (self.scaler.scale(loss) if self.scaler is not None else loss).backward()

    def unscale(self, optimizer: torch.optim.Optimizer) -> None:
        """Unscale the gradients in place (before clipping)."""
        if self.scaler is not None:
            self.scaler.unscale_(optimizer)

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """``optimizer.step()``, through the ``GradScaler`` when there is one."""
        if self.scaler is not None:
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            optimizer.step()


def accumulation_window(index: int, n_batches: int, grad_accum: int) -> tuple[int, bool]:
    """``(micro-batches in this batch's step, whether this batch ends the step)``.

    The last step of an epoch may gather fewer micro-batches; its losses are divided
    by its own size, so every step averages over the batches it saw.

    Example:
        >>> [accumulation_window(i, 5, 2) for i in range(5)]
        [(2, False), (2, True), (2, False), (2, True), (1, True)]
    """
    start = (index // grad_accum) * grad_accum
    window = min(grad_accum, n_batches - start)
    return window, index + 1 == start + window


class EMA:
    """An exponential moving average of a model's weights (and buffers), with warmup.

    The decay at step ``s`` is ``min(decay, (1 + s) / (10 + s))``; integer buffers are
    copied. ``EMA.module`` is the averaged copy (eval mode, no gradients).
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = float(decay)
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        ours, theirs = self.module.state_dict(), model.state_dict()
        self.pairs = [(ours[k], theirs[k]) for k in ours]

    @torch.no_grad()
    def update(self, step: int) -> None:
        """Move the average towards the live weights after optimizer step ``step``."""
        decay = min(self.decay, (1.0 + step) / (10.0 + step))
        for ema, live in self.pairs:
            if ema.is_floating_point():
                ema.lerp_(live, 1.0 - decay)
            else:
                ema.copy_(live)


class OptimizerStep:
    """One optimizer step: scaled backward per micro-batch, then clip, step, schedule, EMA.

    Args:
        model: the (unwrapped) model whose gradients are clipped.
        optimizer: the optimizer.
        amp: the run's mixed precision.
        schedule: the learning-rate schedule.
        ema: the weight average to update, or ``None``.
        clip_grad: the maximum gradient norm, or ``None``.
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer, *,
                 amp: MixedPrecision, schedule: LRSchedule, ema: EMA | None,
                 clip_grad: float | None) -> None:
        self.model, self.optimizer, self.amp = model, optimizer, amp
        self.schedule, self.ema, self.clip_grad = schedule, ema, clip_grad
        self.steps = 0

    def backward(self, loss: torch.Tensor, window: int) -> None:
        """Backpropagate one micro-batch's loss, divided by the step's micro-batch count."""
        self.amp.backward(loss / window if window > 1 else loss)

    def step(self) -> int:
        """Apply the accumulated gradients; returns the number of steps taken so far."""
        if self.clip_grad is not None:
            self.amp.unscale(self.optimizer)
            torch.nn.utils.clip_grad_norm_(
                [p for p in self.model.parameters() if p.grad is not None], self.clip_grad)
        self.amp.step(self.optimizer)
        self.optimizer.zero_grad(set_to_none=True)
        self.steps += 1
        self.schedule.after_step(self.steps)
        if self.ema is not None:
            self.ema.update(self.steps)
        return self.steps

