"""INT8 through NNCF: the second static quantizer of :func:`~cnnzoo.deploy.quantization.quantize`.

``quantize(..., engine="nncf")`` takes the same path as the onnxruntime engine — the
same FP32 file, ``quant_pre_process``, calibration and evaluation sets, accuracy gate,
fallback ladder (:func:`~cnnzoo.deploy.quantization.plan.static_plan`) and report —
and only the quantizing step differs: ``nncf.quantize(onnx_model, nncf.Dataset(...))``
(post-training quantization with fast bias correction). Its output is a QDQ ONNX file
that onnxruntime and OpenVINO both run.

How a :class:`~cnnzoo.deploy.quantization.plan.StaticConfig` maps to NNCF:

- weights per channel (``"auto"`` and ``"per-channel"``) or per tensor;
- calibration ``minmax`` → ``RangeEstimatorParametersSet.MINMAX``, ``percentile`` →
  ``MEAN_QUANTILE``, ``entropy`` → ``HISTOGRAM``;
- nodes kept in float → ``nncf.IgnoredScope(names=...)``;
- the ``preset`` is NNCF's for CNNs (``PERFORMANCE``: symmetric weights and
  activations); on a CPU without VNNI (:func:`~cnnzoo.deploy.quantization.plan.cpu_has_vnni`)
  NNCF's overflow fix keeps the first layer's weights in 7 bits (what onnxruntime's
  ``reduce_range`` does for all of them); with VNNI it is off;
- the last rung of the ladder — onnxruntime's "keep the nodes around the worst-quantized
  activations in float" — is NNCF's own repair, ``nncf.quantize_with_accuracy_control``
  (:func:`accuracy_control`): starting from the best configuration so far, it reverts
  the quantizers that cost the most of the job's metric (measured on the same
  evaluation samples, by the same definition) to float until the drop is within
  ``max_accuracy_drop``. The nodes it left in float are listed in the report.

NNCF comes with the ``openvino`` extra (``pip install "cnnzoo[openvino]"``).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from cnnzoo.deploy.quantization.plan import WORST, StaticConfig, static_plan
from cnnzoo.deploy.quantization.report import QuantAttempt
from cnnzoo.errors import BackendUnavailableError, QuantizeError

if TYPE_CHECKING:
    from cnnzoo.deploy.quantization.run import _Job

__all__ = ["ACCURACY_CONTROL", "INSTALL_HINT", "accuracy_control", "attempt_static", "float_nodes",
           "import_nncf", "nncf_plan", "quantize_onnx"]

INSTALL_HINT = 'pip install "cnnzoo[openvino]"'


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """NNCF's progress bars and INFO lines (and torch's note when NNCF imports it) muted."""
    loggers = [logging.getLogger(n) for n in ("nncf", "torch.utils.cpp_extension")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def import_nncf() -> ModuleType:
    """The ``nncf`` module.

    Raises:
        BackendUnavailableError: it is not installed (with the install hint).
    """
    try:
        with _quiet():
            import nncf
    except ImportError as exc:
        raise BackendUnavailableError(
            f"engine='nncf' needs NNCF, which comes with the openvino extra: {INSTALL_HINT} "
            f"({exc})") from exc
    return nncf


def _advanced(nncf: ModuleType, config: StaticConfig, vnni: bool) -> Any:
    from nncf.quantization.advanced_parameters import (
        AdvancedQuantizationParameters,
        OverflowFix,
        QuantizationParameters,
    )
    from nncf.quantization.range_estimator import RangeEstimatorParametersSet

    ranges = {"minmax": RangeEstimatorParametersSet.MINMAX,
              "percentile": RangeEstimatorParametersSet.MEAN_QUANTILE,
              "entropy": RangeEstimatorParametersSet.HISTOGRAM}
    extra: dict[str, Any] = {}
    if config.per_channel == "per-tensor":
        extra["weights_quantization_params"] = QuantizationParameters(per_channel=False)
    # per-tensor activations: onnxruntime's QLinearConv takes a scalar input zero point only
    # (NNCF would quantize the inputs of depthwise convs per channel)
    return AdvancedQuantizationParameters(
        overflow_fix=OverflowFix.DISABLE if vnni else OverflowFix.FIRST_LAYER,
        activations_quantization_params=QuantizationParameters(per_channel=False),
        activations_range_estimator_params=ranges[config.calibrate], **extra)


def quantize_onnx(model: Any, input_name: str, calib: np.ndarray, config: StaticConfig, *,
                  vnni: bool) -> Any:
    """``nncf.quantize`` of an ``onnx.ModelProto`` with one configuration.

    Args:
        model: the FP32 (preprocessed) ONNX model.
        input_name: its input.
        calib: the calibration inputs ``[N, C, H, W]``, fed one at a time.
        config: weights, calibration method and nodes kept in float.
        vnni: the CPU has 8-bit dot products (no overflow fix needed).

    Returns:
        the QDQ ``onnx.ModelProto``.
    """
    nncf = import_nncf()
    dataset = nncf.Dataset([{input_name: calib[i:i + 1]} for i in range(len(calib))])
    scope = nncf.IgnoredScope(names=list(config.exclude), validate=False) \
        if config.exclude else None
    with _quiet():
        return nncf.quantize(model, dataset, preset=nncf.QuantizationPreset.PERFORMANCE,
                             subset_size=len(calib), ignored_scope=scope,
                             advanced_parameters=_advanced(nncf, config, vnni))


ACCURACY_CONTROL = "accuracy control"


def _validation_fn(job: _Job) -> Any:
    """The job's metric (accuracy or top-1 agreement with its target; a segmenter's mIoU
    or pixel agreement) of an ``onnx.ModelProto`` on the samples NNCF hands it — with the
    per-sample values NNCF ranks layers by."""
    import onnxruntime as ort

    def validate(model: Any, items: Any) -> tuple[float, list[float]]:
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, torch.get_num_threads())
        options.log_severity_level = 3
        session = ort.InferenceSession(model.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
        pairs = [(session.run(None, {job.input_name: x})[0].argmax(1), y) for x, y in items]
        if not pairs:
            return 0.0, []
        values = [job.score(p, t) for p, t in pairs]
        if not job.segmenter:
            return float(np.mean(values)), values
        return job.score(np.concatenate([p for p, _ in pairs]),
                         np.concatenate([t for _, t in pairs])), values

    return validate


def accuracy_control(model: Any, job: _Job, calib: np.ndarray, config: StaticConfig) -> Any:
    """``nncf.quantize_with_accuracy_control``: ``config``, then NNCF reverts the quantizers
    that cost the most of the job's metric to float until the drop is within its gate."""
    nncf = import_nncf()
    from nncf.quantization.advanced_parameters import AdvancedAccuracyRestorerParameters

    if job.evaluation is None or job.target is None or job.report.max_accuracy_drop is None:
        raise QuantizeError("accuracy control needs evaluation data and max_accuracy_drop")
    x, y = job.evaluation.x, job.target
    calibration = nncf.Dataset([{job.input_name: calib[i:i + 1]} for i in range(len(calib))])
    validation = nncf.Dataset([(x[i:i + 1], y[i:i + 1]) for i in range(len(x))])
    scope = nncf.IgnoredScope(names=list(config.exclude), validate=False) \
        if config.exclude else None
    with _quiet():
        return nncf.quantize_with_accuracy_control(
            model, calibration, validation, _validation_fn(job),
            max_drop=job.report.max_accuracy_drop, drop_type=nncf.DropType.ABSOLUTE,
            preset=nncf.QuantizationPreset.PERFORMANCE, subset_size=len(calib),
            ignored_scope=scope, advanced_quantization_parameters=_advanced(nncf, config,
                                                                           job.vnni),
            advanced_accuracy_restorer_parameters=AdvancedAccuracyRestorerParameters())


def float_nodes(model: Any) -> list[str]:
    """The Conv / Gemm / MatMul nodes of a QDQ graph none of whose inputs is dequantized."""
    dequantized = {n.output[0] for n in model.graph.node if n.op_type == "DequantizeLinear"}
    return [n.name for n in model.graph.node if n.op_type in ("Conv", "Gemm", "MatMul")
            and not any(i in dequantized for i in n.input)]


def nncf_plan(per_channel: bool | str, calibrate_method: str, exclude: Sequence[str],
              job: _Job, fallbacks: bool) -> list[StaticConfig]:
    """The onnxruntime engine's ladder (:func:`~cnnzoo.deploy.quantization.plan.static_plan`)
    with its last rung — keep the worst-quantized nodes in float — done by NNCF's accuracy
    control, which finds those nodes by their cost to the metric."""
    plan = [c for c in static_plan(per_channel, calibrate_method, list(exclude), job.facts,
                                   fallbacks) if c.description != WORST]
    if fallbacks:
        plan.append(StaticConfig(ACCURACY_CONTROL, plan[0].per_channel, plan[-1].calibrate,
                                 list(exclude)))
    return plan


def _label(config: StaticConfig, vnni: bool) -> str:
    text = "per-tensor" if config.per_channel == "per-tensor" else "per-channel"
    return text if vnni else f"{text} (first layer 7-bit: overflow fix, no VNNI)"


def _save(model: Any, path: Path, large: bool) -> None:
    import onnx

    onnx.save_model(model, str(path), save_as_external_data=large,
                    all_tensors_to_one_file=True, location=path.name + ".data")


def attempt_static(job: _Job, per_channel: bool | str, calibrate_method: str,
                   exclude: Sequence[str], fallbacks: bool) -> bool:
    """Static INT8 with NNCF along the same ladder as the onnxruntime engine until accepted.

    Every attempt is judged by the job's accuracy gate and listed in its report.
    """
    import onnx

    nncf = import_nncf()
    if job.calib is None:
        raise QuantizeError("int8-static needs calibration data")
    calib = job.calib.x
    report = job.report
    report.activation_type = "int8/uint8 (symmetric, NNCF performance preset)"
    report.weight_type = "int8 (symmetric)"
    report.reduce_range = False
    report.notes.append(f"quantized by NNCF {nncf.__version__} (post-training, fast bias "
                        "correction; overflow fix "
                        f"{'off: the CPU has VNNI' if job.vnni else 'first layer: no VNNI'})")
    configs = nncf_plan(per_channel, calibrate_method, exclude, job, fallbacks)
    source = onnx.load(str(job.preprocessed))
    best: StaticConfig | None = None
    best_drop = float("inf")
    while configs:
        config = configs.pop(0)
        controlled = config.description == ACCURACY_CONTROL
        if controlled:  # NNCF's own repair, from the best configuration so far
            base = best or config
            config = StaticConfig(
                f"{base.description}; NNCF accuracy control (quantizers that cost the most "
                "of the metric back to float)", base.per_channel, base.calibrate,
                list(base.exclude))
        try:
            model = accuracy_control(source, job, calib, config) if controlled else \
                quantize_onnx(source, job.input_name, calib, config, vnni=job.vnni)
        except (BackendUnavailableError, QuantizeError):
            raise
        except Exception as exc:
            raise QuantizeError(f"NNCF failed to quantize {job.source} ({config.description}): "
                                f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
                                ) from exc
        kept = sorted(set(config.exclude) | set(float_nodes(model))) if controlled \
            else list(config.exclude)
        _save(model, job.candidate, job.large)
        del model
        attempt = QuantAttempt(config.description, _label(config, job.vnni), config.calibrate,
                               kept)
        accepted = job.judge(attempt, job.candidate)
        report.per_channel = attempt.per_channel
        report.calibrate_method = config.calibrate
        report.excluded_nodes = kept
        if accepted:
            return True
        drop = attempt.drop if attempt.drop is not None else float("inf")
        if drop < best_drop:
            best, best_drop = config, drop
    return False
