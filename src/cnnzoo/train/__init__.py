"""Training: ``fit``, ``distill``, their config, callbacks, tasks, losses and transfer tools.

``fit(model, train, val, epochs=3, lr=1e-3)`` or, equivalently,
``fit(model, train, val, config=FitConfig(epochs=3, lr=1e-3))``. What is optimised
and measured is a :class:`Task` (``task="auto"`` picks classification or
segmentation from the model; :class:`DistillationTask` trains a student on a
teacher); :class:`Callback` objects see every epoch (:class:`EarlyStopping`,
:class:`~cnnzoo.train.transfer.ProgressiveUnfreezing`, :class:`GradientMonitor`).
``grad_checkpointing=True`` trades compute for activation memory
(:mod:`~cnnzoo.train.grad_checkpointing`).
"""

from __future__ import annotations

from cnnzoo.errors import FitOptionError, GradientWarning, TrainError
from cnnzoo.train.callbacks import Callback, EarlyStopping
from cnnzoo.train.config import OPTIMIZERS, SCHEDULES, FitConfig
from cnnzoo.train.grad_checkpointing import set_grad_checkpointing, supports_grad_checkpointing
from cnnzoo.train.loop import distill, evaluate, fit
from cnnzoo.train.monitor import GradientAlert, GradientMonitor
from cnnzoo.train.state import FitState, History, format_epoch
from cnnzoo.train.tasks import (
    ClassificationTask,
    DistillationTask,
    SegmentationTask,
    Task,
    TaskContext,
)

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "Callback",
    "ClassificationTask",
    "DistillationTask",
    "EarlyStopping",
    "FitConfig",
    "FitOptionError",
    "FitState",
    "GradientAlert",
    "GradientMonitor",
    "GradientWarning",
    "History",
    "SegmentationTask",
    "Task",
    "TaskContext",
    "TrainError",
    "distill",
    "evaluate",
    "fit",
    "format_epoch",
    "set_grad_checkpointing",
    "supports_grad_checkpointing",
]
