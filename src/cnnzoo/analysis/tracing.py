"""One analysed forward pass: the input it runs on and the record of every module call.

The base of :mod:`cnnzoo.analysis`: :func:`run` registers a pre- and a post-hook on
every module, runs the model once under :func:`torch.no_grad` in eval mode inside a
:class:`~torch.utils.flop_counter.FlopCounterMode`, and returns a :class:`Trace`. Hooks
are removed and every module's train/eval flag is restored afterwards, whatever
happens. A receptive-field tracker (see :mod:`cnnzoo.analysis.receptive_fields`) can
ride along; this module knows it only through the :class:`FieldTracker` protocol, so
it depends on nothing else in the package.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnzoo._utils import eval_mode
from cnnzoo.errors import AnalysisError

__all__ = [
    "DEFAULT_INPUT_SIZE",
    "Call",
    "FieldTracker",
    "InputSize",
    "Trace",
    "explain_failure",
    "iter_tensors",
    "make_input",
    "run",
]

InputSize = Sequence[int] | torch.Tensor
"""A shape without the batch dimension, e.g. ``(3, 224, 224)``, or a ready input batch."""

DEFAULT_INPUT_SIZE = (3, 224, 224)


class FieldTracker(Protocol):
    """What :func:`run` needs from a receptive-field tracker (a dispatch mode)."""

    notes: list[str]

    def __enter__(self) -> Any: ...

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> Any: ...

    def describe(self, tensor: torch.Tensor) -> tuple[int, int | float] | None:
        """``(receptive field, jump)`` of ``tensor``, or ``None`` if it is not tracked."""
        ...


@dataclass
class Call:
    """One module call seen by the hooks, filled in when the call returns."""

    name: str
    module: nn.Module
    depth: int
    flops_start: int
    input_shape: tuple[int, ...] | None
    takes_model_input: bool
    min_sub_depth: int | None = None
    macs: int = 0
    output_shape: tuple[int, ...] | None = None
    rf: int | None = None
    jump: int | float | None = None


@dataclass
class Trace:
    """Every module call of one forward pass, in execution order, and the totals."""

    calls: list[Call]
    total_macs: int
    notes: list[str] = field(default_factory=list)


def iter_tensors(obj: object) -> Iterator[torch.Tensor]:
    """Yield the tensors in a nested structure of sequences and mappings, depth first."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from iter_tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from iter_tensors(item)


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def make_input(model: nn.Module, input_size: InputSize, batch_size: int) -> torch.Tensor:
    """The batch to analyse: ``input_size`` itself, or seeded noise of that shape.

    The noise gets the dtype and device of the model's first floating-point parameter
    or buffer (float32 on the CPU for a model without any).

    Raises:
        AnalysisError: If ``input_size`` or ``batch_size`` is malformed.
    """
    if isinstance(input_size, torch.Tensor):
        if batch_size != 1:
            raise AnalysisError(
                f"batch_size={batch_size!r} applies to a shape; a tensor input is used as it "
                "is: pass a tensor holding the batch you want, or a shape such as "
                "(3, 224, 224) with batch_size"
            )
        return input_size.detach()
    if not _is_count(batch_size):
        raise AnalysisError(f"batch_size must be a positive integer, got {batch_size!r}")
    if isinstance(input_size, (str, bytes)) or not isinstance(input_size, Sequence):
        raise AnalysisError(
            "input_size must be a shape without the batch dimension, such as (3, 224, 224), "
            f"or a tensor; got {input_size!r}"
        )
    shape = tuple(input_size)
    if not shape or not all(_is_count(n) for n in shape):
        raise AnalysisError(
            "input_size must be a non-empty sequence of positive integers without the batch "
            f"dimension, such as (3, 224, 224); got {input_size!r}"
        )
    reference = next(
        (t for t in (*model.parameters(), *model.buffers()) if t.is_floating_point()), None
    )
    dtype = reference.dtype if reference is not None else torch.float32
    device = reference.device if reference is not None else torch.device("cpu")
    generator = torch.Generator().manual_seed(0)
    x = torch.randn((batch_size, *shape), generator=generator)
    return x.to(device=device, dtype=dtype)


class _Recorder:
    """The hooks' shared state: the calls so far and the calls still running."""

    def __init__(
        self, x: torch.Tensor, counter: FlopCounterMode, fields: FieldTracker | None
    ) -> None:
        self.x = x
        self.counter = counter
        self.fields = fields
        self.calls: list[Call] = []
        self.stack: list[Call] = []
        self.seen: dict[int, int] = {}

    def pre_hook(self, name: str) -> Callable[[nn.Module, tuple[Any, ...]], None]:
        """The forward pre-hook of the module called ``name``: open a :class:`Call`."""
        depth = 0 if not name else name.count(".") + 1

        def hook(module: nn.Module, args: tuple[Any, ...]) -> None:
            n = self.seen[id(module)] = self.seen.get(id(module), 0) + 1
            first = next(iter_tensors(args), None)
            call = Call(
                name=name if n == 1 else f"{name}#{n}",
                module=module,
                depth=depth,
                flops_start=self.counter.get_total_flops(),
                input_shape=None if first is None else tuple(first.shape),
                takes_model_input=first is self.x,
            )
            self.calls.append(call)
            self.stack.append(call)

        return hook

    def post_hook(self, module: nn.Module, args: tuple[Any, ...], output: object) -> None:
        """The forward hook of every module: close its :class:`Call`."""
        if not self.stack or self.stack[-1].module is not module:  # pragma: no cover
            return
        call = self.stack.pop()
        call.macs = (self.counter.get_total_flops() - call.flops_start) // 2
        first = next(iter_tensors(output), None)
        if first is not None:
            call.output_shape = tuple(int(n) for n in first.shape[1:])
            if self.fields is not None:
                described = self.fields.describe(first)
                if described is not None:
                    call.rf, call.jump = described
        if self.stack:
            parent = self.stack[-1]
            sub = call.depth if call.min_sub_depth is None else min(call.depth, call.min_sub_depth)
            parent.min_sub_depth = (
                sub if parent.min_sub_depth is None else min(parent.min_sub_depth, sub)
            )


def run(model: nn.Module, x: torch.Tensor, fields: FieldTracker | None = None) -> Trace:
    """Run one forward pass, recording every module call, its MACs and receptive field.

    Args:
        model: Any module; its hooks and train/eval flags are restored afterwards.
        x: The input batch.
        fields: A receptive-field tracker to run the pass under, or ``None``.

    Returns:
        The calls in execution order, the total MACs and the tracker's notes.

    Raises:
        AnalysisError: If the model cannot run on ``x``; the message names the layer
            that failed and, where it can, the input shape it expects.
    """
    counter = FlopCounterMode(display=False)
    recorder = _Recorder(x, counter, fields)
    handles = []
    try:
        for name, module in model.named_modules():
            handles.append(module.register_forward_pre_hook(recorder.pre_hook(name)))
            handles.append(module.register_forward_hook(recorder.post_hook))
        with eval_mode(model), torch.no_grad(), counter:
            try:
                with fields if fields is not None else contextlib.nullcontext():
                    model(x)
            except (RuntimeError, ValueError) as exc:
                running = recorder.stack[-1] if recorder.stack else None
                raise AnalysisError(explain_failure(exc, x, running)) from exc
    finally:
        for handle in handles:
            handle.remove()
    notes = list(fields.notes) if fields is not None else []
    return Trace(calls=recorder.calls, total_macs=counter.get_total_flops() // 2, notes=notes)


def explain_failure(exc: Exception, x: torch.Tensor, call: Call | None) -> str:
    """Say why the model could not run on ``x``: which layer, what it expects."""
    given = tuple(int(n) for n in x.shape[1:])
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if call is None:
        return f"the model cannot run on an input of shape {given}: {reason}"
    module = call.module
    kind = type(module).__name__
    layer = f"layer {call.name!r} ({kind})" if call.name else f"the model itself ({kind})"
    shape = call.input_shape
    channels = getattr(module, "in_channels", None)
    if isinstance(channels, int) and shape is not None and len(shape) >= 2:
        if shape[1] != channels and call.takes_model_input:
            expected = (channels, *given[1:])
            return (
                f"input shape {given} does not fit the model: its first layer, {layer}, "
                f"expects {channels} input channels, so the expected input shape is "
                f"{expected} (channels first, without the batch dimension), "
                f"but the given shape is {given}"
            )
        if shape[1] != channels:
            return (
                f"input shape {given} does not fit the model: {layer} expects {channels} "
                f"input channels, i.e. an input of shape ({channels}, ...), but receives "
                f"shape {shape[1:]}"
            )
    features = getattr(module, "in_features", None)
    if isinstance(features, int) and shape is not None and shape and shape[-1] != features:
        return (
            f"input shape {given} does not fit the model: {layer} expects {features} input "
            f"features (an input of shape (..., {features})) but receives shape {shape[1:]}; "
            "the input's spatial size is probably wrong"
        )
    received = "" if shape is None else f" on an input of shape {shape[1:]}"
    return f"input shape {given} does not fit the model: {layer} failed{received}: {reason}"
