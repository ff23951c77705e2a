"""Capturing a model with :func:`torch.export.export`, and saying where it fails.

:func:`capture_dynamic` captures with a dynamic batch axis (and, for segmenters,
dynamic height and width in multiples of the network's stride when the forward
allows it), falling back to fixed sizes where the model specialises on them.
Failures become :class:`~cnnzoo.errors.ExportError` messages that name the module
and source line (:func:`where_in_model`) or the graph op (:func:`failing_ops`).
"""

from __future__ import annotations

import contextlib
import re
import traceback
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnzoo.errors import ExportError

__all__ = [
    "capture",
    "capture_dynamic",
    "dynamic_shapes",
    "failing_ops",
    "first_lines",
    "is_constraint_error",
    "size_multiple",
    "where_in_model",
]

MAX_DIM = 4096
"""The largest batch, height or width a dynamic axis allows."""


def size_multiple(model: nn.Module) -> int:
    """The stride the input's height and width must be a multiple of (default 32)."""
    multiple = getattr(model, "size_multiple", None)
    if isinstance(multiple, int) and multiple > 0:
        return multiple
    info = getattr(model, "feature_info", None)
    reductions: list[int] = []
    if isinstance(info, list):
        reductions = [int(d.get("reduction", 1)) for d in info if isinstance(d, dict)]
    elif info is not None and hasattr(info, "reduction"):
        with contextlib.suppress(Exception):
            reductions = [int(r) for r in info.reduction()]
    return max(reductions, default=32)


def dynamic_shapes(batch: bool, spatial: int | None) -> dict[str, Any] | None:
    """``dynamic_shapes`` for :func:`torch.export.export` of an input named ``x``."""
    from torch.export import Dim

    axes: dict[int, Any] = {}
    if batch:
        axes[0] = Dim("batch", min=1, max=MAX_DIM)
    if spatial:
        top = max(1, MAX_DIM // spatial)
        axes[2] = spatial * Dim("height_blocks", min=1, max=top)
        axes[3] = spatial * Dim("width_blocks", min=1, max=top)
    return {"x": axes} if axes else None


class _Wrapper(nn.Module):
    """Names the input ``x`` for ``dynamic_shapes`` whatever the model's forward calls it."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> Any:
        return self.model(x)


# -- error messages ------------------------------------------------------------------------


def where_in_model(exc: BaseException, model: nn.Module) -> str:
    """The innermost module of ``model`` (and source line) active when ``exc`` was raised."""
    names = {id(m): name for name, m in model.named_modules()}
    found = ""
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        owner = frame.f_locals.get("self")
        if isinstance(owner, nn.Module) and id(owner) in names:
            name = names[id(owner)] or "<root>"
            found = (f"module {name!r} ({type(owner).__name__}), "
                     f"{Path(frame.f_code.co_filename).name}:{lineno}")
    return found


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def first_lines(exc: BaseException, n: int = 6) -> str:
    """The first ``n`` non-empty lines of an exception's message, without colour codes."""
    text = _ANSI.sub("", str(exc)).strip() or type(exc).__name__
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return "\n".join(lines[:n])


def is_constraint_error(exc: BaseException) -> bool:
    """Whether ``exc`` says the model specialises a dimension declared dynamic."""
    text = str(exc)
    return "Constraints violated" in text or "specialized it to be a constant" in text


def _op_owner(node: Any) -> str:
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    path, cls = list(stack.values())[-1]
    path = re.sub(r"^(L\['self'\]\.|model\.)", "", str(path))
    cls_name = getattr(cls, "__name__", None) or str(cls).rsplit(".", 1)[-1]
    return f" in module {path!r} ({cls_name})"


def failing_ops(exc: BaseException, program: torch.export.ExportedProgram) -> str:
    """Name the graph op(s) (and their modules) that an exporter error message mentions."""
    text = "".join(traceback.format_exception_only(type(exc), exc))
    cause = exc.__cause__
    while cause is not None:
        text += "".join(traceback.format_exception_only(type(cause), cause))
        cause = cause.__cause__
    hits: dict[str, str] = {}
    for node in program.graph.nodes:
        if node.op != "call_function":
            continue
        target = str(node.target)
        short = re.sub(r"^torch\.ops\.", "", target)
        if short in text or target in text or f"%{node.name} " in text:
            hits.setdefault(short, f"op {short}{_op_owner(node)}")
    if not hits:
        match = re.search(r"(aten\.\w+(?:\.\w+)?|\w+::\w+)", text)
        return f"op {match.group(1)}" if match else ""
    custom = [v for k, v in hits.items() if not k.startswith(("aten.", "prims."))]
    return "; ".join((custom or list(hits.values()))[:3])


# -- capture -----------------------------------------------------------------------------


def capture(model: nn.Module, example: torch.Tensor, dynamic: dict[str, Any] | None,
            what: str) -> torch.export.ExportedProgram:
    """``torch.export.export``: non-strict first, then strict (as torch.onnx does).

    Raises:
        ExportError: neither mode captures the model; the message names the module
            and source line where tracing failed.
    """
    wrapper = _Wrapper(model).eval()
    errors: list[BaseException] = []
    for strict in (False, True):
        try:
            return torch.export.export(wrapper, (example,), dynamic_shapes=dynamic,
                                       strict=strict)
        except Exception as exc:
            errors.append(exc)
            if is_constraint_error(exc):
                break  # strict tracing would specialise the same way
    first = errors[0]
    where = where_in_model(first, model)
    raise ExportError(
        f"torch.export could not capture {what}"
        + (f" in {where}" if where else "")
        + f": {type(first).__name__}: {first_lines(first)}"
    ) from first


def capture_dynamic(model: nn.Module, example: torch.Tensor, *, what: str,
                    dynamic_batch: bool, spatial: int | None, notes: list[str]
                    ) -> tuple[torch.export.ExportedProgram, dict[str, str], int | None]:
    """Capture with the dynamic axes the model allows.

    Args:
        model: the model, in eval mode.
        example: an example input batch.
        what: the model's name for messages.
        dynamic_batch: make the batch axis dynamic.
        spatial: for segmenters, the stride height and width may vary in (``None``:
            fixed height and width).
        notes: receives a note when height and width had to be fixed.

    Returns:
        the program, its dynamic axes (``{"0": "batch", …}``) and the spatial stride
        actually made dynamic (or ``None``).
    """
    if spatial:
        try:
            program = capture(model, example, dynamic_shapes(dynamic_batch, spatial), what)
            axes = {"0": "batch"} if dynamic_batch else {}
            axes.update({"2": f"height ({spatial}n)", "3": f"width ({spatial}n)"})
            return program, axes, spatial
        except ExportError as exc:
            if not is_constraint_error(exc.__cause__ or exc):
                raise
            notes.append(
                "height and width are fixed: the model specialises on the input size "
                "(e.g. int(x.shape[-2]) in its forward), so only the batch axis is dynamic"
            )
    try:
        program = capture(model, example, dynamic_shapes(dynamic_batch, None), what)
    except ExportError as exc:
        if dynamic_batch and is_constraint_error(exc.__cause__ or exc):
            raise ExportError(
                f"{what} cannot be exported with a dynamic batch axis (its forward "
                f"specialises the batch size); pass dynamic_batch=False. {exc}"
            ) from exc
        raise
    return program, ({"0": "batch"} if dynamic_batch else {}), None
