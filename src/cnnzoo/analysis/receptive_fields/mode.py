"""The dispatch mode that carries a meta alongside every tensor derived from the input.

:class:`ReceptiveFieldMode` sees every ATen operator the forward pass runs, runs it,
then hands it to its handler in the dispatch table
(:func:`~cnnzoo.analysis.receptive_fields.dispatch.handler_for`), or to the
element-wise rule. The bookkeeping never breaks the forward pass: an operator whose
handler fails is treated as global and noted.
"""

from __future__ import annotations

import contextlib
from typing import Any, NamedTuple

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from cnnzoo.analysis.receptive_fields.dispatch import NO_DEPENDENCY, handler_for
from cnnzoo.analysis.receptive_fields.layout import global_meta
from cnnzoo.analysis.receptive_fields.mixing import pointwise
from cnnzoo.analysis.receptive_fields.store import MetaStore, OpCall
from cnnzoo.analysis.tracing import iter_tensors

__all__ = ["ReceptiveFieldMode"]


class _Name(NamedTuple):
    """An operator's names, parsed once per operator."""

    qualified: str  # "aten::add_.Tensor"
    namespace: str  # "aten"
    op: str  # "add_"
    in_place: bool


_NAMES: dict[Any, _Name] = {}


def _name(func: Any) -> _Name:
    """The names of ``func``, parsed on its first call."""
    try:
        return _NAMES[func]
    except (KeyError, TypeError):  # TypeError: an unhashable operator, parsed every time
        pass
    qualified = func.name()
    namespace, _, rest = qualified.partition("::")
    op = rest.split(".")[0]
    name = _Name(qualified, namespace, op, qualified.split(".")[0].endswith("_"))
    with contextlib.suppress(TypeError):
        _NAMES[func] = name
    return name


class ReceptiveFieldMode(TorchDispatchMode):
    """Carry a meta alongside every tensor derived from ``x``.

    Example:
        >>> import torch
        >>> x = torch.zeros(1, 1, 8, 8)
        >>> with ReceptiveFieldMode(x) as mode:
        ...     y = torch.nn.functional.conv2d(x, torch.zeros(1, 1, 3, 3), stride=2)
        >>> mode.describe(y)
        (3, 2)
    """

    def __init__(self, x: torch.Tensor) -> None:
        super().__init__()
        self.store = MetaStore(x)
        self.notes = self.store.notes

    def describe(self, tensor: torch.Tensor) -> tuple[int, int | float] | None:
        """``(receptive field, jump)`` of ``tensor``, or ``None`` if it is not tracked."""
        return self.store.describe(tensor)

    def __torch_dispatch__(
        self,
        func: Any,
        types: Any,
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
    ) -> Any:
        kwargs = kwargs or {}
        name = _name(func)
        store = self.store
        before = None
        if name.in_place and args and isinstance(args[0], torch.Tensor):
            # An in-place operator may change its target's shape: keep the meta it had.
            before = (args[0], store.get(args[0]))
        out = func(*args, **kwargs)
        try:
            store.before = before
            self._propagate(func, name, args, kwargs, out)
        except Exception as exc:  # never let the bookkeeping break the forward pass
            store.note(f"{name.qualified} could not be analysed ({exc}); treated as global")
            tensors = iter_tensors((args, kwargs))
            metas = [m for m in (store.get(t) for t in tensors) if m is not None]
            for t in iter_tensors(out):
                store.put(t, global_meta(metas, t.shape) if metas else None)
        finally:
            store.before = None
        return out

    def _propagate(
        self, func: Any, name: _Name, args: tuple[Any, ...], kwargs: dict[str, Any], out: Any
    ) -> None:
        store, op = self.store, name.op
        inputs = [t for t in iter_tensors((args, kwargs)) if store.get(t) is not None]
        if op in NO_DEPENDENCY:
            if op.endswith("_") and args:
                store.put(args[0], None)
            return
        if not inputs or op.endswith("_like") or op.startswith("new_"):
            return
        outs = list(iter_tensors(out))
        if not outs:
            return
        call = OpCall(func, op, name.qualified, tuple(args), kwargs, out, outs)
        handler = handler_for(op) if name.namespace == "aten" else None
        (handler or pointwise)(store, call)
