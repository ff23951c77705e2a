"""The torch-free description of models and weights: ``ModelSpec``, ``WeightsSpec`` and friends.

A *spec* says everything cnnzoo knows about an architecture without building it:
its task, its builder (a ``"module:function"`` string imported only when the model
is built), its default input, its pretrained weights, its stages and its CAM layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from cnnzoo._utils import did_you_mean
from cnnzoo.errors import CnnzooError, SpecError

Task = Literal["classification", "segmentation"]
TASKS: tuple[str, ...] = ("classification", "segmentation")
WEIGHT_FORMATS: tuple[str, ...] = ("cnnzoo", "timm", "torchvision")
# Where registered weights come from: a Hugging Face Hub repository, torchvision's own
# weights registry (hash-checked, converted once to safetensors), or the package itself.
WEIGHT_SOURCES: tuple[str, ...] = ("hf-hub", "torchvision", "embedded")
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Paper:
    """The publication that introduced an architecture."""

    title: str
    year: int
    url: str


@dataclass(frozen=True)
class FeatureStage:
    """One feature stage: the module whose output it is, its channels and its stride."""

    module: str
    num_chs: int
    reduction: int


@dataclass(frozen=True)
class WeightsSpec:
    """Where one set of pretrained weights lives and how to feed the model they belong to.

    ``revision`` is a commit hash (pinned) and ``sha256`` the checksum of ``filename``
    when known; a load verifies both. ``format`` names the parameter layout of the
    file: ``"cnnzoo"`` (the model's own), ``"timm"`` or ``"torchvision"``.
    ``embedded`` (``"package:relative/dir"``) points at weights shipped inside an
    installed package, loaded with no network at all. ``labels`` is a tuple of
    class names or the name of a known label set (``"imagenet-1k"``).

    ``source`` says where the weights come from: ``"hf-hub"`` (``repo_id`` is a Hub
    repository), ``"torchvision"`` (``repo_id`` names a torchvision weights entry such
    as ``"SqueezeNet1_0_Weights.IMAGENET1K_V1"``, as ``torchvision.models.get_weight``
    takes it; ``format`` is then ``"torchvision"`` and the model's spec converts it) or
    ``"embedded"`` (set automatically when ``embedded`` is given).
    """

    repo_id: str
    filename: str = "model.safetensors"
    revision: str | None = None
    sha256: str | None = None
    format: str = "cnnzoo"
    num_classes: int = 1000
    labels: tuple[str, ...] | str | None = None
    mean: tuple[float, ...] = (0.485, 0.456, 0.406)
    std: tuple[float, ...] = (0.229, 0.224, 0.225)
    input_size: tuple[int, int, int] = (3, 224, 224)
    crop_pct: float = 0.875
    interpolation: str = "bilinear"
    license: str | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    dataset: str | None = None
    embedded: str | None = None
    description: str = ""
    source: str = "hf-hub"

    def __post_init__(self) -> None:
        if self.format not in WEIGHT_FORMATS:
            raise SpecError(
                f"WeightsSpec for {self.repo_id!r}: format {self.format!r} is not one of "
                f"{', '.join(WEIGHT_FORMATS)}"
            )
        if self.embedded and self.source == "hf-hub":
            object.__setattr__(self, "source", "embedded")
        if self.source not in WEIGHT_SOURCES:
            raise SpecError(
                f"WeightsSpec for {self.repo_id!r}: source {self.source!r} is not one of "
                f"{', '.join(WEIGHT_SOURCES)}" + did_you_mean(self.source, WEIGHT_SOURCES)
            )
        if self.source == "torchvision" and "." not in self.repo_id:
            raise SpecError(
                f"WeightsSpec source 'torchvision' needs repo_id '<WeightsEnum>.<member>', "
                f"e.g. 'SqueezeNet1_0_Weights.IMAGENET1K_V1', not {self.repo_id!r}"
            )
        object.__setattr__(self, "metrics", _frozen(self.metrics))


@dataclass(frozen=True)
class ModelSpec:
    """Everything cnnzoo knows about one architecture, without building it.

    Attributes:
        name: the canonical model name, e.g. ``"resnet50"``.
        family: the family it belongs to, e.g. ``"resnet"``.
        task: ``"classification"`` or ``"segmentation"``.
        builder: ``"package.module:function"``; imported only when the model is built.
        builder_args: fixed keyword arguments the builder receives for this variant.
        defaults: ``num_classes``, ``in_chans`` and ``input_size`` (C, H, W) at creation.
        weights: pretrained weights by tag.
        default_tag: the tag ``pretrained=True`` resolves to.
        paper: the publication that introduced it.
        num_params: parameter count at the default ``num_classes`` and ``in_chans``.
        gmacs: multiply-accumulates (billions) of one forward pass at ``input_size``.
        cam_layer: the module whose activations CAM methods use by default.
        stages: ordered stage names (``stem``, ``stage1``…, ``head``) for freezing.
        stage_modules: for each stage, the module-name prefixes it owns.
        feature_info: the feature stages ``features_only`` returns, in order.
        aliases: other spellings of the name (torchvision's, timm's).
        checkpoint_converters: ``{format: "module:function"}`` turning a state dict
            of another layout (e.g. torchvision's) into this model's.
        source: the distribution that registered the spec (set by the registry).
    """

    name: str
    family: str
    task: Task
    builder: str
    builder_args: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    weights: Mapping[str, WeightsSpec] = field(default_factory=dict)
    default_tag: str | None = None
    paper: Paper | None = None
    num_params: int | None = None
    gmacs: float | None = None
    cam_layer: str | None = None
    stages: tuple[str, ...] = ()
    stage_modules: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    feature_info: tuple[FeatureStage, ...] = ()
    aliases: tuple[str, ...] = ()
    checkpoint_converters: Mapping[str, str] = field(default_factory=dict)
    description: str = ""
    source: str = "unknown"

    def __post_init__(self) -> None:
        where = f"ModelSpec {self.name!r}"
        if not self.name or not self.name.replace("_", "").replace(".", "").isalnum():
            raise SpecError(f"{where}: a name is letters, digits, '_' and '.' only")
        if "." in self.name:
            raise SpecError(f"{where}: '.' separates a name from a weights tag; rename it")
        if self.task not in TASKS:
            raise SpecError(f"{where}: task {self.task!r} is not one of {', '.join(TASKS)}")
        if ":" not in self.builder:
            raise SpecError(
                f"{where}: builder {self.builder!r} must be 'package.module:function'"
            )
        if self.default_tag is not None and self.default_tag not in self.weights:
            raise SpecError(
                f"{where}: default_tag {self.default_tag!r} is not among its weights "
                f"({', '.join(self.weights) or 'none'})"
            )
        defaults: dict[str, Any] = {"num_classes": 1000, "in_chans": 3,
                                    "input_size": (3, 224, 224)}
        defaults.update(self.defaults)
        defaults["input_size"] = tuple(defaults["input_size"])
        object.__setattr__(self, "defaults", _frozen(defaults))
        object.__setattr__(self, "builder_args", _frozen(self.builder_args))
        object.__setattr__(self, "weights", _frozen(self.weights))
        object.__setattr__(self, "checkpoint_converters", _frozen(self.checkpoint_converters))
        object.__setattr__(
            self,
            "stage_modules",
            _frozen({k: tuple(v) for k, v in self.stage_modules.items()}),
        )
        unknown = set(self.stage_modules) - set(self.stages)
        if unknown:
            raise SpecError(f"{where}: stage_modules names unknown stages {sorted(unknown)}")

    # -- capabilities -------------------------------------------------------------
    @property
    def features_only(self) -> bool:
        """Whether ``create(..., features_only=True)`` is supported."""
        return bool(self.feature_info)

    @property
    def pretrained(self) -> bool:
        """Whether any pretrained weights are registered."""
        return bool(self.weights)

    @property
    def pretrained_tags(self) -> tuple[str, ...]:
        return tuple(self.weights)

    @property
    def input_size(self) -> tuple[int, int, int]:
        c, h, w = self.defaults["input_size"]
        return int(c), int(h), int(w)

    @property
    def num_classes(self) -> int:
        return int(self.defaults["num_classes"])

    @property
    def in_chans(self) -> int:
        return int(self.defaults["in_chans"])

    def resolve_tag(self, tag: str | None) -> tuple[str, WeightsSpec]:
        """Return ``(tag, WeightsSpec)`` for ``tag`` (``None`` means the default tag)."""
        if tag is None:
            if self.default_tag is None:
                raise CnnzooError(
                    f"{self.name!r} has no pretrained weights registered; pass a local "
                    "file or directory, or 'hf-hub:org/repo', as pretrained="
                )
            tag = self.default_tag
        if tag not in self.weights:
            raise CnnzooError(
                f"{self.name!r} has no weights tagged {tag!r}; available: "
                f"{', '.join(self.weights) or 'none'}"
                + did_you_mean(tag, list(self.weights))
            )
        return tag, self.weights[tag]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (used by ``cnnzoo info --json`` and the docs)."""
        return {
            "name": self.name,
            "family": self.family,
            "task": self.task,
            "description": self.description,
            "source": self.source,
            "aliases": list(self.aliases),
            "builder": self.builder,
            "defaults": {k: list(v) if isinstance(v, tuple) else v
                         for k, v in self.defaults.items()},
            "num_params": self.num_params,
            "gmacs": self.gmacs,
            "paper": None if self.paper is None else {
                "title": self.paper.title, "year": self.paper.year, "url": self.paper.url},
            "pretrained_tags": list(self.weights),
            "default_tag": self.default_tag,
            "weights": {
                tag: {"repo_id": w.repo_id, "revision": w.revision, "filename": w.filename,
                      "format": w.format, "num_classes": w.num_classes,
                      "metrics": dict(w.metrics), "license": w.license}
                for tag, w in self.weights.items()
            },
            "capabilities": {
                "features_only": self.features_only,
                "cam_layer": self.cam_layer,
                "stages": list(self.stages),
                "checkpoint_formats": ["cnnzoo", *self.checkpoint_converters],
            },
            "feature_info": [
                {"module": f.module, "num_chs": f.num_chs, "reduction": f.reduction}
                for f in self.feature_info
            ],
        }
