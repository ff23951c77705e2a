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
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnzoo._utils import eval_mode, text_table, unwrap
from cnnzoo.data.images import sample_digits
from cnnzoo.deploy.capture import capture_dynamic, failing_ops, first_lines, size_multiple
from cnnzoo.deploy.runtime import (
    INPUT_NAME,
    METADATA_KEY,
    OUTPUT_NAME,
    PT2_METADATA_FILE,
    ModelSource,
    commit,
    configured_input_size,
    file_size,
    metadata_for,
    ort_session,
    read_metadata,
    resolve_input_size,
    resolve_model,
    staging,
)
from cnnzoo.errors import ExportError, ExportVerificationError

__all__ = [
    "DEFAULT_ATOL",
    "DEFAULT_RTOL",
    "METADATA_KEY",
    "ExportError",
    "ExportReport",
    "ExportVerificationError",
    "VerifyCheck",
    "metadata_for",
    "read_metadata",
    "resolve_model",
    "to_exported_program",
    "to_onnx",
]

DEFAULT_ATOL = 1e-4
DEFAULT_RTOL = 1e-4
# ONNX protobuf files cannot exceed 2 GiB; bigger models keep their weights beside them.
_PROTOBUF_LIMIT = 1_800_000_000

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
        """The report as aligned text tables (summary, then one row per check)."""
        text = text_table(("export", "value"), self.summary_rows())
        if self.checks:
            text += "\n\n" + text_table(
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


# -- the shared prologue: resolve, check, capture -------------------------------------------


@dataclass
class _Captured:
    """A model ready to export: its metadata, an example input and the captured program."""

    model: nn.Module
    what: str
    meta: dict[str, Any]
    input_size: tuple[int, int, int]
    example: torch.Tensor
    dynamic_batch: bool
    program: torch.export.ExportedProgram | None
    dynamic_axes: dict[str, str]
    spatial: int | None
    notes: list[str]
    start: float

    def take_program(self) -> torch.export.ExportedProgram:
        """The captured program, released from here (big models need the memory back)."""
        program, self.program = self.program, None
        if program is None:
            raise ExportError("the captured program was already used")
        return program

    def fix_spatial(self, reason: str) -> None:
        """Capture again with fixed height and width (a dynamic batch only), noting why."""
        self.notes.append(f"height and width are fixed: {reason}, so only the batch axis is "
                          "dynamic")
        self.program, self.dynamic_axes, self.spatial = capture_dynamic(
            self.model, self.example, what=self.what, dynamic_batch=self.dynamic_batch,
            spatial=None, notes=self.notes)

    def report(self, path: Path, fmt: str, *, opset: int | None, exporter: str,
               atol: float, rtol: float) -> ExportReport:
        return ExportReport(
            path=path, format=fmt, architecture=self.meta["architecture"],
            task=self.meta["task"], input_size=self.input_size, opset=opset,
            dynamic_axes=self.dynamic_axes, file_size=0,
            exporter=f"{exporter}, torch {torch.__version__}", atol=atol, rtol=rtol,
            notes=self.notes, metadata=self.meta,
        )

    def verify(self, report: ExportReport, run: Callable[[torch.Tensor], Sequence[np.ndarray]],
               failure: str) -> None:
        """Compare ``run`` with eager PyTorch on every verification input; raise on a mismatch."""
        cases = _verification_inputs(self.input_size, self.meta, self.dynamic_batch,
                                     self.spatial, self.example.shape[0])
        for name, inputs in cases:
            with torch.no_grad():
                eager = _leaves(self.model(inputs))
                try:
                    outputs = run(inputs)
                except Exception as exc:
                    raise ExportError(f"{failure} on {name} {tuple(inputs.shape)}: "
                                      f"{first_lines(exc, 3)}") from exc
            report.checks.append(_compare(name, inputs, eager, outputs, report.atol,
                                          report.rtol))
        report.seconds = time.perf_counter() - self.start
        _raise_if_failed(report)


def _checked_example(model: nn.Module, size: tuple[int, int, int], what: str,
                     batch: int = 2) -> torch.Tensor:
    """A random example batch that ``model`` accepts (else a clear :class:`ExportError`)."""
    example = torch.randn(batch, *size, generator=torch.Generator().manual_seed(1))
    try:
        with torch.no_grad():
            model(example)
    except Exception as exc:
        configured = configured_input_size(model)
        raise ExportError(
            f"{what} does not accept inputs of size {'x'.join(map(str, size))} "
            f"(C x H x W; its configured input is "
            f"{'x'.join(map(str, configured)) if configured else 'unknown'}): "
            f"{type(exc).__name__}: {first_lines(exc, 3)}"
        ) from exc
    return example


@contextlib.contextmanager
def _captured(model: ModelSource, input_size: Sequence[int] | None, dynamic_batch: bool
              ) -> Iterator[_Captured]:
    """Both exporters' prologue: the module in eval mode, checked and captured.

    The model's train/eval modes are restored when the block ends.
    """
    start = time.perf_counter()
    module = unwrap(resolve_model(model))
    size = resolve_input_size(module, input_size)
    meta = metadata_for(module, size)
    what = repr(meta["architecture"] or type(module).__name__)
    with eval_mode(module):
        example = _checked_example(module, size, what)
        spatial = size_multiple(module) if meta["task"] == "segmentation" else None
        notes: list[str] = []
        program, axes, spatial = capture_dynamic(module, example, what=what,
                                                 dynamic_batch=dynamic_batch,
                                                 spatial=spatial, notes=notes)
        captured = _Captured(module, what, meta, size, example, dynamic_batch, program, axes,
                             spatial, notes, start)
        del program  # held by ``captured`` only, so the exporter can release it
        yield captured


def _fixed_size_fallback(captured: _Captured, export: Callable[[], ExportReport]
                         ) -> ExportReport:
    """``export()``; when a segmenter's export matches eager only at its own size (adaptive
    pooling, say, frozen to the example's shape), export again with fixed height and width."""
    try:
        return export()
    except ExportVerificationError as exc:
        bad = [c for c in exc.report.checks if not c.passed]
        other_size = [c for c in bad if c.shape[2:] != captured.input_size[1:]]
        if not captured.spatial or not bad or len(other_size) != len(bad):
            raise
        worst = max(other_size, key=lambda c: c.max_abs_diff)
        fmt = {"onnx": "ONNX", "pt2": "exported"}.get(exc.report.format, exc.report.format)
        captured.fix_spatial(f"the {fmt} graph does not match eager PyTorch at "
                             f"other sizes (max abs diff {worst.max_abs_diff:.3g} at "
                             f"{'x'.join(map(str, worst.shape[2:]))})")
        return export()


# -- ONNX --------------------------------------------------------------------------------


def _translate(captured: _Captured, opset: int) -> Any:
    """The ONNX program of the captured model (``torch.onnx.export(dynamo=True)``)."""
    program = captured.take_program()
    try:
        onnx_program = torch.onnx.export(
            program, (captured.example,), dynamo=True, opset_version=opset,
            input_names=[INPUT_NAME], output_names=[OUTPUT_NAME], optimize=True,
            verbose=False,
        )
    except Exception as exc:
        failing = failing_ops(exc, program)
        root: BaseException = exc
        while root.__cause__ is not None:
            root = root.__cause__
        raise ExportError(
            f"ONNX translation of {captured.what} failed"
            + (f" at {failing}" if failing else "")
            + f": {type(root).__name__}: {first_lines(root, 2)}"
        ) from exc
    if onnx_program is None:
        raise ExportError("torch.onnx.export returned no ONNX program")
    onnx_program.model.metadata_props[METADATA_KEY] = json.dumps(captured.meta)
    return onnx_program


def _check_onnx(path: Path) -> None:
    import onnx

    try:
        onnx.checker.check_model(str(path), full_check=False)
    except Exception as exc:
        raise ExportError(f"onnx.checker rejected the exported model: {exc}") from exc


def to_onnx(
    model: ModelSource,
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
    path = Path(path)
    with _captured(model, input_size, dynamic_batch) as captured:
        if external_data is None:
            weights = captured.model.state_dict().values()
            external_data = sum(t.numel() * t.element_size() for t in weights) > _PROTOBUF_LIMIT
        large = external_data
        return _fixed_size_fallback(captured, lambda: _write_onnx(
            captured, path, opset=opset, verify=verify, atol=atol, rtol=rtol,
            external_data=large))


def _write_onnx(captured: _Captured, path: Path, *, opset: int, verify: bool, atol: float,
                rtol: float, external_data: bool) -> ExportReport:
    """Translate, save beside ``path``, check and verify; move into place only if it passes."""
    onnx_program = _translate(captured, opset)
    report = captured.report(path, "onnx", opset=opset,
                             exporter="torch.onnx.export(dynamo=True)", atol=atol, rtol=rtol)
    with staging(path) as tmp:
        staged = tmp / path.name
        try:
            onnx_program.save(staged, external_data=external_data)
        except Exception as exc:
            raise ExportError(f"writing the ONNX model failed: {type(exc).__name__}: {exc}"
                              ) from exc
        del onnx_program
        report.file_size = file_size(staged)
        if verify:
            _check_onnx(staged)
            session = ort_session(staged)
            report.providers = list(session.get_providers())
            captured.verify(report, lambda x: session.run(None, {INPUT_NAME: x.numpy()}),
                            "onnxruntime failed to run the export")
            del session
        commit(staged, path)
    report.seconds = time.perf_counter() - captured.start
    return report


# -- torch.export programs ------------------------------------------------------------------


def to_exported_program(
    model: ModelSource,
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

    Args:
        model: a zoo model (any ``nn.Module``), a registered name or a saved model folder.
        path: the ``.pt2`` file to write (written only once verified).
        input_size: ``(C, H, W)`` or ``(H, W)``; default: the model's ``pretrained_cfg``.
        dynamic_batch: make the batch axis dynamic (and, for segmenters, height and width).
        verify: load the program back and compare it with eager PyTorch.
        atol: absolute tolerance (see :func:`to_onnx`).
        rtol: tolerance relative to the largest eager output.

    Returns:
        an :class:`ExportReport`.

    Raises:
        ExportError: the model cannot be captured, or rejects the input size.
        ExportVerificationError: the loaded program disagrees with eager PyTorch.
    """
    path = Path(path)
    with _captured(model, input_size, dynamic_batch) as captured:
        return _fixed_size_fallback(captured, lambda: _write_pt2(
            captured, path, verify=verify, atol=atol, rtol=rtol))


def _write_pt2(captured: _Captured, path: Path, *, verify: bool, atol: float, rtol: float
               ) -> ExportReport:
    """Save the program beside ``path``, load it back and verify; move into place if it passes."""
    program = captured.take_program()
    report = captured.report(path, "pt2", opset=None, exporter="torch.export.export",
                             atol=atol, rtol=rtol)
    report.providers = ["torch (eager interpreter)"]
    with staging(path) as tmp:
        staged = tmp / path.name
        torch.export.save(program, staged,
                          extra_files={PT2_METADATA_FILE: json.dumps(captured.meta)})
        del program
        report.file_size = staged.stat().st_size
        if verify:
            loaded = torch.export.load(staged).module()
            captured.verify(report, lambda x: [o.numpy() for o in _leaves(loaded(x))],
                            "the exported program failed")
        commit(staged, path)
    report.seconds = time.perf_counter() - captured.start
    return report
