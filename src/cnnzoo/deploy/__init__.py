"""Deployment: ONNX and ``.pt2`` export, quantization, prediction and benchmarks.

The modules, each importing only those listed before it:

- :mod:`~cnnzoo.deploy.runtime`: the model (``resolve_model``), its config and input
  size, the metadata written into exports (through :class:`~cnnzoo.config.ModelConfig`),
  the one onnxruntime session factory, and model files written atomically;
- :mod:`~cnnzoo.deploy.timing`: how latency is measured (bench and quantization alike);
- :mod:`~cnnzoo.deploy.capture`: ``torch.export`` capture and its error messages;
- :mod:`~cnnzoo.deploy.export`: ``to_onnx`` / ``to_exported_program``, verified;
- :mod:`~cnnzoo.deploy.quantization`: ``quantize`` (INT8 / FP16, onnxruntime or NNCF) with
  an accuracy gate;
- :mod:`~cnnzoo.deploy.precision`: native bf16 from what the hardware reports, bf16
  autocast for eager PyTorch, and the checks every backend result passes;
- :mod:`~cnnzoo.deploy.openvino_backend`: an ONNX file compiled by OpenVINO (optional
  extra), verified at its precision;
- :mod:`~cnnzoo.deploy.predict`: one predictor over eager, ONNX, quantized ONNX and OpenVINO;
- :mod:`~cnnzoo.deploy.bench`: the benchmark runner behind ``cnnzoo bench``.
- :mod:`~cnnzoo.deploy.fit_evaluation`: :class:`EvaluateAtFitEnd`, the fit callback that
  writes the evaluation report of the best checkpoint (exported here, lazily).

Images become model inputs in :mod:`cnnzoo.data.images`, the data layer below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cnnzoo.deploy.fit_evaluation import EvaluateAtFitEnd

__all__ = ["EvaluateAtFitEnd"]


def __getattr__(name: str) -> Any:
    """``cnnzoo.deploy.EvaluateAtFitEnd``, imported on first use (the package stays light)."""
    if name == "EvaluateAtFitEnd":
        from cnnzoo.deploy.fit_evaluation import EvaluateAtFitEnd

        return EvaluateAtFitEnd
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
