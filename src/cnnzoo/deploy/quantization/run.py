"""The :func:`quantize` verb, one step per function.

1. :func:`_check_arguments` — every argument before any work;
2. :func:`_source_onnx` — the FP32 ONNX file (a model is exported and verified first);
3. :func:`_open_job` / :func:`_load_data` — its preprocessing and input, the
   calibration and evaluation sets, the FP32 metric;
4. :func:`_preprocess` — ``quant_pre_process`` (shape inference, graph fusions);
5. :func:`_attempt_static` / :func:`_attempt_dynamic` / :func:`_attempt_fp16` — the
   attempts of :mod:`~cnnzoo.deploy.quantization.plan`, each judged against the
   accuracy gate by :meth:`_Job.judge`;
6. :func:`_refuse` or :func:`_write` — :class:`~cnnzoo.errors.AccuracyDropError`, or the
   metadata, sizes and latencies and the file moved into place.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from cnnzoo.data.images import ImageData, ImageSource
from cnnzoo.data.masks import mask_problem
from cnnzoo.deploy.export import to_onnx
from cnnzoo.deploy.quantization.calibrate import (
    CalibrationReader,
    calibration_set,
    evaluation_set,
    segmentation_evaluation_set,
)
from cnnzoo.deploy.quantization.nncf_engine import attempt_static as nncf_attempt_static
from cnnzoo.deploy.quantization.nncf_engine import import_nncf
from cnnzoo.deploy.quantization.plan import (
    CALIBRATE_METHODS,
    METHODS,
    WORST,
    GraphFacts,
    StaticConfig,
    cpu_has_vnni,
    dynamic_plan,
    graph_facts,
    per_channel_label,
    static_plan,
    worst_nodes,
)
from cnnzoo.deploy.quantization.report import QuantAttempt, QuantReport, QuantResult
from cnnzoo.deploy.runtime import (
    QUANT_METADATA_KEY,
    ModelSource,
    commit,
    file_size,
    model_config,
    ort_session,
    read_metadata,
    resolve_model,
    run_batched,
    staging,
)
from cnnzoo.deploy.timing import ort_latencies
from cnnzoo.errors import AccuracyDropError, CnnzooError, QuantizeError

if TYPE_CHECKING:
    import onnxruntime

__all__ = ["quantize"]

_SUFFIXES = {"int8-static": "int8", "int8-dynamic": "int8-dynamic", "fp16": "fp16"}
ENGINES: tuple[str, ...] = ("onnxruntime", "nncf")
SEGMENTATION_MAX_DROP = 0.01
"""The default gate of a segmenter evaluated on masks: at most 1 point of mIoU lost."""
MIOU, PIXEL_AGREEMENT = "mIoU", "pixel top-1 agreement"


def _top1(logits: np.ndarray) -> np.ndarray:
    return logits.argmax(1)


def _agreement(pred: np.ndarray, ref: np.ndarray) -> float:
    return float(np.mean(pred == ref))


def _miou(pred: np.ndarray, masks: np.ndarray, num_classes: int) -> float:
    """The mean IoU of predicted class maps against masks, as ``cnnzoo.evaluate`` computes it
    (over the classes present in either)."""
    from cnnzoo.deploy.evaluation import pixel_confusion, segmentation_metrics

    confusion = pixel_confusion(masks, pred, num_classes)
    return segmentation_metrics(confusion, [str(i) for i in range(num_classes)]).miou


def _points(drop: float | None) -> str:
    return "?" if drop is None else f"{drop * 100:.2f}"


def _session(path: Path) -> onnxruntime.InferenceSession:
    try:
        return ort_session(path)
    except Exception as exc:
        raise QuantizeError(f"onnxruntime cannot load {str(path)!r}: {exc}") from exc


@dataclass
class _Job:
    """One :func:`quantize` call's state, from the FP32 file to the accepted candidate."""

    method: str
    fp32: Path
    source: str
    output: Path
    workdir: Path
    cfg: dict[str, Any]
    input_name: str
    input_size: tuple[int, ...]
    dynamic_hw: bool
    large: bool  # weights in an external .data file
    report: QuantReport
    start: float
    calib: ImageData | None = None
    evaluation: ImageData | None = None
    target: np.ndarray | None = None
    pre: Path | None = None
    facts: GraphFacts = field(default_factory=GraphFacts)
    vnni: bool = False
    segmenter: bool = False
    num_classes: int = 0

    @property
    def candidate(self) -> Path:
        """Where each attempt writes its model (moved to ``output`` once accepted)."""
        return self.workdir / self.output.name

    @property
    def preprocessed(self) -> Path:
        return self.pre if self.pre is not None else self.fp32

    def score(self, predicted: np.ndarray, target: np.ndarray) -> float:
        """The job's metric of top-1 predictions (class maps for a segmenter) against
        ``target``: mIoU against masks, else the share of equal predictions (pixels)."""
        if self.report.metric == MIOU:
            return _miou(predicted, target, self.num_classes)
        return _agreement(predicted, target)

    def evaluate(self, path: Path) -> float | None:
        """The metric of the model at ``path`` on the evaluation set (``None``: no set)."""
        if self.evaluation is None or self.target is None:
            return None
        logits = run_batched(_session(path), self.evaluation.x)
        return self.score(_top1(logits), self.target)

    def judge(self, attempt: QuantAttempt, path: Path) -> bool:
        """Measure ``attempt`` (written at ``path``), record it, and apply the accuracy gate."""
        attempt.metric_after = self.evaluate(path)
        if attempt.metric_after is not None and self.report.metric_before is not None:
            attempt.drop = self.report.metric_before - attempt.metric_after
        limit = self.report.max_accuracy_drop
        attempt.accepted = limit is None or attempt.drop is None or attempt.drop <= limit + 1e-12
        self.report.attempts.append(attempt)
        return attempt.accepted


# -- 1-3: arguments, the FP32 model, the data ----------------------------------------------


def _check_arguments(method: str, calibration: ImageSource | None, per_channel: bool | str,
                     calibrate_method: str, max_accuracy_drop: float | None) -> None:
    if method not in METHODS:
        raise QuantizeError(f"method {method!r} is not one of {', '.join(METHODS)}")
    if calibrate_method not in CALIBRATE_METHODS:
        raise QuantizeError(f"calibrate_method {calibrate_method!r} is not one of "
                            f"{', '.join(CALIBRATE_METHODS)}")
    if per_channel not in (True, False, "auto"):
        raise QuantizeError(f"per_channel must be True, False or 'auto', got {per_channel!r}")
    if max_accuracy_drop is not None and not 0 <= max_accuracy_drop <= 1:
        raise QuantizeError(f"max_accuracy_drop is a fraction in [0, 1] (0.005 = half a "
                            f"point), got {max_accuracy_drop}")
    if method == "int8-static" and calibration is None:
        raise QuantizeError("int8-static needs calibration data: calibration='digits', a "
                            "folder of images, a list of images, a tensor or a DataLoader")
    if isinstance(calibration, str | os.PathLike) and calibration != "digits" and not Path(
            calibration).exists():
        raise QuantizeError(f"calibration data {os.fspath(calibration)!r}: no such file or "
                            "directory")


def _source_onnx(model_or_onnx: ModelSource, workdir: Path, *, input_size: Sequence[int] | None,
                 pretrained: bool | str) -> tuple[Path, str, str | None]:
    """The FP32 ONNX file to quantize (exporting a model first), a label, and its stem."""
    if isinstance(model_or_onnx, str | os.PathLike):
        text = os.fspath(model_or_onnx)
        path = Path(text)
        if path.suffix == ".onnx" or path.is_file():
            if not path.is_file():
                raise QuantizeError(f"{text!r}: no such file")
            return path, text, path.stem
    try:
        module = resolve_model(model_or_onnx, pretrained=pretrained)
        arch = model_config(module).architecture or "model"
    except CnnzooError as exc:
        raise QuantizeError(str(exc)) from exc
    fp32 = workdir / f"{arch}.onnx"
    to_onnx(module, fp32, input_size=input_size)
    return fp32, f"{arch} (exported to ONNX, verified)", arch


def _output_path(output: str | os.PathLike[str] | None, fp32: Path, source: str,
                 stem: str | None, method: str) -> Path:
    if output is None:
        base = fp32.parent if Path(source).suffix == ".onnx" else Path.cwd()
        output = base / f"{stem}.{_SUFFIXES[method]}.onnx"
    output = Path(output)
    if output.resolve() == fp32.resolve():
        raise QuantizeError("output would overwrite the FP32 model; choose another path")
    return output


def _open_job(method: str, fp32: Path, source: str, output: Path, workdir: Path,
              max_accuracy_drop: float | None, start: float
              ) -> tuple[_Job, onnxruntime.InferenceSession]:
    """The job for ``fp32``: its preprocessing (cnnzoo metadata) and input, and a session."""
    try:
        cfg = dict(read_metadata(fp32))
    except CnnzooError:
        cfg = {}
    session = _session(fp32)
    inp = session.get_inputs()[0]
    dims = inp.shape[1:]
    if not cfg.get("input_size"):
        if not all(isinstance(d, int) for d in dims):
            raise QuantizeError(f"{source}: no cnnzoo metadata and a dynamic input shape "
                                f"{inp.shape}; export it with cnnzoo.export.to_onnx")
        cfg["input_size"] = tuple(dims)
    job = _Job(
        method=method, fp32=fp32, source=source, output=output, workdir=workdir, cfg=cfg,
        input_name=inp.name, input_size=tuple(int(v) for v in cfg["input_size"]),
        dynamic_hw=not all(isinstance(d, int) for d in dims),
        large=fp32.with_name(fp32.name + ".data").exists(),
        report=QuantReport(method=method, source=source, max_accuracy_drop=max_accuracy_drop),
        start=start,
        segmenter=cfg.get("task") == "segmentation" or len(session.get_outputs()[0].shape) == 4,
    )
    job.report.task = "segmentation" if job.segmenter else "classification"
    return job, session


def _load_data(job: _Job, session: onnxruntime.InferenceSession,
               calibration: ImageSource | None, num_calibration: int,
               eval_data: ImageSource | None, num_eval: int | None) -> None:
    """The calibration and evaluation sets, and the FP32 model's metric on the latter.

    A classifier is judged by accuracy on labelled data, else by top-1 agreement with
    FP32; a segmenter by mIoU on masks (with a default gate of
    :data:`SEGMENTATION_MAX_DROP`), else by pixel-level top-1 agreement with FP32.
    """
    report = job.report
    if job.method == "int8-static":
        job.calib = calibration_set(calibration, job.cfg, limit=num_calibration,
                                    dynamic_hw=job.dynamic_hw)
        report.calibration_samples = len(job.calib.x)
    if eval_data is not None:
        pick = segmentation_evaluation_set if job.segmenter else evaluation_set
        job.evaluation = pick(eval_data, job.cfg, limit=num_eval, dynamic_hw=job.dynamic_hw)
    elif job.calib is not None:
        job.evaluation = ImageData(job.calib.x, None, "calibration samples")
        report.notes.append(f"accuracy measured as {_agreement_name(job)} with FP32 on the "
                            "calibration samples (pass eval_data for held-out data)")
    if job.evaluation is None:
        if report.max_accuracy_drop is not None:
            raise QuantizeError("max_accuracy_drop needs evaluation data (eval_data=...) for "
                                f"method {job.method!r}")
        return
    logits = run_batched(session, job.evaluation.x)
    reference = _top1(logits)
    labels = job.evaluation.y
    if labels is None:
        report.metric, job.target = _agreement_name(job), reference
    elif job.segmenter:
        job.num_classes = int(logits.shape[1])
        _check_masks(job, labels, reference.shape)
        report.metric, job.target = MIOU, labels
        if report.max_accuracy_drop is None:
            report.max_accuracy_drop = SEGMENTATION_MAX_DROP
            report.notes.append(f"gate: at most {SEGMENTATION_MAX_DROP * 100:.0f} point of "
                                "mIoU lost, the default for a segmenter evaluated on masks "
                                "(max_accuracy_drop=1 turns it off)")
    else:
        if labels.ndim != 1:
            raise QuantizeError(f"{job.source} is a classifier: its evaluation data need one "
                                f"class per image, got labels of shape {tuple(labels.shape)}")
        report.metric, job.target = "accuracy", labels
    report.metric_before = job.score(reference, job.target)
    report.eval_samples = len(job.evaluation.x)


def _agreement_name(job: _Job) -> str:
    return PIXEL_AGREEMENT if job.segmenter else "top-1 agreement"


def _check_masks(job: _Job, masks: np.ndarray, predicted: tuple[int, ...]) -> None:
    """Masks ``[N, H, W]`` of the predictions' size, with classes the model has (or the
    ignore value)."""
    if masks.ndim != 3:
        raise QuantizeError(
            f"{job.source} is a segmenter: its evaluation data need masks [N, H, W] with a "
            f"class per pixel, got labels of shape {tuple(masks.shape)}; give 'digits' (the "
            "ink masks), (images, masks) or a Dataset of (image, mask) pairs")
    if tuple(masks.shape) != tuple(predicted):
        raise QuantizeError(f"the masks have shape {tuple(masks.shape)} but the model "
                            f"predicts {tuple(predicted)} (N, H, W); give masks of the "
                            "images' size")
    problem = mask_problem(masks, job.num_classes, what="evaluation")
    if problem:  # pixels at IGNORE_INDEX (255) count nowhere, as in cnnzoo.evaluate
        raise QuantizeError(problem)


# -- 4: preprocessing ----------------------------------------------------------------------


def _preprocess(job: _Job) -> None:
    """``quant_pre_process`` (with, then without symbolic shapes; else the FP32 graph)."""
    import onnx
    from onnxruntime.quantization import quant_pre_process

    if job.method != "fp16":
        src, dst = job.fp32.resolve(), (job.workdir / "preprocessed.onnx").resolve()
        errors: list[str] = []
        for skip_symbolic in (False, True):
            try:
                # an incomplete symbolic shape inference (dynamic H and W) saves its
                # partial model in the current directory: keep that in the work folder
                with contextlib.chdir(job.workdir):
                    quant_pre_process(
                        str(src), str(dst), skip_symbolic_shape=skip_symbolic,
                        save_as_external_data=job.large, all_tensors_to_one_file=True,
                        external_data_location=dst.name + ".data" if job.large else None)
                if skip_symbolic:
                    job.report.notes.append("quant_pre_process: symbolic shape inference "
                                            f"skipped ({errors[0]})")
                break
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")
        else:
            shutil.copyfile(src, dst)
            if src.with_name(src.name + ".data").exists():
                shutil.copyfile(src.with_name(src.name + ".data"),
                                dst.with_name(dst.name + ".data"))
            job.report.notes.append(f"quant_pre_process failed ({errors[-1]}); quantized "
                                    "without it")
        job.pre = dst
    job.facts = graph_facts(onnx.load(str(job.preprocessed), load_external_data=False))
    job.vnni = cpu_has_vnni()


# -- 5: the attempts ---------------------------------------------------------------------------


def _quantize_static(job: _Job, config: StaticConfig, calib: np.ndarray) -> None:
    """One static QDQ quantization of the preprocessed model into ``job.candidate``."""
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    methods = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
               "percentile": CalibrationMethod.Percentile}
    extra: dict[str, Any] = {}
    if config.calibrate == "percentile":
        extra["CalibPercentile"] = 99.999
    if config.per_channel == "auto" and not job.vnni and job.facts.depthwise:
        extra["TensorQuantOverrides"] = {w: [{"symmetric": True}]
                                         for _, w in job.facts.depthwise}
    reader = CalibrationReader(job.input_name, calib, batch=16)
    with contextlib.redirect_stdout(io.StringIO()):  # the histogram calibrators print
        quantize_static(
            str(job.preprocessed), str(job.candidate), reader, quant_format=QuantFormat.QDQ,
            per_channel=config.per_channel != "per-tensor", reduce_range=not job.vnni,
            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
            calibrate_method=methods[config.calibrate],
            nodes_to_exclude=list(config.exclude), use_external_data_format=job.large,
            extra_options=extra,
        )


def _worst_config(job: _Job, base: StaticConfig, base_path: Path, calib: np.ndarray
                  ) -> StaticConfig | None:
    """``base`` plus the nodes around its 3 worst-quantized activations in float (or
    ``None`` when that keeps nothing new in float)."""
    worst = worst_nodes(job.preprocessed, base_path, calib, job.input_name, 3, job.workdir)
    names = {n for n, _ in worst}
    if not worst or names <= set(base.exclude):
        return None
    sqnr = ", ".join(f"{v:.0f}" for v in sorted({v for _, v in worst}))
    return StaticConfig(
        f"{base.description}; keep in float the nodes around the 3 worst-quantized "
        f"activations (SQNR {sqnr} dB)",
        base.per_channel, base.calibrate, sorted(set(base.exclude) | names))


def _attempt_static(job: _Job, per_channel: bool | str, calibrate_method: str,
                    exclude: Sequence[str], fallbacks: bool) -> bool:
    """Static INT8 along :func:`~cnnzoo.deploy.quantization.plan.static_plan` until accepted."""
    if job.calib is None:
        raise QuantizeError("int8-static needs calibration data")
    calib = job.calib.x
    report = job.report
    report.activation_type, report.weight_type = "uint8", "int8"
    report.reduce_range = not job.vnni
    configs = static_plan(per_channel, calibrate_method, list(exclude), job.facts, fallbacks)
    best: tuple[float, StaticConfig] | None = None
    best_path = job.workdir / "best.onnx"
    tried: set[tuple[str, str, tuple[str, ...]]] = set()
    while configs:
        config: StaticConfig | None = configs.pop(0)
        if config is not None and config.description == WORST:
            # build on the best configuration so far, measured on its own output
            config = _worst_config(job, best[1], best_path, calib) if best else None
        if config is None:
            continue
        key = (config.per_channel, config.calibrate, tuple(sorted(config.exclude)))
        if key in tried:  # two rungs can meet: the second would measure the same model
            continue
        tried.add(key)
        _quantize_static(job, config, calib)
        attempt = QuantAttempt(config.description, per_channel_label(config, job.facts, job.vnni),
                               config.calibrate, list(config.exclude))
        accepted = job.judge(attempt, job.candidate)
        report.per_channel = attempt.per_channel
        report.calibrate_method = config.calibrate
        report.excluded_nodes = list(config.exclude)
        if accepted:
            return True
        drop = attempt.drop if attempt.drop is not None else float("inf")
        if configs and (best is None or drop < best[0]):
            best = (drop, config)
            shutil.copyfile(job.candidate, best_path)
    return False


def _attempt_dynamic(job: _Job, per_channel: bool | str, exclude: Sequence[str],
                     fallbacks: bool) -> bool:
    """Dynamic INT8: per-channel weights, then (with fallbacks) per-tensor."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # ConvInteger, what Conv becomes, has uint8 x uint8 kernels only on CPU
    convs = bool(job.facts.convs)
    job.report.weight_type = "uint8" if convs else "int8"
    for pc in dynamic_plan(per_channel, fallbacks):
        quantize_dynamic(str(job.preprocessed), str(job.candidate), per_channel=pc,
                         weight_type=QuantType.QUInt8 if convs else QuantType.QInt8,
                         nodes_to_exclude=list(exclude), use_external_data_format=job.large)
        label = "per-channel" if pc else "per-tensor"
        job.report.per_channel = label
        job.report.excluded_nodes = list(exclude)
        if job.judge(QuantAttempt(f"dynamic, {label} weights", label, None, list(exclude)),
                     job.candidate):
            return True
    return False


def _attempt_fp16(job: _Job, exclude: Sequence[str]) -> bool:
    """FP16 weights and compute, float32 inputs and outputs."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    candidate = job.candidate
    model16 = convert_float_to_float16(onnx.load(str(job.fp32)), keep_io_types=True,
                                       node_block_list=list(exclude) or None)
    onnx.save_model(model16, str(candidate), save_as_external_data=job.large,
                    all_tensors_to_one_file=True, location=candidate.name + ".data")
    del model16
    job.report.per_channel = "-"
    job.report.excluded_nodes = list(exclude)
    return job.judge(QuantAttempt("fp16 weights and compute, fp32 inputs/outputs", "-", None,
                                  list(exclude)), candidate)


# -- 6: refuse, or write -----------------------------------------------------------------------


def _refuse(job: _Job) -> NoReturn:
    report = job.report
    last = report.attempts[-1]
    raise AccuracyDropError(
        f"{job.method} loses {_points(last.drop)} points of {report.metric} "
        f"({report.metric_before:.2%} → {last.metric_after:.2%}), more than "
        f"max_accuracy_drop={report.max_accuracy_drop} allows, after "
        f"{len(report.attempts)} attempt(s): "
        + "; ".join(f"{a.description}: {_points(a.drop)} pt" for a in report.attempts)
        + f". Nothing was written to {str(job.output)!r}.",
        report,
    )


def _copy_metadata(src: Path, dst: Path, quantization: dict[str, Any], large: bool) -> None:
    """The FP32 model's metadata (preprocessing, labels) plus the quantization's, into ``dst``."""
    import onnx

    source = onnx.load(str(src), load_external_data=False)
    model = onnx.load(str(dst))
    keep = {p.key: p.value for p in source.metadata_props}
    keep.update({p.key: p.value for p in model.metadata_props if p.key not in keep})
    keep[QUANT_METADATA_KEY] = json.dumps(quantization)
    del model.metadata_props[:]
    for key, value in keep.items():
        model.metadata_props.add(key=key, value=value)
    if large:
        onnx.save_model(model, str(dst), save_as_external_data=True,
                        all_tensors_to_one_file=True, location=dst.name + ".data")
    else:
        onnx.save_model(model, str(dst))


def _write(job: _Job, latency_batch_sizes: Sequence[int], latency_repeats: int) -> None:
    """Metadata, sizes and latencies of the accepted candidate; then move it to ``output``."""
    report, candidate, output = job.report, job.candidate, job.output
    if len(report.attempts) > 1:
        report.notes.append(
            f"the first configuration lost {_points(report.attempts[0].drop)} pt; "
            f"accepted fallback: {report.attempts[-1].description}")
    _copy_metadata(job.fp32, candidate, {
        "method": job.method, "engine": report.engine, "per_channel": report.per_channel,
        "calibrate_method": report.calibrate_method,
        "calibration_samples": report.calibration_samples,
        "excluded_nodes": report.excluded_nodes, "metric": report.metric,
        "metric_before": report.metric_before, "metric_after": report.metric_after,
    }, job.large)
    report.size_before = file_size(job.fp32)
    report.size_after = file_size(candidate)
    report.latency_before = ort_latencies(job.fp32, job.input_size, latency_batch_sizes,
                                          latency_repeats)
    report.latency_after = ort_latencies(candidate, job.input_size, latency_batch_sizes,
                                         latency_repeats)
    with staging(output) as stage:
        staged = stage / output.name
        shutil.move(str(candidate), staged)
        data = candidate.with_name(candidate.name + ".data")
        if data.exists():
            shutil.move(str(data), staged.with_name(staged.name + ".data"))
        commit(staged, output)
    report.output = output


# -- the verb ----------------------------------------------------------------------------------


def quantize(
    model_or_onnx: ModelSource,
    *,
    method: str = "int8-static",
    calibration: ImageSource | None = None,
    num_calibration: int = 128,
    per_channel: bool | str = "auto",
    calibrate_method: str = "auto",
    max_accuracy_drop: float | None = None,
    eval_data: ImageSource | None = None,
    num_eval: int | None = None,
    output: str | os.PathLike[str] | None = None,
    nodes_to_exclude: Sequence[str] = (),
    fallback: bool = True,
    latency_batch_sizes: Sequence[int] = (1, 8),
    latency_repeats: int = 10,
    input_size: Sequence[int] | None = None,
    pretrained: bool | str = False,
    engine: str = "onnxruntime",
) -> QuantResult:
    """Quantize a model with onnxruntime (or NNCF) and report size, latency and accuracy.

    Args:
        model_or_onnx: a zoo model, a registered name, a saved model folder, or an
            ``.onnx`` file (exported by :func:`cnnzoo.export.to_onnx`, whose metadata
            gives the preprocessing).
        method: ``"int8-static"``, ``"int8-dynamic"`` or ``"fp16"``.
        calibration: for ``int8-static``: ``"digits"`` (the digits train split), a folder
            of images, a list of image files / PIL images / ``uint8`` tensors
            (preprocessed like the model's weights expect), a preprocessed float tensor
            ``[N, C, H, W]``, a ``Dataset`` or a ``DataLoader`` of ``(image, label)``.
        num_calibration: at most this many calibration samples are used.
        per_channel: ``"auto"`` (see the module doc), ``True`` or ``False``.
        calibrate_method: ``"auto"`` (MinMax, Percentile as a fallback), ``"minmax"``,
            ``"entropy"`` or ``"percentile"``.
        max_accuracy_drop: the largest acceptable drop of accuracy (or of top-1
            agreement with FP32 when the evaluation data carry no labels), as a fraction:
            ``0.005`` is half a percentage point. Exceeded → fallbacks, then
            :class:`AccuracyDropError`. A segmenter is judged by mIoU on masks (else by
            pixel-level top-1 agreement with FP32); evaluated on masks, its default
            gate is :data:`SEGMENTATION_MAX_DROP` (1 point of mIoU).
        eval_data: data to measure accuracy on (same kinds as ``calibration``;
            ``"digits"`` is the test split — for a segmenter, its ink masks; a
            segmenter also takes ``(images, masks)`` and ``(image, mask)`` pairs).
            Default: the calibration samples, with top-1 agreement as the metric.
        num_eval: at most this many evaluation samples.
        output: the file to write (default: beside the ONNX input, or in the current
            directory, as ``NAME.int8.onnx`` / ``NAME.fp16.onnx``).
        nodes_to_exclude: ONNX node names to keep in float.
        fallback: with ``max_accuracy_drop``, try the fallbacks before refusing.
        latency_batch_sizes: batch sizes of the latency comparison (``()`` skips it).
        latency_repeats: timed runs per latency figure.
        input_size: the export's input size when a model (not a file) is given.
        pretrained: weights for a model given by name.
        engine: the static INT8 quantizer: ``"onnxruntime"`` or ``"nncf"``
            (:mod:`~cnnzoo.deploy.quantization.nncf_engine`; same data, gate, fallbacks
            and report, a QDQ file onnxruntime and OpenVINO both run).

    Returns:
        :class:`QuantResult` with the written ``path`` and its :class:`QuantReport`.

    Raises:
        QuantizeError: a bad argument, a missing file, or unusable calibration or
            evaluation data.
        AccuracyDropError: every attempt lost more than ``max_accuracy_drop``
            (``exc.report`` lists them); nothing is written.
        BackendUnavailableError: ``engine="nncf"`` without NNCF installed.

    Example:
        >>> import cnnzoo, tempfile, os
        >>> result = cnnzoo.quantize(
        ...     cnnzoo.create("lenet5", pretrained=True), calibration="digits",
        ...     eval_data="digits", max_accuracy_drop=0.005,
        ...     output=os.path.join(tempfile.mkdtemp(), "lenet5.int8.onnx"))
        >>> result.report.drop <= 0.005
        True
    """
    start = time.perf_counter()
    _check_arguments(method, calibration, per_channel, calibrate_method, max_accuracy_drop)
    if engine not in ENGINES or (engine == "nncf" and method != "int8-static"):
        raise QuantizeError(f"engine {engine!r} is not one of {', '.join(ENGINES)} (nncf "
                            "quantizes int8-static only)")
    if engine == "nncf":
        import_nncf()
    workdir = Path(tempfile.mkdtemp(prefix="cnnzoo-quantize-"))
    try:
        fp32, source, stem = _source_onnx(model_or_onnx, workdir, input_size=input_size,
                                          pretrained=pretrained)
        job, session = _open_job(method, fp32, source,
                                 _output_path(output, fp32, source, stem, method), workdir,
                                 max_accuracy_drop, start)
        job.report.engine = engine
        _load_data(job, session, calibration, num_calibration, eval_data, num_eval)
        del session
        _preprocess(job)
        fallbacks = fallback and job.report.max_accuracy_drop is not None
        if method == "int8-static":
            attempt = nncf_attempt_static if engine == "nncf" else _attempt_static
            accepted = attempt(job, per_channel, calibrate_method, nodes_to_exclude, fallbacks)
        elif method == "int8-dynamic":
            accepted = _attempt_dynamic(job, per_channel, nodes_to_exclude, fallbacks)
        else:
            accepted = _attempt_fp16(job, nodes_to_exclude)
        job.report.metric_after = job.report.attempts[-1].metric_after
        job.report.seconds = time.perf_counter() - start
        if not accepted:
            _refuse(job)
        _write(job, latency_batch_sizes, latency_repeats)
        job.report.seconds = time.perf_counter() - start
        return QuantResult(job.output, job.report)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
