"""The registry: model specs discovered through the ``cnnzoo.models`` entry points.

Specs come from the ``cnnzoo.models`` entry-point group; cnnzoo's own families are
registered through that group too, so built-ins and plugins take the same path.

Reading specs imports neither torch, torchvision nor timm.
"""

from __future__ import annotations

import builtins
import fnmatch
import importlib
import warnings
from collections.abc import Iterable
from dataclasses import replace
from importlib import metadata
from typing import Any

from cnnzoo._utils import did_you_mean
from cnnzoo.errors import (
    CnnzooError,
    DuplicateModelError,
    PluginWarning,
    SpecError,
    UnknownModelError,
)
from cnnzoo.spec.types import TASKS, ModelSpec

ENTRY_POINT_GROUP = "cnnzoo.models"


def import_object(path: str) -> Any:
    """Import ``"package.module:attr.sub"`` and return the object it names."""
    module_name, _, attr = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


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
            + did_you_mean(base, [*specs, *self._aliases])
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
                + did_you_mean(task, TASKS)
            )
        families = sorted({s.family for s in specs.values()})
        if family is not None and family not in families:
            raise CnnzooError(
                f"unknown family {family!r}; installed families: {', '.join(families)}"
                + did_you_mean(family, families)
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

    def families(self) -> builtins.list[str]:
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
