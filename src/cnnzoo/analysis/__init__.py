"""Model analysis: parameter counts, multiply-accumulates, layer tables and receptive fields.

Everything here works on any :class:`torch.nn.Module`; nothing depends on the rest of
cnnzoo. Each analysis runs one forward pass under :func:`torch.no_grad` with the model
in eval mode, then restores every module's train/eval flag and removes its hooks.

MACs come from :class:`torch.utils.flop_counter.FlopCounterMode` (one
multiply-accumulate is two FLOPs). As in torchvision's published ``_ops`` (GMACs)
and most papers, only convolutions (plain and transposed), linear layers and matrix
products count; element-wise operations, activations, pooling, normalisation,
resampling and bias additions do not.

Receptive fields are propagated operator by operator through the graph the forward
pass really executes (residual additions, concatenations, skip connections,
flattening, matrix products), so they are exact for branching networks instead of
treating the network as a chain. For each spatial axis of the input a tensor
carries the *jump* (the distance, in input pixels, between neighbouring units) and
the interval of input pixels each unit sees. A convolution with kernel ``k``,
stride ``s``, padding ``p`` and dilation ``d`` maps jump ``j`` and receptive field
``r`` to ``s * j`` and ``r + (k - 1) * d * j``; an element-wise operation or a
concatenation takes the union of its inputs' intervals, whose offsets may differ;
a reduction over a spatial axis (global pooling, a linear layer after flattening)
takes the union over every unit it reduces. Upsampling, transposed convolutions
and uneven adaptive pooling make neighbouring units differ; their intervals are
tracked phase by phase, so these stay exact too. Receptive fields follow the usual
theoretical convention: padding counts, so a deep network's value can exceed the
input size, and normalisation statistics (batch, group and layer norm, softmax)
count as point-wise. The few operators that cannot be followed exactly (a roll, a
gather, a reshape that mixes positions) are bounded by the whole input and
reported in :attr:`ModelSummary.notes`.
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode
from torch.utils.weak import WeakTensorKeyDictionary

__all__ = [
    "InputSize",
    "LayerRow",
    "ModelSummary",
    "count_macs",
    "count_params",
    "receptive_field",
    "summary",
]

InputSize = Sequence[int] | torch.Tensor
"""A shape without the batch dimension, e.g. ``(3, 224, 224)``, or a ready input batch."""

_DEFAULT_SIZE = (3, 224, 224)


# --------------------------------------------------------------------------- public API


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Count the parameters of a model.

    Parameters shared between modules are counted once.

    Args:
        model: Any module.
        trainable_only: Count only the parameters with ``requires_grad`` set.

    Returns:
        The number of scalar parameters.

    Raises:
        ValueError: If the model still has uninitialised (lazy) parameters.

    Example:
        >>> import torch
        >>> from cnnzoo.analysis import count_params
        >>> conv = torch.nn.Conv2d(3, 8, kernel_size=3)
        >>> count_params(conv)
        224
        >>> _ = conv.bias.requires_grad_(False)
        >>> count_params(conv, trainable_only=True)
        216
    """
    total = 0
    for param in model.parameters():
        if isinstance(param, nn.parameter.UninitializedParameter):
            raise ValueError(
                f"{type(model).__name__} has uninitialised (lazy) parameters; "
                "run one forward pass before counting them"
            )
        if param.requires_grad or not trainable_only:
            total += param.numel()
    return total


def count_macs(
    model: nn.Module,
    input_size: InputSize = _DEFAULT_SIZE,
    batch_size: int = 1,
) -> int:
    """Count the multiply-accumulates of one forward pass.

    The count comes from :class:`torch.utils.flop_counter.FlopCounterMode` (MACs are
    half its FLOPs) and covers convolutions (plain and transposed), linear layers and
    matrix products (``mm``, ``addmm``, ``bmm``, attention). It leaves out
    element-wise operations, activations, pooling, normalisation, resampling and bias
    additions, the convention behind torchvision's published ``_ops`` (GMACs) and
    most papers. The model runs under :func:`torch.no_grad` in eval mode; its
    train/eval flags are restored afterwards.

    Args:
        model: Any module.
        input_size: The input shape without the batch dimension, channels first,
            or a ready input batch (a tensor passed to the model as it is).
        batch_size: The batch size used with a shape; must stay 1 with a tensor.

    Returns:
        The number of multiply-accumulates.

    Raises:
        ValueError: If ``input_size`` is malformed or the model cannot run on it;
            the message compares the shape the first layer expects with the one given.

    Example:
        >>> import torch
        >>> from cnnzoo.analysis import count_macs
        >>> conv = torch.nn.Conv2d(3, 8, kernel_size=3)
        >>> count_macs(conv, (3, 10, 10))  # 8 * 8 outputs * 8 channels * 27 taps
        13824
    """
    x = _make_input(model, input_size, batch_size)
    return _run(model, x, track_rf=False).total_macs


def summary(
    model: nn.Module,
    input_size: InputSize = _DEFAULT_SIZE,
    depth: int | None = None,
) -> ModelSummary:
    """Tabulate a model layer by layer in execution order.

    One forward pass with a batch of one records, for every module call, the output
    shape, the parameters, the MACs (counted as in :func:`count_macs`), the
    cumulative stride (jump) and the receptive field in input pixels (computed as in
    :func:`receptive_field`). With ``depth=None`` the table has one row per leaf call
    (a module call that calls no other module); with ``depth=n`` it has one row per
    call of a module nested at most ``n`` levels deep, containers included, so a
    container at the last level stands for its whole subtree. A module called twice
    gets two rows, the second named ``name#2``; its parameters appear on the first.

    Args:
        model: Any module.
        input_size: The input shape without the batch dimension, channels first,
            or a ready input batch.
        depth: ``None`` for leaf calls only, or the deepest nesting level shown.

    Returns:
        The table with its totals; ``str()`` renders it as aligned text.

    Raises:
        ValueError: If ``depth`` or ``input_size`` is malformed or the model cannot
            run on the input.

    Example:
        >>> import torch
        >>> from cnnzoo.analysis import summary
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU())
        >>> table = summary(net, (1, 8, 8))
        >>> [(row.name, row.output_shape, row.macs, row.receptive_field) for row in table.rows]
        [('0', (4, 6, 6), 1296, 3), ('1', (4, 6, 6), 0, 3)]
    """
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 1):
        raise ValueError(f"depth must be None or a positive integer, got {depth!r}")
    x = _make_input(model, input_size, 1)
    trace = _run(model, x, track_rf=True)
    calls = trace.calls
    limit = math.inf if depth is None else depth
    rows: list[LayerRow] = []
    counted: set[int] = set()
    for call in calls:
        if depth is None:
            shown = call.min_sub_depth is None
        else:
            shown = 1 <= call.depth <= depth or (call.depth == 0 and call.min_sub_depth is None)
        if not shown:
            continue
        first_call = id(call.module) not in counted
        counted.add(id(call.module))
        leaf = call.min_sub_depth is None or call.min_sub_depth > limit
        rows.append(
            LayerRow(
                name=call.name,
                type=type(call.module).__name__,
                depth=call.depth,
                output_shape=call.output_shape,
                params=count_params(call.module) if first_call else 0,
                macs=call.macs,
                stride=call.jump,
                receptive_field=call.rf,
                leaf=leaf,
            )
        )
    return ModelSummary(
        rows=rows,
        total_params=count_params(model),
        trainable_params=count_params(model, trainable_only=True),
        total_macs=trace.total_macs,
        input_size=tuple(int(n) for n in x.shape[1:]),
        notes=list(trace.notes),
    )


def receptive_field(
    model: nn.Module,
    input_size: InputSize = _DEFAULT_SIZE,
) -> dict[str, tuple[int, int | float]]:
    """Compute the receptive field and the jump of every module's output.

    One forward pass carries, through every operator, the interval of input pixels
    each unit sees, so residual additions, concatenations and skip connections are
    handled exactly. The receptive field is the extent in input pixels (the largest
    over the output's units and spatial axes; padding counts, so it can exceed the
    input size); the jump (cumulative stride) is the distance in input pixels between
    neighbouring units. Flattening keeps each unit's field; a layer that mixes all
    positions (global pooling, a linear layer after flattening) sees the whole input.
    Jumps are integers unless the network resamples by a non-integer factor.

    Args:
        model: Any module.
        input_size: The input shape without the batch dimension, channels first,
            or a ready input batch. Local receptive fields do not depend on the input
            size, so a small input is enough; those of layers that see the whole input
            grow with it.

    Returns:
        ``{name: (receptive_field, jump)}`` for every module call (containers and
        leaves) in execution order; a second call of a module is named ``name#2``.

    Raises:
        ValueError: If ``input_size`` is malformed or the model cannot run on it.

    Example:
        >>> import torch
        >>> from cnnzoo.analysis import receptive_field
        >>> net = torch.nn.Sequential(
        ...     torch.nn.Conv2d(1, 4, 3), torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 4, 3))
        >>> receptive_field(net, (1, 16, 16))
        {'0': (3, 1), '1': (4, 2), '2': (8, 2)}
    """
    x = _make_input(model, input_size, 1)
    trace = _run(model, x, track_rf=True)
    if trace.notes:
        warnings.warn(
            "some receptive fields are only bounded: " + "; ".join(trace.notes),
            RuntimeWarning,
            stacklevel=2,
        )
    return {
        call.name: (call.rf, call.jump)
        for call in trace.calls
        if call.rf is not None
        and call.jump is not None
        and (call.depth >= 1 or call.min_sub_depth is None)
    }


@dataclass
class LayerRow:
    """One row of a :class:`ModelSummary`: one module call.

    Attributes:
        name: The module's qualified name (``name#2`` for its second call).
        type: The module's class name.
        depth: How deeply the module is nested (1 for the model's children).
        output_shape: The output shape without the batch dimension (the first tensor
            for modules that return several), or ``None``.
        params: The module's parameters, recursively, on its first call; 0 afterwards.
        macs: Multiply-accumulates of the call, its submodules included.
        stride: The jump (cumulative stride) of the output in input pixels.
        receptive_field: The output's receptive field in input pixels.
        leaf: Whether no other row of the table lies inside this call.

    Example:
        >>> import torch
        >>> from cnnzoo.analysis import summary
        >>> row = summary(torch.nn.Conv2d(1, 2, 5, stride=2), (1, 9, 9)).rows[0]
        >>> row.type, row.output_shape, row.stride, row.receptive_field
        ('Conv2d', (2, 3, 3), 2, 5)
    """

    name: str
    type: str
    depth: int
    output_shape: tuple[int, ...] | None
    params: int
    macs: int
    stride: int | float | None
    receptive_field: int | None
    leaf: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Convert the row to plain JSON-ready values.

        Returns:
            A dict with one key per attribute; the output shape becomes a list.

        Example:
            >>> from cnnzoo.analysis import LayerRow
            >>> LayerRow("fc", "Linear", 1, (10,), 850, 840, 4, 32).to_dict()["output_shape"]
            [10]
        """
        return {
            "name": self.name,
            "type": self.type,
            "depth": self.depth,
            "output_shape": None if self.output_shape is None else list(self.output_shape),
            "params": self.params,
            "macs": self.macs,
            "stride": self.stride,
            "receptive_field": self.receptive_field,
            "leaf": self.leaf,
        }


@dataclass
class ModelSummary:
    """A per-layer table of a model with its totals, as built by :func:`summary`.

    The totals come from the whole model, not from summing rows: parameters of
    modules that never run and MACs spent outside any module are included.

    Attributes:
        rows: One :class:`LayerRow` per module call, in execution order.
        total_params: All parameters of the model.
        trainable_params: The parameters with ``requires_grad`` set.
        total_macs: Multiply-accumulates of the whole forward pass.
        input_size: The input shape without the batch dimension.
        notes: Operators whose receptive field could only be bounded, not computed.

    Example:
        >>> import torch
        >>> from cnnzoo.analysis import summary
        >>> net = torch.nn.Sequential(
        ...     torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(),
        ...     torch.nn.Flatten(), torch.nn.Linear(144, 2))
        >>> table = summary(net, (1, 8, 8))
        >>> table.total_params, table.total_macs, table.rows[-1].receptive_field
        (330, 1584, 8)
    """

    rows: list[LayerRow]
    total_params: int
    trainable_params: int
    total_macs: int
    input_size: tuple[int, ...]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Convert the summary to plain JSON-ready values.

        Returns:
            A dict of the totals, the input size and the rows, each a dict.

        Example:
            >>> import json, torch
            >>> from cnnzoo.analysis import summary
            >>> data = summary(torch.nn.Conv2d(1, 2, 3), (1, 5, 5)).to_dict()
            >>> json.loads(json.dumps(data))["rows"][0]["receptive_field"]
            3
        """
        return {
            "input_size": list(self.input_size),
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "total_macs": self.total_macs,
            "rows": [row.to_dict() for row in self.rows],
            "notes": list(self.notes),
        }

    def format(self) -> str:
        """Render the table as aligned text.

        Counts get thousands separators and MACs a K/M/G suffix.

        Returns:
            The table, its totals and any notes, one line each.

        Example:
            >>> import torch
            >>> from cnnzoo.analysis import summary
            >>> net = torch.nn.Sequential(
            ...     torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(),
            ...     torch.nn.Flatten(), torch.nn.Linear(144, 2))
            >>> print(summary(net, (1, 8, 8)).format())
            Layer  Type     Output shape  Params   MACs  Stride  RF
            -------------------------------------------------------
            0      Conv2d   (4, 6, 6)         40  1.30K       1   3
            1      ReLU     (4, 6, 6)          0      0       1   3
            2      Flatten  (144)              0      0       1   3
            3      Linear   (2)              290    288       6   8
            -------------------------------------------------------
            Total params:         330
            Trainable params:     330
            Non-trainable params: 0
            Total MACs:           1,584 (1.58K)
            Input size:           (1, 8, 8)
        """
        header = ("Layer", "Type", "Output shape", "Params", "MACs", "Stride", "RF")
        lines = [
            (
                row.name or "(root)",
                row.type,
                _shape_text(row.output_shape),
                f"{row.params:,}",
                _macs_text(row.macs),
                "-" if row.stride is None else _number_text(row.stride),
                "-" if row.receptive_field is None else f"{row.receptive_field:,}",
            )
            for row in self.rows
        ]
        widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]
        left = (True, True, True, False, False, False, False)

        def render(cells: Sequence[str]) -> str:
            parts = [
                cell.ljust(width) if is_left else cell.rjust(width)
                for cell, width, is_left in zip(cells, widths, left, strict=True)
            ]
            return "  ".join(parts).rstrip()

        rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
        out = [render(header), rule, *(render(cells) for cells in lines), rule]
        totals = [
            ("Total params:", f"{self.total_params:,}"),
            ("Trainable params:", f"{self.trainable_params:,}"),
            ("Non-trainable params:", f"{self.total_params - self.trainable_params:,}"),
            ("Total MACs:", _total_text(self.total_macs)),
            ("Input size:", _shape_text(self.input_size)),
        ]
        label_width = max(len(label) for label, _ in totals)
        out += [f"{label.ljust(label_width)} {value}" for label, value in totals]
        out += [f"Note: {note}" for note in self.notes]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.format()


# --------------------------------------------------------------------------- formatting


def _macs_text(macs: int) -> str:
    for scale, suffix in ((10**9, "G"), (10**6, "M"), (10**3, "K")):
        if macs >= scale:
            return f"{macs / scale:,.2f}{suffix}"
    return str(macs)


def _total_text(macs: int) -> str:
    return f"{macs:,}" if macs < 1000 else f"{macs:,} ({_macs_text(macs)})"


def _shape_text(shape: tuple[int, ...] | None) -> str:
    return "-" if shape is None else "(" + ", ".join(str(n) for n in shape) + ")"


def _number_text(value: float) -> str:
    return f"{value:,}" if isinstance(value, int) else f"{value:,.4g}"


# --------------------------------------------------------------------------- the forward pass


def _make_input(model: nn.Module, input_size: InputSize, batch_size: int) -> torch.Tensor:
    if isinstance(input_size, torch.Tensor):
        if batch_size != 1:
            raise ValueError("batch_size applies to a shape; a tensor input is used as it is")
        return input_size.detach()
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if isinstance(input_size, (str, bytes)) or not isinstance(input_size, Sequence):
        raise ValueError(
            "input_size must be a shape without the batch dimension, such as (3, 224, 224), "
            f"or a tensor; got {input_size!r}"
        )
    shape = tuple(input_size)
    if not shape or not all(
        isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape
    ):
        raise ValueError(
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


@dataclass
class _Call:
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
class _Trace:
    calls: list[_Call]
    total_macs: int
    notes: list[str]


def _run(model: nn.Module, x: torch.Tensor, *, track_rf: bool) -> _Trace:
    """Run one forward pass, recording every module call, its MACs and receptive field."""
    counter = FlopCounterMode(display=False)
    rf_mode = _ReceptiveFieldMode(x) if track_rf else None
    calls: list[_Call] = []
    stack: list[_Call] = []
    seen: dict[int, int] = {}

    def pre_hook(name: str) -> Any:
        depth = 0 if not name else name.count(".") + 1

        def hook(module: nn.Module, args: tuple[Any, ...]) -> None:
            seen[id(module)] = seen.get(id(module), 0) + 1
            n = seen[id(module)]
            first = next(_tensors(args), None)
            call = _Call(
                name=name if n == 1 else f"{name}#{n}",
                module=module,
                depth=depth,
                flops_start=counter.get_total_flops(),
                input_shape=None if first is None else tuple(first.shape),
                takes_model_input=first is x,
            )
            calls.append(call)
            stack.append(call)

        return hook

    def post_hook(module: nn.Module, args: tuple[Any, ...], output: Any) -> None:
        if not stack or stack[-1].module is not module:  # pragma: no cover - defensive
            return
        call = stack.pop()
        call.macs = (counter.get_total_flops() - call.flops_start) // 2
        first = next(_tensors(output), None)
        if first is not None:
            call.output_shape = tuple(int(n) for n in first.shape[1:])
            if rf_mode is not None:
                described = rf_mode.describe(first)
                if described is not None:
                    call.rf, call.jump = described
        if stack:
            parent = stack[-1]
            sub = call.depth if call.min_sub_depth is None else min(call.depth, call.min_sub_depth)
            parent.min_sub_depth = (
                sub if parent.min_sub_depth is None else min(parent.min_sub_depth, sub)
            )

    training = {module: module.training for module in model.modules()}
    handles = []
    try:
        for name, module in model.named_modules():
            handles.append(module.register_forward_pre_hook(pre_hook(name)))
            handles.append(module.register_forward_hook(post_hook))
        model.eval()
        with torch.no_grad(), counter:
            try:
                if rf_mode is None:
                    model(x)
                else:
                    with rf_mode:
                        model(x)
            except (RuntimeError, ValueError) as exc:
                raise ValueError(_explain(exc, x, stack[-1] if stack else None)) from exc
    finally:
        for handle in handles:
            handle.remove()
        for module, flag in training.items():
            module.training = flag
    notes = list(rf_mode.notes) if rf_mode is not None else []
    return _Trace(calls=calls, total_macs=counter.get_total_flops() // 2, notes=notes)


def _explain(exc: Exception, x: torch.Tensor, call: _Call | None) -> str:
    given = tuple(int(n) for n in x.shape[1:])
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if call is None:
        return f"the model cannot run on an input of shape {given}: {reason}"
    module = call.module
    layer = f"layer {call.name!r} ({type(module).__name__})"
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


def _tensors(obj: Any) -> Iterator[torch.Tensor]:
    """Yield the tensors in a nested structure of sequences and mappings, depth first."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from _tensors(item)


# --------------------------------------------------------------------------- receptive fields
#
# Every tensor derived from the input carries a _Meta. Per spatial axis ``d`` of the
# input it holds a _Span describing which input pixels each unit along ``d`` sees:
# the unit at index ``u`` sees the interval [lo(u), hi(u)]. The intervals are
# periodic: with period ``P`` and jump ``j`` (the mean distance in input pixels
# between neighbouring units), unit ``u = q * P + p`` sees
# [lo[p] + q * P * j, hi[p] + q * P * j]. Convolutions and pooling keep ``P = 1``;
# upsampling and transposed convolutions, whose units are not all alike, raise it,
# which keeps their receptive fields exact. A constant part [glo, ghi], seen by every
# unit, arises when a globally pooled tensor is broadcast back (squeeze-excitation).
# Per tensor axis the meta holds atoms (label, size, step): label ``d`` means one step
# along the atom moves ``step`` units along input axis ``d``; label ``None`` marks a
# channel-like atom. Flattening, reshaping and permuting only regroup atoms; an
# operator that mixes an atom's positions folds it into the intervals.

_Atom = tuple[int | None, int, int]
_Bound = Fraction | None  # None: the unit sees no input pixel at all


def _lower(values: Iterable[_Bound]) -> _Bound:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _upper(values: Iterable[_Bound]) -> _Bound:
    present = [v for v in values if v is not None]
    return max(present) if present else None


@dataclass(frozen=True)
class _Span:
    jump: Fraction
    lo: tuple[_Bound, ...]
    hi: tuple[_Bound, ...]
    glo: Fraction | None = None
    ghi: Fraction | None = None

    @property
    def period(self) -> int:
        return len(self.lo)

    def at(self, u: int) -> tuple[_Bound, _Bound]:
        """The interval unit ``u`` sees, without the constant part."""
        period = len(self.lo)
        p, q = u % period, u // period
        shift = q * period * self.jump
        lo, hi = self.lo[p], self.hi[p]
        return (None if lo is None else lo + shift), (None if hi is None else hi + shift)

    def extent(self, u: int) -> Fraction:
        lo, hi = self.at(u)
        lo, hi = _lower([lo, self.glo]), _upper([hi, self.ghi])
        return Fraction(0) if lo is None or hi is None else hi - lo + 1

    def whole(self) -> tuple[_Bound, _Bound]:
        """The interval unit 0 sees, the constant part included."""
        lo, hi = self.at(0)
        return _lower([lo, self.glo]), _upper([hi, self.ghi])


def _point() -> _Span:
    return _Span(Fraction(1), (Fraction(0),), (Fraction(0),))


def _phased(
    jump: Fraction, period: int, bounds: Any, glo: _Bound = None, ghi: _Bound = None
) -> _Span:
    """Build a span from ``bounds(p) -> (lo, hi)`` for ``p < period``, at its shortest period."""
    pairs = [bounds(p) for p in range(period)]
    lo = tuple(pair[0] for pair in pairs)
    hi = tuple(pair[1] for pair in pairs)
    for short in range(1, period):
        if period % short:
            continue
        shift = short * jump
        if all(
            _same(values[p + short], values[p], shift)
            for values in (lo, hi)
            for p in range(period - short)
        ):
            lo, hi = lo[:short], hi[:short]
            break
    return _Span(jump, lo, hi, glo, ghi)


def _same(later: _Bound, earlier: _Bound, shift: Fraction) -> bool:
    if later is None or earlier is None:
        return later is None and earlier is None
    return later == earlier + shift


def _shifted(span: _Span, delta: int) -> _Span:
    """The span seen from unit ``delta`` on (slicing, padding)."""
    return _phased(span.jump, span.period, lambda p: span.at(p + delta), span.glo, span.ghi)


def _folded(span: _Span, size: int, step: int) -> _Span:
    """Unit ``u`` now sees what units ``u, u + step, ..., u + (size - 1) * step`` saw."""

    def bounds(p: int) -> tuple[_Bound, _Bound]:
        seen = [span.at(p + t * step) for t in range(size)]
        return _lower(s[0] for s in seen), _upper(s[1] for s in seen)

    if span.period == 1 and span.lo[0] is not None and span.hi[0] is not None:
        hi = span.hi[0] + (size - 1) * step * span.jump
        return replace(span, hi=(hi,))
    return _phased(span.jump, span.period, bounds, span.glo, span.ghi)


def _windowed_span(span: _Span, step: int, taps: Any, ratio: Fraction) -> _Span:
    """Apply a sliding window along an axis that moves ``step`` units of ``span`` per index.

    Output unit ``o`` reads the input indices ``taps(o)``; ``taps(o + b) == taps(o) + a``
    for ``ratio = a / b`` input indices per output index.
    """
    inner = span.period // math.gcd(span.period, step)  # the period counted in indices
    period = ratio.denominator * inner

    def bounds(o: int) -> tuple[_Bound, _Bound]:
        seen = [span.at(v * step) for v in taps(o)]
        return _lower(s[0] for s in seen), _upper(s[1] for s in seen)

    return _phased(span.jump * step * ratio, period, bounds, span.glo, span.ghi)


@dataclass(frozen=True)
class _Meta:
    spans: tuple[_Span, ...]
    axes: tuple[tuple[_Atom, ...], ...]

    def atoms(self, dim: int) -> list[tuple[int, _Atom]]:
        return [(a, atom) for a, axis in enumerate(self.axes) for atom in axis if atom[0] == dim]

    def shape(self) -> tuple[int, ...]:
        return tuple(math.prod(atom[1] for atom in axis) for axis in self.axes)


def _norm(atoms: Iterable[_Atom]) -> tuple[_Atom, ...]:
    """Drop size-1 atoms and merge neighbours that describe one contiguous range."""
    out: list[_Atom] = []
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


def _plain(size: int) -> tuple[_Atom, ...]:
    return _norm([(None, size, 1)])


def _fold(meta: _Meta, picks: Iterable[tuple[int, int]]) -> _Meta:
    """Fold the atoms at (axis, position) into the spans: the operator mixes their units."""
    chosen: dict[int, set[int]] = {}
    for axis, pos in picks:
        chosen.setdefault(axis, set()).add(pos)
    spans = list(meta.spans)
    axes = list(meta.axes)
    units: dict[int, int] = {}
    for axis, positions in chosen.items():
        kept: list[_Atom] = []
        for pos, atom in enumerate(meta.axes[axis]):
            label, size, step = atom
            if pos in positions and label is not None:
                spans[label] = _folded(spans[label], size, step)
                units[label] = units.get(label, 1) + (size - 1) * step
                kept.append((None, size, 1))
            else:
                kept.append(atom)
        axes[axis] = _norm(kept)
    result = _Meta(tuple(spans), tuple(axes))
    for label, count in units.items():
        if not result.atoms(label):  # the axis is gone: its one unit spans all of them
            lo, hi = spans[label].at(0)
            spans[label] = replace(spans[label], jump=spans[label].jump * count, lo=(lo,), hi=(hi,))
    return _Meta(tuple(spans), tuple(axes))


def _fold_axes(meta: _Meta, axes: Iterable[int]) -> _Meta:
    return _fold(meta, [(a, p) for a in set(axes) for p in range(len(meta.axes[a]))])


def _fold_label(meta: _Meta, label: int, keep_axis: int | None = None) -> _Meta:
    picks = []
    for a, axis in enumerate(meta.axes):
        if a == keep_axis:
            continue
        picks += [(a, p) for p, atom in enumerate(axis) if atom[0] == label]
    return _fold(meta, picks) if picks else meta


def _global(metas: Sequence[_Meta], shape: Sequence[int]) -> _Meta:
    """The meta of a tensor every unit of which sees everything its inputs see."""
    spans = []
    folded = [_fold_axes(m, range(len(m.axes))) for m in metas]
    for d in range(len(metas[0].spans)):
        bounds = [m.spans[d].whole() for m in folded]
        spans.append(
            _Span(
                jump=max(m.spans[d].jump for m in folded),
                lo=(_lower(b[0] for b in bounds),),
                hi=(_upper(b[1] for b in bounds),),
            )
        )
    return _Meta(tuple(spans), tuple(_plain(int(n)) for n in shape))


def _merge(
    inputs: Sequence[tuple[_Meta, Sequence[int | None]]],
    shape: Sequence[int],
    notes: list[str] | None = None,
) -> _Meta:
    """Combine inputs whose axes align with the output's (``None``: no aligned axis).

    Each output unit sees the union of what the aligned input units see. Input axes
    that align with no output axis, or whose size differs from the output's (a
    broadcast or a concatenation), are folded first.
    """
    shape = [int(n) for n in shape]
    prepared: list[tuple[_Meta, list[int | None]]] = []
    for meta, align in inputs:
        aligned = {a for a in align if a is not None}
        mismatched = [
            a for k, a in enumerate(align) if a is not None and meta.shape()[a] != shape[k]
        ]
        meta = _fold_axes(meta, [a for a in range(len(meta.axes)) if a not in aligned] + mismatched)
        prepared.append((meta, list(align)))

    # Each spatial label comes from one input (it may spread over several axes, as
    # after a space-to-depth); another input carrying it elsewhere (the keys of an
    # attention) sees it as a constant.
    out_axes: list[tuple[_Atom, ...]] = []
    owner: dict[int, int] = {}
    for k, size in enumerate(shape):
        chosen: tuple[_Atom, ...] | None = None
        for i, (meta, align) in enumerate(prepared):
            a = align[k]
            if a is None:
                continue
            labels = {atom[0] for atom in meta.axes[a] if atom[0] is not None}
            if labels and all(owner.get(d, i) == i for d in labels):
                chosen = meta.axes[a]
                owner.update(dict.fromkeys(labels, i))
                break
        out_axes.append(chosen if chosen is not None else _plain(size))

    # Inputs whose atoms differ from the output's along an axis see it as a constant.
    final: list[_Meta] = []
    for meta, align in prepared:
        picks = []
        for k, a in enumerate(align):
            if a is not None and meta.axes[a] != out_axes[k]:
                picks += [(a, p) for p in range(len(meta.axes[a]))]
        final.append(_fold(meta, picks))

    spans = []
    for d in range(len(final[0].spans)):
        present = any(atom[0] == d for axis in out_axes for atom in axis)
        local = [m.spans[d] for m in final if m.atoms(d)]
        const = [m.spans[d].whole() for m in final if not m.atoms(d)]
        if present and local:
            jump = local[0].jump
            if any(s.jump != jump for s in local):
                text = "inputs with different jumps were combined; the larger one is kept"
                if notes is not None and text not in notes:
                    notes.append(text)
                jump = max(s.jump for s in local)
            period = math.lcm(*(s.period for s in local))
            glo = _lower([*(s.glo for s in local), *(c[0] for c in const)])
            ghi = _upper([*(s.ghi for s in local), *(c[1] for c in const)])

            def bounds(p: int, local: list[_Span] = local) -> tuple[_Bound, _Bound]:
                seen = [s.at(p) for s in local]
                return _lower(b[0] for b in seen), _upper(b[1] for b in seen)

            spans.append(_phased(jump, period, bounds, glo, ghi))
        else:
            whole = [s.whole() for s in local] + const
            spans.append(
                _Span(
                    jump=max(m.spans[d].jump for m in final),
                    lo=(_lower(b[0] for b in whole),),
                    hi=(_upper(b[1] for b in whole),),
                )
            )
    return _Meta(tuple(spans), tuple(out_axes))


# A window along one axis: ``window(n_in, n_out) -> (taps, ratio)`` as in _windowed_span.
_Window = Any


def _windowed(
    meta: _Meta,
    out_shape: Sequence[int],
    windows: dict[int, _Window],
    notes: list[str],
    what: str,
) -> _Meta:
    """Apply per-axis windows ``{axis: window}`` to a meta."""
    for a in windows:
        atoms = meta.axes[a]
        labelled = [atom for atom in atoms if atom[0] is not None]
        if labelled and len(atoms) != 1:
            notes.append(f"{what} over a flattened spatial axis")
            meta = _fold_axes(meta, [a])
        elif labelled:
            meta = _fold_label(meta, labelled[0][0], keep_axis=a)
    spans = list(meta.spans)
    axes = list(meta.axes)
    in_shape = meta.shape()
    for a, window in windows.items():
        n_out = int(out_shape[a])
        atoms = meta.axes[a]
        if atoms and atoms[0][0] is not None:
            label, _, step = atoms[0]
            taps, ratio = window(in_shape[a], n_out)
            spans[label] = _windowed_span(spans[label], step, taps, ratio)
            axes[a] = _norm([(label, n_out, 1)])
        else:
            axes[a] = _plain(n_out)
    return _Meta(tuple(spans), tuple(axes))


def _conv_window(kernel: int, stride: int, padding: int, dilation: int) -> _Window:
    def window(n_in: int, n_out: int) -> tuple[Any, Fraction]:
        def taps(o: int) -> list[int]:
            return [o * stride - padding + t * dilation for t in range(kernel)]

        return taps, Fraction(stride)

    return window


def _transposed_window(kernel: int, stride: int, padding: int, dilation: int) -> _Window:
    def window(n_in: int, n_out: int) -> tuple[Any, Fraction]:
        def taps(o: int) -> list[int]:  # input i feeds o = i * stride - padding + t * dilation
            sources = [o + padding - t * dilation for t in range(kernel)]
            return [s // stride for s in sources if s % stride == 0]

        return taps, Fraction(1, stride)

    return window


def _adaptive_window(n_in: int, n_out: int) -> tuple[Any, Fraction]:
    def taps(o: int) -> list[int]:
        return list(range((o * n_in) // n_out, -(-((o + 1) * n_in) // n_out)))

    return taps, Fraction(n_in, n_out)


def _interp_window(mode: str, align_corners: bool, scale: float | None) -> _Window:
    def window(n_in: int, n_out: int) -> tuple[Any, Fraction]:
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


def _bind(func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
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


def _per_axis(value: Any, n: int, default: int) -> list[int]:
    if value is None or (isinstance(value, (list, tuple)) and not value):
        return [default] * n
    if isinstance(value, int):
        return [value] * n
    values = [int(v) for v in value]
    return values * n if len(values) == 1 else values


def _dims(value: Any, ndim: int) -> list[int]:
    if value is None or (isinstance(value, (list, tuple)) and not value):
        return list(range(ndim))
    values = [value] if isinstance(value, int) else list(value)
    return sorted({int(v) % max(ndim, 1) for v in values})


_NO_DEPENDENCY = {
    "empty", "empty_strided", "zeros", "ones", "full", "arange", "linspace", "rand", "randn",
    "randint", "randperm", "scalar_tensor", "fill_", "zero_", "bernoulli_", "uniform_",
    "normal_", "random_", "exponential_", "geometric_", "cauchy_", "log_normal_",
    "bernoulli", "normal", "eye", "tensor", "_local_scalar_dense",
}  # fmt: skip
_REDUCTIONS = {
    "mean", "sum", "nansum", "nanmean", "amax", "amin", "max", "min", "aminmax", "var", "std",
    "var_mean", "std_mean", "logsumexp", "prod", "norm", "linalg_vector_norm", "argmax",
    "argmin", "any", "all", "median", "nanmedian", "mode", "kthvalue", "count_nonzero",
}  # fmt: skip
_ALONG_AXES = {
    "cumsum", "cumprod", "cummax", "cummin", "logcumsumexp", "sort", "argsort", "topk",
    "roll", "flip", "_fft_r2c", "_fft_c2r", "_fft_c2c",
}  # fmt: skip
_VIEWS = {
    "view", "_unsafe_view", "reshape", "_reshape_alias", "view_as", "flatten", "unflatten",
    "squeeze", "unsqueeze", "as_strided", "as_strided_", "alias", "view_as_real",
    "view_as_complex", "squeeze_", "unsqueeze_", "resize_",
}  # fmt: skip


class _ReceptiveFieldMode(TorchDispatchMode):
    """Carry a _Meta alongside every tensor derived from the input."""

    def __init__(self, x: torch.Tensor) -> None:
        super().__init__()
        self.meta: WeakTensorKeyDictionary = WeakTensorKeyDictionary()
        self.notes: list[str] = []
        self.before: tuple[torch.Tensor, _Meta | None] | None = None
        spatial = max(x.ndim - 2, 0)
        axes = [_plain(int(n)) for n in x.shape[: x.ndim - spatial]]
        axes += [_norm([(d, int(n), 1)]) for d, n in enumerate(x.shape[x.ndim - spatial :])]
        self.meta[x] = _Meta((_point(),) * spatial, tuple(axes))

    # -- bookkeeping

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def get(self, t: Any) -> _Meta | None:
        if not isinstance(t, torch.Tensor):
            return None
        if self.before is not None and self.before[0] is t:
            return self.before[1]
        meta = self.meta.get(t)
        if meta is None:
            return None
        shape = tuple(int(n) for n in t.shape)
        if meta.shape() != shape:  # resized in place behind our back: be conservative
            meta = _global([meta], shape)
            self.meta[t] = meta
        return meta

    def put(self, out: Any, meta: _Meta | None, shape: Sequence[int] | None = None) -> None:
        for t in _tensors(out):
            if shape is not None and tuple(t.shape) != tuple(shape):
                continue
            if meta is None:
                self.meta.pop(t, None)
            elif meta.shape() == tuple(t.shape):
                self.meta[t] = meta
            else:
                self.meta[t] = _global([meta], t.shape)

    def describe(self, t: torch.Tensor) -> tuple[int, int | float] | None:
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

    # -- dispatch

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        target = args[0] if args and isinstance(args[0], torch.Tensor) else None
        before = None
        if target is not None and func.name().split(".")[0].endswith("_"):
            # An in-place operator may change its target's shape: keep the meta it had.
            before = (target, self.get(target))
        out = func(*args, **kwargs)
        try:
            self.before = before
            self.propagate(func, args, kwargs, out)
        except Exception as exc:  # never let the bookkeeping break the forward pass
            self.note(f"{func.name()} could not be analysed ({exc}); treated as global")
            metas = [m for m in (self.get(t) for t in _tensors((args, kwargs))) if m is not None]
            for t in _tensors(out):
                self.put(t, _global(metas, t.shape) if metas else None)
        finally:
            self.before = None
        return out

    def propagate(self, func: Any, args: Any, kwargs: dict[str, Any], out: Any) -> None:
        qualified = func.name()
        namespace, _, rest = qualified.partition("::")
        op = rest.split(".")[0]
        inputs = [t for t in _tensors((args, kwargs)) if self.get(t) is not None]
        if op in _NO_DEPENDENCY:
            if op.endswith("_") and args:
                self.put(args[0], None)
            return
        if not inputs or op.endswith("_like") or op.startswith("new_"):
            return
        outs = list(_tensors(out))
        if not outs:
            return
        b = _bind(func, args, kwargs) if namespace == "aten" else {}
        handler = getattr(self, f"_op_{op.lstrip('_')}", None) if namespace == "aten" else None
        if handler is None and namespace == "aten":
            handler = self._family(op)
        if handler is not None:
            handler(op, b, args, out, outs)
            return
        self._pointwise(op, qualified, args, kwargs, out, outs)

    def _family(self, op: str) -> Any:
        if op in ("convolution", "_convolution"):
            return self._conv
        if op.startswith(("max_pool", "avg_pool")):
            return self._pool
        if "adaptive" in op and "pool" in op:
            return self._adaptive
        if "upsample" in op:
            return self._upsample
        if op.startswith(("reflection_pad", "replication_pad")) or op in (
            "constant_pad_nd",
            "_pad_circular",
            "pad",
        ):
            return self._pad
        if op in _VIEWS:
            return self._view
        if op in _REDUCTIONS:
            return self._reduce
        if op in _ALONG_AXES:
            return self._along
        if "scaled_dot_product" in op:
            return self._attention
        return None

    # -- generic rules

    def _pointwise(
        self,
        op: str,
        qualified: str,
        args: Any,
        kwargs: dict[str, Any],
        out: Any,
        outs: list[torch.Tensor],
    ) -> None:
        tensors = [t for t in _tensors((args, kwargs))]
        metas = [(self.get(t), t) for t in tensors]
        metas = [(m, t) for m, t in metas if m is not None]
        if op == "copy_":
            metas = [(m, t) for m, t in metas if t is not args[0]] or metas
        shapes = [tuple(t.shape) for _, t in metas]
        if op.endswith("_") and args and isinstance(args[0], torch.Tensor):
            shapes.append(tuple(args[0].shape))
        try:
            shape = torch.broadcast_shapes(*shapes)
        except RuntimeError:
            shape = None
        targets = [t for t in outs if shape is not None and tuple(t.shape) == tuple(shape)]
        if not targets:
            self.note(
                f"{qualified} is not modelled; its output is treated as seeing all of its input"
            )
            for t in outs:
                self.put(t, _global([m for m, _ in metas], t.shape))
            return
        n = len(shape)
        merged = _merge(
            [(m, [None] * (n - t.ndim) + list(range(t.ndim))) for m, t in metas],
            shape,
            self.notes,
        )
        for t in targets:
            self.put(t, merged)

    # -- windows

    def _conv(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x, weight = b["input"], b["weight"]
        meta = self.get(x)
        if meta is None:
            return
        n = weight.ndim - 2
        first = x.ndim - n
        stride = _per_axis(b.get("stride"), n, 1)
        padding = _per_axis(b.get("padding"), n, 0)
        dilation = _per_axis(b.get("dilation"), n, 1)
        transposed = bool(b.get("transposed", False))
        groups = int(b.get("groups", 1))
        channels = x.shape[first - 1] if first >= 1 else 1
        depthwise = groups > 1 and groups == channels == outs[0].shape[first - 1]
        if not depthwise and first >= 1:
            meta = _fold_axes(meta, [first - 1])
        make = _transposed_window if transposed else _conv_window
        windows = {
            first + k: make(int(weight.shape[2 + k]), stride[k], padding[k], dilation[k])
            for k in range(n)
        }
        result = _windowed(meta, outs[0].shape, windows, self.notes, "a convolution")
        if first >= 1 and not depthwise:
            axes = list(result.axes)
            axes[first - 1] = _plain(int(outs[0].shape[first - 1]))
            result = _Meta(result.spans, tuple(axes))
        self.put(out, result, outs[0].shape)

    def _pool(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x = b["self"]
        meta = self.get(x)
        n = _spatial_rank(op)
        kernel = _per_axis(b.get("kernel_size"), n, 1)
        stride = _per_axis(b.get("stride"), n, 0)
        stride = [s or k for s, k in zip(stride, kernel, strict=True)]
        padding = _per_axis(b.get("padding"), n, 0)
        dilation = _per_axis(b.get("dilation"), n, 1)
        first = x.ndim - n
        windows = {
            first + k: _conv_window(kernel[k], stride[k], padding[k], dilation[k]) for k in range(n)
        }
        self.put(
            out, _windowed(meta, outs[0].shape, windows, self.notes, "a pooling"), outs[0].shape
        )

    def _adaptive(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x = b["self"]
        n = _spatial_rank(op)
        first = x.ndim - n
        windows = {first + k: _adaptive_window for k in range(n)}
        result = _windowed(self.get(x), outs[0].shape, windows, self.notes, "an adaptive pooling")
        self.put(out, result, outs[0].shape)

    def _upsample(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x = b.get("self", b.get("input"))
        n = _spatial_rank(op)
        if "nearest_exact" in op:
            mode = "nearest_exact"
        elif "nearest" in op:
            mode = "nearest"
        elif "bicubic" in op:
            mode = "cubic"
        else:
            mode = "linear"
        if op.endswith("_aa"):
            self.note(f"{op}: the anti-aliasing filter is not modelled")
        scales = b.get("scale_factors")
        if scales is None:
            keys = ("scales_d", "scales_h", "scales_w") if n == 3 else ("scales_h", "scales_w")
            scales = [b.get(key) for key in keys[-n:]] if n > 1 else [b.get("scales")]
        scales = _per_scale(scales, n)
        align = bool(b.get("align_corners", False) or False)
        first = x.ndim - n
        windows = {first + k: _interp_window(mode, align, scales[k]) for k in range(n)}
        result = _windowed(self.get(x), outs[0].shape, windows, self.notes, "a resampling")
        self.put(out, result, outs[0].shape)

    def _op_pixel_shuffle(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x = b["self"]
        meta = self.get(x)
        r = int(b["upscale_factor"])
        if any(atom[0] is not None for atom in meta.axes[x.ndim - 3]):
            self.note("pixel_shuffle of spatially packed channels")
        meta = _fold_axes(meta, [x.ndim - 3])
        axes = list(meta.axes)
        axes[x.ndim - 3] = _plain(int(outs[0].shape[x.ndim - 3]))
        meta = _Meta(meta.spans, tuple(axes))

        def window(n_in: int, n_out: int) -> tuple[Any, Fraction]:
            return (lambda o: [o // r]), Fraction(1, r)

        windows = {x.ndim - 2: window, x.ndim - 1: window}
        self.put(out, _windowed(meta, outs[0].shape, windows, self.notes, "pixel_shuffle"))

    def _op_pixel_unshuffle(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x = b["self"]
        meta = self.get(x)
        r = int(b["downscale_factor"])
        c = x.ndim - 3
        spatial = [meta.axes[c + 1], meta.axes[c + 2]]
        if not all(len(axis) == 1 and axis[0][0] is not None for axis in spatial):
            self._pointwise(op, "aten::pixel_unshuffle", args, {}, out, outs)
            return
        (hl, hn, hs), (wl, wn, ws) = spatial[0][0], spatial[1][0]
        axes = list(meta.axes)
        axes[c] = _norm([*meta.axes[c], (hl, r, hs), (wl, r, ws)])
        axes[c + 1] = _norm([(hl, hn // r, hs * r)])
        axes[c + 2] = _norm([(wl, wn // r, ws * r)])
        self.put(out, _Meta(meta.spans, tuple(axes)), outs[0].shape)

    def _op_unfold(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x = b["self"]
        a = int(b["dimension"]) % max(x.ndim, 1)
        window = _conv_window(int(b["size"]), int(b["step"]), 0, 1)
        meta = self.get(x)
        result = _windowed(meta, list(outs[0].shape[:-1]), {a: window}, self.notes, "unfold")
        self.put(out, _Meta(result.spans, (*result.axes, _plain(int(outs[0].shape[-1])))))

    # -- shape changes

    def _view(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        meta = self.get(args[0])
        for t in outs:
            shape = tuple(int(n) for n in t.shape)
            if shape == meta.shape():
                self.put(t, meta)
                continue
            regrouped = _regroup(meta, shape)
            if regrouped is None:
                self.note(f"{op} to {shape} mixes spatial positions; treated as global")
                regrouped = _global([meta], shape)
            self.put(t, regrouped)

    def _op_expand(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        meta = self.get(args[0])
        shape = [int(n) for n in outs[0].shape]
        lead = len(shape) - len(meta.axes)
        merged = _merge([(meta, [None] * lead + list(range(len(meta.axes))))], shape, self.notes)
        self.put(out, merged)

    def _op_permute(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        meta = self.get(args[0])
        n = len(meta.axes)
        order = [int(d) % max(n, 1) for d in b["dims"]]
        self.put(out, _Meta(meta.spans, tuple(meta.axes[d] for d in order)))

    def _op_transpose(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        meta = self.get(args[0])
        n = len(meta.axes)
        order = list(range(n))
        if n >= 2:
            d0, d1 = (int(b["dim0"]) % n, int(b["dim1"]) % n) if "dim0" in b else (0, 1)
            order[d0], order[d1] = order[d1], order[d0]
        self.put(out, _Meta(meta.spans, tuple(meta.axes[d] for d in order)))

    _op_t = _op_transpose
    _op_t_ = _op_transpose
    _op_transpose_ = _op_transpose

    def _slice_axis(self, meta: _Meta, a: int, start: int, step: int, size: int) -> _Meta:
        atoms = meta.axes[a]
        axes = list(meta.axes)
        spans = list(meta.spans)
        if not any(atom[0] is not None for atom in atoms):
            axes[a] = _plain(size)
            return _Meta(tuple(spans), tuple(axes))
        inner = math.prod(atom[1] for atom in atoms[1:])
        if inner > 1 and (start % inner or step != 1 or size % inner):
            self.note("slicing a flattened spatial axis; treated as global")
            meta = _fold_axes(meta, [a])
            axes = list(meta.axes)
            axes[a] = _plain(size)
            return _Meta(meta.spans, tuple(axes))
        label, _, unit = atoms[0]
        start //= inner
        count = size // inner
        if label is not None:
            span = spans[label]
            spans[label] = _shifted(span, start * unit)
            first = (label, count, unit * step)
        else:
            first = (None, count, 1)
        axes[a] = _norm([first, *atoms[1:]])
        return _Meta(tuple(spans), tuple(axes))

    def _op_slice(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x = b["self"]
        a = int(b.get("dim", 0)) % max(x.ndim, 1)
        n = int(x.shape[a])
        start, step = b.get("start"), int(b.get("step", 1) or 1)
        start = 0 if start is None else int(start)
        start = min(max(start + n if start < 0 else start, 0), n)
        self.put(out, self._slice_axis(self.get(x), a, start, step, int(outs[0].shape[a])))

    def _op_select(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x = b["self"]
        a = int(b["dim"]) % max(x.ndim, 1)
        index = int(b["index"]) % int(x.shape[a])
        meta = self._slice_axis(self.get(x), a, index, 1, 1)
        self.put(out, _Meta(meta.spans, meta.axes[:a] + meta.axes[a + 1 :]))

    def _op_split(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x = b["self"]
        a = int(b.get("dim", 0)) % max(x.ndim, 1)
        meta = self.get(x)
        start = 0
        for t in outs:
            size = int(t.shape[a])
            self.put(t, self._slice_axis(meta, a, start, 1, size))
            start += size

    _op_split_with_sizes = _op_split
    _op_chunk = _op_split
    _op_tensor_split = _op_split

    def _op_unbind(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x = b["self"]
        a = int(b.get("dim", 0)) % max(x.ndim, 1)
        for index, t in enumerate(outs):
            meta = self._slice_axis(self.get(x), a, index, 1, 1)
            self.put(t, _Meta(meta.spans, meta.axes[:a] + meta.axes[a + 1 :]))

    def _op_cat(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        shape = [int(n) for n in outs[0].shape]
        a = int(b.get("dim", 0)) % max(len(shape), 1)
        parts = []
        for t in b["tensors"]:
            meta = self.get(t)
            if meta is None or t.ndim != len(shape):
                continue
            if any(atom[0] is not None for atom in meta.axes[a]):
                self.note("concatenation along a spatial axis; treated as global along it")
            parts.append((meta, list(range(len(shape)))))
        if parts:
            self.put(out, _merge(parts, shape, self.notes))

    _op_concat = _op_cat
    _op_concatenate = _op_cat

    def _op_stack(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        shape = [int(n) for n in outs[0].shape]
        a = int(b.get("dim", 0)) % max(len(shape), 1)
        align: list[int | None] = [k if k < a else k - 1 for k in range(len(shape))]
        align[a] = None
        parts = [(m, align) for m in (self.get(t) for t in b["tensors"]) if m is not None]
        if parts:
            self.put(out, _merge(parts, shape, self.notes))

    def _pad(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x = args[0]
        meta = self.get(x)
        pad = [int(p) for p in (b.get("pad") or b.get("padding") or [])]
        if "circular" in op or b.get("mode") == "circular":
            self.note("circular padding is modelled as zero padding")
        for i in range(len(pad) // 2):
            a = x.ndim - 1 - i
            meta = self._slice_axis(meta, a, -pad[2 * i], 1, int(outs[0].shape[a]))
        self.put(out, meta, outs[0].shape)

    # -- reductions and products

    def _reduce(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x = args[0]
        meta = self.get(x)
        others = [t for t in _tensors(args[1:]) if isinstance(t, torch.Tensor)]
        if others:  # binary max/min: element-wise
            self._pointwise(op, op, args, {}, out, outs)
            return
        dims = _dims(b.get("dim"), x.ndim)
        keepdim = bool(b.get("keepdim", False))
        folded = _fold_axes(meta, dims)
        for t in outs:
            if t.ndim == x.ndim and keepdim:
                axes = [() if a in dims else axis for a, axis in enumerate(folded.axes)]
            else:
                axes = [axis for a, axis in enumerate(folded.axes) if a not in dims]
            result = _Meta(folded.spans, tuple(axes))
            if result.shape() != tuple(t.shape):
                result = _global([meta], t.shape)
            self.put(t, result)

    def _along(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x = args[0]
        self.note(f"{op} is treated as global along the axes it works on")
        dims = _dims(b.get("dim", b.get("dims")), x.ndim)
        folded = _fold_axes(self.get(x), dims)
        for t in outs:
            if tuple(t.shape) == folded.shape():
                self.put(t, folded)
            elif t.ndim == x.ndim:
                axes = [
                    axis if a not in dims else _plain(int(t.shape[a]))
                    for a, axis in enumerate(folded.axes)
                ]
                self.put(t, _Meta(folded.spans, tuple(axes)))

    def _products(
        self,
        out: Any,
        shape: Sequence[int],
        terms: Sequence[tuple[Any, Sequence[int], Sequence[int | None]]],
    ) -> None:
        """Combine ``(tensor, contracted axes, alignment)`` terms of a matrix product."""
        parts = []
        for t, contracted, align in terms:
            meta = self.get(t)
            if meta is None:
                continue
            parts.append((_fold_axes(meta, [a % t.ndim for a in contracted]), align))
        if parts:
            self.put(out, _merge(parts, shape, self.notes), shape)

    def _op_mm(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        shape = outs[0].shape
        self._products(out, shape, [(b["self"], [1], [0, None]), (b["mat2"], [0], [None, 1])])

    def _op_addmm(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        shape = outs[0].shape
        bias = b["self"]
        terms = [(b["mat1"], [1], [0, None]), (b["mat2"], [0], [None, 1])]
        terms.append((bias, [], [None] * (2 - bias.ndim) + list(range(bias.ndim))))
        self._products(out, shape, terms)

    def _op_bmm(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        shape = outs[0].shape
        self._products(out, shape, [(b["self"], [2], [0, 1, None]), (b["mat2"], [1], [0, None, 2])])

    def _op_baddbmm(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        shape = outs[0].shape
        bias = b["self"]
        terms = [(b["batch1"], [2], [0, 1, None]), (b["batch2"], [1], [0, None, 2])]
        terms.append((bias, [], [None] * (3 - bias.ndim) + list(range(bias.ndim))))
        self._products(out, shape, terms)

    def _op_mv(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        self._products(out, outs[0].shape, [(b["self"], [1], [0]), (b["vec"], [0], [None])])

    def _op_dot(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        self._products(out, (), [(b["self"], [0], []), (b["tensor"], [0], [])])

    def _op_matmul(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        a_t, b_t = b["self"], b["other"]
        shape = [int(n) for n in outs[0].shape]
        n = len(shape)
        if a_t.ndim == 1 or b_t.ndim == 1:
            self._pointwise_global(out, outs, [a_t, b_t], "matmul with a vector")
            return
        align_a = [None] * (n - a_t.ndim) + list(range(a_t.ndim - 1)) + [None]
        align_b = [None] * (n - b_t.ndim) + list(range(b_t.ndim - 2)) + [None, b_t.ndim - 1]
        self._products(out, shape, [(a_t, [-1], align_a), (b_t, [-2], align_b)])

    def _op_linear(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        x, bias = b["input"], b.get("bias")
        shape = [int(n) for n in outs[0].shape]
        terms = [(x, [-1], [*range(x.ndim - 1), None])]
        if isinstance(bias, torch.Tensor):
            terms.append((bias, [], [None] * (len(shape) - bias.ndim) + list(range(bias.ndim))))
        self._products(out, shape, terms)

    def _attention(
        self, op: str, b: dict[str, Any], args: Any, out: Any, outs: list[torch.Tensor]
    ) -> None:
        q, k, v = args[0], args[1], args[2]
        shape = [int(n) for n in outs[0].shape]
        n = len(shape)
        terms = [(q, [-1], [*range(q.ndim - 1), None])]
        for t in (k, v):
            terms.append(
                (t, [-2, -1], [None] * (n - t.ndim) + list(range(t.ndim - 2)) + [None, None])
            )
        self._products(outs[0], shape, terms)

    def _pointwise_global(
        self, out: Any, outs: list[torch.Tensor], tensors: list[Any], what: str
    ) -> None:
        self.note(f"{what} is treated as global")
        metas = [m for m in (self.get(t) for t in tensors) if m is not None]
        for t in outs:
            self.put(t, _global(metas, t.shape))


def _spatial_rank(op: str) -> int:
    """The number of spatial axes an operator such as ``max_pool2d`` works on."""
    found = re.search(r"(\d)d(?:_|$)", op)
    return int(found.group(1)) if found else 1


def _per_scale(scales: Any, n: int) -> list[float | None]:
    if scales is None:
        return [None] * n
    values = list(scales) if isinstance(scales, (list, tuple)) else [scales]
    values = [None if v is None else float(v) for v in values]
    return values * n if len(values) == 1 else values[-n:]


def _regroup(meta: _Meta, shape: Sequence[int]) -> _Meta | None:
    """Regroup a meta's atoms for a reshape, or ``None`` if positions would mix."""
    queue = [atom for axis in meta.axes for atom in axis]
    axes: list[tuple[_Atom, ...]] = []
    for size in shape:
        got: list[_Atom] = []
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
        axes.append(_norm(got))
    if queue:
        return None
    return _Meta(meta.spans, tuple(axes))
