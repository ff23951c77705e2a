"""``GradientMonitor``: per-stage gradient and weight statistics, and a warning when they go wrong.

``fit(model, train, epochs=…, monitor=True)`` — or ``callbacks=[GradientMonitor(...)]``
for other thresholds — measures, at every optimizer step and for every stage of the
model's spec (:func:`cnnzoo.train.transfer.stage_of_parameters`):

* the **gradient norm** ‖g‖ of the stage's parameters (the gradient the optimizer is
  about to apply: after accumulation and clipping, unscaled under AMP);
* the **update/weight ratio** ‖Δw‖ / ‖w‖ — how far the step moved the stage's weights
  relative to their size (learning rate, optimizer and weight decay included);

and records per epoch, in the :class:`~cnnzoo.train.History`, the epoch's mean of
each and the stage's **weight norm** ‖w‖ at the end of the epoch::

    history["grad_norm/stage1"], history["update_ratio/stage1"], history["weight_norm/stage1"]

A healthy run has update/weight ratios around 1e-3 (between 1e-4 and 1e-2). An epoch is
flagged with a :class:`~cnnzoo.errors.GradientWarning` (once per kind and run; every
flagged epoch is kept in :attr:`GradientMonitor.alerts`) when:

===========  ========================================================================
``explode``  a step had non-finite gradients (``inf``/``nan``); or a stage's mean
             update/weight ratio is above ``explode_ratio`` (default ``0.1``: one step
             moves the weights by a tenth of their norm); or a stage's mean gradient
             norm is above ``explode_growth`` (default ``100``) times its mean in the
             first epoch
``vanish``   the mean gradient norm of every stage that has gradients is below
             ``vanish_norm`` (default ``1e-7``)
===========  ========================================================================

A model without stages (a plain ``nn.Module``) is grouped by its top-level modules.
Steps a ``GradScaler`` skips (fp16 overflow) are not measured: skipping them is the
scaler's job.

Example:
    >>> import cnnzoo
    >>> from cnnzoo.data import digits
    >>> from cnnzoo.train import fit
    >>> model = cnnzoo.create("lenet5")
    >>> split = digits(model=model)
    >>> history = fit(model, split.train, epochs=1, lr=1e-3, seed=0, monitor=True)
    >>> 1e-4 < history["update_ratio/stage1"][0] < 1e-1
    True
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.hooks import RemovableHandle

from cnnzoo.errors import GradientWarning, StageError, TrainError
from cnnzoo.train.callbacks import Callback
from cnnzoo.train.state import FitState
from cnnzoo.train.transfer import stage_of_parameters, stages

__all__ = [
    "EXPLODE_GROWTH",
    "EXPLODE_RATIO",
    "VANISH_NORM",
    "GradientAlert",
    "GradientMonitor",
    "parameters_by_stage",
]

EXPLODE_RATIO = 0.1
EXPLODE_GROWTH = 100.0
VANISH_NORM = 1e-7


@dataclass(frozen=True)
class GradientAlert:
    """One flagged epoch: ``kind`` is ``"explode"`` or ``"vanish"``; ``epoch`` counts from 1."""

    epoch: int
    kind: str
    message: str
    stages: tuple[str, ...] = ()


def parameters_by_stage(model: nn.Module) -> dict[str, list[nn.Parameter]]:
    """The model's parameters grouped by stage, in the stages' order.

    Stages come from the spec (:func:`~cnnzoo.train.transfer.stage_of_parameters`); a
    model without stages is grouped by its top-level modules.
    """
    try:
        owner = stage_of_parameters(model)
        order = list(stages(model))
    except StageError:
        owner = {name: name.split(".")[0] for name, _ in model.named_parameters()}
        order = list(dict.fromkeys(owner.values()))
    groups: dict[str, list[nn.Parameter]] = {stage: [] for stage in order}
    for name, param in model.named_parameters():
        groups[owner[name]].append(param)
    return {stage: params for stage, params in groups.items() if params}


def _norm(tensors: Sequence[torch.Tensor], device: torch.device) -> torch.Tensor:
    """The L2 norm of all ``tensors`` together (0 for none), as a float32 scalar on ``device``."""
    if not tensors:
        return torch.zeros((), device=device)
    norms = [torch.linalg.vector_norm(t.detach(), dtype=torch.float32).to(device)
             for t in tensors]
    return torch.linalg.vector_norm(torch.stack(norms))


def _mean(values: Sequence[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else (math.nan if values else 0.0)


class GradientMonitor(Callback):
    """Per-stage gradient norms, weight norms and update/weight ratios, logged per epoch.

    Args:
        explode_ratio: a stage's mean update/weight ratio above which the epoch is
            flagged ``explode``.
        explode_growth: flag ``explode`` when a stage's mean gradient norm exceeds this
            many times its first-epoch mean.
        vanish_norm: flag ``vanish`` when every stage's mean gradient norm is below it.
        every: measure every N-th optimizer step (the first one always).
        warn: emit a :class:`~cnnzoo.errors.GradientWarning` for the first flagged
            epoch of each kind (on the main process).

    Attributes:
        alerts: every flagged epoch, as :class:`GradientAlert` objects.
        epochs: the statistics of each epoch (also added to the history's rows).

    Raises:
        TrainError: a threshold that is not positive, or ``every`` below 1.
    """

    def __init__(self, *, explode_ratio: float = EXPLODE_RATIO,
                 explode_growth: float = EXPLODE_GROWTH, vanish_norm: float = VANISH_NORM,
                 every: int = 1, warn: bool = True) -> None:
        for name, value in (("explode_ratio", explode_ratio), ("explode_growth", explode_growth),
                            ("vanish_norm", vanish_norm)):
            if not isinstance(value, int | float) or not value > 0:
                raise TrainError(f"{name} must be a positive number, got {value!r}")
        if not isinstance(every, int) or every < 1:
            raise TrainError(f"every must be an integer ≥ 1, got {every!r}")
        self.explode_ratio, self.explode_growth = float(explode_ratio), float(explode_growth)
        self.vanish_norm, self.every, self.warn = float(vanish_norm), every, bool(warn)
        self.alerts: list[GradientAlert] = []
        self.epochs: list[dict[str, float]] = []
        self._groups: dict[str, list[nn.Parameter]] = {}
        self._device = torch.device("cpu")
        self._handles: list[RemovableHandle] = []
        self._grads: list[torch.Tensor] = []  # per measured step: each stage's ‖g‖
        self._ratios: list[torch.Tensor] = []  # per measured step: each stage's ‖Δw‖/‖w‖
        self._before: list[list[torch.Tensor]] | None = None  # weights before the step
        self._nonfinite = self._steps = 0
        self._nonfinite_stages: set[str] = set()  # stages with inf/nan gradients this epoch
        self._baseline: dict[str, float] = {}  # first-epoch mean ‖g‖ per stage
        self._warned: set[str] = set()
        self._reset_run()

    # -- fit hooks ---------------------------------------------------------------------

    def on_fit_start(self, state: FitState) -> None:
        """Group the parameters by stage and hook the optimizer's ``step``."""
        self.remove()
        self._groups = parameters_by_stage(state.model)
        self._device = next(state.model.parameters()).device
        self._reset_run()
        self._handles = [state.optimizer.register_step_pre_hook(self._before_step),
                         state.optimizer.register_step_post_hook(self._after_step)]

    def on_epoch_start(self, state: FitState, epoch: int) -> None:
        """Forget the previous epoch's steps."""
        self._grads, self._ratios, self._nonfinite = [], [], 0
        self._nonfinite_stages = set()

    def on_epoch_end(self, state: FitState, epoch: int, metrics: Mapping[str, float]) -> None:
        """Add the epoch's statistics to its history row; flag and warn."""
        row = self.summarize()
        self.epochs.append(row)
        if state.history.epochs:
            state.history.epochs[-1].update(row)
        for alert in self._check(epoch + 1, row, self._nonfinite, len(self._grads)):
            self.alerts.append(alert)
            if self.warn and state.is_main and alert.kind not in self._warned:
                self._warned.add(alert.kind)
                warnings.warn(alert.message, GradientWarning, stacklevel=2)

    def on_fit_end(self, state: FitState) -> None:
        """Unhook the optimizer."""
        self.remove()

    def remove(self) -> None:
        """Remove the optimizer hooks (``on_fit_end`` does; for use outside ``fit``)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []

    # -- measuring ---------------------------------------------------------------------

    def _reset_run(self) -> None:
        self._grads, self._ratios, self._before = [], [], None
        self._nonfinite = self._steps = 0
        self._nonfinite_stages = set()
        self._baseline, self._warned = {}, set()
        self.alerts, self.epochs = [], []

    def _before_step(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        """Gradient norms and a copy of the weights about to change."""
        self._steps += 1
        if (self._steps - 1) % self.every:
            self._before = None
            return
        grads = torch.stack([_norm([p.grad for p in ps if p.grad is not None], self._device)
                             for ps in self._groups.values()])
        finite = torch.isfinite(grads).tolist()
        if not all(finite):
            self._nonfinite += 1
            self._nonfinite_stages.update(s for s, ok in zip(self._groups, finite, strict=True)
                                          if not ok)
        self._grads.append(grads)
        self._before = [[p.detach().clone() for p in ps if p.grad is not None]
                        for ps in self._groups.values()]

    @torch.no_grad()
    def _after_step(self, optimizer: torch.optim.Optimizer, args: Any, kwargs: Any) -> None:
        """‖Δw‖ / ‖w‖ of each stage for the step just taken."""
        if self._before is None:
            return
        ratios = []
        for params, before in zip(self._groups.values(), self._before, strict=True):
            after = [p for p in params if p.grad is not None]
            if len(after) != len(before) or not before:  # grads cleared inside step()
                ratios.append(torch.zeros((), device=self._device))
                continue
            delta = _norm([a - b for a, b in zip(after, before, strict=True)], self._device)
            ratios.append(delta / _norm(before, self._device).clamp_min(1e-12))
        self._ratios.append(torch.stack(ratios))
        self._before = None

    def summarize(self) -> dict[str, float]:
        """This epoch's ``grad_norm/S``, ``update_ratio/S`` and ``weight_norm/S`` per stage S."""
        names = list(self._groups)
        grads = torch.stack(self._grads).T.tolist() if self._grads else [[] for _ in names]
        ratios = torch.stack(self._ratios).T.tolist() if self._ratios else [[] for _ in names]
        row: dict[str, float] = {}
        for i, stage in enumerate(names):
            row[f"grad_norm/{stage}"] = _mean(grads[i])
            row[f"update_ratio/{stage}"] = _mean(ratios[i])
            row[f"weight_norm/{stage}"] = float(_norm(self._groups[stage], self._device))
        return row

    # -- flagging ----------------------------------------------------------------------

    def _check(self, epoch: int, row: Mapping[str, float], nonfinite: int,
               measured: int) -> list[GradientAlert]:
        """The alerts of one epoch's statistics (updating the first-epoch baseline)."""
        names = list(self._groups)
        grads = {s: row[f"grad_norm/{s}"] for s in names}
        ratios = {s: row[f"update_ratio/{s}"] for s in names}
        alerts: list[GradientAlert] = []
        reasons: list[str] = []
        hit: list[str] = []
        if nonfinite:
            reasons.append(f"non-finite gradients in {nonfinite} of {measured} measured steps")
            hit += [s for s in names if s in self._nonfinite_stages]
        high = {s: r for s, r in ratios.items() if not r <= self.explode_ratio}
        if high:
            reasons.append("update/weight ratio " + ", ".join(
                f"{s} {r:.3g}" for s, r in high.items()) + f" (> {self.explode_ratio:g})")
            hit += list(high)
        grown = {s: g / self._baseline[s] for s, g in grads.items()
                 if self._baseline.get(s) and math.isfinite(g)
                 and g > self.explode_growth * self._baseline[s]}
        if grown:
            reasons.append("gradient norm " + ", ".join(
                f"{s} ×{k:.3g}" for s, k in grown.items())
                + f" its first-epoch mean (> ×{self.explode_growth:g})")
            hit += list(grown)
        for s, g in grads.items():
            if s not in self._baseline and math.isfinite(g) and g > 0:
                self._baseline[s] = g
        if reasons:
            alerts.append(GradientAlert(epoch, "explode", f"epoch {epoch}: exploding gradients: "
                                        + "; ".join(reasons) + _HINT_EXPLODE,
                                        tuple(dict.fromkeys(hit))))
        live = {s: g for s, g in grads.items() if g > 0 or not math.isfinite(g)}
        if live and all(g < self.vanish_norm for g in live.values()):
            alerts.append(GradientAlert(
                epoch, "vanish", f"epoch {epoch}: vanishing gradients: every stage's mean "
                f"gradient norm is below {self.vanish_norm:g} (largest "
                f"{max(live.values()):.3g})" + _HINT_VANISH, tuple(live)))
        return alerts


_HINT_EXPLODE = "; lower the learning rate, add warmup or clip_grad"
_HINT_VANISH = ("; check the learning rate, the initialisation and saturating activations "
                "(normalisation layers or residual connections help)")
