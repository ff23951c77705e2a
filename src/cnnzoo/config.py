"""One model config: what a model needs besides its weights, in one typed place.

:class:`ModelConfig` holds the architecture, class count, input channels and size,
mean/std, interpolation, crop, labels, task, head, tag, source and builder options
of a model. Every model :func:`cnnzoo.create` returns carries one as
``model.pretrained_cfg``; it is also a mutable mapping, so timm (and any code that
reads ``model.pretrained_cfg["mean"]`` or ``.get("input_size")``) reads it as the
dict it expects.

It has exactly one reader and one writer for each place it is stored:

========================  ================================  ==================================
where                     write                             read
========================  ================================  ==================================
``config.json`` (Hub)     :meth:`ModelConfig.to_hub_config`  :meth:`ModelConfig.from_hub_config`
ONNX / ``.pt2`` metadata  :meth:`ModelConfig.to_metadata`    :meth:`ModelConfig.from_metadata`
timm's ``pretrained_cfg``  :meth:`ModelConfig.to_timm_cfg`    :meth:`ModelConfig.from_timm_cfg`
========================  ================================  ==================================

Older files keep loading: ``label_names`` and ``labels`` are both read, a missing
``task`` is taken as classification, a missing ``in_chans`` from ``input_size``.

Example:
    >>> from cnnzoo.config import ModelConfig
    >>> cfg = ModelConfig("lenet5", num_classes=10, in_chans=1, input_size=(1, 32, 32),
    ...                   mean=(0.5,), std=(0.5,), crop_pct=1.0)
    >>> cfg["mean"], cfg.get("input_size")
    ((0.5,), (1, 32, 32))
    >>> ModelConfig.from_hub_config(cfg.to_hub_config(num_features=84)) == cfg
    True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from cnnzoo._utils import did_you_mean, per_channel
from cnnzoo.errors import ConfigError
from cnnzoo.spec.types import IMAGENET_MEAN, IMAGENET_STD, TASKS, WeightsSpec

INTERPOLATIONS: tuple[str, ...] = ("bilinear", "bicubic", "nearest", "lanczos", "box",
                                   "hamming")

# The fields of timm's PretrainedCfg that cnnzoo stores inside config.json's "pretrained_cfg".
TIMM_FIELDS: tuple[str, ...] = ("input_size", "interpolation", "crop_pct", "mean", "std",
                                "num_classes", "license", "tag")


def _tuple_or_none(value: Any) -> tuple[Any, ...] | None:
    return None if value is None else tuple(value)


def _labels(value: Any) -> tuple[str, ...] | None:
    """Label names from a list, a tuple or timm's ``{index: name}`` dict."""
    if value is None or value == [] or value == ():
        return None
    if isinstance(value, Mapping):
        value = [value[k] for k in sorted(value, key=int)]
    if isinstance(value, str):
        raise ConfigError(f"labels must be a sequence of class names, not the string {value!r}")
    return tuple(str(v) for v in value)


@dataclass(eq=True)
class ModelConfig(MutableMapping[str, Any]):
    """The typed config of one model (``model.pretrained_cfg``).

    Attributes:
        architecture: the registered model name (``"resnet50"``).
        num_classes: classes of the head (``0`` for a model without one).
        in_chans: input channels.
        input_size: ``(C, H, W)`` the model expects.
        mean: per-channel mean of the normalisation.
        std: per-channel standard deviation of the normalisation.
        interpolation: resize interpolation (``"bilinear"``, ``"bicubic"``…).
        crop_pct: centre-crop fraction of the eval transform (``1.0``: no crop).
        labels: class names, one per class, or ``None``.
        task: ``"classification"`` or ``"segmentation"``.
        head: the head spec as a dict (``HeadSpec.to_dict()``), ``None`` for the
            builder's own linear classifier.
        tag: the weights tag the model was loaded from.
        source: where the weights came from (``hf-hub:org/repo@commit``, a path…).
        license: the weights' licence.
        model_args: builder options needed to rebuild the model.
    """

    architecture: str | None = None
    num_classes: int = 1000
    in_chans: int = 3
    input_size: tuple[int, int, int] = (3, 224, 224)
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    interpolation: str = "bilinear"
    crop_pct: float = 0.875
    labels: tuple[str, ...] | None = None
    task: str = "classification"
    head: dict[str, Any] | None = None
    tag: str | None = None
    source: str | None = None
    license: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)

    # Other spellings older files and timm use for the same field.
    ALIASES: ClassVar[Mapping[str, str]] = {"label_names": "labels"}

    def __post_init__(self) -> None:
        self.input_size = tuple(int(v) for v in self.input_size)  # type: ignore[assignment]
        if len(self.input_size) != 3 or any(v <= 0 for v in self.input_size):
            raise ConfigError(f"input_size must be (C, H, W) with positive sizes, got "
                              f"{self.input_size}")
        self.mean = tuple(float(v) for v in self.mean)
        self.std = tuple(float(v) for v in self.std)
        self.labels = _labels(self.labels)
        self.num_classes, self.in_chans = int(self.num_classes), int(self.in_chans)
        self.crop_pct = float(self.crop_pct)
        if self.task not in TASKS:
            raise ConfigError(f"task {self.task!r} is not one of {', '.join(TASKS)}"
                              + did_you_mean(self.task, TASKS))
        if self.labels is not None and self.num_classes and len(self.labels) != self.num_classes:
            raise ConfigError(f"{len(self.labels)} label names for a model with "
                              f"{self.num_classes} classes")
        self.model_args = dict(self.model_args or {})

    # -- the mapping view (what timm and dict-style readers see) ----------------------------

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        """The names of the config's fields, in order."""
        return tuple(f.name for f in dataclasses.fields(cls))

    def _key(self, key: str) -> str:
        key = self.ALIASES.get(key, key)
        if key not in self.field_names():
            raise KeyError(key)
        return key

    def __getitem__(self, key: str) -> Any:
        return getattr(self, self._key(key))

    def __setitem__(self, key: str, value: Any) -> None:
        try:
            name = self._key(key)
        except KeyError:
            raise ConfigError(
                f"a model config has no field {key!r}; fields: {', '.join(self.field_names())}"
                + did_you_mean(key, self.field_names())
            ) from None
        setattr(self, name, value)
        self.__post_init__()  # keep the types and invariants

    def __delitem__(self, key: str) -> None:
        raise ConfigError(f"model config fields cannot be deleted ({key!r}); set them instead")

    def __iter__(self) -> Iterator[str]:
        return iter(self.field_names())

    def __len__(self) -> int:
        return len(self.field_names())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.ALIASES.get(key, key) in self.field_names()

    def update_fields(self, **values: Any) -> ModelConfig:
        """Set several fields at once (validated once) and return ``self``."""
        for key, value in values.items():
            setattr(self, self._key(key), value)
        self.__post_init__()
        return self

    def copy(self) -> ModelConfig:
        """An independent copy."""
        return dataclasses.replace(self, model_args=dict(self.model_args),
                                   head=None if self.head is None else dict(self.head))

    # -- derived configs ------------------------------------------------------------------

    def with_in_chans(self, in_chans: int) -> ModelConfig:
        """The config for ``in_chans`` input channels (mean/std by :func:`per_channel`)."""
        out = self.copy()
        out.update_fields(in_chans=in_chans, mean=per_channel(self.mean, in_chans),
                          std=per_channel(self.std, in_chans),
                          input_size=(in_chans, *self.input_size[1:]))
        return out

    def with_num_classes(self, num_classes: int) -> ModelConfig:
        """The config for a head of ``num_classes`` (labels dropped when the count changes)."""
        out = self.copy()
        labels = self.labels if num_classes == self.num_classes else None
        out.update_fields(num_classes=num_classes, labels=labels)
        return out

    # -- construction ---------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], **overrides: Any) -> ModelConfig:
        """A config from a dict of fields (unknown keys are ignored, ``None`` means default).

        This is how a native or plugin builder's plain-dict ``pretrained_cfg`` becomes a
        config: ``{"input_size": (1, 64, 64), "crop_pct": 1.0}``.
        """
        known = set(cls.field_names())
        fields = {cls.ALIASES.get(k, k): v for k, v in values.items()}
        fields = {k: v for k, v in fields.items() if k in known and v is not None}
        fields.update({k: v for k, v in overrides.items() if v is not None})
        if "in_chans" not in fields and "input_size" in fields:
            fields["in_chans"] = int(next(iter(fields["input_size"])))
        return cls(**fields)

    @classmethod
    def from_weights_spec(cls, architecture: str, tag: str, weights: WeightsSpec,
                          labels: Sequence[str] | None, task: str = "classification"
                          ) -> ModelConfig:
        """The config that registered weights (a :class:`~cnnzoo.spec.WeightsSpec`) describe."""
        return cls(architecture=architecture, tag=tag, num_classes=weights.num_classes,
                   in_chans=weights.input_size[0], input_size=weights.input_size,
                   mean=weights.mean, std=weights.std, crop_pct=weights.crop_pct,
                   interpolation=weights.interpolation,
                   labels=None if labels is None else tuple(labels), task=task,
                   license=weights.license)

    # -- config.json (the Hub format, readable by timm) -----------------------------------

    def to_hub_config(self, *, num_features: int = 0, version: str | None = None
                      ) -> dict[str, Any]:
        """The ``config.json`` content: cnnzoo's fields plus timm's layout."""
        model_args = dict(self.model_args)
        if self.in_chans != 3:
            model_args["in_chans"] = self.in_chans  # timm rebuilds from model_args
        config: dict[str, Any] = {
            "architecture": self.architecture,
            "num_classes": self.num_classes,
            "in_chans": self.in_chans,
            "num_features": int(num_features),
            "task": self.task,
            "model_args": model_args,
            "pretrained_cfg": self.to_timm_cfg(),
            "head": self.head,
        }
        if version is not None:
            config["cnnzoo_version"] = version
        if self.labels:
            config["label_names"] = list(self.labels)
        return config

    @classmethod
    def hub_fields(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """The fields a ``config.json`` sets (cnnzoo's, an older cnnzoo one, or timm's).

        Only what the file holds: a field it does not mention is absent, so a caller can
        layer it over the defaults a builder or spec provides.
        """
        pcfg = dict(config.get("pretrained_cfg") or {})
        fields: dict[str, Any] = {k: pcfg[k] for k in TIMM_FIELDS if pcfg.get(k) is not None}
        model_args = dict(config.get("model_args") or {})
        in_chans = config.get("in_chans", model_args.get("in_chans"))
        for handled in ("in_chans", "num_classes", "pretrained", "features_only"):
            model_args.pop(handled, None)  # create() sets these itself
        optional = {
            "architecture": config.get("architecture"),
            "num_classes": config.get("num_classes", pcfg.get("num_classes")),
            "in_chans": in_chans,
            "labels": config.get("label_names", pcfg.get("label_names", pcfg.get("labels"))),
            "task": config.get("task"),
            "head": config.get("head"),
        }
        fields.update({k: v for k, v in optional.items() if v is not None})
        if model_args:
            fields["model_args"] = model_args
        if "labels" in fields:
            fields["labels"] = _labels(fields["labels"])
        return fields

    @classmethod
    def from_hub_config(cls, config: Mapping[str, Any], *, source: str | None = None
                        ) -> ModelConfig:
        """A config from ``config.json`` (cnnzoo's, an older cnnzoo one, or timm's)."""
        return cls.from_mapping(cls.hub_fields(config), source=source)

    # -- timm's pretrained_cfg ----------------------------------------------------------

    def to_timm_cfg(self) -> dict[str, Any]:
        """The fields timm's ``PretrainedCfg`` understands, JSON-ready."""
        out: dict[str, Any] = {}
        for key in TIMM_FIELDS:
            value = getattr(self, key)
            if value is not None:
                out[key] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_timm_cfg(cls, pcfg: Mapping[str, Any]) -> ModelConfig:
        """A config from timm's ``pretrained_cfg`` dict (its other fields are ignored)."""
        return cls.from_mapping({k: pcfg.get(k) for k in TIMM_FIELDS},
                                architecture=pcfg.get("architecture"))

    # -- ONNX and .pt2 metadata -------------------------------------------------------------

    def to_metadata(self, *, input_size: Sequence[int] | None = None,
                    extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The JSON-ready metadata written into an exported file (``input_size`` as exported)."""
        size = [int(v) for v in (input_size or self.input_size)]
        channels = size[0]
        return {
            "architecture": self.architecture,
            "task": self.task,
            "tag": self.tag,
            "input_size": size,
            "mean": list(per_channel(self.mean, channels)),
            "std": list(per_channel(self.std, channels)),
            "crop_pct": self.crop_pct,
            "interpolation": self.interpolation,
            "num_classes": self.num_classes,
            "labels": list(self.labels) if self.labels else None,
            **dict(extra or {}),
        }

    @classmethod
    def from_metadata(cls, meta: Mapping[str, Any]) -> ModelConfig:
        """A config from an exported file's metadata (older files without ``task`` load too)."""
        return cls.from_mapping(meta)


__all__ = ["INTERPOLATIONS", "TIMM_FIELDS", "ModelConfig"]
