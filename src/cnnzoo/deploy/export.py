"""Export to ONNX and to ``torch.export`` programs (``.pt2``), verified against eager PyTorch.

:func:`to_onnx` captures the model with :func:`torch.export.export` (non-strict,
then strict), translates it with PyTorch's ``torch.export``-based ONNX exporter
(``torch.onnx.export(..., dynamo=True)``, which needs ``onnxscript``) and
optimises the graph. The TorchScript-based exporter is deprecated and not used.
The output has a dynamic batch axis (and, for segmenters, dynamic height and
width in multiples of the network's stride when the model allows it).

Before anything reaches ``path`` the file is written next to it under a temporary
name, checked with :func:`onnx.checker.check_model`, run with onnxruntime and
compared with eager PyTorch on random inputs and on real images (scikit-learn's
handwritten digits at the model's input size), at batch sizes 1 and 3. Only a
file that passes is renamed to ``path``: a failed export never leaves a partial
or unverified file behind.

Tolerance: an export passes when ``max |onnx - eager| <= atol + rtol * max |eager|``
on every check, with ``atol = 1e-4`` and ``rtol = 1e-4`` by default. For logits of
order one this is the 1e-4 absolute bound; networks whose outputs are large (deep
models with random weights reach logits of order 10-100) get the relative part.

Preprocessing (mean, std, input size, crop, interpolation), label names, the
architecture and the task travel in the ONNX ``metadata_props`` under the key
``"cnnzoo"`` (JSON); :func:`read_metadata` reads them back and
:mod:`cnnzoo.predict` uses them so that every backend preprocesses alike.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import shutil
import tempfile
import time
import traceback
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnzoo.errors import CnnzooError, ExportError, ExportVerificationError

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "METADATA_KEY",
    "ExportError",
    "ExportReport",
    "ExportVerificationError",
    "VerifyCheck",
    "read_metadata",
    "to_exported_program",
    "to_onnx",
]

DEFAULT_ATOL = 1e-4
DEFAULT_RTOL = 1e-4
METADATA_KEY = "cnnzoo"
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
PT2_METADATA_FILE = "cnnzoo.json"
# ONNX protobuf files cannot exceed 2 GiB; bigger models keep their weights beside them.
_PROTOBUF_LIMIT = 1_800_000_000
_MAX_DIM = 4096


@dataclass
class VerifyCheck:
    """One comparison of the exported model with eager PyTorch."""

    inputs: str
    shape: tuple[int, ...]
    max_abs_diff: float
    max_rel_diff: float
    top1_agreement: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return self.max_abs_diff <= self.tolerance and math.isfinite(self.max_abs_diff)


@dataclass
class ExportReport:
    """What :func:`to_onnx` / :func:`to_exported_program` wrote and how well it matches eager.

    ``max_abs_diff``, ``max_rel_diff`` (the absolute difference over the largest
    eager output magnitude) and ``top1_agreement`` (per sample, or per pixel for
    segmenters) are the worst over all :attr:`checks`.
    """

    path: Path
    format: str
    architecture: str | None
    task: str
    input_size: tuple[int, int, int]
    opset: int | None
    dynamic_axes: dict[str, str]
    file_size: int
    exporter: str
    providers: list[str] = field(default_factory=list)
    checks: list[VerifyCheck] = field(default_factory=list)
    atol: float = DEFAULT_ATOL
    rtol: float = DEFAULT_RTOL
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def max_abs_diff(self) -> float:
        return max((c.max_abs_diff for c in self.checks), default=float("nan"))

    @property
    def max_rel_diff(self) -> float:
        return max((c.max_rel_diff for c in self.checks), default=float("nan"))

    @property
    def top1_agreement(self) -> float:
        return min((c.top1_agreement for c in self.checks), default=float("nan"))

    def summary_rows(self) -> list[tuple[str, str]]:
        dims = ", ".join(f"{axis}={name}" for axis, name in self.dynamic_axes.items()) or "none"
        rows = [
            ("file", str(self.path)),
            ("format", self.format + (f" (opset {self.opset})" if self.opset else "")),
            ("exporter", self.exporter),
            ("architecture", f"{self.architecture or '-'} ({self.task})"),
            ("input", "x".join(str(v) for v in self.input_size)),
            ("dynamic axes", dims),
            ("size", _fmt_bytes(self.file_size)),
            ("providers", ", ".join(self.providers) or "-"),
            ("max abs diff", f"{self.max_abs_diff:.3g}"),
            ("max rel diff", f"{self.max_rel_diff:.3g}"),
            ("top-1 agreement", f"{self.top1_agreement:.2%}"),
            ("tolerance", f"atol {self.atol:g} + rtol {self.rtol:g} x max|eager|"),
            ("verified", "yes" if self.verified else ("no" if self.checks else "skipped")),
            ("time", f"{self.seconds:.1f} s"),
        ]
        rows.extend(("note", n) for n in self.notes)
        return rows

    def check_rows(self) -> list[tuple[str, ...]]:
        return [
            (c.inputs, "x".join(str(v) for v in c.shape), f"{c.max_abs_diff:.3g}",
             f"{c.max_rel_diff:.3g}", f"{c.top1_agreement:.2%}", f"{c.tolerance:.3g}",
             "ok" if c.passed else "FAIL")
            for c in self.checks
        ]

    def table(self) -> str:
        from cnnzoo.cli import render_table

        text = render_table(("export", "value"), self.summary_rows())
        if self.checks:
            text += "\n\n" + render_table(
                ("inputs", "shape", "max abs diff", "max rel diff", "top-1 agree",
                 "tolerance", "result"), self.check_rows())
        return text

    __str__ = table

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path), "format": self.format, "architecture": self.architecture,
            "task": self.task, "input_size": list(self.input_size), "opset": self.opset,
            "dynamic_axes": dict(self.dynamic_axes), "file_size": self.file_size,
            "exporter": self.exporter, "providers": list(self.providers),
            "max_abs_diff": self.max_abs_diff, "max_rel_diff": self.max_rel_diff,
            "top1_agreement": self.top1_agreement, "atol": self.atol, "rtol": self.rtol,
            "verified": self.verified, "seconds": self.seconds, "notes": list(self.notes),
            "checks": [
                {"inputs": c.inputs, "shape": list(c.shape), "max_abs_diff": c.max_abs_diff,
                 "max_rel_diff": c.max_rel_diff, "top1_agreement": c.top1_agreement,
                 "tolerance": c.tolerance, "passed": c.passed}
                for c in self.checks
            ],
        }


def _fmt_bytes(n: int) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e3:.1f} kB"


# -- the model and its preprocessing -----------------------------------------------------


def resolve_model(model: nn.Module | str | os.PathLike[str], *,
                  pretrained: bool | str = False) -> nn.Module:
    """A module as is, or ``cnnzoo.create()`` of a registered name or a saved model folder."""
    if isinstance(model, nn.Module):
        return model
    if not isinstance(model, (str, os.PathLike)):
        raise ExportError(f"expected a model, a model name or a folder, got {type(model).__name__}")
    import cnnzoo

    text = os.fspath(model)
    path = Path(text)
    if path.is_dir():
        return cnnzoo.create(str(path.resolve()))
    if path.suffix or os.sep in text or text.startswith("."):
        if not path.exists():
            raise ExportError(f"{text!r}: no such file or directory")
        raise ExportError(f"{text!r} is a file; expected a model name or a saved model folder")
    return cnnzoo.create(text, pretrained=pretrained)


def _unwrap(model: nn.Module) -> nn.Module:
    if isinstance(model, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
        return model.module
    return model


def model_cfg(model: nn.Module) -> dict[str, Any]:
    """The model's ``pretrained_cfg`` with the spec's defaults filled in."""
    cfg = dict(getattr(model, "pretrained_cfg", None) or {})
    arch = cfg.get("architecture")
    spec = None
    if arch:
        from cnnzoo.spec import REGISTRY

        with contextlib.suppress(CnnzooError):
            spec = REGISTRY.get(arch)
    if spec is not None:
        cfg.setdefault("input_size", spec.input_size)
        cfg["task"] = spec.task
    cfg.setdefault("task", "classification")
    return cfg


def _input_size(model: nn.Module, cfg: Mapping[str, Any],
                input_size: Sequence[int] | None) -> tuple[int, int, int]:
    default = tuple(int(v) for v in cfg.get("input_size") or ())
    if input_size is None:
        if len(default) != 3:
            raise ExportError("the model has no pretrained_cfg['input_size']; pass "
                              "input_size=(C, H, W)")
        return default  # type: ignore[return-value]
    size = tuple(int(v) for v in input_size)
    if len(size) == 2:
        channels = default[0] if default else int(getattr(model, "in_chans", 3))
        size = (channels, *size)
    if len(size) != 3 or any(v <= 0 for v in size):
        raise ExportError("input_size must be (C, H, W) or (H, W) with positive sizes, got "
                          f"{input_size}")
    return size  # type: ignore[return-value]


def metadata_for(model: nn.Module, input_size: Sequence[int]) -> dict[str, Any]:
    """The JSON-ready preprocessing, labels and identity written into an export."""
    from cnnzoo import __version__

    cfg = model_cfg(model)
    channels = int(input_size[0])
    labels = cfg.get("labels")
    return {
        "architecture": cfg.get("architecture"),
        "task": cfg.get("task", "classification"),
        "tag": cfg.get("tag"),
        "input_size": [int(v) for v in input_size],
        "mean": [float(v) for v in (cfg.get("mean") or (0.5,) * channels)],
        "std": [float(v) for v in (cfg.get("std") or (0.5,) * channels)],
        "crop_pct": float(cfg.get("crop_pct") or 1.0),
        "interpolation": str(cfg.get("interpolation") or "bilinear"),
        "num_classes": cfg.get("num_classes"),
        "labels": list(labels) if labels and not isinstance(labels, str) else None,
        "input_name": INPUT_NAME,
        "output_name": OUTPUT_NAME,
        "cnnzoo_version": __version__,
    }


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The cnnzoo metadata (preprocessing, labels, architecture) of an ``.onnx`` or ``.pt2`` file.

    The result is a ``pretrained_cfg``-like dict that :func:`cnnzoo.data.eval_transform`
    accepts. Raises :class:`ExportError` when the file does not exist or carries none.
    """
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{str(path)!r}: no such file")
    if path.suffix == ".pt2":
        extra = {PT2_METADATA_FILE: ""}
        torch.export.load(path, extra_files=extra)
        raw = extra[PT2_METADATA_FILE]
    else:
        import onnx

        try:
            proto = onnx.load(str(path), load_external_data=False)
        except Exception as exc:
            raise ExportError(f"{str(path)!r} is not an ONNX model: {exc}") from exc
        raw = next((p.value for p in proto.metadata_props if p.key == METADATA_KEY), "")
    if not raw:
        raise ExportError(
            f"{str(path)!r} carries no cnnzoo metadata (preprocessing and labels); export it "
            "with cnnzoo.export.to_onnx"
        )
    meta = json.loads(raw)
    for key in ("input_size", "mean", "std"):
        if meta.get(key) is not None:
            meta[key] = tuple(meta[key])
    if meta.get("labels") is not None:
        meta["labels"] = tuple(meta["labels"])
    return meta


def sample_digits(n: int, input_size: Sequence[int], mean: Sequence[float] | None = None,
                  std: Sequence[float] | None = None) -> torch.Tensor:
    """``n`` real handwritten digits (of varied classes) as a ``[n, C, H, W]`` batch."""
    from sklearn.datasets import load_digits

    from cnnzoo.data import _per_channel

    channels, height, width = (int(v) for v in input_size)
    data = load_digits()
    index = np.linspace(0, len(data.images) - 1, n).astype(int)
    images = torch.tensor(data.images[index], dtype=torch.float32).unsqueeze(1) / 16.0
    images = torch.nn.functional.interpolate(images, size=(height, width), mode="bilinear",
                                             align_corners=False).clamp_(0.0, 1.0)
    images = images.expand(-1, channels, -1, -1).contiguous()
    if mean is not None and std is not None:
        m = torch.tensor(_per_channel(mean, channels)).view(1, -1, 1, 1)
        s = torch.tensor(_per_channel(std, channels)).view(1, -1, 1, 1)
        images = (images - m) / s
    return images


# -- capture ---------------------------------------------------------------------------


def _size_multiple(model: nn.Module) -> int:
    multiple = getattr(model, "size_multiple", None)
    if isinstance(multiple, int) and multiple > 0:
        return multiple
    info = getattr(model, "feature_info", None)
    reductions = []
    if isinstance(info, list):
        reductions = [int(d.get("reduction", 1)) for d in info if isinstance(d, dict)]
    elif info is not None and hasattr(info, "reduction"):
        with contextlib.suppress(Exception):
            reductions = [int(r) for r in info.reduction()]
    return max(reductions, default=32)


def _dynamic_shapes(batch: bool, spatial: int | None) -> dict[str, Any] | None:
    from torch.export import Dim

    axes: dict[int, Any] = {}
    if batch:
        axes[0] = Dim("batch", min=1, max=_MAX_DIM)
    if spatial:
        top = max(1, _MAX_DIM // spatial)
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


def _module_names(model: nn.Module) -> dict[int, str]:
    return {id(m): name for name, m in model.named_modules()}


def _where_in_model(exc: BaseException, model: nn.Module) -> str:
    """The innermost module of ``model`` (and source line) active when ``exc`` was raised."""
    names = _module_names(model)
    found = ""
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        owner = frame.f_locals.get("self")
        if isinstance(owner, nn.Module) and id(owner) in names:
            name = names[id(owner)] or "<root>"
            found = (f"module {name!r} ({type(owner).__name__}), "
                     f"{Path(frame.f_code.co_filename).name}:{lineno}")
    return found


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _first_lines(exc: BaseException, n: int = 6) -> str:
    text = _ANSI.sub("", str(exc)).strip() or type(exc).__name__
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return "\n".join(lines[:n])


def _capture(model: nn.Module, example: torch.Tensor, dynamic: dict[str, Any] | None,
             what: str) -> torch.export.ExportedProgram:
    """``torch.export.export``: non-strict first, then strict (as torch.onnx does)."""
    wrapper = _Wrapper(model).eval()
    errors: list[BaseException] = []
    for strict in (False, True):
        try:
            return torch.export.export(wrapper, (example,), dynamic_shapes=dynamic,
                                       strict=strict)
        except Exception as exc:
            errors.append(exc)
            if _is_constraint_error(exc):
                break  # strict tracing would specialise the same way
    exc = errors[0]
    where = _where_in_model(exc, model)
    raise ExportError(
        f"torch.export could not capture {what}"
        + (f" in {where}" if where else "")
        + f": {type(exc).__name__}: {_first_lines(exc)}"
    ) from exc


def _is_constraint_error(exc: BaseException) -> bool:
    text = str(exc)
    return "Constraints violated" in text or "specialized it to be a constant" in text


def _failing_ops(exc: BaseException, program: torch.export.ExportedProgram) -> str:
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
            stack = node.meta.get("nn_module_stack") or {}
            module = ""
            if stack:
                path, cls = list(stack.values())[-1]
                path = re.sub(r"^(L\['self'\]\.|model\.)", "", str(path))
                cls_name = getattr(cls, "__name__", None) or str(cls).rsplit(".", 1)[-1]
                module = f" in module {path!r} ({cls_name})"
            hits.setdefault(short, f"op {short}{module}")
    if not hits:
        match = re.search(r"(aten\.\w+(?:\.\w+)?|\w+::\w+)", text)
        return f"op {match.group(1)}" if match else ""
    custom = [v for k, v in hits.items() if not k.startswith(("aten.", "prims."))]
    return "; ".join((custom or list(hits.values()))[:3])


# -- writing safely ---------------------------------------------------------------------


@contextlib.contextmanager
def staging(path: Path) -> Iterator[Path]:
    """A temporary directory beside ``path``; whatever is left in it is removed on exit."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def commit(staged: Path, path: Path) -> None:
    """Move a staged file (and its ``.data`` external weights) into place, the model last."""
    data = staged.with_name(staged.name + ".data")
    if data.exists():
        os.replace(data, path.with_name(path.name + ".data"))
    os.replace(staged, path)


# -- verification -----------------------------------------------------------------------


def _leaves(value: Any) -> list[torch.Tensor]:
    from torch.utils._pytree import tree_leaves

    return [t for t in tree_leaves(value) if isinstance(t, torch.Tensor)]


def _compare(name: str, inputs: torch.Tensor, eager: list[torch.Tensor],
             other: Sequence[np.ndarray], atol: float, rtol: float) -> VerifyCheck:
    if len(eager) != len(other):
        raise ExportError(f"the export returns {len(other)} outputs, eager PyTorch {len(eager)}")
    max_abs, scale = 0.0, 0.0
    for ref, out in zip(eager, other, strict=True):
        ref_np = ref.detach().float().cpu().numpy()
        out_np = np.asarray(out, dtype=np.float32)
        if ref_np.shape != out_np.shape:
            raise ExportError(
                f"output shape {out_np.shape} differs from eager PyTorch's {ref_np.shape} "
                f"for an input of shape {tuple(inputs.shape)}"
            )
        diff = np.abs(out_np - ref_np)
        max_abs = max(max_abs, float(diff.max()) if diff.size else 0.0)
        if not np.all(np.isfinite(out_np)):
            max_abs = float("inf")
        scale = max(scale, float(np.abs(ref_np).max()) if ref_np.size else 0.0)
    first_ref, first_out = eager[0].detach().float().cpu().numpy(), np.asarray(other[0])
    if first_ref.ndim >= 2 and first_ref.shape[1] > 1:
        agree = float(np.mean(first_ref.argmax(1) == first_out.argmax(1)))
    else:
        agree = 1.0 if max_abs <= atol + rtol * scale else 0.0
    return VerifyCheck(
        inputs=name, shape=tuple(int(v) for v in inputs.shape), max_abs_diff=max_abs,
        max_rel_diff=max_abs / max(scale, 1e-12), top1_agreement=agree,
        tolerance=atol + rtol * scale,
    )


def _verification_inputs(input_size: tuple[int, int, int], meta: Mapping[str, Any],
                         dynamic_batch: bool, spatial: int | None, example_batch: int
                         ) -> list[tuple[str, torch.Tensor]]:
    gen = torch.Generator().manual_seed(0)
    c, h, w = input_size
    batches = (3, 1) if dynamic_batch else (example_batch,)
    cases = [(f"random b{b}", torch.randn(b, c, h, w, generator=gen)) for b in batches]
    digits = sample_digits(max(batches), input_size, meta.get("mean"), meta.get("std"))
    cases.append((f"digits b{max(batches)}", digits))
    if dynamic_batch and 1 not in batches:
        cases.append(("digits b1", digits[:1]))
    if spatial:
        cases.append((f"random b1 {h + spatial}x{w + 2 * spatial}",
                      torch.randn(1, c, h + spatial, w + 2 * spatial, generator=gen)))
    return cases


def _session(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, torch.get_num_threads())
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


# -- the exports ------------------------------------------------------------------------


@dataclass
class _Prepared:
    model: nn.Module
    meta: dict[str, Any]
    input_size: tuple[int, int, int]
    example: torch.Tensor
    what: str
    spatial: int | None


def _prepare(model: nn.Module | str | os.PathLike[str], input_size: Sequence[int] | None,
             example_batch: int = 2) -> _Prepared:
    model = _unwrap(resolve_model(model))
    cfg = model_cfg(model)
    size = _input_size(model, cfg, input_size)
    meta = metadata_for(model, size)
    what = repr(meta["architecture"] or type(model).__name__)
    example = torch.randn(example_batch, *size, generator=torch.Generator().manual_seed(1))
    try:
        with torch.no_grad():
            model(example)
    except Exception as exc:
        raise ExportError(
            f"{what} does not accept inputs of size {'x'.join(map(str, size))} "
            f"(C x H x W; its configured input is "
            f"{'x'.join(str(v) for v in cfg.get('input_size') or ()) or 'unknown'}): "
            f"{type(exc).__name__}: {_first_lines(exc, 3)}"
        ) from exc
    spatial = _size_multiple(model) if meta["task"] == "segmentation" else None
    return _Prepared(model, meta, size, example, what, spatial)


def _capture_dynamic(prep: _Prepared, dynamic_batch: bool, notes: list[str]
                     ) -> tuple[torch.export.ExportedProgram, dict[str, str], int | None]:
    spatial = prep.spatial
    if spatial:
        try:
            program = _capture(prep.model, prep.example,
                               _dynamic_shapes(dynamic_batch, spatial), prep.what)
            axes = {"0": "batch"} if dynamic_batch else {}
            axes.update({"2": f"height ({spatial}n)", "3": f"width ({spatial}n)"})
            return program, axes, spatial
        except ExportError as exc:
            if not _is_constraint_error(exc.__cause__ or exc):
                raise
            notes.append(
                "height and width are fixed: the model specialises on the input size "
                "(e.g. int(x.shape[-2]) in its forward), so only the batch axis is dynamic"
            )
    try:
        program = _capture(prep.model, prep.example, _dynamic_shapes(dynamic_batch, None),
                           prep.what)
    except ExportError as exc:
        if dynamic_batch and _is_constraint_error(exc.__cause__ or exc):
            raise ExportError(
                f"{prep.what} cannot be exported with a dynamic batch axis (its forward "
                f"specialises the batch size); pass dynamic_batch=False. {exc}"
            ) from exc
        raise
    return program, ({"0": "batch"} if dynamic_batch else {}), None


def to_onnx(
    model: nn.Module | str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    input_size: Sequence[int] | None = None,
    dynamic_batch: bool = True,
    opset: int = 18,
    verify: bool = True,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    external_data: bool | None = None,
) -> ExportReport:
    """Export a model to ONNX, check it and verify it against eager PyTorch.

    Args:
        model: a zoo model (any ``nn.Module``), a registered name or a saved model folder.
        path: the ``.onnx`` file to write (written only once verified).
        input_size: ``(C, H, W)`` or ``(H, W)``; default: the model's ``pretrained_cfg``.
        dynamic_batch: make the batch axis dynamic (verified at batch sizes 1 and 3).
            Segmenters also get dynamic height and width in multiples of their stride
            when their forward allows it (the report notes it when it does not).
        opset: the ONNX opset of the default domain.
        verify: run ``onnx.checker`` and onnxruntime against eager PyTorch.
        atol: absolute tolerance: a check passes when
            ``max|onnx - eager| <= atol + rtol * max|eager|``.
        rtol: tolerance relative to the largest eager output.
        external_data: keep the weights in ``path + ".data"``; default: only when the
            model is too big for one protobuf file (2 GiB).

    Returns:
        an :class:`ExportReport`.

    Raises:
        ExportError: the model cannot be captured or translated (the message names the
            failing op or module), or rejects the input size.
        ExportVerificationError: the ONNX model disagrees with eager PyTorch.

    Example:
        >>> import cnnzoo, tempfile, os
        >>> from cnnzoo.deploy.export import to_onnx
        >>> model = cnnzoo.create("lenet5", pretrained=True)
        >>> report = to_onnx(model, os.path.join(tempfile.mkdtemp(), "lenet5.onnx"))
        >>> report.verified, report.top1_agreement
        (True, 1.0)
    """
    start = time.perf_counter()
    path = Path(path)
    prep = _prepare(model, input_size)
    was_training = prep.model.training
    prep.model.eval()
    try:
        return _to_onnx(prep, path, dynamic_batch=dynamic_batch, opset=opset, verify=verify,
                        atol=atol, rtol=rtol, external_data=external_data, start=start)
    finally:
        prep.model.train(was_training)


def _to_onnx(prep: _Prepared, path: Path, *, dynamic_batch: bool, opset: int, verify: bool,
             atol: float, rtol: float, external_data: bool | None, start: float
             ) -> ExportReport:
    import onnx

    notes: list[str] = []
    program, axes, spatial = _capture_dynamic(prep, dynamic_batch, notes)
    try:
        onnx_program = torch.onnx.export(
            program, (prep.example,), dynamo=True, opset_version=opset,
            input_names=[INPUT_NAME], output_names=[OUTPUT_NAME], optimize=True,
            verbose=False,
        )
    except Exception as exc:
        failing = _failing_ops(exc, program)
        root = exc
        while root.__cause__ is not None:
            root = root.__cause__
        raise ExportError(
            f"ONNX translation of {prep.what} failed"
            + (f" at {failing}" if failing else "")
            + f": {type(root).__name__}: {_first_lines(root, 2)}"
        ) from exc
    onnx_program.model.metadata_props[METADATA_KEY] = json.dumps(prep.meta)
    weight_bytes = sum(t.numel() * t.element_size() for t in prep.model.state_dict().values())
    if external_data is None:
        external_data = weight_bytes > _PROTOBUF_LIMIT
    report = ExportReport(
        path=path, format="onnx", architecture=prep.meta["architecture"],
        task=prep.meta["task"], input_size=prep.input_size, opset=opset, dynamic_axes=axes,
        file_size=0, exporter=f"torch.onnx.export(dynamo=True), torch {torch.__version__}",
        atol=atol, rtol=rtol, notes=notes, metadata=prep.meta,
    )
    with staging(path) as tmp:
        staged = tmp / path.name
        try:
            onnx_program.save(staged, external_data=external_data)
        except Exception as exc:
            raise ExportError(f"writing the ONNX model failed: {type(exc).__name__}: {exc}"
                              ) from exc
        del onnx_program, program
        report.file_size = staged.stat().st_size + (
            staged.with_name(staged.name + ".data").stat().st_size
            if staged.with_name(staged.name + ".data").exists() else 0)
        if verify:
            try:
                onnx.checker.check_model(str(staged), full_check=False)
            except Exception as exc:
                raise ExportError(f"onnx.checker rejected the exported model: {exc}") from exc
            session = _session(staged)
            report.providers = list(session.get_providers())
            cases = _verification_inputs(prep.input_size, prep.meta, dynamic_batch, spatial,
                                         prep.example.shape[0])
            for name, inputs in cases:
                with torch.no_grad():
                    eager = _leaves(prep.model(inputs))
                try:
                    outputs = session.run(None, {INPUT_NAME: inputs.numpy()})
                except Exception as exc:
                    raise ExportError(
                        f"onnxruntime failed to run the export on {name} "
                        f"{tuple(inputs.shape)}: {_first_lines(exc, 3)}") from exc
                report.checks.append(_compare(name, inputs, eager, outputs, atol, rtol))
            del session
            report.seconds = time.perf_counter() - start
            _raise_if_failed(report)
        commit(staged, path)
    report.seconds = time.perf_counter() - start
    return report


def _raise_if_failed(report: ExportReport) -> None:
    bad = [c for c in report.checks if not c.passed]
    if bad:
        worst = max(bad, key=lambda c: c.max_abs_diff)
        raise ExportVerificationError(
            f"the {report.format} export of {report.architecture or 'the model'} does not "
            f"match eager PyTorch: max abs diff {worst.max_abs_diff:.3g} > tolerance "
            f"{worst.tolerance:.3g} on {worst.inputs} (top-1 agreement "
            f"{worst.top1_agreement:.1%}); nothing was written to {str(report.path)!r}",
            report,
        )


def to_exported_program(
    model: nn.Module | str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    input_size: Sequence[int] | None = None,
    dynamic_batch: bool = True,
    verify: bool = True,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
) -> ExportReport:
    """Export with :func:`torch.export.export` and save a ``.pt2`` (``torch.export.save``).

    Verified like :func:`to_onnx`: the saved program is loaded back with
    ``torch.export.load`` and run against eager PyTorch on random and real inputs at
    batch sizes 1 and 3. The cnnzoo metadata is stored as the extra file
    ``cnnzoo.json`` (read it with :func:`read_metadata`). Load the program with
    ``torch.export.load(path).module()``.
    """
    start = time.perf_counter()
    path = Path(path)
    prep = _prepare(model, input_size)
    was_training = prep.model.training
    prep.model.eval()
    try:
        notes: list[str] = []
        program, axes, spatial = _capture_dynamic(prep, dynamic_batch, notes)
        report = ExportReport(
            path=path, format="pt2", architecture=prep.meta["architecture"],
            task=prep.meta["task"], input_size=prep.input_size, opset=None, dynamic_axes=axes,
            file_size=0, exporter=f"torch.export.export, torch {torch.__version__}",
            providers=["torch (eager interpreter)"], atol=atol, rtol=rtol, notes=notes,
            metadata=prep.meta,
        )
        with staging(path) as tmp:
            staged = tmp / path.name
            torch.export.save(program, staged,
                              extra_files={PT2_METADATA_FILE: json.dumps(prep.meta)})
            report.file_size = staged.stat().st_size
            if verify:
                loaded = torch.export.load(staged).module()
                cases = _verification_inputs(prep.input_size, prep.meta, dynamic_batch,
                                             spatial, prep.example.shape[0])
                for name, inputs in cases:
                    with torch.no_grad():
                        eager = _leaves(prep.model(inputs))
                        try:
                            outputs = _leaves(loaded(inputs))
                        except Exception as exc:
                            raise ExportError(
                                f"the exported program failed on {name} {tuple(inputs.shape)}: "
                                f"{_first_lines(exc, 3)}") from exc
                    report.checks.append(_compare(name, inputs, eager,
                                                  [o.numpy() for o in outputs], atol, rtol))
                report.seconds = time.perf_counter() - start
                _raise_if_failed(report)
            commit(staged, path)
        report.seconds = time.perf_counter() - start
        return report
    finally:
        prep.model.train(was_training)
