"""Callbacks: the hooks :func:`~cnnzoo.train.fit` calls, and :class:`EarlyStopping`.

A callback is any object with some of these methods (a missing one is skipped):

===============================================  ==========================================
hook                                             when
===============================================  ==========================================
``on_fit_start(state)``                          once, after the optimizer is built
``on_epoch_start(state, epoch)``                 before each epoch (``epoch`` is 0-based)
``on_epoch_end(state, epoch, metrics)``          after each epoch's validation
``on_fit_end(state)``                            once, after the last epoch
===============================================  ==========================================

``state`` is the :class:`~cnnzoo.train.FitState`. Typed code subclasses
:class:`Callback`, which gives every hook a no-op default, and overrides the ones it
needs (:class:`EarlyStopping` and :class:`~cnnzoo.train.transfer.ProgressiveUnfreezing`
do).

Example:
    >>> from cnnzoo.train import Callback
    >>> class PrintLoss(Callback):
    ...     def on_epoch_end(self, state, epoch, metrics):
    ...         print(f"{epoch}: {metrics['train_loss']:.3f}")
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from cnnzoo.errors import TrainError
from cnnzoo.train.state import FitState, mode_of

__all__ = ["HOOKS", "Callback", "CallbackList", "EarlyStopping"]

HOOKS: tuple[str, ...] = ("on_fit_start", "on_epoch_start", "on_epoch_end", "on_fit_end")


@runtime_checkable
class Callback(Protocol):
    """The hooks of a :func:`~cnnzoo.train.fit` callback; each defaults to doing nothing."""

    def on_fit_start(self, state: FitState) -> None:
        """Called once before the first epoch."""
        return None

    def on_epoch_start(self, state: FitState, epoch: int) -> None:
        """Called before each epoch (``epoch`` counts from 0)."""
        return None

    def on_epoch_end(self, state: FitState, epoch: int, metrics: Mapping[str, float]) -> None:
        """Called after each epoch with its metrics (the row added to the history)."""
        return None

    def on_fit_end(self, state: FitState) -> None:
        """Called once after training (also after an early stop)."""
        return None


def check_callback(callback: object) -> None:
    """Raise :class:`~cnnzoo.errors.TrainError` unless ``callback`` has at least one hook."""
    if not any(callable(getattr(callback, hook, None)) for hook in HOOKS):
        raise TrainError(
            f"the callback {callback!r} has none of the hooks {', '.join(HOOKS)}; subclass "
            "cnnzoo.train.Callback and override the ones you need"
        )


class CallbackList:
    """The callbacks of one run, called in order; hooks an object lacks are skipped."""

    def __init__(self, callbacks: Sequence[object]) -> None:
        for callback in callbacks:
            check_callback(callback)
        self.callbacks = list(callbacks)

    def _hooks(self, name: str) -> list[Callable[..., object]]:
        return [hook for cb in self.callbacks if callable(hook := getattr(cb, name, None))]

    def fit_start(self, state: FitState) -> None:
        """Run every ``on_fit_start``."""
        for hook in self._hooks("on_fit_start"):
            hook(state)

    def epoch_start(self, state: FitState, epoch: int) -> None:
        """Run every ``on_epoch_start``."""
        for hook in self._hooks("on_epoch_start"):
            hook(state, epoch)

    def epoch_end(self, state: FitState, epoch: int, metrics: Mapping[str, float]) -> None:
        """Run every ``on_epoch_end``."""
        for hook in self._hooks("on_epoch_end"):
            hook(state, epoch, metrics)

    def fit_end(self, state: FitState) -> None:
        """Run every ``on_fit_end``."""
        for hook in self._hooks("on_fit_end"):
            hook(state)


class EarlyStopping(Callback):
    """Stop when the monitored metric has not improved for ``patience`` epochs.

    Args:
        patience: epochs without improvement to tolerate.
        min_delta: the smallest change that counts as an improvement.
        monitor: the metric (default: the one :func:`~cnnzoo.train.fit` monitors —
            ``val_accuracy``, ``val_miou`` or, without validation data, ``train_loss``).
        mode: ``"max"`` or ``"min"`` (default: from the metric's name).

    Raises:
        TrainError: a patience below 1 or a mode other than ``"max"``/``"min"``.

    Example:
        >>> from cnnzoo.train import EarlyStopping
        >>> stopper = EarlyStopping(3, monitor="val_loss")  # fit(..., callbacks=[stopper])
    """

    def __init__(self, patience: int = 5, *, min_delta: float = 0.0, monitor: str | None = None,
                 mode: str | None = None) -> None:
        if patience < 1:
            raise TrainError(f"patience must be at least 1, got {patience}")
        if mode not in (None, "max", "min"):
            raise TrainError(f"mode must be 'max' or 'min', got {mode!r}")
        self.patience, self.min_delta = int(patience), float(min_delta)
        self.monitor, self.mode = monitor, mode
        self.best: float | None = None
        self.bad_epochs = 0

    def on_fit_start(self, state: FitState) -> None:
        """Pick the monitored metric and its direction; forget earlier runs."""
        self.monitor = self.monitor or state.history.monitor
        self.mode = self.mode or mode_of(self.monitor)
        self.best, self.bad_epochs = None, 0

    def on_epoch_end(self, state: FitState, epoch: int, metrics: Mapping[str, float]) -> None:
        """Count epochs without improvement; set ``state.stop`` after ``patience`` of them."""
        monitor = self.monitor or state.history.monitor
        if monitor not in metrics:
            raise TrainError(f"early stopping monitors {monitor!r}, which is not recorded; "
                             f"recorded: {', '.join(sorted(metrics))}")
        value = metrics[monitor]
        better = self.best is None or (
            value > self.best + self.min_delta if self.mode == "max"
            else value < self.best - self.min_delta)
        if better:
            self.best, self.bad_epochs = value, 0
        else:
            self.bad_epochs += 1
            if self.bad_epochs >= self.patience:
                state.stop = True
