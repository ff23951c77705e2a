"""``create()``: a name becomes a spec, the spec a module, the module gets weights.

The steps, each a function of its own:

1. :func:`resolve_request` — the name (or Hub repo / folder) and ``pretrained=`` become
   a spec, the weights to load and the builder options;
2. :func:`check_arguments` — every argument is validated before anything is built;
3. the model is built: at random (:func:`build_module`), or on the ``meta`` device and
   loaded with ``assign=True`` (:mod:`cnnzoo.build.loading`);
4. :func:`model_config` — the typed :class:`~cnnzoo.config.ModelConfig` that travels
   with the model as ``model.pretrained_cfg``;
5. an optional new head, and ``features_only`` wrapping.

Every model that leaves here speaks the protocol of the design: ``forward_features``,
``forward_head``, ``get_classifier``, ``reset_classifier``, ``pretrained_cfg`` and
``feature_info`` — whether timm, cnnzoo or a plugin built it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from cnnzoo.build.arguments import (
    builder_parameters,
    check_arguments,
)
from cnnzoo.build.checkpoint import read_state_dict
from cnnzoo.build.features import FeatureExtractor, select_stages
from cnnzoo.build.heads import HeadSpec, replace_head
from cnnzoo.build.loading import LoadedModel, build_module, build_with_weights
from cnnzoo.build.weights import ResolvedWeights, is_hub_or_folder, resolve_pretrained
from cnnzoo.config import ModelConfig
from cnnzoo.errors import ModelArgumentError
from cnnzoo.models.base import ZooModel, protocol
from cnnzoo.spec import REGISTRY, FeatureStage, ModelSpec, import_object

__all__ = ["Request", "builder_parameters", "create", "model_config", "resolve_request"]


@dataclass
class Request:
    """What :func:`create` was asked for, once the name and weights are resolved."""

    spec: ModelSpec
    weights: ResolvedWeights | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


def create(
    name: str,
    *,
    pretrained: bool | str | os.PathLike[str] = False,
    num_classes: int | None = None,
    in_chans: int | None = None,
    features_only: bool = False,
    out_indices: Sequence[int] | None = None,
    checkpoint_path: str | os.PathLike[str] | None = None,
    head: str | HeadSpec | Mapping[str, Any] | None = None,
    **kwargs: Any,
) -> nn.Module:
    """Create a model of the zoo by name.

    Args:
        name: a registered name or alias (``"resnet50"``, ``"mobilenet_v3_large"``);
            ``"name.tag"`` selects pretrained weights by tag; ``"hf-hub:org/repo"`` or a
            saved model folder rebuilds the model it holds.
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
            :class:`~cnnzoo.build.heads.HeadSpec` or a spec string such as ``"linear"``,
            ``"mlp:512"`` or ``"mlp:512,256,dropout=0.3,act=gelu"``; freshly initialised
            for ``num_classes`` and saved with the model (``pretrained_cfg["head"]``).
            Weights saved with a head (a published fine-tune) reload with that head.
        **kwargs: architecture options of the model's builder (``drop_path_rate``…);
            an unknown one raises an error listing those accepted.

    Returns:
        an ``nn.Module`` in train mode speaking the cnnzoo model protocol, with a
        :class:`~cnnzoo.config.ModelConfig` as ``pretrained_cfg``.

    Raises:
        ModelArgumentError: an argument the model does not take, or a bad value.
        WeightsError: weights that cannot be found, fetched or verified.
        CheckpointError: a checkpoint that does not fit the model.

    Example:
        >>> import cnnzoo
        >>> model = cnnzoo.create("resnet18", num_classes=5)
        >>> model.get_classifier().out_features
        5
    """
    if pretrained is not False and checkpoint_path is not None:
        raise ModelArgumentError("pass either pretrained= or checkpoint_path=, not both")
    request = resolve_request(name, pretrained, kwargs)
    spec = request.spec
    builder = import_object(spec.builder)
    head_spec = check_arguments(spec, builder, request.kwargs, num_classes=num_classes,
                                in_chans=in_chans, features_only=features_only,
                                out_indices=out_indices, head=head)
    state, weights_cfg = _weights_to_load(request, checkpoint_path)
    if in_chans is None and weights_cfg.get("in_chans"):
        in_chans = int(weights_cfg["in_chans"])
    want_in = in_chans if in_chans is not None else spec.in_chans
    if state is None:
        n_cls = spec.num_classes if num_classes is None else num_classes
        loaded = LoadedModel(build_module(spec, builder, num_classes=n_cls, in_chans=want_in,
                                          kwargs=request.kwargs), n_cls, request.kwargs)
    else:
        loaded = build_with_weights(spec, builder, state, num_classes=num_classes,
                                    in_chans=want_in, kwargs=request.kwargs,
                                    saved_head=weights_cfg.get("head"),
                                    saved_classes=weights_cfg.get("num_classes"))
    model = loaded.model
    config = model_config(spec, model, loaded.num_classes, want_in, weights_cfg, loaded.kwargs)
    protocol(model).pretrained_cfg = config
    if head_spec is not None:
        if not loaded.num_classes:
            raise ModelArgumentError(f"head={str(head_spec)!r} needs num_classes >= 1")
        replace_head(model, loaded.num_classes, head_spec)  # records pretrained_cfg["head"]
    if features_only:
        return _feature_extractor(model, spec, out_indices, loaded.num_classes)
    return model


def resolve_request(name: str, pretrained: bool | str | os.PathLike[str],
                    kwargs: Mapping[str, Any]) -> Request:
    """The spec, the weights and the builder options that ``name`` and ``pretrained`` mean."""
    if isinstance(name, str) and is_hub_or_folder(name):
        if pretrained not in (False, True):
            raise ModelArgumentError(
                f"{name!r} already names the weights; do not also pass pretrained={pretrained!r}"
            )
        weights = resolve_pretrained(None, name)
        spec = REGISTRY.get(str(weights.architecture))
        return Request(spec, weights, {**weights.model_args, **kwargs})
    spec = REGISTRY.get(name)
    tag = name.partition(".")[2]
    if tag:
        if pretrained not in (False, True):
            raise ModelArgumentError(
                f"{name!r} already selects the weights tag {tag!r}; do not also pass "
                f"pretrained={pretrained!r}"
            )
        pretrained = tag
    if pretrained is False or pretrained is None:
        return Request(spec, None, dict(kwargs))
    weights = resolve_pretrained(spec, pretrained)
    if weights.architecture not in (None, spec.name):
        raise ModelArgumentError(
            f"pretrained={str(pretrained)!r} holds weights for {weights.architecture!r}, not "
            f"{spec.name!r}; use cnnzoo.create({str(pretrained)!r}) to build the model it "
            "was saved from"
        )
    return Request(spec, weights, {**weights.model_args, **kwargs})


def _weights_to_load(request: Request, checkpoint_path: str | os.PathLike[str] | None
                     ) -> tuple[dict[str, torch.Tensor] | None, dict[str, Any]]:
    """The state dict to load (or ``None``) and the config fields that came with it."""
    if checkpoint_path is not None:
        return read_state_dict(checkpoint_path), {}
    if request.weights is not None:
        fields = {"source": request.weights.source, **request.weights.pretrained_cfg}
        return request.weights.state_dict, fields
    return None, {}


def model_config(spec: ModelSpec, model: nn.Module, num_classes: int, in_chans: int,
                 weights_cfg: Mapping[str, Any], model_args: Mapping[str, Any]) -> ModelConfig:
    """The :class:`~cnnzoo.config.ModelConfig` that travels with a created model.

    Precedence: the loaded weights' config, then what a native (or plugin) builder
    set, then ImageNet defaults at the spec's input size. timm's own default-tag config
    is not used: it describes weights cnnzoo did not load. A class count other than the
    weights' drops their labels; mean and std follow ``in_chans`` by one rule
    (:func:`cnnzoo._utils.per_channel`).
    """
    fields: dict[str, Any] = {"input_size": spec.input_size, "task": spec.task}
    if isinstance(model, ZooModel):
        fields.update({k: v for k, v in dict(model.pretrained_cfg).items() if v is not None})
    fields.update({k: v for k, v in weights_cfg.items() if v is not None})
    if weights_cfg.get("num_classes") not in (None, num_classes):
        fields.pop("labels", None)  # the new head's classes are not the checkpoint's
    fields.pop("in_chans", None)
    fields.pop("model_args", None)
    fields["num_classes"] = num_classes
    labels = fields.get("labels")
    if labels is not None and len(labels) != num_classes:
        fields.pop("labels")
    channels = int(next(iter(fields["input_size"])))
    base = ModelConfig.from_mapping(fields, architecture=spec.name, in_chans=channels,
                                    model_args=dict(model_args))
    return base if channels == in_chans else base.with_in_chans(in_chans)


def _feature_extractor(model: nn.Module, spec: ModelSpec, out_indices: Sequence[int] | None,
                       num_classes: int) -> FeatureExtractor:
    """Wrap ``model`` so its forward returns one feature map per chosen stage."""
    stages = select_stages(spec.feature_info, out_indices, spec.name)
    # the built model's own feature_info wins: options such as UNet's encoder= change it
    own = getattr(model, "feature_info", None)
    if isinstance(own, list) and own and all(isinstance(d, dict) for d in own):
        declared = [FeatureStage(d["module"], int(d["num_chs"]), int(d["reduction"]))
                    for d in own]
        stages = select_stages(declared, out_indices, spec.name)
    if num_classes and hasattr(model, "reset_classifier"):
        protocol(model).reset_classifier(0)
    return FeatureExtractor(model, stages)
