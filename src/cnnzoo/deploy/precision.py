"""Precisions: what the hardware runs natively, bf16 for eager PyTorch, how results are verified.

Every precision decision is made from what the hardware reports, never assumed:

- :func:`cpu_flags` / :func:`cpu_has_bf16`: the CPU's own flags (``/proc/cpuinfo``);
  native bf16 is ``avx512_bf16`` or ``amx_bf16`` on x86 and ``bf16`` on ARM;
- :func:`native_bf16`: the same question for a device (CUDA asks the GPU);
- :func:`check_precision` / :func:`autocast`: bf16 for eager PyTorch through
  ``torch.autocast`` (CPU, or CUDA where the model is), refused where the device has
  no native bf16;
- :func:`reference_inputs` / :func:`fp32_inputs`: the real inputs — for a 3-channel
  model crops of scikit-learn's two sample photos (a temple, a flower), preprocessed by
  its own eval transform; otherwise scikit-learn's handwritten digits at its input size
  and normalisation, as export's verification uses — and random ones;
- :func:`max_abs_check` / :func:`top1_check`: the two checks every backend result passes
  before it is reported usable — the export tolerance (``max|out - eager| <= atol +
  rtol * max|eager|``) for fp32, top-1 agreement on real images for bf16 and INT8;
- :class:`Verification` (the checks of one backend and precision) and
  :class:`PrecisionReport` (which precisions were tried, verified and timed, and which
  was chosen), shared by eager bf16 and the OpenVINO backend.

Example:
    >>> import numpy as np
    >>> from cnnzoo.deploy.precision import top1_check
    >>> ref = np.eye(4, dtype=np.float32)
    >>> check = top1_check("digits", ref, ref + 0.01, min_agreement=0.95)
    >>> check.passed, check.value
    (True, 1.0)
"""

from __future__ import annotations

import contextlib
import functools
import math
import platform
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnzoo._utils import text_table
from cnnzoo.data.images import load_images, sample_digits
from cnnzoo.deploy.export import DEFAULT_ATOL, DEFAULT_RTOL
from cnnzoo.errors import PrecisionError, VerificationError

__all__ = [
    "DEFAULT_MIN_AGREEMENT",
    "DEFAULT_VERIFY_SAMPLES",
    "EAGER_PRECISIONS",
    "Check",
    "PrecisionCandidate",
    "PrecisionReport",
    "Verification",
    "autocast",
    "bf16_layout",
    "check_precision",
    "cpu_flags",
    "cpu_has_bf16",
    "device_type",
    "fp32_inputs",
    "max_abs_check",
    "native_bf16",
    "photo_crops",
    "reference_inputs",
    "reference_kind",
    "top1_check",
    "verify_eager",
]

EAGER_PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")
"""What ``precision=`` takes for eager PyTorch (``"auto"`` is fp32: bf16 only on request)."""

DEFAULT_MIN_AGREEMENT = 0.95
"""The top-1 agreement with eager fp32 a bf16 or INT8 result needs to be reported usable."""

DEFAULT_VERIFY_SAMPLES = 32
"""How many real images (photo crops or digits) a top-1 check runs on by default."""

_X86_BF16 = frozenset({"avx512_bf16", "amx_bf16"})


# -- what the hardware reports -------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU's feature flags as the kernel reports them (``flags`` on x86, ``Features`` on
    ARM; empty where ``/proc/cpuinfo`` cannot be read)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            return frozenset(value.split())
    return frozenset()


def cpu_has_bf16() -> bool:
    """Whether the CPU computes in bf16 natively (``avx512_bf16``/``amx_bf16``; ARM ``bf16``).

    Without these, bf16 is emulated in fp32 registers: it runs, but slower than fp32.
    """
    flags = cpu_flags()
    if platform.machine().lower() in ("arm64", "aarch64"):
        return "bf16" in flags
    return bool(flags & _X86_BF16)


def device_type(model: nn.Module) -> str:
    """``"cuda"`` when the model's parameters are on a GPU, else ``"cpu"``."""
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device.type
    return "cpu"


def native_bf16(device: str = "cpu") -> tuple[bool, str]:
    """Whether ``device`` runs bf16 natively, and what it reported.

    Returns:
        ``(native, evidence)``: ``evidence`` names the flag or property it was read from.
    """
    if device == "cuda":
        if not torch.cuda.is_available():
            return False, "no CUDA device"
        name = torch.cuda.get_device_name()
        supported = torch.cuda.is_bf16_supported(including_emulation=False)
        return supported, f"{name}: torch.cuda.is_bf16_supported() is {supported}"
    if device != "cpu":
        return False, f"device {device!r}"
    found = sorted(cpu_flags() & (_X86_BF16 | {"bf16"}))
    if cpu_has_bf16():
        return True, f"CPU flags {', '.join(found)}"
    return False, "the CPU reports neither avx512_bf16 nor amx_bf16 (bf16 would be emulated)"


def check_precision(precision: str, device: str = "cpu") -> str:
    """``precision`` for eager PyTorch on ``device``, resolved (``"auto"`` → ``"fp32"``).

    Raises:
        PrecisionError: an unknown precision, or bf16 where ``device`` has no native bf16.
    """
    if precision not in EAGER_PRECISIONS:
        raise PrecisionError(f"precision {precision!r} is not one of "
                             f"{', '.join(EAGER_PRECISIONS)} for eager PyTorch")
    if precision == "bf16":
        native, evidence = native_bf16(device)
        if not native:
            raise PrecisionError(f"bf16 needs native bf16 on the {device.upper()}: {evidence}; "
                                 "use precision='fp32'")
        return "bf16"
    return "fp32"


@contextlib.contextmanager
def autocast(precision: str, device: str = "cpu") -> Iterator[None]:
    """``torch.autocast(device, dtype=torch.bfloat16)`` for ``"bf16"``, nothing for fp32."""
    if precision == "bf16":
        with torch.autocast(device, dtype=torch.bfloat16):
            yield
    else:
        yield


def bf16_layout(batch: torch.Tensor, precision: str) -> torch.Tensor:
    """``batch`` in ``channels_last`` for bf16 image batches, unchanged otherwise.

    oneDNN's bf16 convolutions (AVX-512 BF16, AMX) work in NHWC: under autocast, a
    channels_last input makes ResNet-50 1.4x faster at batch 1 than a contiguous one
    (``bench/deploy_speed.py``), with the same results.
    """
    if precision == "bf16" and batch.dim() == 4:
        return batch.contiguous(memory_format=torch.channels_last)
    return batch


# -- inputs --------------------------------------------------------------------------------


def _size(cfg: Mapping[str, Any], input_size: Sequence[int] | None) -> tuple[int, int, int]:
    size = tuple(int(v) for v in (input_size or cfg.get("input_size") or ()))
    if len(size) != 3:
        raise PrecisionError(f"no (C, H, W) input size to verify at (got {size or None})")
    return size[0], size[1], size[2]


def photo_crops(n: int, seed: int = 0) -> list[Any]:
    """``n`` random square crops (half the short side or more) of scikit-learn's two
    sample photos, as PIL images."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    photos = [np.asarray(image) for image in load_sample_images().images]
    rng = np.random.default_rng(seed)
    crops = []
    for i in range(n):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        side = int(rng.integers(min(h, w) // 2, min(h, w) + 1))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crops.append(Image.fromarray(photo[y:y + side, x:x + side]))
    return crops


def reference_kind(cfg: Mapping[str, Any], input_size: Sequence[int] | None = None) -> str:
    """``"photos"`` for a 3-channel model, else ``"digits"``: what :func:`reference_inputs`
    gives it."""
    return "photos" if _size(cfg, input_size)[0] == 3 else "digits"


def reference_inputs(cfg: Mapping[str, Any], n: int = DEFAULT_VERIFY_SAMPLES,
                     input_size: Sequence[int] | None = None, seed: int = 0) -> np.ndarray:
    """``n`` real images as the model's input batch.

    A 3-channel model gets crops of real photos (:func:`photo_crops`) through its own
    eval transform (resize, centre crop, mean/std); others get real handwritten digits at
    their input size and normalisation (:func:`cnnzoo.data.images.sample_digits`, the
    real inputs export's verification runs on).
    """
    size = _size(cfg, input_size)
    if size[0] == 3:
        return load_images(photo_crops(max(1, n), seed), {**cfg, "input_size": size})
    return sample_digits(max(1, n), size, cfg.get("mean"), cfg.get("std")).numpy()


def fp32_inputs(cfg: Mapping[str, Any], input_size: Sequence[int] | None = None,
                batch: int | None = None) -> list[tuple[str, np.ndarray]]:
    """The inputs of an fp32 check: random ones and real images (batches 2 and 3, or
    ``batch`` for a model with a fixed batch size)."""
    size = _size(cfg, input_size)
    gen = torch.Generator().manual_seed(0)
    b_random, b_real = (batch, batch) if batch else (2, 3)
    return [(f"random b{b_random}", torch.randn(b_random, *size, generator=gen).numpy()),
            (f"{reference_kind(cfg, size)} b{b_real}", reference_inputs(cfg, b_real, size))]


# -- checks --------------------------------------------------------------------------------


@dataclass
class Check:
    """One comparison with the reference: ``max-abs`` (fp32) or ``top-1`` (bf16, INT8)."""

    inputs: str
    kind: str
    value: float
    limit: float
    samples: int

    @property
    def passed(self) -> bool:
        if not math.isfinite(self.value):
            return False
        return self.value <= self.limit if self.kind == "max-abs" else self.value >= self.limit

    def describe(self) -> str:
        """``"max|Δ| 2.1e-06 <= 1.2e-04"`` or ``"top-1 96.9% >= 95% (n=32)"``."""
        if self.kind == "max-abs":
            sign = "<=" if self.passed else ">"
            return f"max|Δ| {self.value:.2g} {sign} {self.limit:.2g} on {self.inputs}"
        sign = ">=" if self.passed else "<"
        return f"top-1 {self.value:.1%} {sign} {self.limit:.0%} (n={self.samples})"

    def to_dict(self) -> dict[str, Any]:
        return {"inputs": self.inputs, "kind": self.kind, "value": self.value,
                "limit": self.limit, "samples": self.samples, "passed": self.passed}


def _classes(out: np.ndarray) -> np.ndarray:
    """Top-1 per sample (or per pixel for dense outputs)."""
    out = np.asarray(out, dtype=np.float32)
    if out.ndim >= 2 and out.shape[1] > 1:
        return out.argmax(1).ravel()
    return (out > 0).ravel()


def max_abs_check(inputs: str, ref: np.ndarray, out: np.ndarray, *, atol: float = DEFAULT_ATOL,
                  rtol: float = DEFAULT_RTOL) -> Check:
    """``max|out - ref|`` against export's tolerance ``atol + rtol * max|ref|``."""
    ref = np.asarray(ref, dtype=np.float32)
    out = np.asarray(out, dtype=np.float32)
    if ref.shape != out.shape:
        return Check(inputs, "max-abs", float("inf"), 0.0, len(ref))
    diff = float(np.abs(out - ref).max()) if ref.size else 0.0
    if not np.all(np.isfinite(out)):
        diff = float("inf")
    scale = float(np.abs(ref).max()) if ref.size else 0.0
    return Check(inputs, "max-abs", diff, atol + rtol * scale, len(ref))


def top1_check(inputs: str, ref: np.ndarray, out: np.ndarray, *,
               min_agreement: float = DEFAULT_MIN_AGREEMENT) -> Check:
    """The share of samples (pixels, for segmenters) whose top-1 class matches ``ref``'s."""
    ref = np.asarray(ref)
    out = np.asarray(out)
    if ref.shape != out.shape:
        return Check(inputs, "top-1", 0.0, min_agreement, len(ref))
    agree = float(np.mean(_classes(ref) == _classes(out))) if ref.size else 1.0
    if not np.all(np.isfinite(out)):
        agree = 0.0
    return Check(inputs, "top-1", agree, min_agreement, len(ref))


@dataclass
class Verification:
    """The checks of one backend at one precision against its reference."""

    backend: str
    precision: str
    reference: str
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def worst(self) -> Check | None:
        """The failing check (or, when all pass, the closest to its limit)."""
        if not self.checks:
            return None
        failing = [c for c in self.checks if not c.passed]
        if failing:
            return failing[0]
        return max(self.checks, key=lambda c: c.value / c.limit if c.kind == "max-abs" and
                   c.limit else 1.0 - c.value)

    def describe(self) -> str:
        """One line: every check that failed, else the tightest one."""
        failing = [c for c in self.checks if not c.passed]
        if failing:
            return "; ".join(c.describe() for c in failing)
        worst = self.worst
        return worst.describe() if worst else "not verified"

    def to_dict(self) -> dict[str, Any]:
        return {"backend": self.backend, "precision": self.precision,
                "reference": self.reference, "passed": self.passed,
                "checks": [c.to_dict() for c in self.checks]}


def verify(backend: str, precision: str, reference_name: str,
           reference: Callable[[np.ndarray], np.ndarray], run: Callable[[np.ndarray], np.ndarray],
           *, exact: bool, cfg: Mapping[str, Any], inputs: np.ndarray | None = None,
           input_size: Sequence[int] | None = None, batch: int | None = None,
           atol: float = DEFAULT_ATOL, rtol: float = DEFAULT_RTOL,
           min_agreement: float = DEFAULT_MIN_AGREEMENT) -> Verification:
    """Check ``run`` against ``reference``: the fp32 tolerance (``exact``) or top-1 agreement.

    Args:
        backend: the backend's name (for the report).
        precision: the precision it ran at.
        reference_name: what the reference is (``"eager fp32"``…).
        reference: the reference's outputs for a batch.
        run: the backend's outputs for a batch.
        exact: fp32 — compare values within export's tolerance on random and real inputs;
            else top-1 agreement on real inputs.
        cfg: the model's preprocessing (input size, mean, std).
        inputs: the real inputs of a top-1 check (default: :func:`reference_inputs`, 32
            photo crops or digits).
        input_size: ``(C, H, W)`` to verify at (default: ``cfg``'s).
        batch: a fixed batch size the backend needs (default: any).
        atol: absolute tolerance of the fp32 check.
        rtol: tolerance relative to the largest reference output.
        min_agreement: the top-1 agreement a bf16 / INT8 result needs.
    """
    result = Verification(backend, precision, reference_name)
    if exact:
        for name, x in fp32_inputs(cfg, input_size, batch):
            result.checks.append(max_abs_check(name, reference(x), run(x), atol=atol, rtol=rtol))
        return result
    x = reference_inputs(cfg, input_size=input_size) if inputs is None else np.asarray(
        inputs, dtype=np.float32)
    name = reference_kind(cfg, input_size) if inputs is None else "given inputs"
    if batch:
        x = x[: len(x) // batch * batch] if len(x) >= batch else np.resize(x, (batch,
                                                                              *x.shape[1:]))
        ref = np.concatenate([reference(x[i:i + batch]) for i in range(0, len(x), batch)])
        out = np.concatenate([run(x[i:i + batch]) for i in range(0, len(x), batch)])
    else:
        ref, out = reference(x), run(x)
    result.checks.append(top1_check(name, ref, out, min_agreement=min_agreement))
    return result


# -- reports -------------------------------------------------------------------------------


@dataclass
class PrecisionCandidate:
    """One precision a backend tried: its verification and (when timed) its median latency."""

    precision: str
    verification: Verification | None = None
    median_ms: float | None = None
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and self.verification is not None and \
            self.verification.passed

    def status(self) -> str:
        if self.error:
            return f"failed: {self.error}"
        if self.verification is None:
            return "not verified"
        return ("verified: " if self.verification.passed else "FAILED: ") + \
            self.verification.describe()


@dataclass
class PrecisionReport:
    """Which precisions a backend tried, how each verified and timed, and which it chose."""

    backend: str
    source: str
    requested: str
    chosen: str | None = None
    reference: str = "-"
    settings: dict[str, str] = field(default_factory=dict)
    candidates: list[PrecisionCandidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def verified(self) -> bool:
        return any(c.passed and c.precision == self.chosen for c in self.candidates)

    def candidate(self, precision: str) -> PrecisionCandidate:
        """The candidate of ``precision`` (``KeyError`` when it was not tried)."""
        for c in self.candidates:
            if c.precision == precision:
                return c
        raise KeyError(precision)

    def table(self) -> str:
        """The settings, then one row per precision tried."""
        rows = [("backend", self.backend), ("source", self.source),
                ("precision", f"{self.chosen or '-'} (asked: {self.requested})"),
                ("reference", self.reference), *self.settings.items()]
        text = text_table(("backend", "value"), rows)
        text += "\n\n" + text_table(
            ("precision", "median ms (b1)", "verification"),
            [(c.precision + (" *" if c.precision == self.chosen else ""),
              "-" if c.median_ms is None else f"{c.median_ms:.2f}", c.status())
             for c in self.candidates])
        if self.chosen:
            text += (f"\n\n* chosen: {self.chosen}"
                     + (" (the fastest that passes verification)"
                        if self.requested == "auto" and len(self.candidates) > 1 else ""))
        if self.notes:
            text += "\n" + "\n".join(f"note: {n}" for n in self.notes)
        return text

    __str__ = table

    def to_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend, "source": self.source, "requested": self.requested,
            "chosen": self.chosen, "verified": self.verified, "reference": self.reference,
            "settings": dict(self.settings), "notes": list(self.notes),
            "candidates": [{
                "precision": c.precision, "median_ms": c.median_ms, "error": c.error,
                "passed": c.passed,
                "verification": c.verification.to_dict() if c.verification else None,
            } for c in self.candidates],
        }


def refuse(report: PrecisionReport, what: str) -> VerificationError:
    """The error for a report none of whose candidates passed (the numbers in the message)."""
    detail = "; ".join(f"{c.precision}: {c.status()}" for c in report.candidates) or "nothing ran"
    return VerificationError(f"{what} is not usable: {detail}", report)


# -- eager ---------------------------------------------------------------------------------


def eager_runner(model: nn.Module, precision: str = "fp32") -> Callable[[np.ndarray], np.ndarray]:
    """``model`` as a function of a float32 batch, at ``precision`` (bf16 through autocast,
    on channels_last inputs)."""
    device = device_type(model)

    def run(x: np.ndarray) -> np.ndarray:
        batch = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device)
        batch = bf16_layout(batch, precision)
        with torch.inference_mode(), autocast(precision, device):
            out = model(batch)
        if not isinstance(out, torch.Tensor):  # the first output of a tuple/dict
            out = next(iter(out.values())) if isinstance(out, Mapping) else out[0]
        return out.float().cpu().numpy()

    return run


def verify_eager(model: nn.Module, precision: str, cfg: Mapping[str, Any], *,
                 inputs: np.ndarray | None = None,
                 min_agreement: float = DEFAULT_MIN_AGREEMENT) -> PrecisionReport:
    """Eager PyTorch at ``precision`` against eager fp32: top-1 agreement on real inputs.

    Args:
        model: the model (in eval mode).
        precision: ``"auto"``, ``"fp32"`` or ``"bf16"``.
        cfg: its preprocessing (input size, mean, std).
        inputs: the real inputs to check on (default: :func:`reference_inputs`, 32 images).
        min_agreement: the top-1 agreement bf16 needs.

    Returns:
        a :class:`PrecisionReport` (fp32 is the reference itself: nothing to check).

    Raises:
        PrecisionError: an unknown precision, or bf16 without native bf16.
        VerificationError: bf16 disagrees with fp32 more than ``min_agreement`` allows.
    """
    device = device_type(model)
    resolved = check_precision(precision, device)
    report = PrecisionReport("eager", type(model).__name__, precision, reference="eager fp32",
                             settings={"device": device})
    if resolved == "fp32":
        report.chosen = "fp32"
        report.candidates.append(PrecisionCandidate("fp32", Verification(
            "eager", "fp32", "eager fp32", [Check("(the reference)", "max-abs", 0.0, 0.0, 0)])))
        return report
    report.settings["bf16"] = native_bf16(device)[1]
    report.settings["autocast"] = (f"torch.autocast({device!r}, dtype=torch.bfloat16), "
                                   "channels_last inputs")
    check = verify("eager", "bf16", "eager fp32", eager_runner(model, "fp32"),
                   eager_runner(model, "bf16"), exact=False, cfg=cfg, inputs=inputs,
                   min_agreement=min_agreement)
    report.candidates.append(PrecisionCandidate("bf16", check))
    if not check.passed:
        raise refuse(report, "eager bf16")
    report.chosen = "bf16"
    return report
