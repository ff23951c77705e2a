"""How a tensor's axes map onto the input's spatial axes: atoms, folding and merging.

Every tensor derived from the input carries a :class:`Meta`: one
:class:`~cnnzoo.analysis.receptive_fields.spans.Span` per spatial axis of the input,
and per tensor axis a tuple of atoms ``(label, size, step)``. Label ``d`` means one
step along the atom moves ``step`` units along input axis ``d``; label ``None`` marks
a channel-like atom. Flattening, reshaping and permuting only regroup atoms; an
operator that mixes an atom's positions folds it into the spans (:func:`fold`), and
an operator that combines several tensors unites what aligned units see
(:func:`merge`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from cnnzoo.analysis.receptive_fields.spans import Bound, Span, folded, lower, phased, upper

__all__ = [
    "Atom",
    "Meta",
    "fold",
    "fold_axes",
    "fold_label",
    "global_meta",
    "merge",
    "norm",
    "plain",
    "regroup",
]

Atom = tuple[int | None, int, int]
"""``(label, size, step)``: ``size`` positions, each ``step`` units along input axis ``label``."""


@dataclass(frozen=True)
class Meta:
    """What every unit of one tensor sees: one span per input axis, atoms per tensor axis."""

    spans: tuple[Span, ...]
    axes: tuple[tuple[Atom, ...], ...]

    def atoms(self, dim: int) -> list[tuple[int, Atom]]:
        """``(tensor axis, atom)`` for every atom along input axis ``dim``."""
        return [(a, atom) for a, axis in enumerate(self.axes) for atom in axis if atom[0] == dim]

    def shape(self) -> tuple[int, ...]:
        """The shape of the tensor this meta describes."""
        return tuple(math.prod(atom[1] for atom in axis) for axis in self.axes)


def norm(atoms: Iterable[Atom]) -> tuple[Atom, ...]:
    """Drop size-1 atoms and merge neighbours that describe one contiguous range."""
    out: list[Atom] = []
    for atom in atoms:
        label, size, step = atom
        if size == 1:
            continue
        if out:
            plabel, psize, pstep = out[-1]
            if label is None and plabel is None:
                out[-1] = (None, psize * size, 1)
                continue
            if label is not None and label == plabel and pstep == step * size:
                out[-1] = (label, psize * size, step)
                continue
        out.append((label, size, 1 if label is None else step))
    return tuple(out)


def plain(size: int) -> tuple[Atom, ...]:
    """The atoms of a channel-like axis of ``size`` positions."""
    return norm([(None, size, 1)])


def fold(meta: Meta, picks: Iterable[tuple[int, int]]) -> Meta:
    """Fold the atoms at (axis, position) into the spans: the operator mixes their units."""
    chosen: dict[int, set[int]] = {}
    for axis, pos in picks:
        chosen.setdefault(axis, set()).add(pos)
    spans = list(meta.spans)
    axes = list(meta.axes)
    units: dict[int, int] = {}
    for axis, positions in chosen.items():
        kept: list[Atom] = []
        for pos, atom in enumerate(meta.axes[axis]):
            label, size, step = atom
            if pos in positions and label is not None:
                spans[label] = folded(spans[label], size, step)
                units[label] = units.get(label, 1) + (size - 1) * step
                kept.append((None, size, 1))
            else:
                kept.append(atom)
        axes[axis] = norm(kept)
    result = Meta(tuple(spans), tuple(axes))
    for label, count in units.items():
        if not result.atoms(label):  # the axis is gone: its one unit spans all of them
            lo, hi = spans[label].at(0)
            spans[label] = replace(spans[label], jump=spans[label].jump * count, lo=(lo,), hi=(hi,))
    return Meta(tuple(spans), tuple(axes))


def fold_axes(meta: Meta, axes: Iterable[int]) -> Meta:
    """Fold every atom of the tensor axes ``axes``."""
    return fold(meta, [(a, p) for a in set(axes) for p in range(len(meta.axes[a]))])


def fold_label(meta: Meta, label: int, keep_axis: int | None = None) -> Meta:
    """Fold every atom along input axis ``label``, except those on tensor axis ``keep_axis``."""
    picks = []
    for a, axis in enumerate(meta.axes):
        if a == keep_axis:
            continue
        picks += [(a, p) for p, atom in enumerate(axis) if atom[0] == label]
    return fold(meta, picks) if picks else meta


def global_meta(metas: Sequence[Meta], shape: Sequence[int]) -> Meta:
    """The meta of a tensor every unit of which sees everything its inputs see."""
    spans = []
    folded_metas = [fold_axes(m, range(len(m.axes))) for m in metas]
    for d in range(len(metas[0].spans)):
        bounds = [m.spans[d].whole() for m in folded_metas]
        spans.append(
            Span(
                jump=max(m.spans[d].jump for m in folded_metas),
                lo=(lower(b[0] for b in bounds),),
                hi=(upper(b[1] for b in bounds),),
            )
        )
    return Meta(tuple(spans), tuple(plain(int(n)) for n in shape))


def merge(
    inputs: Sequence[tuple[Meta, Sequence[int | None]]],
    shape: Sequence[int],
    notes: list[str] | None = None,
) -> Meta:
    """Combine inputs whose axes align with the output's (``None``: no aligned axis).

    Each output unit sees the union of what the aligned input units see. Input axes
    that align with no output axis, or whose size differs from the output's (a
    broadcast or a concatenation), are folded first.
    """
    sizes = [int(n) for n in shape]
    prepared = [_aligned(meta, align, sizes) for meta, align in inputs]
    out_axes = _output_axes(prepared, sizes)
    # Inputs whose atoms differ from the output's along an axis see it as a constant.
    final = [fold(meta, _differing(meta, align, out_axes)) for meta, align in prepared]
    spans = [_merged_span(final, out_axes, d, notes) for d in range(len(final[0].spans))]
    return Meta(tuple(spans), tuple(out_axes))


def _aligned(
    meta: Meta, align: Sequence[int | None], shape: Sequence[int]
) -> tuple[Meta, list[int | None]]:
    """Fold the axes of one input that align with no output axis or differ in size."""
    aligned = {a for a in align if a is not None}
    sizes = meta.shape()
    mismatched = [a for k, a in enumerate(align) if a is not None and sizes[a] != shape[k]]
    meta = fold_axes(meta, [a for a in range(len(meta.axes)) if a not in aligned] + mismatched)
    return meta, list(align)


def _output_axes(
    prepared: Sequence[tuple[Meta, Sequence[int | None]]], shape: Sequence[int]
) -> list[tuple[Atom, ...]]:
    """The output's atoms, per axis taken from the first input that can own them.

    Each spatial label comes from one input (it may spread over several axes, as
    after a space-to-depth); another input carrying it elsewhere (the keys of an
    attention) sees it as a constant.
    """
    out_axes: list[tuple[Atom, ...]] = []
    owner: dict[int, int] = {}
    for k, size in enumerate(shape):
        chosen: tuple[Atom, ...] | None = None
        for i, (meta, align) in enumerate(prepared):
            a = align[k]
            if a is None:
                continue
            labels = {atom[0] for atom in meta.axes[a] if atom[0] is not None}
            if labels and all(owner.get(d, i) == i for d in labels):
                chosen = meta.axes[a]
                owner.update(dict.fromkeys(labels, i))
                break
        out_axes.append(chosen if chosen is not None else plain(size))
    return out_axes


def _differing(
    meta: Meta, align: Sequence[int | None], out_axes: Sequence[tuple[Atom, ...]]
) -> list[tuple[int, int]]:
    """The (axis, position) picks of an input's axes whose atoms differ from the output's."""
    picks = []
    for k, a in enumerate(align):
        if a is not None and meta.axes[a] != out_axes[k]:
            picks += [(a, p) for p in range(len(meta.axes[a]))]
    return picks


def _merged_span(
    final: Sequence[Meta],
    out_axes: Sequence[tuple[Atom, ...]],
    d: int,
    notes: list[str] | None,
) -> Span:
    """The output's span along input axis ``d``: the union of the inputs' spans."""
    present = any(atom[0] == d for axis in out_axes for atom in axis)
    local = [m.spans[d] for m in final if m.atoms(d)]
    const = [m.spans[d].whole() for m in final if not m.atoms(d)]
    if not (present and local):
        whole = [s.whole() for s in local] + const
        return Span(
            jump=max(m.spans[d].jump for m in final),
            lo=(lower(b[0] for b in whole),),
            hi=(upper(b[1] for b in whole),),
        )
    jump = local[0].jump
    if any(s.jump != jump for s in local):
        text = "inputs with different jumps were combined; the larger one is kept"
        if notes is not None and text not in notes:
            notes.append(text)
        jump = max(s.jump for s in local)
    period = math.lcm(*(s.period for s in local))
    glo = lower([*(s.glo for s in local), *(c[0] for c in const)])
    ghi = upper([*(s.ghi for s in local), *(c[1] for c in const)])

    def bounds(p: int) -> tuple[Bound, Bound]:
        seen = [s.at(p) for s in local]
        return lower(b[0] for b in seen), upper(b[1] for b in seen)

    return phased(jump, period, bounds, glo, ghi)


def regroup(meta: Meta, shape: Sequence[int]) -> Meta | None:
    """Regroup a meta's atoms for a reshape, or ``None`` if positions would mix."""
    queue = [atom for axis in meta.axes for atom in axis]
    axes: list[tuple[Atom, ...]] = []
    for size in shape:
        got: list[Atom] = []
        need = int(size)
        while need > 1:
            if not queue:
                return None
            label, n, step = queue.pop(0)
            if need % n == 0:
                got.append((label, n, step))
                need //= n
            elif n % need == 0:
                inner = n // need
                got.append((label, need, step * inner if label is not None else 1))
                queue.insert(0, (label, inner, step))
                need = 1
            else:
                return None
        axes.append(norm(got))
    if queue:
        return None
    return Meta(meta.spans, tuple(axes))
