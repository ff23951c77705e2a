"""Which quantization configurations to try, in which order, for this graph on this CPU.

- :func:`cpu_has_vnni`: whether the CPU has 8-bit dot-product instructions;
- :func:`graph_facts`: the convolutions (depthwise ones apart), linear layers, first
  conv and last linear of an ONNX graph;
- :func:`static_plan`: the ladder of static INT8 attempts (the requested configuration,
  then percentile calibration, per-tensor weights, sensitive layers in float, and the
  nodes around the worst-quantized activations in float);
- :func:`per_channel_label`: the per-channel choice ``"auto"`` makes, in words;
- :func:`dynamic_plan`: per-channel then per-tensor weights for dynamic INT8;
- :func:`worst_nodes`: the nodes around the activations that quantize worst (SQNR).

Example:
    >>> from cnnzoo.deploy.quantization.plan import GraphFacts, static_plan
    >>> facts = GraphFacts(convs=["conv1", "conv2"], linears=["fc"])
    >>> for config in static_plan("auto", "auto", [], facts, fallbacks=True)[:3]:
    ...     print(config.description)
    per-channel (auto) weights, minmax calibration
    per-channel (auto) weights, percentile calibration (99.999)
    per-tensor weights, percentile calibration
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnzoo.deploy.quantization.calibrate import CalibrationReader

__all__ = [
    "CALIBRATE_METHODS",
    "METHODS",
    "WORST",
    "GraphFacts",
    "StaticConfig",
    "cpu_has_vnni",
    "dynamic_plan",
    "graph_facts",
    "per_channel_label",
    "static_plan",
    "worst_nodes",
]

METHODS: tuple[str, ...] = ("int8-static", "int8-dynamic", "fp16")
CALIBRATE_METHODS: tuple[str, ...] = ("auto", "minmax", "entropy", "percentile")
WORST = "worst"
"""The description of a planned attempt that keeps the worst-quantized nodes in float;
it is filled in from the best attempt so far when its turn comes."""


def cpu_has_vnni() -> bool:
    """Whether the CPU has 8-bit dot-product instructions (x86 VNNI/AMX, or any ARM64)."""
    machine = platform.machine().lower()
    if machine in ("arm64", "aarch64"):
        return True
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    flags: set[str] = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return bool(flags & {"avx512_vnni", "avx_vnni", "amx_int8"})


@dataclass
class GraphFacts:
    """The layers of an ONNX graph that the quantization choices depend on."""

    convs: list[str] = field(default_factory=list)
    depthwise: list[tuple[str, str]] = field(default_factory=list)  # (node, weight)
    linears: list[str] = field(default_factory=list)

    @property
    def first_conv(self) -> str | None:
        return self.convs[0] if self.convs else None

    @property
    def last_linear(self) -> str | None:
        """The last Gemm/MatMul (or, in an all-convolutional net, the last conv)."""
        if self.linears:
            return self.linears[-1]
        return self.convs[-1] if self.convs else None


def graph_facts(model: Any) -> GraphFacts:
    """Conv/Gemm nodes, depthwise weights, first conv and last linear of an ``onnx.ModelProto``."""
    inits = {t.name: t for t in model.graph.initializer}
    facts = GraphFacts()
    for node in model.graph.node:
        if node.op_type == "Conv" and len(node.input) > 1:
            facts.convs.append(node.name)
            group = next((a.i for a in node.attribute if a.name == "group"), 1)
            weight = inits.get(node.input[1])
            if group > 1 and weight is not None and len(weight.dims) == 4 and weight.dims[1] == 1:
                facts.depthwise.append((node.name, node.input[1]))
        elif node.op_type in ("Gemm", "MatMul"):
            facts.linears.append(node.name)
    return facts


@dataclass
class StaticConfig:
    """One static INT8 configuration: weights, calibration and the nodes kept in float."""

    description: str
    per_channel: str  # "per-channel", "per-tensor", "auto"
    calibrate: str
    exclude: list[str]


def per_channel_label(config: StaticConfig, facts: GraphFacts, vnni: bool) -> str:
    """What ``config``'s weights are, in words (``"auto"`` resolved for this CPU)."""
    if config.per_channel == "per-tensor":
        return "per-tensor"
    if config.per_channel == "auto" and not vnni and facts.depthwise:
        return (f"per-channel ({len(facts.depthwise)} depthwise convs per-tensor: "
                "no VNNI)")
    return "per-channel"


def static_plan(per_channel: bool | str, calibrate: str, exclude: Sequence[str],
                facts: GraphFacts, fallbacks: bool) -> list[StaticConfig]:
    """The static INT8 attempts, in order: the requested one, then (with ``fallbacks``) the
    ladder described in :mod:`cnnzoo.deploy.quantization`.

    Args:
        per_channel: ``True``, ``False`` or ``"auto"``.
        calibrate: ``"auto"`` (MinMax, Percentile as a fallback) or a calibration method.
        exclude: node names always kept in float.
        facts: the graph's :class:`GraphFacts`.
        fallbacks: plan the fallbacks too (else only the requested configuration).

    Returns:
        the :class:`StaticConfig` list; entries described :data:`WORST` are completed
        when their turn comes.
    """
    pc = {True: "per-channel", False: "per-tensor", "auto": "auto"}[per_channel]
    calib = "minmax" if calibrate == "auto" else calibrate
    pc_text = "per-channel (auto)" if pc == "auto" else pc
    plan = [StaticConfig(f"{pc_text} weights, {calib} calibration", pc, calib, list(exclude))]
    if not fallbacks:
        return plan
    if calibrate == "auto":
        plan.append(StaticConfig(f"{pc_text} weights, percentile calibration (99.999)", pc,
                                 "percentile", list(exclude)))
        calib = "percentile"
    if pc != "per-tensor":
        plan.append(StaticConfig(f"per-tensor weights, {calib} calibration", "per-tensor",
                                 calib, list(exclude)))
    keep = [n for n in (facts.first_conv, facts.last_linear) if n]
    keep += [n for n, _ in facts.depthwise]
    if keep:
        plan.append(StaticConfig(
            f"{pc_text} weights, {calib} calibration; keep in float the first conv, the "
            "last linear layer" + (" and depthwise convs" if facts.depthwise else ""),
            pc, calib, sorted(set(exclude) | set(keep))))
    plan += [StaticConfig(WORST, pc, calib, list(exclude)), StaticConfig(WORST, pc, calib, [])]
    return plan


def dynamic_plan(per_channel: bool | str, fallbacks: bool) -> list[bool]:
    """The per-channel settings of the dynamic INT8 attempts: as asked, then per-tensor."""
    first = per_channel is not False
    return [first, False] if first and fallbacks else [first]


def worst_nodes(fp32: Path, qdq: Path, calib: np.ndarray, input_name: str, k: int,
                workdir: Path) -> list[tuple[str, float]]:
    """Nodes around the ``k`` activations that quantize worst (lowest SQNR) on ``calib``.

    Args:
        fp32: the float model (its graph names the producers and consumers).
        qdq: the quantized model to diagnose.
        calib: calibration inputs (the first 16 are used).
        input_name: the graph's input.
        k: how many activations.
        workdir: where the augmented model is written (and removed).

    Returns:
        ``(node name, SQNR in dB)`` for the producer and consumers of each activation.
    """
    import onnx
    from onnxruntime.quantization.qdq_loss_debug import (
        collect_activations,
        compute_signal_to_quantization_noice_ratio,
        create_activation_matching,
        modify_model_output_intermediate_tensors,
    )

    augmented = workdir / "augmented.onnx"
    modify_model_output_intermediate_tensors(str(qdq), str(augmented))
    acts = collect_activations(str(augmented), CalibrationReader(input_name, calib[:16], 16))
    matching = create_activation_matching(acts)
    scores = []
    for tensor, match in matching.items():
        if tensor == input_name or not match.get("pre_qdq") or not match.get("post_qdq"):
            continue
        scores.append((compute_signal_to_quantization_noice_ratio(
            match["pre_qdq"], match["post_qdq"]), tensor))
    augmented.unlink(missing_ok=True)
    scores.sort()
    model = onnx.load(str(fp32), load_external_data=False)
    producers = {o: n.name for n in model.graph.node for o in n.output}
    consumers: dict[str, list[str]] = {}
    for node in model.graph.node:
        for i in node.input:
            consumers.setdefault(i, []).append(node.name)
    nodes: list[tuple[str, float]] = []
    for sqnr, tensor in scores[:k]:
        for name in [producers.get(tensor), *consumers.get(tensor, [])]:
            if name and name not in [n for n, _ in nodes]:
                nodes.append((name, sqnr))
    return nodes
