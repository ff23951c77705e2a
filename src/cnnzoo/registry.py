"""Model specifications and the registry that discovers them through entry points.

A *spec* says everything cnnzoo knows about an architecture without building it:
its task, its builder (a ``"module:function"`` string imported only when the model
is built), its default input, its pretrained weights, its stages and its CAM layer.
Specs come from the ``cnnzoo.models`` entry-point group; cnnzoo's own families are
registered through that group too, so built-ins and plugins take the same path.

Reading specs imports neither torch, torchvision nor timm.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from importlib import metadata
from types import MappingProxyType
from typing import Any, Literal

ENTRY_POINT_GROUP = "cnnzoo.models"

Task = Literal["classification", "segmentation"]
TASKS: tuple[str, ...] = ("classification", "segmentation")
WEIGHT_FORMATS: tuple[str, ...] = ("cnnzoo", "timm", "torchvision")


class CnnzooError(Exception):
    """Base class of every error cnnzoo raises on purpose."""


class UnknownModelError(CnnzooError, KeyError):
    """A model name that no installed distribution registers."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DuplicateModelError(CnnzooError):
    """Two distributions register the same model name or alias."""


class SpecError(CnnzooError, ValueError):
    """A spec that is malformed (raised when a plugin's specs are read)."""


class PluginWarning(UserWarning):
    """A plugin that failed to load; the rest of the registry still works."""


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

    def __post_init__(self) -> None:
        if self.format not in WEIGHT_FORMATS:
            raise SpecError(
                f"WeightsSpec for {self.repo_id!r}: format {self.format!r} is not one of "
                f"{', '.join(WEIGHT_FORMATS)}"
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
        defaults = {"num_classes": 1000, "in_chans": 3, "input_size": (3, 224, 224)}
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
        return tuple(self.defaults["input_size"])  # type: ignore[return-value]

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
                + _did_you_mean(tag, list(self.weights))
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


def import_object(path: str) -> Any:
    """Import ``"package.module:attr.sub"`` and return the object it names."""
    module_name, _, attr = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


def _did_you_mean(name: str, choices: Iterable[str], n: int = 3) -> str:
    close = difflib.get_close_matches(name, list(choices), n=n, cutoff=0.5)
    if not close:
        lowered = name.lower()
        close = [c for c in choices if lowered in c.lower()][:n]
    return f". Did you mean: {', '.join(close)}?" if close else ""


def _distribution_name(ep: metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return dist.name if dist is not None else "unknown"


class Registry:
    """All model specs of the installed distributions, discovered lazily.

    The first query reads the ``cnnzoo.models`` entry points. Each entry point
    names an iterable of :class:`ModelSpec` or a callable returning one. A plugin
    that fails to load is reported once with a :class:`PluginWarning`; a name
    registered by two distributions raises :class:`DuplicateModelError`.
    """

    def __init__(self, group: str = ENTRY_POINT_GROUP) -> None:
        self.group = group
        self._specs: dict[str, ModelSpec] | None = None
        self._aliases: dict[str, str] = {}
        self.failed: dict[str, str] = {}

    # -- discovery ------------------------------------------------------------------
    def _entry_points(self) -> list[metadata.EntryPoint]:
        return list(metadata.entry_points(group=self.group))

    def _load(self) -> dict[str, ModelSpec]:
        if self._specs is not None:
            return self._specs
        specs: dict[str, ModelSpec] = {}
        aliases: dict[str, str] = {}
        seen_eps: set[tuple[str, str]] = set()
        for ep in self._entry_points():
            dist = _distribution_name(ep)
            if (dist, ep.value) in seen_eps:  # the same distribution seen twice on sys.path
                continue
            seen_eps.add((dist, ep.value))
            try:
                obj = ep.load()
                items = obj() if callable(obj) else obj
                loaded = [self._check(item, ep, dist) for item in items]
            except Exception as exc:  # a broken plugin must not break the zoo
                key = f"{dist}:{ep.name}"
                if key not in self.failed:
                    self.failed[key] = f"{type(exc).__name__}: {exc}"
                    warnings.warn(
                        f"cnnzoo: the plugin {ep.name!r} of distribution {dist!r} "
                        f"({ep.value}) failed to load and is skipped: "
                        f"{type(exc).__name__}: {exc}",
                        PluginWarning,
                        stacklevel=3,
                    )
                continue
            for spec in loaded:
                for key in (spec.name, *spec.aliases):
                    owner = specs.get(key) or specs.get(aliases.get(key, ""))
                    if owner is not None and owner is not spec:
                        raise DuplicateModelError(
                            f"the model name {key!r} is registered twice: by "
                            f"{owner.source!r} (as {owner.name!r}) and by "
                            f"{spec.source!r} (as {spec.name!r}); uninstall one of them"
                        )
                specs[spec.name] = spec
                for alias in spec.aliases:
                    if alias != spec.name:
                        aliases[alias] = spec.name
        self._specs = dict(sorted(specs.items()))
        self._aliases = aliases
        return self._specs

    @staticmethod
    def _check(item: Any, ep: metadata.EntryPoint, dist: str) -> ModelSpec:
        if not isinstance(item, ModelSpec):
            raise SpecError(
                f"entry point {ep.value} yielded {type(item).__name__}, not a ModelSpec"
            )
        return replace(item, source=dist)

    def refresh(self) -> None:
        """Forget what was discovered; the next query reads the entry points again."""
        self._specs = None
        self._aliases = {}
        self.failed = {}

    def register(self, spec: ModelSpec, *, source: str = "__main__") -> ModelSpec:
        """Register a spec at run time (notebooks, tests); entry points are preferred."""
        specs = self._load()
        if spec.name in specs or spec.name in self._aliases:
            existing = self.get(spec.name)
            raise DuplicateModelError(
                f"the model name {spec.name!r} is already registered by {existing.source!r}"
            )
        spec = replace(spec, source=source)
        specs[spec.name] = spec
        for alias in spec.aliases:
            self._aliases[alias] = spec.name
        return spec

    def unregister(self, name: str) -> None:
        """Remove a spec registered with :meth:`register`."""
        spec = self.get(name)
        assert self._specs is not None
        del self._specs[spec.name]
        for alias in spec.aliases:
            self._aliases.pop(alias, None)

    # -- queries --------------------------------------------------------------------
    def canonical(self, name: str) -> str:
        """The canonical name for ``name`` or one of its aliases."""
        specs = self._load()
        base = name.partition(".")[0] if name not in specs else name
        if base in specs:
            return base
        if base in self._aliases:
            return self._aliases[base]
        raise UnknownModelError(
            f"unknown model {name!r}"
            + _did_you_mean(base, [*specs, *self._aliases])
            + " (`cnnzoo list` shows every model)"
        )

    def get(self, name: str) -> ModelSpec:
        """The spec for ``name`` (a canonical name or an alias, optionally ``name.tag``)."""
        return self._load()[self.canonical(name)]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        specs = self._load()
        base = name.partition(".")[0]
        return name in specs or base in specs or base in self._aliases

    def __iter__(self):
        return iter(self._load().values())

    def __len__(self) -> int:
        return len(self._load())

    def list(
        self,
        pattern: str | Iterable[str] = "*",
        *,
        pretrained: bool | None = None,
        task: str | None = None,
        family: str | None = None,
    ) -> list[str]:
        """Sorted names matching ``pattern`` (fnmatch, or several) and the filters."""
        specs = self._load()
        if task is not None and task not in TASKS:
            raise CnnzooError(
                f"unknown task {task!r}; choose one of {', '.join(TASKS)}"
                + _did_you_mean(task, TASKS)
            )
        families = sorted({s.family for s in specs.values()})
        if family is not None and family not in families:
            raise CnnzooError(
                f"unknown family {family!r}; installed families: {', '.join(families)}"
                + _did_you_mean(family, families)
            )
        patterns = [pattern] if isinstance(pattern, str) else list(pattern)
        out = []
        for name, spec in specs.items():
            keys = (name, *spec.aliases)
            if not any(fnmatch.fnmatchcase(k, p) for p in patterns for k in keys):
                continue
            if pretrained is not None and spec.pretrained != pretrained:
                continue
            if task is not None and spec.task != task:
                continue
            if family is not None and spec.family != family:
                continue
            out.append(name)
        return out

    def families(self) -> list[str]:
        return sorted({s.family for s in self._load().values()})


REGISTRY = Registry()


def list_models(
    pattern: str | Iterable[str] = "*",
    pretrained: bool | None = None,
    task: str | None = None,
    family: str | None = None,
) -> list[str]:
    """List registered model names.

    Args:
        pattern: an fnmatch pattern (or several) matched against names and aliases.
        pretrained: ``True`` for models with registered weights, ``False`` for those
            without, ``None`` for all.
        task: ``"classification"`` or ``"segmentation"``.
        family: a family name such as ``"resnet"``.

    Example:
        >>> import cnnzoo
        >>> cnnzoo.list_models("resnet*")[:3]
        ['resnet101', 'resnet152', 'resnet18']
    """
    return REGISTRY.list(pattern, pretrained=pretrained, task=task, family=family)


def model_info(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of ``name`` (canonical name or alias).

    Example:
        >>> import cnnzoo
        >>> cnnzoo.model_info("mobilenet_v3_large").name
        'mobilenetv3_large_100'
    """
    return REGISTRY.get(name)


def is_model(name: str) -> bool:
    """Whether ``name`` (or an alias) is registered.

    Example:
        >>> import cnnzoo
        >>> cnnzoo.is_model("resnet50"), cnnzoo.is_model("resnet51")
        (True, False)
    """
    return name in REGISTRY
