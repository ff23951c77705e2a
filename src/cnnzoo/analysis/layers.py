"""The per-layer table of a model: :func:`summary`, :class:`ModelSummary`, :class:`LayerRow`."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from torch import nn

from cnnzoo.analysis.counting import count_params
from cnnzoo.analysis.receptive_fields.mode import ReceptiveFieldMode
from cnnzoo.analysis.tracing import DEFAULT_INPUT_SIZE, Call, InputSize, make_input, run
from cnnzoo.errors import AnalysisError

__all__ = ["LayerRow", "LayerRowDict", "ModelSummary", "ModelSummaryDict", "summary"]


class LayerRowDict(TypedDict):
    """:meth:`LayerRow.to_dict`: one row as plain JSON-ready values."""

    name: str
    type: str
    depth: int
    output_shape: list[int] | None
    params: int
    macs: int
    stride: int | float | None
    receptive_field: int | None
    leaf: bool


class ModelSummaryDict(TypedDict):
    """:meth:`ModelSummary.to_dict`: the table as plain JSON-ready values."""

    input_size: list[int]
    total_params: int
    trainable_params: int
    total_macs: int
    rows: list[LayerRowDict]
    notes: list[str]


def summary(
    model: nn.Module,
    input_size: InputSize = DEFAULT_INPUT_SIZE,
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
        AnalysisError: If ``depth`` or ``input_size`` is malformed or the model cannot
            run on the input (a ``ValueError``).

    Example:
        >>> import torch
        >>> from cnnzoo.analysis import summary
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU())
        >>> table = summary(net, (1, 8, 8))
        >>> [(row.name, row.output_shape, row.macs, row.receptive_field) for row in table.rows]
        [('0', (4, 6, 6), 1296, 3), ('1', (4, 6, 6), 0, 3)]
    """
    if depth is not None and (not isinstance(depth, int) or isinstance(depth, bool) or depth < 1):
        raise AnalysisError(
            f"depth must be None (one row per leaf layer) or a positive integer (the "
            f"deepest nesting level shown, 1 for the model's children), got {depth!r}"
        )
    x = make_input(model, input_size, 1)
    trace = run(model, x, ReceptiveFieldMode(x))
    return ModelSummary(
        rows=_rows(trace.calls, depth),
        total_params=count_params(model),
        trainable_params=count_params(model, trainable_only=True),
        total_macs=trace.total_macs,
        input_size=tuple(int(n) for n in x.shape[1:]),
        notes=list(trace.notes),
    )


def _shown(call: Call, depth: int | None) -> bool:
    """Whether a call gets a row: a leaf call, or one nested at most ``depth`` deep."""
    if depth is None:
        return call.min_sub_depth is None
    return 1 <= call.depth <= depth or (call.depth == 0 and call.min_sub_depth is None)


def _rows(calls: Sequence[Call], depth: int | None) -> list[LayerRow]:
    """The rows of the calls shown at ``depth``; parameters on a module's first call."""
    limit = math.inf if depth is None else depth
    rows: list[LayerRow] = []
    counted: set[int] = set()
    for call in calls:
        if not _shown(call, depth):
            continue
        first_call = id(call.module) not in counted
        counted.add(id(call.module))
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
                leaf=call.min_sub_depth is None or call.min_sub_depth > limit,
            )
        )
    return rows


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

    def to_dict(self) -> LayerRowDict:
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

    def to_dict(self) -> ModelSummaryDict:
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
        cells = [_row_cells(row) for row in self.rows]
        out = _aligned_table(_HEADER, cells, _LEFT)
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

_HEADER = ("Layer", "Type", "Output shape", "Params", "MACs", "Stride", "RF")
_LEFT = (True, True, True, False, False, False, False)


def _row_cells(row: LayerRow) -> tuple[str, ...]:
    return (
        row.name or "(root)",
        row.type,
        _shape_text(row.output_shape),
        f"{row.params:,}",
        _macs_text(row.macs),
        "-" if row.stride is None else _number_text(row.stride),
        "-" if row.receptive_field is None else f"{row.receptive_field:,}",
    )


def _aligned_table(
    header: Sequence[str], lines: Sequence[Sequence[str]], left: Sequence[bool]
) -> list[str]:
    """The header, a rule, the lines and a rule; columns left- or right-aligned.

    Unlike :func:`cnnzoo._utils.text_table`, one rule spans the whole width and the
    alignment is fixed per column: the layout ``summary`` has always printed.
    """
    widths = [max(len(cells[i]) for cells in [header, *lines]) for i in range(len(header))]

    def render(cells: Sequence[str]) -> str:
        parts = [
            cell.ljust(width) if is_left else cell.rjust(width)
            for cell, width, is_left in zip(cells, widths, left, strict=True)
        ]
        return "  ".join(parts).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    return [render(header), rule, *(render(cells) for cells in lines), rule]


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
