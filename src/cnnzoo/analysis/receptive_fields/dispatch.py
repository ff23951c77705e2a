"""The dispatch table: which handler propagates receptive fields through an ATen operator.

:func:`handler_for` looks an operator up by name: first the operators with a handler
of their own (:data:`HANDLERS`), then the families (convolutions, pooling, resampling,
padding, views, reductions…). ``None`` means the element-wise rule applies.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from cnnzoo.analysis.receptive_fields import mixing, reshaping, sliding
from cnnzoo.analysis.receptive_fields.store import MetaStore, OpCall

__all__ = [
    "ALONG_AXES",
    "HANDLERS",
    "NO_DEPENDENCY",
    "REDUCTIONS",
    "VIEWS",
    "Handler",
    "handler_for",
]

Handler = Callable[[MetaStore, OpCall], None]
"""Attach a meta to an operator's outputs, given the metas of its inputs."""

NO_DEPENDENCY = frozenset({
    "empty", "empty_strided", "zeros", "ones", "full", "arange", "linspace", "rand", "randn",
    "randint", "randperm", "scalar_tensor", "fill_", "zero_", "bernoulli_", "uniform_",
    "normal_", "random_", "exponential_", "geometric_", "cauchy_", "log_normal_",
    "bernoulli", "normal", "eye", "tensor", "_local_scalar_dense",
})  # fmt: skip
"""Operators whose output depends on no input value (an in-place one forgets its target)."""

REDUCTIONS = frozenset({
    "mean", "sum", "nansum", "nanmean", "amax", "amin", "max", "min", "aminmax", "var", "std",
    "var_mean", "std_mean", "logsumexp", "prod", "norm", "linalg_vector_norm", "argmax",
    "argmin", "any", "all", "median", "nanmedian", "mode", "kthvalue", "count_nonzero",
})  # fmt: skip
ALONG_AXES = frozenset({
    "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "sort", "argsort", "topk",
    "roll", "flip", "_fft_r2c", "_fft_c2r", "_fft_c2c",
})  # fmt: skip
VIEWS = frozenset({
    "view", "_unsafe_view", "reshape", "_reshape_alias", "view_as", "flatten", "unflatten",
    "squeeze", "unsqueeze", "as_strided", "as_strided_", "alias", "view_as_real",
    "view_as_complex", "squeeze_", "unsqueeze_", "resize_",
})  # fmt: skip
_PADS = frozenset({"constant_pad_nd", "_pad_circular", "pad"})

HANDLERS: dict[str, Handler] = {
    # windows
    "pixel_shuffle": sliding.pixel_shuffle,
    "pixel_unshuffle": sliding.pixel_unshuffle,
    "unfold": sliding.unfold,
    # shape changes
    "expand": reshaping.expand,
    "permute": reshaping.permute,
    "transpose": reshaping.transpose,
    "transpose_": reshaping.transpose,
    "t": reshaping.transpose,
    "t_": reshaping.transpose,
    "slice": reshaping.slice_tensor,
    "select": reshaping.select,
    "split": reshaping.split,
    "split_with_sizes": reshaping.split,
    "chunk": reshaping.split,
    "tensor_split": reshaping.split,
    "unbind": reshaping.unbind,
    "cat": reshaping.concatenate,
    "concat": reshaping.concatenate,
    "concatenate": reshaping.concatenate,
    "stack": reshaping.stack,
    # products
    "mm": mixing.mm,
    "addmm": mixing.addmm,
    "bmm": mixing.bmm,
    "baddbmm": mixing.baddbmm,
    "mv": mixing.mv,
    "dot": mixing.dot,
    "matmul": mixing.matmul,
    "linear": mixing.linear,
}
"""Operators with a handler of their own, by name without leading underscores."""


def _family(op: str) -> Handler | None:
    """The handler of the family ``op`` belongs to, if any."""
    if op in ("convolution", "_convolution"):
        return sliding.convolution
    if op.startswith(("max_pool", "avg_pool")):
        return sliding.pool
    if "adaptive" in op and "pool" in op:
        return sliding.adaptive_pool
    if "upsample" in op:
        return sliding.upsample
    if op.startswith(("reflection_pad", "replication_pad")) or op in _PADS:
        return reshaping.pad
    if op in VIEWS:
        return reshaping.view
    if op in REDUCTIONS:
        return mixing.reduction
    if op in ALONG_AXES:
        return mixing.along_axes
    if "scaled_dot_product" in op:
        return mixing.attention
    return None


@functools.cache
def handler_for(op: str) -> Handler | None:
    """The handler of the ATen operator ``op`` (no namespace, no overload), or ``None``.

    Example:
        >>> handler_for("convolution").__name__, handler_for("_unsafe_view").__name__
        ('convolution', 'view')
        >>> handler_for("relu") is None  # element-wise
        True
    """
    return HANDLERS.get(op.lstrip("_")) or _family(op)
