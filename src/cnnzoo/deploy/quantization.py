"""INT8 and FP16 models for CPU deployment, through ``onnxruntime.quantization``, with a report.

:func:`quantize` takes a zoo model (or a name, a saved model folder, or an ``.onnx``
file written by :func:`cnnzoo.export.to_onnx`) and writes:

- ``method="int8-static"``: a QDQ model (``quant_pre_process`` first; unsigned 8-bit
  activations, signed 8-bit weights) calibrated on real images — ``MinMax`` by default,
  ``Percentile``/``Entropy`` on request or as a fallback;
- ``method="int8-dynamic"``: weights in 8 bits, activations quantized at run time
  (no calibration);
- ``method="fp16"``: weights and compute in half precision, inputs and outputs kept
  in float32 (``onnxruntime.transformers.float16``).

``per_channel="auto"`` quantizes convolution and linear weights per output channel,
except depthwise convolutions on CPUs without VNNI, which stay per tensor (the
saturating u8s8 kernels of non-VNNI x86 CPUs are what collapses per-channel
MobileNetV3 there, onnxruntime#11415); weights use a reduced 7-bit range on such
CPUs, as onnxruntime recommends.

The :class:`QuantReport` gives size, onnxruntime latency at batch 1 and N and
accuracy (or top-1 agreement with the FP32 model) before and after. With
``max_accuracy_drop`` set, a model that loses more is not returned: cnnzoo falls back
in turn to percentile calibration, per-tensor weights, keeping the first convolution,
the last linear layer and depthwise convolutions in float, and keeping the nodes
around the worst-quantized tensors in float — each attempt is listed in the report —
and raises :class:`AccuracyDropError` if none is good enough. Nothing is written to
``output`` unless a model is accepted.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnzoo.errors import AccuracyDropError, CnnzooError, QuantizeError

__all__ = [
    "METHODS",
    "AccuracyDropError",
    "QuantAttempt",
    "QuantReport",
    "QuantResult",
    "QuantizeError",
    "cpu_has_vnni",
    "load_images",
    "quantize",
]

METHODS: tuple[str, ...] = ("int8-static", "int8-dynamic", "fp16")
CALIBRATE_METHODS: tuple[str, ...] = ("auto", "minmax", "entropy", "percentile")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
QUANT_METADATA_KEY = "cnnzoo_quantization"


@dataclass
class QuantAttempt:
    """One quantization configuration tried, and how much it lost."""

    description: str
    per_channel: str
    calibrate_method: str | None
    excluded_nodes: list[str]
    metric_after: float | None = None
    drop: float | None = None
    accepted: bool = False


@dataclass
class QuantReport:
    """What :func:`quantize` did and measured.

    ``metric`` is ``"accuracy"`` when labelled evaluation data were given, else
    ``"top-1 agreement"`` with the FP32 model (1.0 before by definition). ``drop`` is
    ``metric_before - metric_after`` as a fraction (0.005 = half a point).
    """

    method: str
    source: str
    output: Path | None = None
    per_channel: str = "-"
    calibrate_method: str | None = None
    activation_type: str | None = None
    weight_type: str | None = None
    reduce_range: bool = False
    calibration_samples: int = 0
    excluded_nodes: list[str] = field(default_factory=list)
    size_before: int = 0
    size_after: int = 0
    latency_before: dict[int, float] = field(default_factory=dict)
    latency_after: dict[int, float] = field(default_factory=dict)
    metric: str | None = None
    eval_samples: int = 0
    metric_before: float | None = None
    metric_after: float | None = None
    max_accuracy_drop: float | None = None
    attempts: list[QuantAttempt] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def drop(self) -> float | None:
        if self.metric_before is None or self.metric_after is None:
            return None
        return self.metric_before - self.metric_after

    @property
    def size_ratio(self) -> float | None:
        return self.size_after / self.size_before if self.size_before else None

    def rows(self) -> list[tuple[str, str, str, str]]:
        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v * 1e3:.2f} ms"

        def ratio(a: float | None, b: float | None) -> str:
            return f"{b / a:.2f}x" if a and b is not None else "-"

        rows = [("size", f"{self.size_before / 1e6:.2f} MB", f"{self.size_after / 1e6:.2f} MB",
                 ratio(self.size_before, self.size_after))]
        for b in sorted(set(self.latency_before) | set(self.latency_after)):
            before, after = self.latency_before.get(b), self.latency_after.get(b)
            rows.append((f"latency b{b}", ms(before), ms(after), ratio(before, after)))
        if self.metric is not None:
            fmt = (lambda v: "-" if v is None else f"{v:.2%}")  # noqa: E731
            drop = self.drop
            rows.append((f"{self.metric} (n={self.eval_samples})", fmt(self.metric_before),
                         fmt(self.metric_after),
                         "-" if drop is None else f"{0.0 - drop * 100 + 0.0:+.2f} pt"))
        return rows

    def table(self) -> str:
        from cnnzoo.cli import render_table

        settings = [
            ("method", self.method),
            ("source", self.source),
            ("output", str(self.output) if self.output else "-"),
        ]
        if self.method != "fp16":
            settings += [
                ("weights", f"{self.weight_type or '-'}, {self.per_channel}"
                 + (", reduced range" if self.reduce_range else "")),
            ]
        if self.method == "int8-static":
            settings += [
                ("activations", f"{self.activation_type}, calibration "
                 f"{self.calibrate_method} on {self.calibration_samples} samples"),
            ]
        settings.append(("kept in float", ", ".join(self.excluded_nodes) or "-"))
        if self.max_accuracy_drop is not None:
            settings.append(("max accuracy drop", f"{self.max_accuracy_drop * 100:.2f} pt"))
        settings.append(("time", f"{self.seconds:.1f} s"))
        text = render_table(("quantize", "value"), settings)
        text += "\n\n" + render_table(("", "before (fp32)", "after", "after/before"),
                                      self.rows())
        if len(self.attempts) > 1 or (self.attempts and not self.attempts[0].accepted):
            text += "\n\n" + render_table(
                ("attempt", self.metric or "metric", "drop", "result"),
                [(a.description, "-" if a.metric_after is None else f"{a.metric_after:.2%}",
                  "-" if a.drop is None else f"{a.drop * 100:.2f} pt",
                  "accepted" if a.accepted else "rejected") for a in self.attempts])
        if self.notes:
            text += "\n\n" + "\n".join(f"note: {n}" for n in self.notes)
        return text

    __str__ = table

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method, "source": self.source,
            "output": str(self.output) if self.output else None,
            "per_channel": self.per_channel, "calibrate_method": self.calibrate_method,
            "activation_type": self.activation_type, "weight_type": self.weight_type,
            "reduce_range": self.reduce_range, "calibration_samples": self.calibration_samples,
            "excluded_nodes": list(self.excluded_nodes), "size_before": self.size_before,
            "size_after": self.size_after,
            "latency_before_s": {str(k): v for k, v in self.latency_before.items()},
            "latency_after_s": {str(k): v for k, v in self.latency_after.items()},
            "metric": self.metric, "eval_samples": self.eval_samples,
            "metric_before": self.metric_before, "metric_after": self.metric_after,
            "drop": self.drop, "max_accuracy_drop": self.max_accuracy_drop,
            "attempts": [a.__dict__ for a in self.attempts], "notes": list(self.notes),
            "seconds": self.seconds,
        }


@dataclass
class QuantResult:
    """The quantized model's path and its report."""

    path: Path
    report: QuantReport


# -- the machine -----------------------------------------------------------------------


def cpu_has_vnni() -> bool:
    """Whether the CPU has 8-bit dot-product instructions (x86 VNNI/AMX, or any ARM64)."""
    machine = platform.machine().lower()
    if machine in ("arm64", "aarch64"):
        return True
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return bool(flags & {"avx512_vnni", "avx_vnni", "amx_int8"})


# -- data ------------------------------------------------------------------------------


@dataclass
class _Data:
    x: np.ndarray
    y: np.ndarray | None
    source: str


def load_images(items: Iterable[Any], cfg: dict[str, Any]) -> np.ndarray:
    """Image files, PIL images or ``uint8`` tensors → a preprocessed ``[N, C, H, W]`` array.

    Uses :func:`cnnzoo.data.eval_transform` with ``cfg`` (a ``pretrained_cfg`` or the
    metadata of an export), so eager and ONNX backends see identical inputs.
    """
    from cnnzoo.data import eval_transform

    transform = eval_transform(cfg)
    out = [transform(_open_image(item)).numpy() for item in items]
    if not out:
        return np.zeros((0, *cfg.get("input_size", (3, 224, 224))), dtype=np.float32)
    return np.stack(out).astype(np.float32)


def _open_image(item: Any) -> Any:
    if isinstance(item, (str, os.PathLike)):
        from PIL import Image

        path = Path(item)
        if not path.is_file():
            raise QuantizeError(f"image {str(path)!r}: no such file")
        try:
            with Image.open(path) as image:
                image.load()
                return image if image.mode in ("L", "RGB") else image.convert("RGB")
        except OSError as exc:
            raise QuantizeError(f"{str(path)!r} is not an image: {exc}") from exc
    return item


def image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def as_data(data: Any, cfg: dict[str, Any], *, limit: int | None, what: str,
            split: str = "train") -> _Data:
    """Calibration or evaluation data of any accepted kind → preprocessed arrays."""
    import torch

    if data is None:
        raise QuantizeError(f"no {what} data given")
    if isinstance(data, str) and data == "digits":
        x, y = digits_split(cfg, split, limit)
        return _check(_Data(x, y, f"digits {split} split"), cfg, what)
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.exists():
            raise QuantizeError(f"{what} data {str(path)!r}: no such file or directory")
        files = image_files(path) if path.is_dir() else [path]
        if limit:
            files = files[:limit]
        return _check(_Data(load_images(files, cfg), None, f"images in {path}"), cfg, what)
    if isinstance(data, (torch.Tensor, np.ndarray)):
        x = data.detach().cpu().numpy() if isinstance(data, torch.Tensor) else np.asarray(data)
        if x.ndim == 3:
            x = x[None]
        x = x[:limit] if limit else x
        return _check(_Data(x.astype(np.float32), None, "tensor"), cfg, what)
    if isinstance(data, tuple) and len(data) == 2 and all(
            isinstance(d, (torch.Tensor, np.ndarray)) for d in data):
        x, y = (d.detach().cpu().numpy() if isinstance(d, torch.Tensor) else np.asarray(d)
                for d in data)
        x, y = (x[:limit], y[:limit]) if limit else (x, y)
        return _check(_Data(x.astype(np.float32), y.astype(np.int64), "tensors"), cfg, what)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    images: list[Any] = []
    count = 0
    for item in data:  # a DataLoader (batches), a Dataset (samples) or a list
        if limit and count >= limit:
            break
        x, y = (item[0], item[1]) if isinstance(item, (tuple, list)) and len(item) == 2 else (
            item, None)
        if isinstance(x, torch.Tensor) and x.is_floating_point():
            arr = x.detach().cpu().numpy().astype(np.float32)
            batch = arr.ndim == 4
            arr = arr if batch else arr[None]
            xs.append(arr)
            count += len(arr)
            if y is not None:
                yarr = np.asarray(y.detach().cpu().numpy() if isinstance(y, torch.Tensor)
                                  else y).reshape(-1)
                ys.append(yarr)
        else:
            images.append(x)
            count += 1
    if images:
        xs.append(load_images(images, cfg))
    if not xs:
        return _check(_Data(np.zeros((0, 1, 1, 1), np.float32), None, "empty"), cfg, what)
    x = np.concatenate(xs)
    y = np.concatenate(ys).astype(np.int64) if ys and sum(map(len, ys)) == len(x) else None
    if limit:
        x, y = x[:limit], (y[:limit] if y is not None else None)
    return _check(_Data(x, y, type(data).__name__), cfg, what)


def digits_split(cfg: dict[str, Any], split: str = "train", limit: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` images of :func:`cnnzoo.data.digits`' train or test split.

    The same split and the same pixels as ``digits(input_size, model=...)`` (seed 0,
    20 % test, stratified; bilinear resize, channel repeat, the model's mean/std), but
    only the images asked for are resized — at 224x224 all 1,797 would take a gigabyte.
    """
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from cnnzoo.data import _per_channel

    channels, height, width = (int(v) for v in cfg["input_size"])
    data = load_digits()
    train, test = train_test_split(np.arange(len(data.target)), test_size=0.2,
                                   random_state=0, stratify=data.target)
    index = train if split == "train" else test
    if limit:
        index = index[:limit]  # the split is shuffled: any prefix mixes the classes
    images = torch.tensor(data.images[index], dtype=torch.float32).unsqueeze(1) / 16.0
    if (height, width) != (8, 8):
        images = torch.nn.functional.interpolate(
            images, size=(height, width), mode="bilinear", align_corners=False).clamp_(0, 1)
    images = images.expand(-1, channels, -1, -1)
    mean = torch.tensor(_per_channel(cfg.get("mean") or (0.5,), channels)).view(1, -1, 1, 1)
    std = torch.tensor(_per_channel(cfg.get("std") or (0.5,), channels)).view(1, -1, 1, 1)
    return ((images - mean) / std).numpy().astype(np.float32), data.target[index].astype(
        np.int64)


def _check(data: _Data, cfg: dict[str, Any], what: str) -> _Data:
    if len(data.x) == 0:
        raise QuantizeError(f"the {what} set is empty ({data.source}); give at least one image")
    expected = tuple(int(v) for v in cfg.get("input_size") or ())
    got = tuple(int(v) for v in data.x.shape[1:])
    if data.x.ndim != 4:
        raise QuantizeError(f"{what} data must be images [N, C, H, W], got shape {data.x.shape}")
    if expected and got != expected and not cfg.get("_dynamic_hw"):
        raise QuantizeError(
            f"{what} images have size {'x'.join(map(str, got))} (C x H x W) but the model "
            f"expects {'x'.join(map(str, expected))}; pass images (files, PIL) to have them "
            "resized, or tensors of the right size"
        )
    return data


# -- onnx helpers ----------------------------------------------------------------------


def _run(session, x: np.ndarray, batch: int = 64) -> np.ndarray:
    name = session.get_inputs()[0].name
    fixed = session.get_inputs()[0].shape[0]
    if isinstance(fixed, int):
        batch = fixed
    outs = [session.run(None, {name: x[i:i + batch]})[0] for i in range(0, len(x), batch)]
    return np.concatenate(outs)


def _predictions(logits: np.ndarray) -> np.ndarray:
    return logits.argmax(1)


def _metric(pred: np.ndarray, ref: np.ndarray) -> float:
    return float(np.mean(pred == ref))


class _Reader:
    """An onnxruntime ``CalibrationDataReader`` over an array, in small batches."""

    def __init__(self, name: str, x: np.ndarray, batch: int) -> None:
        self.name, self.x, self.batch, self.i = name, x, max(1, batch), 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.i >= len(self.x):
            return None
        chunk = self.x[self.i:self.i + self.batch]
        self.i += self.batch
        return {self.name: chunk}

    def rewind(self) -> None:
        self.i = 0

    def __iter__(self):
        while (item := self.get_next()) is not None:
            yield item


def _graph_facts(model) -> dict[str, Any]:
    """Conv/Gemm nodes, depthwise weights, first conv and last linear of an ONNX graph."""
    inits = {t.name: t for t in model.graph.initializer}
    convs, depthwise, linears = [], [], []
    for node in model.graph.node:
        if node.op_type == "Conv" and len(node.input) > 1:
            convs.append(node.name)
            group = next((a.i for a in node.attribute if a.name == "group"), 1)
            weight = inits.get(node.input[1])
            if group > 1 and weight is not None and len(weight.dims) == 4 and weight.dims[1] == 1:
                depthwise.append((node.name, node.input[1]))
        elif node.op_type in ("Gemm", "MatMul"):
            linears.append(node.name)
    return {"convs": convs, "depthwise": depthwise, "linears": linears,
            "first_conv": convs[0] if convs else None,
            "last_linear": linears[-1] if linears else (convs[-1] if convs else None)}


@dataclass
class _Config:
    description: str
    per_channel: str  # "per-channel", "per-tensor", "auto"
    calibrate: str
    exclude: list[str]


def _static(fp32: Path, out: Path, cfg: _Config, calib: np.ndarray, input_name: str,
            facts: dict[str, Any], vnni: bool, large: bool) -> None:
    from onnxruntime.quantization import (
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    methods = {"minmax": CalibrationMethod.MinMax, "entropy": CalibrationMethod.Entropy,
               "percentile": CalibrationMethod.Percentile}
    extra: dict[str, Any] = {}
    if cfg.calibrate == "percentile":
        extra["CalibPercentile"] = 99.999
    per_channel = cfg.per_channel != "per-tensor"
    if cfg.per_channel == "auto" and not vnni and facts["depthwise"]:
        extra["TensorQuantOverrides"] = {w: [{"symmetric": True}] for _, w in facts["depthwise"]}
    reader = _Reader(input_name, calib, batch=16)
    with contextlib.redirect_stdout(io.StringIO()):  # the histogram calibrators print
        quantize_static(
            str(fp32), str(out), reader, quant_format=QuantFormat.QDQ,
            per_channel=per_channel, reduce_range=not vnni, activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8, calibrate_method=methods[cfg.calibrate],
            nodes_to_exclude=list(cfg.exclude), use_external_data_format=large,
            extra_options=extra,
        )


def _worst_nodes(fp32: Path, qdq: Path, calib: np.ndarray, input_name: str, k: int,
                 workdir: Path) -> list[tuple[str, float]]:
    """Nodes around the ``k`` activations that quantize worst (lowest SQNR) on ``calib``."""
    import onnx
    from onnxruntime.quantization.qdq_loss_debug import (
        collect_activations,
        compute_signal_to_quantization_noice_ratio,
        create_activation_matching,
        modify_model_output_intermediate_tensors,
    )

    augmented = workdir / "augmented.onnx"
    modify_model_output_intermediate_tensors(str(qdq), str(augmented))
    acts = collect_activations(str(augmented), _Reader(input_name, calib[:16], batch=16))
    matching = create_activation_matching(acts)
    scores = []
    for tensor, match in matching.items():
        if tensor == input_name or not match.get("pre_qdq") or not match.get("post_qdq"):
            continue
        scores.append((compute_signal_to_quantization_noice_ratio(
            match["pre_qdq"], match["post_qdq"]), tensor))
    augmented.unlink(missing_ok=True)
    scores.sort()
    model = onnx.load(str(fp32), load_external_data=False)
    producers = {o: n.name for n in model.graph.node for o in n.output}
    consumers: dict[str, list[str]] = {}
    for node in model.graph.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node.name)
    nodes: list[tuple[str, float]] = []
    for sqnr, tensor in scores[:k]:
        for name in [producers.get(tensor), *consumers.get(tensor, [])]:
            if name and name not in [n for n, _ in nodes]:
                nodes.append((name, sqnr))
    return nodes


def _copy_metadata(src: Path, dst: Path, extra: dict[str, Any], large: bool) -> None:
    import onnx

    source = onnx.load(str(src), load_external_data=False)
    model = onnx.load(str(dst))
    keep = {p.key: p.value for p in source.metadata_props}
    keep.update({p.key: p.value for p in model.metadata_props if p.key not in keep})
    keep[QUANT_METADATA_KEY] = json.dumps(extra)
    del model.metadata_props[:]
    for key, value in keep.items():
        model.metadata_props.add(key=key, value=value)
    if large:
        onnx.save_model(model, str(dst), save_as_external_data=True,
                        all_tensors_to_one_file=True, location=dst.name + ".data")
    else:
        onnx.save_model(model, str(dst))


def _latencies(path: Path, shape: tuple[int, ...], batches: Sequence[int],
               repeats: int) -> dict[int, float]:
    from cnnzoo.deploy.bench import ort_latency, ort_session

    if not batches or repeats <= 0:
        return {}
    session = ort_session(path)
    fixed = session.get_inputs()[0].shape[0]
    if isinstance(fixed, int):  # exported with a static batch size
        batches = [fixed]
    return {int(b): ort_latency(session, (int(b), *shape), warmup=2, repeats=repeats)
            for b in batches}


# -- the verb --------------------------------------------------------------------------


def _source_onnx(model_or_onnx: Any, workdir: Path, *, input_size: Sequence[int] | None,
                 pretrained: bool | str) -> tuple[Path, str, str | None]:
    """The FP32 ONNX file to quantize (exporting a model first), a label, and its stem."""
    if isinstance(model_or_onnx, (str, os.PathLike)):
        text = os.fspath(model_or_onnx)
        path = Path(text)
        if path.suffix == ".onnx" or path.is_file():
            if not path.is_file():
                raise QuantizeError(f"{text!r}: no such file")
            return path, text, path.stem
    from cnnzoo.deploy.export import resolve_model, to_onnx

    try:
        module = resolve_model(model_or_onnx, pretrained=pretrained)
    except CnnzooError as exc:
        raise QuantizeError(str(exc)) from exc
    arch = (getattr(module, "pretrained_cfg", None) or {}).get("architecture") or "model"
    fp32 = workdir / f"{arch}.onnx"
    to_onnx(module, fp32, input_size=input_size)
    return fp32, f"{arch} (exported to ONNX, verified)", arch


def quantize(
    model_or_onnx: Any,
    *,
    method: str = "int8-static",
    calibration: Any = None,
    num_calibration: int = 128,
    per_channel: bool | str = "auto",
    calibrate_method: str = "auto",
    max_accuracy_drop: float | None = None,
    eval_data: Any = None,
    num_eval: int | None = None,
    output: str | os.PathLike[str] | None = None,
    nodes_to_exclude: Sequence[str] = (),
    fallback: bool = True,
    latency_batch_sizes: Sequence[int] = (1, 8),
    latency_repeats: int = 10,
    input_size: Sequence[int] | None = None,
    pretrained: bool | str = False,
) -> QuantResult:
    """Quantize a model with onnxruntime and report size, latency and accuracy.

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
            :class:`AccuracyDropError`.
        eval_data: data to measure accuracy on (same kinds as ``calibration``;
            ``"digits"`` is the test split). Default: the calibration samples, with
            top-1 agreement as the metric.
        num_eval: at most this many evaluation samples.
        output: the file to write (default: beside the ONNX input, or in the current
            directory, as ``NAME.int8.onnx`` / ``NAME.fp16.onnx``).
        nodes_to_exclude: ONNX node names to keep in float.
        fallback: with ``max_accuracy_drop``, try the fallbacks before refusing.
        latency_batch_sizes: batch sizes of the latency comparison (``()`` skips it).
        latency_repeats: timed runs per latency figure.
        input_size: the export's input size when a model (not a file) is given.
        pretrained: weights for a model given by name.

    Returns:
        :class:`QuantResult` with the written ``path`` and its :class:`QuantReport`.

    Example:
        >>> import cnnzoo, tempfile, os
        >>> result = cnnzoo.quantize(
        ...     cnnzoo.create("lenet5", pretrained=True), calibration="digits",
        ...     eval_data="digits", max_accuracy_drop=0.005,
        ...     output=os.path.join(tempfile.mkdtemp(), "lenet5.int8.onnx"))
        >>> result.report.drop <= 0.005
        True
    """
    import onnx

    from cnnzoo.deploy.export import commit, read_metadata, staging

    start = time.perf_counter()
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
    if isinstance(calibration, (str, os.PathLike)) and calibration != "digits" and not Path(
            calibration).exists():
        raise QuantizeError(f"calibration data {os.fspath(calibration)!r}: no such file or "
                            "directory")

    workdir = Path(tempfile.mkdtemp(prefix="cnnzoo-quantize-"))
    try:
        fp32, source, stem = _source_onnx(model_or_onnx, workdir, input_size=input_size,
                                          pretrained=pretrained)
        suffix = {"int8-static": "int8", "int8-dynamic": "int8-dynamic", "fp16": "fp16"}[method]
        if output is None:
            base = fp32.parent if Path(source).suffix == ".onnx" else Path.cwd()
            output = base / f"{stem}.{suffix}.onnx"
        output = Path(output)
        if output.resolve() == fp32.resolve():
            raise QuantizeError("output would overwrite the FP32 model; choose another path")
        try:
            cfg = dict(read_metadata(fp32))
        except CnnzooError:
            cfg = {}
        sess = _fp32_session(fp32)
        inp = sess.get_inputs()[0]
        if not cfg.get("input_size"):
            dims = inp.shape[1:]
            if not all(isinstance(d, int) for d in dims):
                raise QuantizeError(f"{source}: no cnnzoo metadata and a dynamic input shape "
                                    f"{inp.shape}; export it with cnnzoo.export.to_onnx")
            cfg["input_size"] = tuple(dims)
        cfg["_dynamic_hw"] = not all(isinstance(d, int) for d in inp.shape[1:])
        shape = tuple(int(v) for v in cfg["input_size"])
        report = QuantReport(method=method, source=source, max_accuracy_drop=max_accuracy_drop)
        large = fp32.with_name(fp32.name + ".data").exists()

        calib = None
        if method == "int8-static":
            calib = as_data(calibration, cfg, limit=num_calibration, what="calibration")
            report.calibration_samples = len(calib.x)
        evaluation = None
        if eval_data is not None:
            evaluation = as_data(eval_data, cfg, limit=num_eval, what="evaluation",
                                 split="test")
        elif calib is not None:
            evaluation = _Data(calib.x, None, "calibration samples")
            report.notes.append("accuracy measured as top-1 agreement with FP32 on the "
                                "calibration samples (pass eval_data for held-out data)")
        ref_logits = _run(sess, evaluation.x) if evaluation is not None else None
        if evaluation is not None:
            if evaluation.y is not None:
                report.metric = "accuracy"
                target = evaluation.y
            else:
                report.metric = "top-1 agreement"
                target = _predictions(ref_logits)
            report.metric_before = _metric(_predictions(ref_logits), target)
            report.eval_samples = len(evaluation.x)
        if max_accuracy_drop is not None and evaluation is None:
            raise QuantizeError("max_accuracy_drop needs evaluation data (eval_data=...) for "
                                f"method {method!r}")
        del sess

        pre = workdir / "preprocessed.onnx"
        if method != "fp16":
            _preprocess(fp32, pre, large, report)
        else:
            pre = fp32
        proto = onnx.load(str(pre), load_external_data=False)
        facts = _graph_facts(proto)
        del proto
        vnni = cpu_has_vnni()

        candidate = workdir / output.name

        def evaluate(path: Path) -> float | None:
            if evaluation is None:
                return None
            logits = _run(_fp32_session(path), evaluation.x)
            return _metric(_predictions(logits), target)

        def judge(attempt: QuantAttempt, path: Path) -> bool:
            attempt.metric_after = evaluate(path)
            if attempt.metric_after is not None and report.metric_before is not None:
                attempt.drop = report.metric_before - attempt.metric_after
            ok = (max_accuracy_drop is None or attempt.drop is None
                  or attempt.drop <= max_accuracy_drop + 1e-12)
            attempt.accepted = ok
            report.attempts.append(attempt)
            return ok

        accepted = False
        if method == "int8-static":
            assert calib is not None
            report.activation_type, report.weight_type = "uint8", "int8"
            report.reduce_range = not vnni
            configs = _static_plan(per_channel, calibrate_method, list(nodes_to_exclude), facts,
                                   fallback and max_accuracy_drop is not None)
            best: tuple[float, _Config] | None = None
            best_path = workdir / "best.onnx"
            while configs:
                config = configs.pop(0)
                if config.description == "worst":
                    if best is None:
                        continue
                    # build on the best configuration so far, measured on its own output
                    base = best[1]
                    worst = _worst_nodes(pre, best_path, calib.x, inp.name, 3, workdir)
                    if not worst or {n for n, _ in worst} <= set(base.exclude):
                        continue
                    sqnr = ", ".join(f"{v:.0f}" for v in sorted({v for _, v in worst}))
                    config = _Config(
                        f"{base.description}; keep in float the nodes around the 3 "
                        f"worst-quantized activations (SQNR {sqnr} dB)",
                        base.per_channel, base.calibrate,
                        sorted(set(base.exclude) | {n for n, _ in worst}))
                _static(pre, candidate, config, calib.x, inp.name, facts, vnni, large)
                attempt = QuantAttempt(config.description, _pc_label(config, facts, vnni),
                                       config.calibrate, list(config.exclude))
                accepted = judge(attempt, candidate)
                report.per_channel = attempt.per_channel
                report.calibrate_method = config.calibrate
                report.excluded_nodes = list(config.exclude)
                if accepted:
                    break
                drop = attempt.drop if attempt.drop is not None else float("inf")
                if configs and (best is None or drop < best[0]):
                    best = (drop, config)
                    shutil.copyfile(candidate, best_path)
        elif method == "int8-dynamic":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # ConvInteger, what Conv becomes, has uint8 x uint8 kernels only on CPU
            weight_type = QuantType.QUInt8 if facts["convs"] else QuantType.QInt8
            report.weight_type = "uint8" if facts["convs"] else "int8"
            pcs = [per_channel is not False] + ([False] if per_channel is not False and
                                                fallback and max_accuracy_drop is not None
                                                else [])
            for pc in pcs:
                quantize_dynamic(str(pre), str(candidate), per_channel=pc,
                                 weight_type=weight_type, nodes_to_exclude=list(nodes_to_exclude),
                                 use_external_data_format=large)
                label = "per-channel" if pc else "per-tensor"
                report.per_channel = label
                report.excluded_nodes = list(nodes_to_exclude)
                accepted = judge(QuantAttempt(f"dynamic, {label} weights", label, None,
                                              list(nodes_to_exclude)), candidate)
                if accepted:
                    break
        else:
            from onnxruntime.transformers.float16 import convert_float_to_float16

            model16 = convert_float_to_float16(
                onnx.load(str(fp32)), keep_io_types=True,
                node_block_list=list(nodes_to_exclude) or None)
            onnx.save_model(model16, str(candidate), save_as_external_data=large,
                            all_tensors_to_one_file=True, location=candidate.name + ".data")
            del model16
            report.per_channel = "-"
            report.excluded_nodes = list(nodes_to_exclude)
            accepted = judge(QuantAttempt("fp16 weights and compute, fp32 inputs/outputs", "-",
                                          None, list(nodes_to_exclude)), candidate)
        last = report.attempts[-1]
        report.metric_after = last.metric_after
        report.seconds = time.perf_counter() - start
        if not accepted:
            raise AccuracyDropError(
                f"{method} loses {last.drop * 100:.2f} points of {report.metric} "
                f"({report.metric_before:.2%} → {last.metric_after:.2%}), more than "
                f"max_accuracy_drop={max_accuracy_drop} allows, after {len(report.attempts)} "
                "attempt(s): " + "; ".join(
                    f"{a.description}: {a.drop * 100:.2f} pt" for a in report.attempts)
                + f". Nothing was written to {str(output)!r}.",
                report,
            )
        if len(report.attempts) > 1:
            report.notes.append(
                f"the first configuration lost {report.attempts[0].drop * 100:.2f} pt; "
                f"accepted fallback: {last.description}")
        _copy_metadata(fp32, candidate, {
            "method": method, "per_channel": report.per_channel,
            "calibrate_method": report.calibrate_method,
            "calibration_samples": report.calibration_samples,
            "excluded_nodes": report.excluded_nodes, "metric": report.metric,
            "metric_before": report.metric_before, "metric_after": report.metric_after,
        }, large)
        report.size_before = _size(fp32)
        report.size_after = _size(candidate)
        report.latency_before = _latencies(fp32, shape, latency_batch_sizes, latency_repeats)
        report.latency_after = _latencies(candidate, shape, latency_batch_sizes,
                                          latency_repeats)
        with staging(output) as stage:
            staged = stage / output.name
            shutil.move(str(candidate), staged)
            data = candidate.with_name(candidate.name + ".data")
            if data.exists():
                shutil.move(str(data), staged.with_name(staged.name + ".data"))
            commit(staged, output)
        report.output = output
        report.seconds = time.perf_counter() - start
        return QuantResult(output, report)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _size(path: Path) -> int:
    from cnnzoo.deploy.bench import file_size

    return file_size(path)


def _fp32_session(path: Path):
    from cnnzoo.deploy.bench import ort_session

    try:
        return ort_session(path)
    except Exception as exc:
        raise QuantizeError(f"onnxruntime cannot load {str(path)!r}: {exc}") from exc


def _preprocess(src: Path, dst: Path, large: bool, report: QuantReport) -> None:
    from onnxruntime.quantization import quant_pre_process

    errors = []
    for skip_symbolic in (False, True):
        try:
            quant_pre_process(str(src), str(dst), skip_symbolic_shape=skip_symbolic,
                              save_as_external_data=large, all_tensors_to_one_file=True,
                              external_data_location=dst.name + ".data" if large else None)
            if skip_symbolic:
                report.notes.append("quant_pre_process: symbolic shape inference skipped "
                                    f"({errors[0]})")
            return
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")
    shutil.copyfile(src, dst)
    if src.with_name(src.name + ".data").exists():
        shutil.copyfile(src.with_name(src.name + ".data"), dst.with_name(dst.name + ".data"))
    report.notes.append(f"quant_pre_process failed ({errors[-1]}); quantized without it")


def _pc_label(config: _Config, facts: dict[str, Any], vnni: bool) -> str:
    if config.per_channel == "per-tensor":
        return "per-tensor"
    if config.per_channel == "auto" and not vnni and facts["depthwise"]:
        return (f"per-channel ({len(facts['depthwise'])} depthwise convs per-tensor: "
                "no VNNI)")
    return "per-channel"


def _static_plan(per_channel: bool | str, calibrate: str, exclude: list[str],
                 facts: dict[str, Any], fallbacks: bool) -> list[_Config]:
    pc = {True: "per-channel", False: "per-tensor", "auto": "auto"}[per_channel]
    calib = "minmax" if calibrate == "auto" else calibrate
    pc_text = "per-channel (auto)" if pc == "auto" else pc
    plan = [_Config(f"{pc_text} weights, {calib} calibration", pc, calib, list(exclude))]
    if not fallbacks:
        return plan
    if calibrate == "auto":
        plan.append(_Config(f"{pc_text} weights, percentile calibration (99.999)", pc,
                            "percentile",
                            list(exclude)))
        calib = "percentile"
    if pc != "per-tensor":
        plan.append(_Config(f"per-tensor weights, {calib} calibration", "per-tensor", calib,
                            list(exclude)))
    keep = [n for n in (facts["first_conv"], facts["last_linear"]) if n]
    keep += [n for n, _ in facts["depthwise"]]
    if keep:
        plan.append(_Config(
            f"{pc_text} weights, {calib} calibration; keep in float the first conv, the "
            "last linear layer" + (" and depthwise convs" if facts["depthwise"] else ""),
            pc, calib, sorted(set(exclude) | set(keep))))
    plan += [_Config("worst", pc, calib, list(exclude)), _Config("worst", pc, calib, [])]
    return plan
