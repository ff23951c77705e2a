"""Handlers of the windowed operators: convolutions, pooling, resampling, pixel shuffles.

Each handler takes the :class:`~cnnzoo.analysis.receptive_fields.store.MetaStore` and
the :class:`~cnnzoo.analysis.receptive_fields.store.OpCall` and attaches a meta to the
operator's outputs.
"""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction
from typing import Any

from cnnzoo.analysis.receptive_fields.layout import Meta, fold_axes, norm, plain
from cnnzoo.analysis.receptive_fields.mixing import pointwise
from cnnzoo.analysis.receptive_fields.spans import Taps
from cnnzoo.analysis.receptive_fields.store import MetaStore, OpCall
from cnnzoo.analysis.receptive_fields.windows import (
    Window,
    adaptive_window,
    conv_window,
    interp_window,
    transposed_window,
    windowed,
)
from cnnzoo.errors import AnalysisError

__all__ = [
    "adaptive_pool",
    "convolution",
    "pixel_shuffle",
    "pixel_unshuffle",
    "pool",
    "unfold",
    "upsample",
]


def _spatial_rank(op: str) -> int:
    """The number of spatial axes an operator such as ``max_pool2d`` works on."""
    found = re.search(r"(\d)d(?:_|$)", op)
    return int(found.group(1)) if found else 1


def _per_axis(value: Any, n: int, default: int) -> list[int]:
    """An operator's per-axis argument (an int, a list or nothing) as ``n`` ints."""
    if value is None or (isinstance(value, (list, tuple)) and not value):
        return [default] * n
    if isinstance(value, int):
        return [value] * n
    values = [int(v) for v in value]
    return values * n if len(values) == 1 else values


def _per_scale(scales: Any, n: int) -> list[float | None]:
    """An upsampling's scale factors as ``n`` floats (``None``: derived from the sizes)."""
    if scales is None:
        return [None] * n
    values = list(scales) if isinstance(scales, (list, tuple)) else [scales]
    floats = [None if v is None else float(v) for v in values]
    return floats * n if len(floats) == 1 else floats[-n:]


def convolution(store: MetaStore, call: OpCall) -> None:
    """``convolution``: a window per spatial axis; channels mix unless depthwise."""
    b = call.bound
    x, weight = b["input"], b["weight"]
    meta = store.get(x)
    if meta is None:
        return
    out_shape = call.outs[0].shape
    n = weight.ndim - 2
    first = x.ndim - n
    stride = _per_axis(b.get("stride"), n, 1)
    padding = _per_axis(b.get("padding"), n, 0)
    dilation = _per_axis(b.get("dilation"), n, 1)
    groups = int(b.get("groups", 1))
    channels = x.shape[first - 1] if first >= 1 else 1
    depthwise = groups > 1 and groups == channels == out_shape[first - 1]
    if not depthwise and first >= 1:
        meta = fold_axes(meta, [first - 1])
    make = transposed_window if bool(b.get("transposed", False)) else conv_window
    windows = {
        first + k: make(int(weight.shape[2 + k]), stride[k], padding[k], dilation[k])
        for k in range(n)
    }
    result = windowed(meta, out_shape, windows, store.notes, "a convolution")
    if first >= 1 and not depthwise:
        axes = list(result.axes)
        axes[first - 1] = plain(int(out_shape[first - 1]))
        result = Meta(result.spans, tuple(axes))
    store.put(call.out, result, out_shape)


def pool(store: MetaStore, call: OpCall) -> None:
    """``max_pool*`` / ``avg_pool*``: a window per spatial axis."""
    b = call.bound
    x = b["self"]
    meta = store.require(x)
    n = _spatial_rank(call.op)
    kernel = _per_axis(b.get("kernel_size"), n, 1)
    stride = _per_axis(b.get("stride"), n, 0)
    stride = [s or k for s, k in zip(stride, kernel, strict=True)]
    padding = _per_axis(b.get("padding"), n, 0)
    dilation = _per_axis(b.get("dilation"), n, 1)
    first = x.ndim - n
    windows = {
        first + k: conv_window(kernel[k], stride[k], padding[k], dilation[k]) for k in range(n)
    }
    out_shape = call.outs[0].shape
    store.put(call.out, windowed(meta, out_shape, windows, store.notes, "a pooling"), out_shape)


def adaptive_pool(store: MetaStore, call: OpCall) -> None:
    """``adaptive_*_pool*``: windows that cover the input in ``n_out`` (uneven) parts."""
    x = call.bound["self"]
    n = _spatial_rank(call.op)
    first = x.ndim - n
    windows: dict[int, Window] = {first + k: adaptive_window for k in range(n)}
    out_shape = call.outs[0].shape
    result = windowed(store.require(x), out_shape, windows, store.notes, "an adaptive pooling")
    store.put(call.out, result, out_shape)


def _interp_mode(op: str) -> str:
    if "nearest_exact" in op:
        return "nearest_exact"
    if "nearest" in op:
        return "nearest"
    if "bicubic" in op:
        return "cubic"
    return "linear"


def upsample(store: MetaStore, call: OpCall) -> None:
    """``upsample_*``: interpolation windows, exact phase by phase."""
    b, op = call.bound, call.op
    x = b.get("self", b.get("input"))
    if x is None:
        raise AnalysisError(f"{op} has no input tensor")
    n = _spatial_rank(op)
    if op.endswith("_aa"):
        store.note(f"{op}: the anti-aliasing filter is not modelled")
    scales = b.get("scale_factors")
    if scales is None:
        keys = ("scales_d", "scales_h", "scales_w") if n == 3 else ("scales_h", "scales_w")
        scales = [b.get(key) for key in keys[-n:]] if n > 1 else [b.get("scales")]
    per_axis = _per_scale(scales, n)
    align = bool(b.get("align_corners", False) or False)
    mode = _interp_mode(op)
    first = x.ndim - n
    windows = {first + k: interp_window(mode, align, per_axis[k]) for k in range(n)}
    out_shape = call.outs[0].shape
    result = windowed(store.require(x), out_shape, windows, store.notes, "a resampling")
    store.put(call.out, result, out_shape)


def pixel_shuffle(store: MetaStore, call: OpCall) -> None:
    """``pixel_shuffle``: channels become ``r x r`` spatial phases."""
    x = call.bound["self"]
    meta = store.require(x)
    r = int(call.bound["upscale_factor"])
    c = x.ndim - 3
    if any(atom[0] is not None for atom in meta.axes[c]):
        store.note("pixel_shuffle of spatially packed channels")
    meta = fold_axes(meta, [c])
    axes = list(meta.axes)
    axes[c] = plain(int(call.outs[0].shape[c]))
    meta = Meta(meta.spans, tuple(axes))

    def window(n_in: int, n_out: int) -> tuple[Taps, Fraction]:
        return (lambda o: [o // r]), Fraction(1, r)

    windows: dict[int, Window] = {x.ndim - 2: window, x.ndim - 1: window}
    store.put(call.out, windowed(meta, call.outs[0].shape, windows, store.notes, "pixel_shuffle"))


def pixel_unshuffle(store: MetaStore, call: OpCall) -> None:
    """``pixel_unshuffle``: ``r x r`` spatial phases become channels (space-to-depth)."""
    x = call.bound["self"]
    meta = store.require(x)
    r = int(call.bound["downscale_factor"])
    c = x.ndim - 3
    spatial = [meta.axes[c + 1], meta.axes[c + 2]]
    if not all(len(axis) == 1 and axis[0][0] is not None for axis in spatial):
        pointwise(store, replace(call, qualified="aten::pixel_unshuffle", kwargs={}))
        return
    (hl, hn, hs), (wl, wn, ws) = spatial[0][0], spatial[1][0]
    axes = list(meta.axes)
    axes[c] = norm([*meta.axes[c], (hl, r, hs), (wl, r, ws)])
    axes[c + 1] = norm([(hl, hn // r, hs * r)])
    axes[c + 2] = norm([(wl, wn // r, ws * r)])
    store.put(call.out, Meta(meta.spans, tuple(axes)), call.outs[0].shape)


def unfold(store: MetaStore, call: OpCall) -> None:
    """``Tensor.unfold``: a window along one axis; the window positions form a new axis."""
    b = call.bound
    x = b["self"]
    a = int(b["dimension"]) % max(x.ndim, 1)
    window = conv_window(int(b["size"]), int(b["step"]), 0, 1)
    meta = store.require(x)
    last = call.outs[0].shape
    result = windowed(meta, list(last[:-1]), {a: window}, store.notes, "unfold")
    store.put(call.out, Meta(result.spans, (*result.axes, plain(int(last[-1])))))
