"""Sliding windows along tensor axes: convolutions, pooling, resampling.

A :data:`Window` says, for an axis of ``n_in`` input and ``n_out`` output indices,
which input indices each output index reads (its taps) and how many input indices
the window advances per output index. :func:`windowed` applies windows to the axes
of a :class:`~cnnzoo.analysis.receptive_fields.layout.Meta`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction

from cnnzoo.analysis.receptive_fields.layout import (
    Meta,
    fold_axes,
    fold_label,
    norm,
    plain,
)
from cnnzoo.analysis.receptive_fields.spans import Taps, windowed_span

__all__ = [
    "Window",
    "adaptive_window",
    "conv_window",
    "interp_window",
    "transposed_window",
    "windowed",
]

Window = Callable[[int, int], tuple[Taps, Fraction]]
"""``window(n_in, n_out) -> (taps, ratio)`` as in
:func:`~cnnzoo.analysis.receptive_fields.spans.windowed_span`."""


def windowed(
    meta: Meta,
    out_shape: Sequence[int],
    windows: dict[int, Window],
    notes: list[str],
    what: str,
) -> Meta:
    """Apply per-axis windows ``{axis: window}`` to a meta.

    A window over an axis that holds a flattened spatial axis mixes its positions:
    the axis is folded first and ``what`` is noted.
    """
    for a in windows:
        atoms = meta.axes[a]
        labels = [atom[0] for atom in atoms if atom[0] is not None]
        if labels and len(atoms) != 1:
            notes.append(f"{what} over a flattened spatial axis")
            meta = fold_axes(meta, [a])
        elif labels:
            meta = fold_label(meta, labels[0], keep_axis=a)
    spans = list(meta.spans)
    axes = list(meta.axes)
    in_shape = meta.shape()
    for a, window in windows.items():
        n_out = int(out_shape[a])
        atoms = meta.axes[a]
        label, _, step = atoms[0] if atoms else (None, 0, 0)
        if label is not None:
            taps, ratio = window(in_shape[a], n_out)
            spans[label] = windowed_span(spans[label], step, taps, ratio)
            axes[a] = norm([(label, n_out, 1)])
        else:
            axes[a] = plain(n_out)
    return Meta(tuple(spans), tuple(axes))


def conv_window(kernel: int, stride: int, padding: int, dilation: int) -> Window:
    """The window of a convolution or a pooling."""

    def window(n_in: int, n_out: int) -> tuple[Taps, Fraction]:
        def taps(o: int) -> list[int]:
            return [o * stride - padding + t * dilation for t in range(kernel)]

        return taps, Fraction(stride)

    return window


def transposed_window(kernel: int, stride: int, padding: int, dilation: int) -> Window:
    """The window of a transposed convolution."""

    def window(n_in: int, n_out: int) -> tuple[Taps, Fraction]:
        def taps(o: int) -> list[int]:  # input i feeds o = i * stride - padding + t * dilation
            sources = [o + padding - t * dilation for t in range(kernel)]
            return [s // stride for s in sources if s % stride == 0]

        return taps, Fraction(1, stride)

    return window


def adaptive_window(n_in: int, n_out: int) -> tuple[Taps, Fraction]:
    """The window of an adaptive pooling (itself a :data:`Window`)."""

    def taps(o: int) -> list[int]:
        return list(range((o * n_in) // n_out, -(-((o + 1) * n_in) // n_out)))

    return taps, Fraction(n_in, n_out)


def interp_window(mode: str, align_corners: bool, scale: float | None) -> Window:
    """The window of an interpolation: ``nearest``, ``nearest_exact``, ``linear``, ``cubic``."""

    def window(n_in: int, n_out: int) -> tuple[Taps, Fraction]:
        # The source index arithmetic of ATen's upsampling kernels, without the
        # clamping at the borders.
        if align_corners and mode not in ("nearest", "nearest_exact"):
            ratio = Fraction(n_in - 1, n_out - 1) if n_out > 1 else Fraction(1)
        elif scale:
            ratio = 1 / Fraction(scale).limit_denominator(10**4)
        else:
            ratio = Fraction(n_in, n_out)
        half = Fraction(1, 2)

        def taps(o: int) -> list[int]:
            if mode == "nearest":
                return [math.floor(o * ratio)]
            if mode == "nearest_exact":
                return [math.floor((o + half) * ratio)]
            src = o * ratio if align_corners else (o + half) * ratio - half
            base = math.floor(src)
            if src == base:
                return [base]
            return [base, base + 1] if mode == "linear" else [base - 1, base, base + 1, base + 2]

        return taps, ratio

    return window
