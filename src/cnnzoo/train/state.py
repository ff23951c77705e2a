"""What a training run records and shares: :class:`History`, :class:`FitState`, epoch lines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnzoo.errors import TrainError

__all__ = ["FitState", "History", "format_epoch", "mode_of"]


def mode_of(metric: str) -> str:
    """``"min"`` for a loss, ``"max"`` for every other metric."""
    return "min" if metric.endswith("loss") else "max"


@dataclass
class History:
    """What :func:`~cnnzoo.train.fit` measured, one dict per epoch.

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
    evaluation: Any = None
    """The evaluation report of the run, set by ``cnnzoo.deploy.EvaluateAtFitEnd``
    (an ``EvalReport``; ``None`` without that callback)."""

    def __getitem__(self, key: str) -> list[float]:
        if not self.epochs or key not in self.epochs[-1]:
            known = sorted(self.epochs[-1]) if self.epochs else []
            raise KeyError(f"{key!r} was not recorded; recorded: {', '.join(known) or 'nothing'}")
        return [row[key] for row in self.epochs]

    def __len__(self) -> int:
        return len(self.epochs)

    @property
    def last(self) -> dict[str, float]:
        """The metrics of the last epoch (``{}`` before the first)."""
        return self.epochs[-1] if self.epochs else {}

    def record(self, row: dict[str, float]) -> bool:
        """Append one epoch's metrics; ``True`` when the monitored metric improved.

        An improvement updates :attr:`best` and :attr:`best_epoch` (1-based).

        Raises:
            TrainError: the row lacks the monitored metric.
        """
        if self.monitor not in row:
            raise TrainError(
                f"the monitored metric {self.monitor!r} is not among the epoch's metrics "
                f"({', '.join(sorted(row))}); a Task's summarize() must return it")
        self.epochs.append(row)
        value = row[self.monitor]
        improved = self.best is None or (value > self.best if self.mode == "max"
                                         else value < self.best)
        if improved:
            self.best, self.best_epoch = value, len(self.epochs)
        return improved

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole history."""
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
    val_data: Any = None
    """The ``val`` given to ``fit`` (``None`` without validation data)."""
    _changed: bool = field(default=False, repr=False)

    def trainable_changed(self) -> None:
        """Tell the loop that ``requires_grad`` changed (the DDP wrapper is rebuilt)."""
        self._changed = True

    def take_trainable_changed(self) -> bool:
        """Whether :meth:`trainable_changed` was called since the last call (then reset)."""
        changed, self._changed = self._changed, False
        return changed

    @property
    def is_main(self) -> bool:
        """Whether this is the process that writes files and prints (rank 0)."""
        return self.rank == 0


def format_epoch(row: Mapping[str, float], epochs: int | None = None) -> str:
    """One line for an epoch's metrics, as ``fit(verbose=True)`` and the CLI print it.

    Example:
        >>> format_epoch({"epoch": 2, "train_loss": 0.5, "train_accuracy": 0.875}, 3)
        'epoch 2/3  train loss 0.5000 acc 87.50%'
    """
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
