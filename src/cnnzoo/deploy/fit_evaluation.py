"""The evaluation report at the end of :func:`~cnnzoo.train.fit`: :class:`EvaluateAtFitEnd`.

Training sits below deployment (``cnnzoo.train`` never imports ``cnnzoo.deploy``), so
the report of a run is made by a :class:`~cnnzoo.train.Callback` from this layer:
``fit(model, train, val, callbacks=[EvaluateAtFitEnd("report/")])`` — or, the same,
``fit(..., evaluate=EvaluateAtFitEnd("report/"))``. ``cnnzoo finetune --report DIR``
uses it.

Example:
    >>> import cnnzoo
    >>> from cnnzoo.data import digits
    >>> from cnnzoo.deploy import EvaluateAtFitEnd
    >>> model = cnnzoo.create("lenet5", pretrained=True)
    >>> split = digits(model=model)
    >>> history = cnnzoo.fit(model, split.train, split.test, epochs=1, lr=1e-4, seed=0,
    ...                      callbacks=[EvaluateAtFitEnd(progress=False)])
    >>> history.evaluation.accuracy > 0.95
    True
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from torch import nn

from cnnzoo._utils import unwrap
from cnnzoo.build.checkpoint import read_state_dict
from cnnzoo.deploy.evaluation import EvalReport, evaluate
from cnnzoo.errors import EvaluateError, TrainError
from cnnzoo.train.callbacks import Callback
from cnnzoo.train.state import FitState

__all__ = ["EvaluateAtFitEnd"]

_WEIGHTS = "model.safetensors"


class EvaluateAtFitEnd(Callback):
    """At the end of ``fit``, evaluate the best model on the validation data.

    Which weights are evaluated:

    - with ``fit(checkpoint_dir=...)``, fit tracked the best epoch and saved its weights
      (the EMA weights when ``ema=`` is on): a copy of the model with those weights is
      evaluated — the model that the checkpoint folder holds. The trained model itself
      is left as ``fit`` leaves it (last, or averaged, weights);
    - without ``checkpoint_dir``, fit keeps only the final weights (the averaged ones
      with ``ema=``): the final model is evaluated, and the report says so in its notes.

    The report (an :class:`~cnnzoo.deploy.evaluation.EvalReport`) is stored as
    ``history.evaluation`` and, with ``report_dir``, written there as ``report.html``,
    ``report.md`` and ``metrics.json``. In a distributed run only rank 0 evaluates (the
    other processes' ``history.evaluation`` stays ``None``).

    Args:
        report_dir: a folder for the report (``None``: only ``history.evaluation``).
        data: the data to evaluate on (default: the ``val`` given to ``fit``).
        **evaluate_options: options of :func:`cnnzoo.evaluate` (``top_k``,
            ``batch_size``, ``bins``, ``num_mistakes``, ``progress``, ``compare``…;
            not ``report``, given as ``report_dir``).

    Raises:
        TrainError: an option :func:`cnnzoo.evaluate` does not take, or (at the end of
            fit) no validation data to evaluate on.
        EvaluateError: ``report_dir`` is a file (checked before training), or what
            :func:`cnnzoo.evaluate` raises.
    """

    def __init__(self, report_dir: str | os.PathLike[str] | None = None, *, data: Any = None,
                 **evaluate_options: Any) -> None:
        if "report" in evaluate_options:
            raise TrainError("give the report folder as EvaluateAtFitEnd(report_dir=...), "
                             "not report=")
        unknown = sorted(set(evaluate_options) - _EVALUATE_OPTIONS)
        if unknown:
            raise TrainError(f"EvaluateAtFitEnd: unknown option(s) {', '.join(unknown)}; "
                             f"cnnzoo.evaluate takes {', '.join(sorted(_EVALUATE_OPTIONS))}")
        self.report_dir = None if report_dir is None else Path(report_dir)
        self.data = data
        self.options = evaluate_options
        self.report: EvalReport | None = None

    def on_fit_start(self, state: FitState) -> None:
        """Fail before training when the report cannot be written or there is nothing to
        evaluate on."""
        self.report = None
        if self.report_dir is not None and self.report_dir.exists() \
                and not self.report_dir.is_dir():
            raise EvaluateError(f"report folder {str(self.report_dir)!r} is a file")
        if self.data is None and state.val_data is None:
            raise TrainError("EvaluateAtFitEnd evaluates on the validation data: give fit a "
                             "val split (or EvaluateAtFitEnd(data=...))")

    def on_fit_end(self, state: FitState) -> None:
        """Evaluate the best (or final) model; store and write the report."""
        if not state.is_main:
            return
        history = state.history
        data = self.data if self.data is not None else state.val_data
        model, note = self._best_model(state)
        report = evaluate(model, data, **self.options)
        source = "the data given to EvaluateAtFitEnd" if self.data is not None \
            else "fit's validation data"
        report.dataset = f"{source} ({report.dataset})"
        report.notes.append(note)
        history.evaluation = report
        self.report = report
        if self.report_dir is not None:
            report.save(self.report_dir)

    @staticmethod
    def _best_model(state: FitState) -> tuple[nn.Module, str]:
        history = state.history
        model = unwrap(state.model)
        folder = history.best_checkpoint
        weights = None if folder is None else Path(folder) / _WEIGHTS
        if weights is not None and weights.is_file():
            best = copy.deepcopy(model)
            best.load_state_dict(read_state_dict(weights))
            return best.eval(), (f"the best checkpoint of fine-tuning: epoch {history.best_epoch} "
                                 f"by {history.monitor} ({folder})")
        epochs = len(history)
        return model, (f"the final weights after {epochs} epoch(s) of fine-tuning (fit kept no "
                       "best checkpoint: give it checkpoint_dir= to evaluate the best epoch)")


_EVALUATE_OPTIONS = frozenset({
    "backend", "top_k", "compare", "batch_size", "bins", "num_mistakes", "calibration",
    "latency", "latency_batch_sizes", "latency_repeats", "progress",
})
