"""Handlers of the operators that combine units: element-wise, reductions, products.

An element-wise operator unites what its broadcast inputs' aligned units see; a
reduction folds the axes it reduces; a matrix product folds its contracted axes and
unites the rest. An operator without a rule is treated as global (every output unit
sees everything its inputs see) and noted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnzoo.analysis.receptive_fields.layout import Meta, fold_axes, global_meta, merge, plain
from cnnzoo.analysis.receptive_fields.store import MetaStore, OpCall
from cnnzoo.analysis.tracing import iter_tensors

__all__ = [
    "addmm",
    "along_axes",
    "attention",
    "baddbmm",
    "bmm",
    "dot",
    "linear",
    "matmul",
    "mm",
    "mv",
    "pointwise",
    "pointwise_global",
    "reduction",
]

# A term of a matrix product: (tensor, contracted axes, alignment with the output's axes).
_Term = tuple[Any, Sequence[int], Sequence[int | None]]


def _dims(value: Any, ndim: int) -> list[int]:
    """The sorted axes an operator's ``dim`` argument names (all of them for none)."""
    if value is None or (isinstance(value, (list, tuple)) and not value):
        return list(range(ndim))
    values = [value] if isinstance(value, int) else list(value)
    return sorted({int(v) % max(ndim, 1) for v in values})


def pointwise(store: MetaStore, call: OpCall) -> None:
    """The default rule: broadcast the inputs and unite what aligned units see.

    An output whose shape is not the inputs' broadcast shape is treated as global.
    """
    args, op = call.args, call.op
    tensors = list(iter_tensors((args, call.kwargs)))
    metas = [(m, t) for m, t in ((store.get(t), t) for t in tensors) if m is not None]
    if op == "copy_":
        metas = [(m, t) for m, t in metas if t is not args[0]] or metas
    shapes = [tuple(t.shape) for _, t in metas]
    if op.endswith("_") and args and isinstance(args[0], torch.Tensor):
        shapes.append(tuple(args[0].shape))
    try:
        shape: Sequence[int] | None = torch.broadcast_shapes(*shapes)
    except RuntimeError:
        shape = None
    targets = [t for t in call.outs if shape is not None and tuple(t.shape) == tuple(shape)]
    if shape is None or not targets:
        store.note(
            f"{call.qualified} is not modelled; its output is treated as seeing all of its input"
        )
        for t in call.outs:
            store.put(t, global_meta([m for m, _ in metas], t.shape))
        return
    n = len(shape)
    aligned: list[tuple[Meta, Sequence[int | None]]] = [
        (m, [None] * (n - t.ndim) + list(range(t.ndim))) for m, t in metas
    ]
    merged = merge(aligned, shape, store.notes)
    for t in targets:
        store.put(t, merged)


def pointwise_global(
    store: MetaStore, outs: Sequence[torch.Tensor], tensors: Sequence[Any], what: str
) -> None:
    """Treat ``outs`` as seeing everything ``tensors`` see, and note ``what``."""
    store.note(f"{what} is treated as global")
    metas = [m for m in (store.get(t) for t in tensors) if m is not None]
    for t in outs:
        store.put(t, global_meta(metas, t.shape))


def reduction(store: MetaStore, call: OpCall) -> None:
    """``mean``, ``sum``, ``amax``…: fold the reduced axes (binary ``max``/``min``: pointwise)."""
    x = call.args[0]
    others = [t for t in iter_tensors(call.args[1:]) if isinstance(t, torch.Tensor)]
    if others:  # binary max/min: element-wise
        pointwise(store, OpCall(call.func, call.op, call.op, call.args, {}, call.out, call.outs))
        return
    meta = store.require(x)
    b = call.bound
    dims = _dims(b.get("dim"), x.ndim)
    keepdim = bool(b.get("keepdim", False))
    folded = fold_axes(meta, dims)
    for t in call.outs:
        if t.ndim == x.ndim and keepdim:
            axes = [() if a in dims else axis for a, axis in enumerate(folded.axes)]
        else:
            axes = [axis for a, axis in enumerate(folded.axes) if a not in dims]
        result = Meta(folded.spans, tuple(axes))
        if result.shape() != tuple(t.shape):
            result = global_meta([meta], t.shape)
        store.put(t, result)


def along_axes(store: MetaStore, call: OpCall) -> None:
    """``cumsum``, ``sort``, ``roll``, FFTs…: global along the axes they work on (noted)."""
    x = call.args[0]
    store.note(f"{call.op} is treated as global along the axes it works on")
    b = call.bound
    dims = _dims(b.get("dim", b.get("dims")), x.ndim)
    folded = fold_axes(store.require(x), dims)
    for t in call.outs:
        if tuple(t.shape) == folded.shape():
            store.put(t, folded)
        elif t.ndim == x.ndim:
            axes = [
                axis if a not in dims else plain(int(t.shape[a]))
                for a, axis in enumerate(folded.axes)
            ]
            store.put(t, Meta(folded.spans, tuple(axes)))


def _products(store: MetaStore, out: object, shape: Sequence[int], terms: Sequence[_Term]) -> None:
    """Combine ``(tensor, contracted axes, alignment)`` terms of a matrix product."""
    parts: list[tuple[Meta, Sequence[int | None]]] = []
    for t, contracted, align in terms:
        meta = store.get(t)
        if meta is None:
            continue
        parts.append((fold_axes(meta, [a % t.ndim for a in contracted]), align))
    if parts:
        store.put(out, merge(parts, shape, store.notes), shape)


def _bias_term(bias: Any, ndim: int) -> _Term:
    """A bias added to a product of ``ndim`` axes: aligned with the trailing axes."""
    return (bias, [], [None] * (ndim - bias.ndim) + list(range(bias.ndim)))


def mm(store: MetaStore, call: OpCall) -> None:
    """``mm``: ``(n, k) @ (k, m)``."""
    b = call.bound
    terms: list[_Term] = [(b["self"], [1], [0, None]), (b["mat2"], [0], [None, 1])]
    _products(store, call.out, call.outs[0].shape, terms)


def addmm(store: MetaStore, call: OpCall) -> None:
    """``addmm``: ``bias + (n, k) @ (k, m)`` (a linear layer)."""
    b = call.bound
    terms: list[_Term] = [(b["mat1"], [1], [0, None]), (b["mat2"], [0], [None, 1])]
    terms.append(_bias_term(b["self"], 2))
    _products(store, call.out, call.outs[0].shape, terms)


def bmm(store: MetaStore, call: OpCall) -> None:
    """``bmm``: ``(b, n, k) @ (b, k, m)``."""
    b = call.bound
    terms: list[_Term] = [(b["self"], [2], [0, 1, None]), (b["mat2"], [1], [0, None, 2])]
    _products(store, call.out, call.outs[0].shape, terms)


def baddbmm(store: MetaStore, call: OpCall) -> None:
    """``baddbmm``: ``bias + (b, n, k) @ (b, k, m)``."""
    b = call.bound
    terms: list[_Term] = [(b["batch1"], [2], [0, 1, None]), (b["batch2"], [1], [0, None, 2])]
    terms.append(_bias_term(b["self"], 3))
    _products(store, call.out, call.outs[0].shape, terms)


def mv(store: MetaStore, call: OpCall) -> None:
    """``mv``: ``(n, k) @ (k,)``."""
    b = call.bound
    terms: list[_Term] = [(b["self"], [1], [0]), (b["vec"], [0], [None])]
    _products(store, call.out, call.outs[0].shape, terms)


def dot(store: MetaStore, call: OpCall) -> None:
    """``dot``: ``(k,) . (k,)``."""
    b = call.bound
    _products(store, call.out, (), [(b["self"], [0], []), (b["tensor"], [0], [])])


def matmul(store: MetaStore, call: OpCall) -> None:
    """``matmul``: batched ``(..., n, k) @ (..., k, m)``; with a vector: global."""
    a_t, b_t = call.bound["self"], call.bound["other"]
    shape = [int(n) for n in call.outs[0].shape]
    n = len(shape)
    if a_t.ndim == 1 or b_t.ndim == 1:
        pointwise_global(store, call.outs, [a_t, b_t], "matmul with a vector")
        return
    align_a = [None] * (n - a_t.ndim) + list(range(a_t.ndim - 1)) + [None]
    align_b = [None] * (n - b_t.ndim) + list(range(b_t.ndim - 2)) + [None, b_t.ndim - 1]
    _products(store, call.out, shape, [(a_t, [-1], align_a), (b_t, [-2], align_b)])


def linear(store: MetaStore, call: OpCall) -> None:
    """``linear``: contract the last axis, add the bias."""
    x, bias = call.bound["input"], call.bound.get("bias")
    shape = [int(n) for n in call.outs[0].shape]
    terms: list[_Term] = [(x, [-1], [*range(x.ndim - 1), None])]
    if isinstance(bias, torch.Tensor):
        terms.append(_bias_term(bias, len(shape)))
    _products(store, call.out, shape, terms)


def attention(store: MetaStore, call: OpCall) -> None:
    """``scaled_dot_product_attention``: each query sees every key and value."""
    q, k, v = call.args[0], call.args[1], call.args[2]
    shape = [int(n) for n in call.outs[0].shape]
    n = len(shape)
    terms: list[_Term] = [(q, [-1], [*range(q.ndim - 1), None])]
    for t in (k, v):
        terms.append((t, [-2, -1], [None] * (n - t.ndim) + list(range(t.ndim - 2)) + [None, None]))
    _products(store, call.outs[0], shape, terms)
