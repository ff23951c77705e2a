"""Handlers of the operators that move units around: views, slices, joins, padding.

Views, permutations and transpositions only regroup a meta's atoms; slicing and
padding shift the spans; concatenation and stacking merge their inputs. A reshape
that would mix spatial positions is treated as global and noted.
"""

from __future__ import annotations

import math

from cnnzoo.analysis.receptive_fields.layout import (
    Atom,
    Meta,
    fold_axes,
    global_meta,
    merge,
    norm,
    plain,
    regroup,
)
from cnnzoo.analysis.receptive_fields.spans import shifted
from cnnzoo.analysis.receptive_fields.store import MetaStore, OpCall

__all__ = [
    "concatenate",
    "expand",
    "pad",
    "permute",
    "select",
    "slice_axis",
    "slice_tensor",
    "split",
    "stack",
    "transpose",
    "unbind",
    "view",
]


def view(store: MetaStore, call: OpCall) -> None:
    """``view``, ``reshape``, ``flatten``, ``squeeze``…: regroup the atoms."""
    meta = store.require(call.args[0])
    for t in call.outs:
        shape = tuple(int(n) for n in t.shape)
        if shape == meta.shape():
            store.put(t, meta)
            continue
        regrouped = regroup(meta, shape)
        if regrouped is None:
            store.note(f"{call.op} to {shape} mixes spatial positions; treated as global")
            regrouped = global_meta([meta], shape)
        store.put(t, regrouped)


def expand(store: MetaStore, call: OpCall) -> None:
    """``expand``: broadcast to a larger shape."""
    meta = store.require(call.args[0])
    shape = [int(n) for n in call.outs[0].shape]
    align: list[int | None] = [None] * (len(shape) - len(meta.axes))
    align += range(len(meta.axes))
    store.put(call.out, merge([(meta, align)], shape, store.notes))


def permute(store: MetaStore, call: OpCall) -> None:
    """``permute``: reorder the axes."""
    meta = store.require(call.args[0])
    n = len(meta.axes)
    order = [int(d) % max(n, 1) for d in call.bound["dims"]]
    store.put(call.out, Meta(meta.spans, tuple(meta.axes[d] for d in order)))


def transpose(store: MetaStore, call: OpCall) -> None:
    """``transpose``, ``t``: swap two axes."""
    meta = store.require(call.args[0])
    b = call.bound
    n = len(meta.axes)
    order = list(range(n))
    if n >= 2:
        d0, d1 = (int(b["dim0"]) % n, int(b["dim1"]) % n) if "dim0" in b else (0, 1)
        order[d0], order[d1] = order[d1], order[d0]
    store.put(call.out, Meta(meta.spans, tuple(meta.axes[d] for d in order)))


def slice_axis(store: MetaStore, meta: Meta, a: int, start: int, step: int, size: int) -> Meta:
    """Keep ``size`` indices of axis ``a`` from ``start`` on, every ``step``-th."""
    atoms = meta.axes[a]
    axes = list(meta.axes)
    spans = list(meta.spans)
    if not any(atom[0] is not None for atom in atoms):
        axes[a] = plain(size)
        return Meta(tuple(spans), tuple(axes))
    inner = math.prod(atom[1] for atom in atoms[1:])
    if inner > 1 and (start % inner or step != 1 or size % inner):
        store.note("slicing a flattened spatial axis; treated as global")
        meta = fold_axes(meta, [a])
        axes = list(meta.axes)
        axes[a] = plain(size)
        return Meta(meta.spans, tuple(axes))
    label, _, unit = atoms[0]
    start //= inner
    count = size // inner
    first: Atom
    if label is not None:
        spans[label] = shifted(spans[label], start * unit)
        first = (label, count, unit * step)
    else:
        first = (None, count, 1)
    axes[a] = norm([first, *atoms[1:]])
    return Meta(tuple(spans), tuple(axes))


def slice_tensor(store: MetaStore, call: OpCall) -> None:
    """``slice``: ``x[..., start:end:step]`` along one axis."""
    b = call.bound
    x = b["self"]
    a = int(b.get("dim", 0)) % max(x.ndim, 1)
    n = int(x.shape[a])
    begin, step = b.get("start"), int(b.get("step", 1) or 1)
    start = 0 if begin is None else int(begin)
    start = min(max(start + n if start < 0 else start, 0), n)
    size = int(call.outs[0].shape[a])
    store.put(call.out, slice_axis(store, store.require(x), a, start, step, size))


def select(store: MetaStore, call: OpCall) -> None:
    """``select``: ``x[..., index]``, dropping the axis."""
    b = call.bound
    x = b["self"]
    a = int(b["dim"]) % max(x.ndim, 1)
    index = int(b["index"]) % int(x.shape[a])
    meta = slice_axis(store, store.require(x), a, index, 1, 1)
    store.put(call.out, Meta(meta.spans, meta.axes[:a] + meta.axes[a + 1 :]))


def split(store: MetaStore, call: OpCall) -> None:
    """``split``, ``chunk``…: consecutive slices along one axis."""
    x = call.bound["self"]
    a = int(call.bound.get("dim", 0)) % max(x.ndim, 1)
    meta = store.require(x)
    start = 0
    for t in call.outs:
        size = int(t.shape[a])
        store.put(t, slice_axis(store, meta, a, start, 1, size))
        start += size


def unbind(store: MetaStore, call: OpCall) -> None:
    """``unbind``: one tensor per index of an axis, dropping the axis."""
    x = call.bound["self"]
    a = int(call.bound.get("dim", 0)) % max(x.ndim, 1)
    for index, t in enumerate(call.outs):
        meta = slice_axis(store, store.require(x), a, index, 1, 1)
        store.put(t, Meta(meta.spans, meta.axes[:a] + meta.axes[a + 1 :]))


def concatenate(store: MetaStore, call: OpCall) -> None:
    """``cat``: merge the inputs; along a spatial axis it is global along it (noted)."""
    shape = [int(n) for n in call.outs[0].shape]
    a = int(call.bound.get("dim", 0)) % max(len(shape), 1)
    parts: list[tuple[Meta, list[int | None]]] = []
    for t in call.bound["tensors"]:
        meta = store.get(t)
        if meta is None or t.ndim != len(shape):
            continue
        if any(atom[0] is not None for atom in meta.axes[a]):
            store.note("concatenation along a spatial axis; treated as global along it")
        parts.append((meta, list(range(len(shape)))))
    if parts:
        store.put(call.out, merge(parts, shape, store.notes))


def stack(store: MetaStore, call: OpCall) -> None:
    """``stack``: merge the inputs along a new axis."""
    shape = [int(n) for n in call.outs[0].shape]
    a = int(call.bound.get("dim", 0)) % max(len(shape), 1)
    align: list[int | None] = [k if k < a else k - 1 for k in range(len(shape))]
    align[a] = None
    metas = (store.get(t) for t in call.bound["tensors"])
    parts: list[tuple[Meta, list[int | None]]] = [(m, align) for m in metas if m is not None]
    if parts:
        store.put(call.out, merge(parts, shape, store.notes))


def pad(store: MetaStore, call: OpCall) -> None:
    """``constant_pad_nd``, ``reflection_pad*``…: a negative slice of each padded axis."""
    x = call.args[0]
    meta = store.require(x)
    b = call.bound
    widths = [int(p) for p in (b.get("pad") or b.get("padding") or [])]
    if "circular" in call.op or b.get("mode") == "circular":
        store.note("circular padding is modelled as zero padding")
    out_shape = call.outs[0].shape
    for i in range(len(widths) // 2):
        a = x.ndim - 1 - i
        meta = slice_axis(store, meta, a, -widths[2 * i], 1, int(out_shape[a]))
    store.put(call.out, meta, out_shape)
