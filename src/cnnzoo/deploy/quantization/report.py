"""What :func:`~cnnzoo.deploy.quantization.quantize` reports: attempts, sizes, latency, accuracy.

:class:`QuantReport` is the whole story of one call (settings, the FP32 and quantized
size, latency and metric, every attempt of the fallback ladder, notes);
:class:`QuantAttempt` is one configuration tried; :class:`QuantResult` pairs the
written file with its report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnzoo._utils import text_table

__all__ = ["QuantAttempt", "QuantReport", "QuantResult"]


@dataclass
class QuantAttempt:
    """One quantization configuration tried, and how much it lost."""

    description: str
    per_channel: str
    calibrate_method: str | None
    excluded_nodes: list[str]
    metric_after: float | None = None
    drop: float | None = None
    accepted: bool = False


@dataclass
class QuantReport:
    """What :func:`quantize` did and measured.

    ``metric`` is ``"accuracy"`` when labelled evaluation data were given, else
    ``"top-1 agreement"`` with the FP32 model (1.0 before by definition); for a
    segmenter (``task="segmentation"``) it is ``"mIoU"`` on masks, else ``"pixel top-1
    agreement"`` with FP32. ``drop`` is ``metric_before - metric_after`` as a fraction
    (0.005 = half a point) and ``max_accuracy_drop`` the gate on it.
    """

    method: str
    source: str
    output: Path | None = None
    task: str = "classification"
    engine: str = "onnxruntime"
    per_channel: str = "-"
    calibrate_method: str | None = None
    activation_type: str | None = None
    weight_type: str | None = None
    reduce_range: bool = False
    calibration_samples: int = 0
    excluded_nodes: list[str] = field(default_factory=list)
    size_before: int = 0
    size_after: int = 0
    latency_before: dict[int, float] = field(default_factory=dict)
    latency_after: dict[int, float] = field(default_factory=dict)
    metric: str | None = None
    eval_samples: int = 0
    metric_before: float | None = None
    metric_after: float | None = None
    max_accuracy_drop: float | None = None
    attempts: list[QuantAttempt] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def drop(self) -> float | None:
        if self.metric_before is None or self.metric_after is None:
            return None
        return self.metric_before - self.metric_after

    @property
    def size_ratio(self) -> float | None:
        return self.size_after / self.size_before if self.size_before else None

    def rows(self) -> list[tuple[str, str, str, str]]:
        def ms(v: float | None) -> str:
            return "-" if v is None else f"{v * 1e3:.2f} ms"

        def ratio(a: float | None, b: float | None) -> str:
            return f"{b / a:.2f}x" if a and b is not None else "-"

        rows = [("size", f"{self.size_before / 1e6:.2f} MB", f"{self.size_after / 1e6:.2f} MB",
                 ratio(self.size_before, self.size_after))]
        for b in sorted(set(self.latency_before) | set(self.latency_after)):
            before, after = self.latency_before.get(b), self.latency_after.get(b)
            rows.append((f"latency b{b}", ms(before), ms(after), ratio(before, after)))
        if self.metric is not None:
            fmt = (lambda v: "-" if v is None else f"{v:.2%}")  # noqa: E731
            drop = self.drop
            rows.append((f"{self.metric} (n={self.eval_samples})", fmt(self.metric_before),
                         fmt(self.metric_after),
                         "-" if drop is None else f"{0.0 - drop * 100 + 0.0:+.2f} pt"))
        return rows

    def table(self) -> str:
        """Settings, the before/after comparison and (after fallbacks) the attempts, as text."""
        settings = [
            ("method", self.method),
            ("engine", self.engine),
            ("source", self.source + (" (segmenter)" if self.task == "segmentation" else "")),
            ("output", str(self.output) if self.output else "-"),
        ]
        if self.method != "fp16":
            settings += [
                ("weights", f"{self.weight_type or '-'}, {self.per_channel}"
                 + (", reduced range" if self.reduce_range else "")),
            ]
        if self.method == "int8-static":
            settings += [
                ("activations", f"{self.activation_type}, calibration "
                 f"{self.calibrate_method} on {self.calibration_samples} samples"),
            ]
        settings.append(("kept in float", ", ".join(self.excluded_nodes) or "-"))
        if self.max_accuracy_drop is not None:
            gauge = "accuracy" if self.metric in (None, "accuracy") else self.metric
            settings.append((f"max {gauge} drop", f"{self.max_accuracy_drop * 100:.2f} pt"))
        settings.append(("time", f"{self.seconds:.1f} s"))
        text = text_table(("quantize", "value"), settings)
        text += "\n\n" + text_table(("", "before (fp32)", "after", "after/before"),
                                    self.rows())
        if len(self.attempts) > 1 or (self.attempts and not self.attempts[0].accepted):
            text += "\n\n" + text_table(
                ("attempt", self.metric or "metric", "drop", "result"),
                [(a.description, "-" if a.metric_after is None else f"{a.metric_after:.2%}",
                  "-" if a.drop is None else f"{a.drop * 100:.2f} pt",
                  "accepted" if a.accepted else "rejected") for a in self.attempts])
        if self.notes:
            text += "\n\n" + "\n".join(f"note: {n}" for n in self.notes)
        return text

    __str__ = table

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method, "engine": self.engine, "source": self.source,
            "task": self.task,
            "output": str(self.output) if self.output else None,
            "per_channel": self.per_channel, "calibrate_method": self.calibrate_method,
            "activation_type": self.activation_type, "weight_type": self.weight_type,
            "reduce_range": self.reduce_range, "calibration_samples": self.calibration_samples,
            "excluded_nodes": list(self.excluded_nodes), "size_before": self.size_before,
            "size_after": self.size_after,
            "latency_before_s": {str(k): v for k, v in self.latency_before.items()},
            "latency_after_s": {str(k): v for k, v in self.latency_after.items()},
            "metric": self.metric, "eval_samples": self.eval_samples,
            "metric_before": self.metric_before, "metric_after": self.metric_after,
            "drop": self.drop, "max_accuracy_drop": self.max_accuracy_drop,
            "attempts": [a.__dict__ for a in self.attempts], "notes": list(self.notes),
            "seconds": self.seconds,
        }


@dataclass
class QuantResult:
    """The quantized model's path and its report."""

    path: Path
    report: QuantReport
