"""Training: ``fit``, ``distill``, their callbacks, losses and transfer-learning tools."""

from __future__ import annotations

from cnnzoo.errors import TrainError
from cnnzoo.train.fit import (
    OPTIMIZERS,
    SCHEDULES,
    EarlyStopping,
    FitState,
    History,
    distill,
    evaluate,
    fit,
    format_epoch,
)

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "EarlyStopping",
    "FitState",
    "History",
    "TrainError",
    "distill",
    "evaluate",
    "fit",
    "format_epoch",
]
