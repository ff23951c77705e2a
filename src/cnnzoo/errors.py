"""Every error cnnzoo raises on purpose, in one tree under :class:`CnnzooError`.

Each class also derives from the built-in exception a caller would naturally catch
(``KeyError`` for an unknown name, ``ValueError`` for a bad value, ``TypeError`` for
an unexpected argument), so ``except ValueError`` keeps working. Messages say what
was wrong, what is allowed and, where there is a close match, what was meant.

Example:
    >>> import cnnzoo
    >>> from cnnzoo.errors import UnknownModelError
    >>> try:
    ...     cnnzoo.model_info("resnet51")
    ... except UnknownModelError as exc:
    ...     print(str(exc).split(".")[0])
    unknown model 'resnet51'
"""

from __future__ import annotations

from typing import Any


class CnnzooError(Exception):
    """Base class of every error cnnzoo raises on purpose."""


class ReportedError(CnnzooError):
    """An error that carries the report of the run that failed (``exc.report``)."""

    def __init__(self, message: str, report: Any) -> None:
        super().__init__(message)
        self.report = report


# -- spec and registry -----------------------------------------------------------------


class UnknownModelError(CnnzooError, KeyError):
    """A model name that no installed distribution registers."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DuplicateModelError(CnnzooError):
    """Two distributions register the same model name or alias."""


class SpecError(CnnzooError, ValueError):
    """A spec that is malformed (raised when a plugin's specs are read)."""


class ConfigError(CnnzooError, ValueError):
    """A model config that is malformed or names an unknown field."""


class PluginWarning(UserWarning):
    """A plugin that failed to load; the rest of the registry still works."""


# -- building models ---------------------------------------------------------------------


class ModelArgumentError(CnnzooError, TypeError):
    """A keyword argument the model's builder does not take, or a bad value."""


class ModelOptionError(CnnzooError, ValueError):
    """A builder option whose value the architecture cannot take (or that contradicts another)."""


class CheckpointError(CnnzooError):
    """A checkpoint that cannot be read or does not fit the model."""


class WeightsError(CnnzooError):
    """Weights that cannot be found, fetched, verified or understood."""


class HeadSpecError(CnnzooError, ValueError):
    """A head specification that does not parse or does not fit the model."""


class HubFormatError(CnnzooError):
    """A model that cannot be written in the Hub format."""


class InputSizeError(CnnzooError, ValueError):
    """An input whose height or width the model cannot take (not a multiple of its stride)."""


# -- the verbs ---------------------------------------------------------------------------


class DataError(CnnzooError, ValueError):
    """A data source that cannot feed a model (missing, empty, contradicting the model)."""


class TrainError(CnnzooError, ValueError):
    """A training configuration or data that cannot work together."""


class FitOptionError(TrainError, TypeError):
    """An option ``fit`` does not take, or ``config=`` plus options that contradict it."""


class GradientWarning(UserWarning):
    """Gradients that explode or vanish during training (:class:`cnnzoo.train.GradientMonitor`)."""


class StageError(CnnzooError, ValueError):
    """A stage name the model's spec does not declare."""


class AnalysisError(CnnzooError, ValueError):
    """A model or input that the analysis tools cannot trace."""


class ExplainError(CnnzooError, ValueError):
    """A bad argument to :func:`cnnzoo.explain` (method, layer, target, images)."""


# -- deployment --------------------------------------------------------------------------


class ExportError(CnnzooError):
    """A model that cannot be exported, or an export that cannot be written."""


class ExportVerificationError(ExportError, ReportedError):
    """The exported model runs but disagrees with eager PyTorch beyond the tolerance."""


class QuantizeError(CnnzooError):
    """A model or calibration set that cannot be quantized."""


class AccuracyDropError(QuantizeError, ReportedError):
    """Every attempt lost more accuracy than ``max_accuracy_drop`` allows."""


class PredictError(CnnzooError):
    """A model or image that :class:`~cnnzoo.deploy.predict.Predictor` cannot use."""


class BenchError(CnnzooError):
    """A benchmark that cannot run (unknown backend, bad batch size…)."""


class EvaluateError(CnnzooError, ValueError):
    """An evaluation that cannot run: bad data, labels that do not match the model…"""


class BackendUnavailableError(CnnzooError, ImportError):
    """A backend whose optional dependency is not installed; the message says what to
    ``pip install`` (``pip install "cnnzoo[openvino]"``)."""


class PrecisionError(CnnzooError, ValueError):
    """A precision the hardware does not run natively, or that a backend does not have."""


class VerificationError(ReportedError):
    """A backend or precision whose outputs disagree with eager PyTorch (``exc.report``)."""


# -- the command line -------------------------------------------------------------------


class CommandError(CnnzooError):
    """A bad command-line argument (missing file, conflicting options…)."""


__all__ = [
    "AccuracyDropError",
    "AnalysisError",
    "BackendUnavailableError",
    "BenchError",
    "CheckpointError",
    "CnnzooError",
    "CommandError",
    "ConfigError",
    "DataError",
    "DuplicateModelError",
    "EvaluateError",
    "ExplainError",
    "ExportError",
    "ExportVerificationError",
    "FitOptionError",
    "GradientWarning",
    "HeadSpecError",
    "HubFormatError",
    "ModelArgumentError",
    "ModelOptionError",
    "PluginWarning",
    "PrecisionError",
    "PredictError",
    "QuantizeError",
    "ReportedError",
    "SpecError",
    "StageError",
    "TrainError",
    "UnknownModelError",
    "VerificationError",
    "WeightsError",
]
