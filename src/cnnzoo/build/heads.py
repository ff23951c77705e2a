"""Classifier and segmentation heads: specs, builders and in-place replacement.

A *head spec* says what sits on top of the pooled features (classification) or of
the last decoder feature map (segmentation):

``linear``
    one linear layer (for a segmenter: a 1×1 convolution), optionally preceded by
    dropout: ``"linear"``, ``"linear:dropout=0.2"``.
``mlp``
    hidden layers, then the output layer. Classification: per hidden size
    Dropout → Linear(h) → activation, then Dropout → Linear(num_classes).
    Segmentation: per hidden size a 3×3 conv (no bias) → BatchNorm → activation
    block, then Dropout2d → 1×1 conv. ``"mlp:512"``, ``"mlp:512,256,dropout=0.3,act=gelu"``.

The grammar, in full::

    HEAD   := KIND [":" ITEM ("," ITEM)*]
    KIND   := "linear" | "mlp"
    ITEM   := INT                     (a hidden size; mlp only, at least one)
            | "dropout=" FLOAT        (0 <= p < 1, default 0)
            | "act=" NAME             (relu, gelu, silu, tanh, leaky_relu, elu, mish,
                                       hardswish; default relu; mlp only)

:func:`replace_head` swaps the model's classifier — whatever module
``model.get_classifier()`` returns, found by identity among its submodules — for the
new head, in place, so ``forward_head(x, pre_logits=True)`` still returns the
features the head consumes and the parameter names of the backbone do not change.
The spec is recorded in ``model.pretrained_cfg["head"]`` and saved in
``config.json``; ``cnnzoo.create(folder)`` rebuilds the same head before loading
the weights.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from cnnzoo.config import ModelConfig
from cnnzoo.errors import HeadSpecError
from cnnzoo.models.base import protocol
from cnnzoo.spec import REGISTRY

__all__ = [
    "ACTIVATIONS",
    "HEAD_GRAMMAR",
    "HeadSpec",
    "HeadSpecError",
    "MLPHead",
    "SegmentationHead",
    "build_head",
    "head_in_features",
    "head_spec_of",
    "parse_head",
    "replace_head",
]

HEAD_KINDS = ("linear", "mlp")
ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "mish": nn.Mish,
    "hardswish": nn.Hardswish,
}
HEAD_GRAMMAR = (
    "a head spec is KIND[:ITEM,ITEM…] with KIND 'linear' or 'mlp' and ITEMs hidden sizes "
    "(mlp only, e.g. 512), 'dropout=P' (0 <= P < 1) and 'act=NAME' (mlp only; "
    + ", ".join(ACTIVATIONS) + "); examples: 'linear', 'linear:dropout=0.2', 'mlp:512', "
    "'mlp:512,256,dropout=0.3,act=gelu'"
)


@dataclass(frozen=True)
class HeadSpec:
    """What to put on top of a backbone.

    Attributes:
        kind: ``"linear"`` or ``"mlp"``.
        hidden: the hidden sizes of an MLP (channels of the 3×3 conv blocks of a
            segmentation head), outermost first.
        dropout: dropout probability before every linear layer (0 disables it).
        act: the activation between hidden layers.

    Example:
        >>> from cnnzoo.build.heads import HeadSpec
        >>> spec = HeadSpec.parse("mlp:512,dropout=0.3")
        >>> spec.hidden, spec.dropout, str(spec)
        ((512,), 0.3, 'mlp:512,dropout=0.3')
    """

    kind: str = "linear"
    hidden: tuple[int, ...] = field(default_factory=tuple)
    dropout: float = 0.0
    act: str = "relu"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        object.__setattr__(self, "dropout", float(self.dropout))
        if self.kind not in HEAD_KINDS:
            raise HeadSpecError(f"unknown head kind {self.kind!r}; {HEAD_GRAMMAR}")
        if self.kind == "mlp" and not self.hidden:
            raise HeadSpecError(f"an mlp head needs at least one hidden size; {HEAD_GRAMMAR}")
        if self.kind == "linear" and self.hidden:
            raise HeadSpecError(
                f"a linear head has no hidden sizes (got {list(self.hidden)}); use "
                f"'mlp:{','.join(map(str, self.hidden))}'"
            )
        if any(h <= 0 for h in self.hidden):
            raise HeadSpecError(f"hidden sizes must be positive, got {list(self.hidden)}")
        if not 0.0 <= self.dropout < 1.0:
            raise HeadSpecError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.act not in ACTIVATIONS:
            raise HeadSpecError(
                f"unknown activation {self.act!r}; choose one of {', '.join(ACTIVATIONS)}"
            )

    # -- conversions ----------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> HeadSpec:
        """Parse ``"linear"``, ``"mlp:512,256,dropout=0.3,act=gelu"`` and the like."""
        if not isinstance(text, str):
            raise HeadSpecError(f"expected a head spec string, got {type(text).__name__}")
        raw = text.strip()
        kind, sep, rest = raw.partition(":")
        kind = kind.strip().lower()
        if kind not in HEAD_KINDS:
            raise HeadSpecError(f"cannot parse head {text!r}: unknown kind {kind!r}; "
                                + HEAD_GRAMMAR)
        if sep and not rest.strip():
            raise HeadSpecError(f"cannot parse head {text!r}: nothing after ':'; " + HEAD_GRAMMAR)
        hidden: list[int] = []
        options: dict[str, Any] = {}
        for item in filter(None, (part.strip() for part in rest.split(","))) if sep else ():
            if re.fullmatch(r"\d+", item):
                if options:
                    raise HeadSpecError(f"cannot parse head {text!r}: hidden sizes come before "
                                        "options; " + HEAD_GRAMMAR)
                hidden.append(int(item))
                continue
            key, eq, value = item.partition("=")
            key, value = key.strip().lower(), value.strip()
            if not eq or key not in ("dropout", "act") or not value:
                raise HeadSpecError(f"cannot parse head {text!r}: bad item {item!r}; "
                                    + HEAD_GRAMMAR)
            if key in options:
                raise HeadSpecError(f"cannot parse head {text!r}: {key!r} given twice")
            if key == "dropout":
                try:
                    options["dropout"] = float(value)
                except ValueError:
                    raise HeadSpecError(f"cannot parse head {text!r}: dropout={value!r} is not "
                                        "a number; " + HEAD_GRAMMAR) from None
            else:
                if kind == "linear":
                    raise HeadSpecError(f"cannot parse head {text!r}: a linear head has no "
                                        "activation; " + HEAD_GRAMMAR)
                options["act"] = value.lower()
        try:
            return cls(kind=kind, hidden=tuple(hidden), **options)
        except HeadSpecError as exc:
            raise HeadSpecError(f"cannot parse head {text!r}: {exc}") from None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HeadSpec:
        """The inverse of :meth:`to_dict` (as stored in ``config.json``)."""
        unknown = set(data) - {"kind", "hidden", "dropout", "act"}
        if unknown:
            raise HeadSpecError(f"unknown head fields {sorted(unknown)} in {dict(data)!r}")
        return cls(kind=str(data.get("kind", "linear")), hidden=tuple(data.get("hidden") or ()),
                   dropout=float(data.get("dropout") or 0.0), act=str(data.get("act", "relu")))

    @classmethod
    def coerce(cls, head: str | HeadSpec | Mapping[str, Any] | None) -> HeadSpec:
        """A :class:`HeadSpec` from a spec, a string, a dict or ``None`` (linear)."""
        if head is None:
            return cls()
        if isinstance(head, HeadSpec):
            return head
        if isinstance(head, str):
            return cls.parse(head)
        if isinstance(head, Mapping):
            return cls.from_dict(head)
        raise HeadSpecError(f"head must be a string, a HeadSpec or a dict, not "
                            f"{type(head).__name__}; {HEAD_GRAMMAR}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (the ``"head"`` entry of ``config.json``)."""
        return {"kind": self.kind, "hidden": list(self.hidden), "dropout": self.dropout,
                "act": self.act}

    def __str__(self) -> str:
        items = [str(h) for h in self.hidden]
        if self.dropout:
            items.append(f"dropout={self.dropout:g}")
        if self.kind == "mlp" and self.act != "relu":
            items.append(f"act={self.act}")
        return self.kind + (":" + ",".join(items) if items else "")

    @property
    def is_plain_linear(self) -> bool:
        """One linear layer and nothing else: what ``reset_classifier`` builds."""
        return self.kind == "linear" and not self.dropout


def parse_head(text: str) -> HeadSpec:
    """Parse a head spec string (see the module docstring for the grammar)."""
    return HeadSpec.parse(text)


class MLPHead(nn.Sequential):
    """Dropout → Linear(h) → act, per hidden size, then Dropout → Linear(num_classes).

    Modules are named ``drop1, fc1, act1, …, drop, fc`` (dropout modules only when
    ``dropout > 0``); ``in_features``/``out_features`` mirror ``nn.Linear``.
    """

    def __init__(self, in_features: int, num_classes: int, spec: HeadSpec) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        width = int(in_features)
        for i, hidden in enumerate(spec.hidden, start=1):
            if spec.dropout:
                layers[f"drop{i}"] = nn.Dropout(spec.dropout)
            layers[f"fc{i}"] = nn.Linear(width, hidden)
            layers[f"act{i}"] = ACTIVATIONS[spec.act]()
            width = hidden
        if spec.dropout:
            layers["drop"] = nn.Dropout(spec.dropout)
        layers["fc"] = nn.Linear(width, int(num_classes))
        super().__init__(layers)
        self.in_features = int(in_features)
        self.out_features = int(num_classes)


class SegmentationHead(nn.Sequential):
    """Per hidden width a 3×3 conv → BN → act block, then (Dropout2d →) a 1×1 conv.

    Modules are named ``block1, …, drop, conv``; with no hidden widths it is a single
    1×1 convolution (``conv``) — the classic UNet head.
    """

    def __init__(self, in_channels: int, num_classes: int, spec: HeadSpec) -> None:
        layers: OrderedDict[str, nn.Module] = OrderedDict()
        width = int(in_channels)
        for i, hidden in enumerate(spec.hidden, start=1):
            layers[f"block{i}"] = nn.Sequential(OrderedDict(
                conv=nn.Conv2d(width, hidden, kernel_size=3, padding=1, bias=False),
                bn=nn.BatchNorm2d(hidden),
                act=ACTIVATIONS[spec.act](),
            ))
            width = hidden
        if spec.dropout:
            layers["drop"] = nn.Dropout2d(spec.dropout)
        layers["conv"] = nn.Conv2d(width, int(num_classes), kernel_size=1)
        super().__init__(layers)
        self.in_channels = int(in_channels)
        self.out_channels = int(num_classes)


def build_head(in_features: int, num_classes: int, head: str | HeadSpec | None = None, *,
               segmentation: bool = False) -> nn.Module:
    """A freshly initialised head module for ``in_features`` inputs and ``num_classes``."""
    spec = HeadSpec.coerce(head)
    if num_classes < 1:
        raise HeadSpecError(
            f"a {spec} head needs num_classes >= 1 (num_classes=0 removes the classifier)"
        )
    if segmentation:
        return SegmentationHead(in_features, num_classes, spec)
    if spec.is_plain_linear:
        return nn.Linear(in_features, num_classes)
    return MLPHead(in_features, num_classes, spec)


# -- replacing a model's head ------------------------------------------------------------


def _is_segmenter(model: nn.Module) -> bool:
    arch = (getattr(model, "pretrained_cfg", None) or {}).get("architecture")
    if arch and arch in REGISTRY:
        return REGISTRY.get(arch).task == "segmentation"
    classifier = protocol(model).get_classifier() if hasattr(model, "get_classifier") else None
    return isinstance(classifier, nn.Conv2d | SegmentationHead)


def head_in_features(model: nn.Module) -> int:
    """The width of the features the model's classifier consumes.

    Read from the current classifier (``nn.Linear``/``nn.Conv2d``, or a head built
    here), else timm's ``head_hidden_size`` or the model's ``num_features``.
    """
    classifier = protocol(model).get_classifier() if hasattr(model, "get_classifier") else None
    if isinstance(classifier, MLPHead | nn.Linear):
        return int(classifier.in_features)
    if isinstance(classifier, SegmentationHead | nn.Conv2d):
        return int(classifier.in_channels)
    for attr in ("head_hidden_size", "num_features"):
        value = getattr(model, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    raise HeadSpecError(
        f"cannot tell how many features {type(model).__name__}'s classifier takes: it has "
        "no Linear/Conv2d classifier and no num_features"
    )


def _module_name(model: nn.Module, module: nn.Module) -> str:
    for name, candidate in model.named_modules():
        if candidate is module and name:
            return name
    raise HeadSpecError(
        f"{type(model).__name__}.get_classifier() returned a module that is not one of its "
        "submodules; cannot replace it in place"
    )


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, module)


def _reference_tensor(model: nn.Module) -> torch.Tensor | None:
    for tensor in model.parameters():
        return tensor
    return None


def replace_head(model: nn.Module, num_classes: int,
                 head: str | HeadSpec | Mapping[str, Any] | None = None) -> nn.Module:
    """Give ``model`` a new, freshly initialised head for ``num_classes``, in place.

    Works for every zoo model: timm-backed ones (the module ``get_classifier()``
    returns is swapped wherever it sits, e.g. ``fc``, ``head.fc``, ``classifier``),
    the native ones (LeNet-5, AlexNet, GoogLeNet — its auxiliary classifiers follow
    the new class count) and UNet (a segmentation head: 1×1 conv, with ``mlp:…``
    3×3 conv blocks before it). ``model.reset_classifier(num_classes)`` runs first,
    so everything the model keeps in sync with its class count stays in sync; the
    new head lands on the device and dtype of the model's parameters.

    Args:
        model: a model made by :func:`cnnzoo.create` (or any model with
            ``get_classifier``/``reset_classifier``).
        num_classes: the new class count (``0`` removes the classifier; only with
            a plain linear head).
        head: a :class:`HeadSpec`, a spec string (``"mlp:512,dropout=0.3"``), its
            ``to_dict()`` or ``None`` for a linear layer.

    Returns:
        the model, with ``pretrained_cfg["head"]``, ``["num_classes"]`` updated (and
        ``["labels"]`` cleared when the class count changed).

    Example:
        >>> import cnnzoo
        >>> from cnnzoo.build.heads import replace_head
        >>> model = replace_head(cnnzoo.create("resnet18"), 5, "mlp:256,dropout=0.2")
        >>> model.fc
        MLPHead(
          (drop1): Dropout(p=0.2, inplace=False)
          (fc1): Linear(in_features=512, out_features=256, bias=True)
          (act1): ReLU()
          (drop): Dropout(p=0.2, inplace=False)
          (fc): Linear(in_features=256, out_features=5, bias=True)
        )
    """
    spec = HeadSpec.coerce(head)
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 0:
        raise HeadSpecError(f"num_classes must be a non-negative int, got {num_classes!r}")
    if not hasattr(model, "get_classifier") or not hasattr(model, "reset_classifier"):
        raise HeadSpecError(
            f"{type(model).__name__} has no get_classifier()/reset_classifier(); build it "
            "with cnnzoo.create() to replace its head"
        )
    if num_classes == 0 and not spec.is_plain_linear:
        raise HeadSpecError(f"num_classes=0 removes the classifier; a {spec} head needs "
                            "num_classes >= 1")
    segmentation = _is_segmenter(model)
    in_features = head_in_features(model)
    reference = _reference_tensor(model)
    protocol(model).reset_classifier(num_classes)
    new: nn.Module | None = None
    if num_classes and not spec.is_plain_linear:
        new = build_head(in_features, num_classes, spec, segmentation=segmentation)
        _set_submodule(model, _module_name(model, protocol(model).get_classifier()), new)
    if reference is not None:
        classifier = new if new is not None else protocol(model).get_classifier()
        if any(p.device != reference.device or p.dtype != reference.dtype
               for p in classifier.parameters()):
            classifier.to(device=reference.device, dtype=reference.dtype)
    if hasattr(model, "num_classes"):
        protocol(model).num_classes = num_classes
    _record_head(model, num_classes, spec)
    return model


def _record_head(model: nn.Module, num_classes: int, spec: HeadSpec) -> None:
    """Write the new class count and head into the model's config (labels go when the
    count changes)."""
    cfg = getattr(model, "pretrained_cfg", None)
    if isinstance(cfg, ModelConfig):
        labels = cfg.labels if cfg.num_classes == num_classes else None
        cfg.update_fields(labels=labels, num_classes=num_classes, head=spec.to_dict())
    elif isinstance(cfg, dict):
        if cfg.get("num_classes") != num_classes:
            cfg["labels"] = None
        cfg["num_classes"] = num_classes
        cfg["head"] = spec.to_dict()


def head_spec_of(model: nn.Module) -> HeadSpec:
    """The head spec recorded on ``model`` (linear when none is)."""
    cfg = getattr(model, "pretrained_cfg", None) or {}
    return HeadSpec.coerce(cfg.get("head"))

