"""``create()``: a name becomes a spec, the spec a module, the module gets weights.

Every model that leaves here speaks the protocol of the design: ``forward_features``,
``forward_head``, ``get_classifier``, ``reset_classifier``, ``pretrained_cfg`` and
``feature_info`` — whether timm, cnnzoo or a plugin built it.
"""

from __future__ import annotations

import inspect
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from cnnzoo._utils import did_you_mean
from cnnzoo.build.checkpoint import (
    adapt_input_conv,
    classifier_keys,
    convert_layout,
    describe_mismatch,
    first_conv_key,
    read_state_dict,
)
from cnnzoo.build.features import FeatureExtractor, select_stages
from cnnzoo.catalog._common import IMAGENET_MEAN, IMAGENET_STD
from cnnzoo.errors import CheckpointError, ModelArgumentError
from cnnzoo.spec import (
    REGISTRY,
    FeatureStage,
    ModelSpec,
    import_object,
)

if TYPE_CHECKING:
    from cnnzoo.build.heads import HeadSpec

# Arguments create() sets itself; a builder receives them but a user passes them to create().
RESERVED = ("num_classes", "in_chans")


def builder_parameters(spec: ModelSpec) -> dict[str, inspect.Parameter]:
    """The keyword arguments a user may pass to ``create()`` for this spec."""
    builder = import_object(spec.builder)
    params = inspect.signature(builder).parameters
    return {
        name: p
        for name, p in params.items()
        if name not in spec.builder_args
        and name not in RESERVED
        and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }


def _check_kwargs(spec: ModelSpec, builder: Callable[..., nn.Module], kwargs: Mapping[str, Any]
                  ) -> None:
    params = inspect.signature(builder).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    allowed = builder_parameters(spec)
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        hints = "".join(did_you_mean(k, allowed) for k in unknown)
        raise ModelArgumentError(
            f"create({spec.name!r}) got unexpected keyword argument(s) {', '.join(unknown)}; "
            f"{spec.name!r} accepts: "
            + (", ".join(sorted(allowed)) or "none besides num_classes and in_chans")
            + hints
        )


def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ModelArgumentError(f"{what} must be a non-negative int, got {value!r}")
    return value


class _SkipMetaInit(TorchFunctionMode):
    """Turns random initialisers into no-ops on meta tensors.

    A meta tensor holds no data, so initialising it is pure overhead — and torch runs
    ``normal_``/``uniform_`` on meta through slow Python decompositions (about 60 % of
    building ResNet-50 on meta). Real tensors are never affected.
    """

    SKIP = frozenset({
        torch.Tensor.normal_, torch.Tensor.uniform_, torch.Tensor.erfinv_,
        torch.Tensor.exponential_, torch.Tensor.bernoulli_, torch.Tensor.random_,
    })

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if func in self.SKIP and args and isinstance(args[0], torch.Tensor) and args[0].is_meta:
            return args[0]
        return func(*args, **(kwargs or {}))


def _build(spec: ModelSpec, builder: Callable[..., nn.Module], *, num_classes: int,
           in_chans: int, kwargs: Mapping[str, Any], meta: bool) -> nn.Module:
    call = {**spec.builder_args, **kwargs, "num_classes": num_classes, "in_chans": in_chans}
    if meta:
        with torch.device("meta"), _SkipMetaInit():
            return builder(**call)
    return builder(**call)


def _has_meta_tensors(model: nn.Module) -> bool:
    return any(t.is_meta for t in (*model.parameters(), *model.buffers()))


def _pretrained_cfg(spec: ModelSpec, model: nn.Module, num_classes: int, in_chans: int,
                    weights_cfg: Mapping[str, Any] | None) -> dict[str, Any]:
    """Preprocessing and labels that travel with the model.

    Precedence: the loaded weights' config, then what a native builder set, then
    ImageNet defaults at the spec's input size. timm's own default-tag config is
    not used: it describes weights cnnzoo did not load.
    """
    from cnnzoo.models.base import ZooModel

    cfg: dict[str, Any] = {
        "architecture": spec.name,
        "tag": None,
        "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD,
        "input_size": spec.input_size,
        "crop_pct": 0.875,
        "interpolation": "bilinear",
        "num_classes": num_classes,
        "labels": None,
    }
    if isinstance(model, ZooModel):
        cfg.update({k: v for k, v in model.pretrained_cfg.items() if v is not None})
    if weights_cfg:
        cfg.update({k: v for k, v in weights_cfg.items() if v is not None})
        if weights_cfg.get("num_classes") not in (None, num_classes):
            cfg["labels"] = None  # the new head's classes are not the checkpoint's
    cfg["num_classes"] = num_classes
    cfg["mean"], cfg["std"] = adapt_normalization(cfg["mean"], cfg["std"], in_chans)
    cfg["input_size"] = (in_chans, *tuple(cfg["input_size"])[1:])
    return cfg


def adapt_normalization(mean: Sequence[float], std: Sequence[float], in_chans: int
                        ) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean/std for ``in_chans`` channels: averaged to one channel, or repeated cyclically."""
    mean, std = tuple(float(m) for m in mean), tuple(float(s) for s in std)
    if len(mean) == in_chans:
        return mean, std
    if in_chans == 1:
        return (sum(mean) / len(mean),), (sum(std) / len(std),)
    return (
        tuple(mean[i % len(mean)] for i in range(in_chans)),
        tuple(std[i % len(std)] for i in range(in_chans)),
    )


def create(
    name: str,
    *,
    pretrained: bool | str | os.PathLike[str] = False,
    num_classes: int | None = None,
    in_chans: int | None = None,
    features_only: bool = False,
    out_indices: Sequence[int] | None = None,
    checkpoint_path: str | os.PathLike[str] | None = None,
    head: str | HeadSpec | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Create a model of the zoo by name.

    Args:
        name: a registered name or alias (``"resnet50"``, ``"mobilenet_v3_large"``);
            ``"name.tag"`` selects pretrained weights by tag.
        pretrained: ``True`` (the default tag), a tag, ``"hf-hub:org/repo[@rev]"``,
            or a local file or directory.
        num_classes: classes of the new head; a pretrained head of another size is
            re-initialised with a warning. ``0`` removes the classifier.
        in_chans: input channels; pretrained first-conv weights are adapted.
        features_only: return a feature extractor whose forward gives one feature
            map per stage (see the spec's ``feature_info``).
        out_indices: which stages ``features_only`` returns (default: all).
        checkpoint_path: a local ``.safetensors`` or weights-only ``.pth`` file in
            this model's layout or any layout its spec converts (e.g. torchvision's).
        head: a new head on top of the (pretrained) backbone: a
            :class:`~cnnzoo.heads.HeadSpec` or a spec string such as ``"linear"``,
            ``"mlp:512"`` or ``"mlp:512,256,dropout=0.3,act=gelu"``; freshly initialised
            for ``num_classes`` and saved with the model (``pretrained_cfg["head"]``).
            Weights saved with a head (a published fine-tune) reload with that head.
        **kwargs: architecture options of the model's builder (``drop_path_rate``…);
            an unknown one raises an error listing those accepted.

    Returns:
        an ``nn.Module`` in train mode speaking the cnnzoo model protocol.

    Example:
        >>> import cnnzoo
        >>> model = cnnzoo.create("resnet18", num_classes=5)
        >>> model.get_classifier().out_features
        5
    """
    from cnnzoo.build.weights import is_hub_or_folder, resolve_pretrained

    if pretrained is not False and checkpoint_path is not None:
        raise ModelArgumentError("pass either pretrained= or checkpoint_path=, not both")
    resolved = None
    if isinstance(name, str) and is_hub_or_folder(name):
        if pretrained not in (False, True):
            raise ModelArgumentError(
                f"{name!r} already names the weights; do not also pass pretrained={pretrained!r}"
            )
        resolved = resolve_pretrained(None, name)
        spec = REGISTRY.get(resolved.architecture)
        kwargs = {**resolved.model_args, **kwargs}
    else:
        spec = REGISTRY.get(name)
        _, _, tag = name.partition(".")
        if tag:
            if pretrained not in (False, True):
                raise ModelArgumentError(
                    f"{name!r} already selects the weights tag {tag!r}; do not also pass "
                    f"pretrained={pretrained!r}"
                )
            pretrained = tag
        if pretrained is not False and pretrained is not None:
            resolved = resolve_pretrained(spec, pretrained)
            if resolved.architecture not in (None, spec.name):
                raise ModelArgumentError(
                    f"pretrained={str(pretrained)!r} holds weights for "
                    f"{resolved.architecture!r}, not {spec.name!r}; use "
                    f"cnnzoo.create({str(pretrained)!r}) to build the model it was saved from"
                )
            kwargs = {**resolved.model_args, **kwargs}
    builder = import_object(spec.builder)
    _check_kwargs(spec, builder, kwargs)
    if num_classes is not None:
        _positive_int(num_classes, "num_classes")
    if in_chans is not None and _positive_int(in_chans, "in_chans") == 0:
        raise ModelArgumentError("in_chans must be at least 1")
    if out_indices is not None and not features_only:
        raise ModelArgumentError("out_indices only applies with features_only=True")
    stages = select_stages(spec.feature_info, out_indices, spec.name) if features_only else ()
    if head is not None:
        from cnnzoo.build.heads import HeadSpec as _HeadSpec

        if features_only:
            raise ModelArgumentError("head= does not apply with features_only=True")
        head = _HeadSpec.coerce(head)  # a spec that does not parse fails before any build

    state: dict[str, torch.Tensor] | None = None
    weights_cfg: dict[str, Any] | None = None
    if checkpoint_path is not None:
        state = read_state_dict(checkpoint_path)
    elif resolved is not None:
        state, weights_cfg = resolved.state_dict, resolved.pretrained_cfg
        if in_chans is None and weights_cfg.get("in_chans"):
            in_chans = int(weights_cfg["in_chans"])

    want_in = in_chans if in_chans is not None else spec.in_chans
    if state is None:
        n_cls = spec.num_classes if num_classes is None else num_classes
        model = _build(spec, builder, num_classes=n_cls, in_chans=want_in, kwargs=kwargs,
                       meta=False)
    else:
        saved_head = (weights_cfg or {}).get("head")
        model, n_cls, kwargs = _build_with_weights(
            spec, builder, state, num_classes=num_classes, in_chans=want_in, kwargs=kwargs,
            saved_head=saved_head, saved_classes=(weights_cfg or {}).get("num_classes"),
        )
    model.pretrained_cfg = _pretrained_cfg(spec, model, n_cls, want_in, weights_cfg)
    model.pretrained_cfg["model_args"] = dict(kwargs)  # what rebuilding this model needs
    if head is not None:
        from cnnzoo.build.heads import replace_head

        if not n_cls:
            raise ModelArgumentError(f"head={str(head)!r} needs num_classes >= 1")
        replace_head(model, n_cls, head)  # records pretrained_cfg["head"]
    if features_only:
        # the built model's own feature_info wins: options such as UNet's encoder= change it
        own = getattr(model, "feature_info", None)
        if isinstance(own, list) and own and all(isinstance(d, dict) for d in own):
            declared = [FeatureStage(d["module"], int(d["num_chs"]), int(d["reduction"]))
                        for d in own]
            stages = select_stages(declared, out_indices, spec.name)
        if n_cls and hasattr(model, "reset_classifier"):
            model.reset_classifier(0)
        return FeatureExtractor(model, stages)
    return model


def _build_with_weights(
    spec: ModelSpec,
    builder: Callable[..., nn.Module],
    state: dict[str, torch.Tensor],
    *,
    num_classes: int | None,
    in_chans: int,
    kwargs: Mapping[str, Any],
    saved_head: Any = None,
    saved_classes: int | None = None,
) -> tuple[nn.Module, int, dict[str, Any]]:
    """Build on the meta device and load ``state`` with ``assign=True``.

    The checkpoint's own class count is used for the build so every tensor is
    assigned; a different requested ``num_classes`` then gets a fresh head. One
    meta build suffices unless the checkpoint's layout or class count asks for
    different builder arguments. Weights saved with a head (``saved_head``, from
    their config) get that head rebuilt before loading, and its keys load strictly.
    """
    head_spec = None
    if saved_head is not None:
        from cnnzoo.build.heads import HeadSpec

        head_spec = HeadSpec.coerce(saved_head)
        if head_spec.is_plain_linear:
            head_spec = None  # what the builder makes anyway
        elif not saved_classes:
            raise CheckpointError(f"the config of these {spec.name!r} weights records a "
                                  f"{head_spec} head but no num_classes")
    probe_classes = spec.num_classes if num_classes in (None, 0) else num_classes
    if head_spec is not None:
        probe_classes = int(saved_classes)  # type: ignore[arg-type]

    def build(n_classes: int, build_kwargs: Mapping[str, Any], meta: bool) -> nn.Module:
        module = _build(spec, builder, num_classes=n_classes, in_chans=in_chans,
                        kwargs=build_kwargs, meta=meta)
        if head_spec is not None:
            from cnnzoo.build.heads import replace_head

            if meta:
                with torch.device("meta"), _SkipMetaInit():
                    replace_head(module, n_classes, head_spec)
            else:
                replace_head(module, n_classes, head_spec)
        return module

    probe = build(probe_classes, kwargs, True)
    state, fmt, build_kwargs = convert_layout(spec, state, set(probe.state_dict()))
    conflicts = {k: v for k, v in build_kwargs.items() if k in kwargs and kwargs[k] != v}
    if conflicts:
        raise ModelArgumentError(
            f"a {fmt} checkpoint of {spec.name!r} needs {build_kwargs}; you passed {conflicts}"
        )
    kwargs = {**kwargs, **build_kwargs}
    head_keys = classifier_keys(probe)
    ckpt_classes = probe_classes
    if head_keys and head_keys[0] in state and head_spec is None:
        ckpt_classes = int(state[head_keys[0]].shape[0])
    if ckpt_classes == probe_classes and not build_kwargs:
        model = probe
    else:
        model = build(ckpt_classes, kwargs, True)
    model_state = model.state_dict()
    conv_key = first_conv_key(model_state, state)
    if conv_key is not None:
        state = dict(state)
        state[conv_key] = adapt_input_conv(state[conv_key], in_chans)
    wrong = [
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(v.shape)}"
        for k, v in model_state.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if wrong:
        raise CheckpointError(
            f"checkpoint tensors do not fit {spec.name!r} "
            f"(num_classes={ckpt_classes}, in_chans={in_chans}): " + "; ".join(wrong[:8])
        )
    state = {k: state[k] for k in model_state}
    result = model.load_state_dict(state, strict=True, assign=True)
    if result.missing_keys or result.unexpected_keys:  # strict=True raises first; belt and braces
        raise CheckpointError(describe_mismatch(result.missing_keys, result.unexpected_keys))
    if _has_meta_tensors(model):  # non-persistent buffers: rebuild for real and load normally
        model = build(ckpt_classes, kwargs, False)
        model.load_state_dict(state, strict=True)
    n_cls = ckpt_classes
    if num_classes is not None and num_classes != ckpt_classes:
        if num_classes:
            warnings.warn(
                f"{spec.name}: the checkpoint's classifier has {ckpt_classes} classes; a new "
                f"head for num_classes={num_classes} was initialised at random "
                f"({', '.join(head_keys)} not loaded)",
                UserWarning,
                stacklevel=3,
            )
        if head_spec is not None and num_classes:
            from cnnzoo.build.heads import replace_head

            replace_head(model, num_classes, head_spec)  # the same kind of head, fresh
        else:
            model.reset_classifier(num_classes)
        n_cls = num_classes
    return model, n_cls, dict(kwargs)
