"""The bookkeeping of a receptive-field pass: which meta each live tensor carries.

:class:`MetaStore` maps tensors (weakly) to their
:class:`~cnnzoo.analysis.receptive_fields.layout.Meta`, collects the notes about
operators that could only be bounded, and turns a meta into the ``(receptive field,
jump)`` the public API reports. :class:`OpCall` is one operator call as the
handlers see it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import torch
from torch.utils.weak import WeakTensorKeyDictionary

from cnnzoo.analysis.receptive_fields.layout import Meta, global_meta, norm, plain
from cnnzoo.analysis.receptive_fields.spans import point
from cnnzoo.analysis.tracing import iter_tensors
from cnnzoo.errors import AnalysisError

__all__ = ["MetaStore", "OpCall", "bind"]


def bind(func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Name an operator's arguments after its schema, defaults included."""
    bound: dict[str, Any] = {}
    for i, arg in enumerate(func._schema.arguments):
        if i < len(args) and not arg.kwarg_only:
            bound[arg.name] = args[i]
        elif arg.name in kwargs:
            bound[arg.name] = kwargs[arg.name]
        elif arg.has_default_value():
            bound[arg.name] = arg.default_value
    return bound


@dataclass
class OpCall:
    """One operator call: the operator, its arguments and its results.

    Attributes:
        func: The ATen operator overload (or any other dispatched operator).
        op: Its name without namespace and overload, e.g. ``"convolution"``.
        qualified: Its full name, e.g. ``"aten::add.Tensor"``.
        args: The positional arguments.
        kwargs: The keyword arguments.
        out: The result as returned.
        outs: The tensors in the result.
    """

    func: Any
    op: str
    qualified: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    out: object
    outs: list[torch.Tensor]

    @cached_property
    def bound(self) -> dict[str, Any]:
        """The arguments by schema name, defaults included (ATen operators only)."""
        return bind(self.func, self.args, self.kwargs)


class MetaStore:
    """The meta of every tensor derived from the input, and the notes so far."""

    def __init__(self, x: torch.Tensor) -> None:
        self.meta: WeakTensorKeyDictionary = WeakTensorKeyDictionary()
        self.notes: list[str] = []
        # The target of the in-place operator being handled, with its meta before it ran.
        self.before: tuple[torch.Tensor, Meta | None] | None = None
        spatial = max(x.ndim - 2, 0)
        axes = [plain(int(n)) for n in x.shape[: x.ndim - spatial]]
        axes += [norm([(d, int(n), 1)]) for d, n in enumerate(x.shape[x.ndim - spatial :])]
        self.meta[x] = Meta((point(),) * spatial, tuple(axes))

    def note(self, text: str) -> None:
        """Record that an operator could only be bounded (once per text)."""
        if text not in self.notes:
            self.notes.append(text)

    def get(self, t: object) -> Meta | None:
        """The meta of ``t``, or ``None`` if ``t`` does not derive from the input."""
        if not isinstance(t, torch.Tensor):
            return None
        if self.before is not None and self.before[0] is t:
            return self.before[1]
        meta = self.meta.get(t)
        if meta is None:
            return None
        shape = tuple(int(n) for n in t.shape)
        if meta.shape() != shape:  # resized in place behind our back: be conservative
            meta = global_meta([meta], shape)
            self.meta[t] = meta
        return meta

    def require(self, t: object) -> Meta:
        """The meta of ``t``, which the handler needs.

        Raises:
            AnalysisError: If ``t`` carries none (the operator is then treated as global).
        """
        meta = self.get(t)
        if meta is None:
            raise AnalysisError("an input that derives from the model's input is not tracked")
        return meta

    def put(self, out: object, meta: Meta | None, shape: Sequence[int] | None = None) -> None:
        """Attach ``meta`` to the tensors in ``out`` (those of ``shape`` if given)."""
        for t in iter_tensors(out):
            if shape is not None and tuple(t.shape) != tuple(shape):
                continue
            if meta is None:
                self.meta.pop(t, None)
            elif meta.shape() == tuple(t.shape):
                self.meta[t] = meta
            else:
                self.meta[t] = global_meta([meta], t.shape)

    def describe(self, t: torch.Tensor) -> tuple[int, int | float] | None:
        """``(receptive field, jump)`` of ``t`` in input pixels, or ``None``.

        The receptive field is the largest extent over the units and spatial axes; the
        jump the largest over the axes (a float only after non-integer resampling).
        """
        meta = self.get(t)
        if meta is None or not meta.spans:
            return None
        fields, jumps = [], []
        for d, span in enumerate(meta.spans):
            atoms = [atom for _, atom in meta.atoms(d)]
            # The widest unit: per phase, the extent is largest at the first or last unit.
            choices = [
                sorted({*range(min(size, span.period)), *range(max(size - span.period, 0), size)})
                for _, size, _ in atoms
            ]
            units = {
                sum(i * step for i, (_, _, step) in zip(pick, atoms, strict=True))
                for pick in itertools.product(*choices)
            }
            fields.append(max(span.extent(u) for u in units))
            jumps.append(span.jump * min((step for _, _, step in atoms), default=1))
        jump = max(jumps)
        return math.ceil(max(fields)), int(jump) if jump.denominator == 1 else float(jump)
