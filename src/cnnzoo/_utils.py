"""Small helpers shared by every layer: written once, torch-free at import time.

- :func:`did_you_mean`: the hint appended to errors about unknown names;
- :func:`per_channel`: the one rule that adapts mean/std to a channel count;
- :func:`unwrap`: the model inside DDP/DataParallel wrappers;
- :func:`eval_mode`: run a block in eval mode and restore train/eval afterwards;
- :func:`atomic_write_text` / :func:`atomic_write_bytes` / :func:`staged_path`:
  files that are complete or absent, never half-written;
- :func:`text_table`: aligned plain-text tables for reports and the CLI.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import nn


def did_you_mean(name: str, choices: Iterable[str], n: int = 3) -> str:
    """``". Did you mean: a, b?"`` for the closest ``choices``, or ``""`` when none is close.

    Example:
        >>> did_you_mean("resnet51", ["resnet50", "resnet101", "vgg16"])
        '. Did you mean: resnet50, resnet101?'
    """
    options = list(choices)
    close = difflib.get_close_matches(name, options, n=n, cutoff=0.5)
    if not close:
        lowered = name.lower()
        close = [c for c in options if lowered and lowered in c.lower()][:n]
    return f". Did you mean: {', '.join(close)}?" if close else ""


def per_channel(values: Sequence[float], channels: int) -> tuple[float, ...]:
    """Per-channel statistics (mean or std) adapted to ``channels`` input channels.

    The one rule cnnzoo uses everywhere: as many values as channels are kept; one
    value is repeated; one channel gets the average; otherwise the values repeat
    cyclically (the rule timm uses for the first conv's weights).

    Example:
        >>> per_channel((0.485, 0.456, 0.406), 1)
        (0.449,)
        >>> per_channel((0.485, 0.456, 0.406), 4)
        (0.485, 0.456, 0.406, 0.485)
    """
    vals = tuple(float(v) for v in values)
    if channels < 1:
        raise ValueError(f"channels must be at least 1, got {channels}")
    if not vals:
        raise ValueError("per_channel needs at least one value")
    if len(vals) == channels:
        return vals
    if len(vals) == 1:
        return vals * channels
    if channels == 1:
        return (round(sum(vals) / len(vals), 12),)
    return tuple(vals[i % len(vals)] for i in range(channels))


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside ``DistributedDataParallel`` / ``DataParallel`` (or ``model`` itself)."""
    from torch import nn

    while isinstance(model, nn.parallel.DistributedDataParallel | nn.DataParallel):
        model = model.module
    return model


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Put ``model`` in eval mode for the block, then restore each module's own mode."""
    modes = {module: module.training for module in model.modules()}
    model.eval()
    try:
        yield model
    finally:
        for module, training in modes.items():
            module.training = training


@contextmanager
def staged_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary sibling of ``path`` to write to; renamed over ``path`` only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` atomically (a temporary file renamed over the target)."""
    with staged_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with staged_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "").rstrip("M").isdigit()


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table; columns that hold only numbers are right-aligned.

    Example:
        >>> print(text_table(("name", "params"), [("lenet5", "61,706")]))
        name    params
        ------  ------
        lenet5  61,706
    """
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    numeric = [bool(cells) and all(_is_number(r[i]) for r in cells) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)
