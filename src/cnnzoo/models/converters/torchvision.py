"""Key converters from torchvision's state-dict layout to timm's (cnnzoo's) layout.

cnnzoo builds ResNet/ResNeXt/Wide ResNet, VGG, MobileNetV2/V3, EfficientNet, EfficientNetV2,
ConvNeXt, DenseNet, Inception-v3 and RegNet with timm's modules. The converters here let a
checkpoint saved from torchvision's implementation of the same architecture load into them::

    converter = MOBILENETV3
    model = timm.create_model("mobilenetv3_large_100", **converter.build_kwargs)
    model.load_state_dict(converter(torchvision_state_dict), strict=True)

How the converters work:

* Every torchvision key is renamed by an explicit rule: a regular expression matched
  against the whole key. Where torchvision numbers its blocks flat (``features.7``) and
  timm per stage (``blocks.3.0``), a fixed table of stage depths does the translation.
* The few tensors whose module type differs are reshaped: a ``Linear`` that timm runs as
  a ``Conv2d`` (VGG's first two classifier layers, MobileNetV3's pre-logits layer) and
  ConvNeXt's ``[C, 1, 1]`` layer scale (timm's ``gamma`` is ``[C]``).
* A key that no rule accepts raises ``ValueError`` naming it, and so do two keys that land
  on the same timm key: nothing is dropped or overwritten silently. (A checkpoint saved
  from ``nn.DataParallel`` therefore fails on its ``module.`` prefix: strip it first.)
* For a complete torchvision checkpoint the result holds exactly the keys of the timm
  model, so ``load_state_dict(..., strict=True)`` succeeds.
* Where torchvision's numerics differ from timm's defaults (BatchNorm eps), the
  converter's ``build_kwargs`` holds the timm builder kwargs that make the two models
  compute the same function.

Training-only hyper-parameters (dropout, stochastic depth, BatchNorm momentum) do not
change what a model computes in eval mode and are not part of ``build_kwargs``; the
converters' docstrings say where torchvision's differ from timm's defaults.

:data:`TORCHVISION_TO_TIMM` maps every supported torchvision model name to the timm model
name and the converter to use. This module imports torch only (neither torchvision nor timm).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from torch import Tensor

__all__ = [
    "CONVNEXT",
    "DENSENET",
    "EFFICIENTNET",
    "EFFICIENTNETV2",
    "EFFICIENTNET_B5_B7",
    "INCEPTION_V3",
    "MOBILENETV2",
    "MOBILENETV3",
    "REGNET",
    "REGNET_NAMES",
    "RESNET",
    "TORCHVISION_TO_TIMM",
    "VGG",
    "CheckpointConverter",
]


@dataclass(frozen=True)
class CheckpointConverter:
    """Turns a state dict of another layout into the layout of a cnnzoo model.

    Attributes:
        source: the layout converted from, e.g. ``"torchvision"``.
        convert: the conversion itself; it raises ``ValueError`` naming any key it has no
            rule for.
        build_kwargs: extra kwargs the timm builder needs so the converted model computes
            what the source model did (e.g. ``{"bn_eps": 1e-3}``). Read-only.
    """

    source: str
    convert: Callable[[Mapping[str, Tensor]], dict[str, Tensor]]
    build_kwargs: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "build_kwargs", MappingProxyType(dict(self.build_kwargs)))

    def __call__(self, state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
        return self.convert(state_dict)


# --------------------------------------------------------------------------- rule engine

_BN = r"(weight|bias|running_mean|running_var|num_batches_tracked)"
"""The parameter and buffer names of a BatchNorm (one capture group)."""


@dataclass(frozen=True)
class _Rule:
    """Keys matching ``pattern`` (whole key) become ``target``, tensors pass ``transform``.

    ``target`` is either a template for :meth:`re.Match.expand` (``\\1``, ``\\g<name>``) or
    a function of the match returning the timm key, or ``None`` to decline the key.
    """

    pattern: re.Pattern[str]
    target: str | Callable[[re.Match[str]], str | None]
    transform: Callable[[Tensor], Tensor] | None = None


def _rule(
    pattern: str,
    target: str | Callable[[re.Match[str]], str | None],
    transform: Callable[[Tensor], Tensor] | None = None,
) -> _Rule:
    return _Rule(re.compile(pattern), target, transform)


def _apply(
    family: str, rules: Iterable[_Rule], state_dict: Mapping[str, Tensor]
) -> dict[str, Tensor]:
    """Rename every key of ``state_dict`` by the first rule that accepts it."""
    rules = tuple(rules)
    converted: dict[str, Tensor] = {}
    origin: dict[str, str] = {}
    for key, value in state_dict.items():
        new_key: str | None = None
        for rule in rules:
            match = rule.pattern.fullmatch(key)
            if match is None:
                continue
            if isinstance(rule.target, str):
                new_key = match.expand(rule.target)
            else:
                new_key = rule.target(match)
            if new_key is not None:
                break
        else:
            raise ValueError(f"{family}: no conversion rule for torchvision key {key!r}")
        if new_key in converted:
            raise ValueError(
                f"{family}: torchvision keys {origin[new_key]!r} and {key!r} "
                f"both map to {new_key!r}"
            )
        if rule.transform is not None:
            try:
                value = rule.transform(value)
            except ValueError as err:
                raise ValueError(f"{family}: torchvision key {key!r}: {err}") from err
        converted[new_key] = value
        origin[new_key] = key
    return converted


def _linear_as_conv(kernel_size: int) -> Callable[[Tensor], Tensor]:
    """A ``Linear`` weight ``[out, in]`` as the weight of the equivalent ``Conv2d``.

    torchvision flattens ``[C, k, k]`` feature maps channel-major, which is the order of
    ``weight.reshape(out, C, k, k)``.
    """

    def transform(weight: Tensor) -> Tensor:
        if weight.ndim != 2 or weight.shape[1] % (kernel_size * kernel_size):
            raise ValueError(
                f"expected a Linear weight [out, C*{kernel_size}*{kernel_size}], "
                f"got shape {tuple(weight.shape)}"
            )
        out_features, in_features = weight.shape
        channels = in_features // (kernel_size * kernel_size)
        return weight.reshape(out_features, channels, kernel_size, kernel_size)

    return transform


def _per_channel(weight: Tensor) -> Tensor:
    """ConvNeXt layer scale: torchvision's ``[C, 1, 1]`` as timm's ``[C]``."""
    if weight.ndim != 3 or tuple(weight.shape[1:]) != (1, 1):
        raise ValueError(f"expected a layer scale [C, 1, 1], got shape {tuple(weight.shape)}")
    return weight.reshape(-1)


def _flat_to_staged(stage_depths: Iterable[int], first: int = 1) -> dict[int, tuple[int, int]]:
    """``{flat index: (stage, block)}`` for blocks numbered flat from ``first`` on."""
    table: dict[int, tuple[int, int]] = {}
    index = first
    for stage, depth in enumerate(stage_depths):
        for block in range(depth):
            table[index] = (stage, block)
            index += 1
    return table


# ----------------------------------------------------------------------- ResNet / ResNeXt


_RESNET_RULES = (
    _rule(r"conv1\.weight", r"\g<0>"),
    _rule(rf"bn1\.{_BN}", r"\g<0>"),
    _rule(rf"layer[1-4]\.\d+\.(conv[1-3]\.weight|bn[1-3]\.{_BN})", r"\g<0>"),
    _rule(rf"layer[1-4]\.\d+\.downsample\.(0\.weight|1\.{_BN})", r"\g<0>"),
    _rule(r"fc\.(weight|bias)", r"\g<0>"),
)


def _convert_resnet(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """torchvision ``resnet18/34/50/101/152``, ``resnext50_32x4d``, ``resnext101_32x8d``,
    ``resnext101_64x4d``, ``wide_resnet50_2``, ``wide_resnet101_2`` → the timm models of the
    same names.

    The two layouts are identical (``conv1``, ``bn1``, ``layerN.M.convK/bnK``,
    ``layerN.0.downsample.0/1``, ``fc``), so keys and tensors pass unchanged; each key is
    still checked against that layout. Both use BatchNorm eps 1e-5.
    """
    return _apply("ResNet", _RESNET_RULES, state_dict)


# ------------------------------------------------------------------------------------ VGG


_VGG_RULES = (
    # conv/BN indices inside ``features`` are the same in both (timm copies the layout)
    _rule(rf"features\.\d+\.{_BN}", r"\g<0>"),
    # classifier: Linear(512*7*7, 4096), ReLU, Dropout, Linear(4096, 4096), ReLU, Dropout,
    # Linear(4096, classes). timm runs the first two as a 7x7 and a 1x1 conv (ConvMlp).
    _rule(r"classifier\.0\.weight", "pre_logits.fc1.weight", _linear_as_conv(7)),
    _rule(r"classifier\.0\.bias", "pre_logits.fc1.bias"),
    _rule(r"classifier\.3\.weight", "pre_logits.fc2.weight", _linear_as_conv(1)),
    _rule(r"classifier\.3\.bias", "pre_logits.fc2.bias"),
    _rule(r"classifier\.6\.(weight|bias)", r"head.fc.\1"),
)


def _convert_vgg(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """torchvision ``vgg11/13/16/19`` and ``vgg11_bn/13_bn/16_bn/19_bn`` → the timm models of
    the same names.

    ``features.*`` is unchanged; ``classifier.0`` → ``pre_logits.fc1`` (weight reshaped
    ``[4096, 25088]`` → ``[4096, 512, 7, 7]``), ``classifier.3`` → ``pre_logits.fc2``
    (``[4096, 4096, 1, 1]``), ``classifier.6`` → ``head.fc``.

    The outputs agree for inputs whose feature map is 7x7 (224x224). At other sizes the
    heads differ by design: torchvision adaptive-average-pools the features to 7x7 before
    its flattening Linear, timm slides the 7x7 conv over the feature map and then pools.
    """
    return _apply("VGG", _VGG_RULES, state_dict)


# ----------------------------------------------------------------- MobileNet, EfficientNet

_SE = "se"
# Sub-module layouts of one inverted-residual block: torchvision's ``block.<i>`` (a
# Conv2dNormActivation ``<i>.0``/``<i>.1`` or a SqueezeExcitation ``<i>.fc1``/``<i>.fc2``)
# → timm's (conv, bn) names or the SE module.
_DS = (("conv_dw", "bn1"), ("conv_pw", "bn2"))  # expansion 1: timm DepthwiseSeparableConv
_DS_SE = (("conv_dw", "bn1"), _SE, ("conv_pw", "bn2"))
_IR = (("conv_pw", "bn1"), ("conv_dw", "bn2"), ("conv_pwl", "bn3"))  # timm InvertedResidual
_IR_SE = (("conv_pw", "bn1"), ("conv_dw", "bn2"), _SE, ("conv_pwl", "bn3"))

_Layout = tuple[tuple[str, str] | str, ...]


def _mbconv_key(layout: _Layout, index: int, rest: str) -> str | None:
    """The timm suffix of torchvision's ``block.<index>.<rest>`` in a block of ``layout``."""
    if index >= len(layout):
        return None
    part = layout[index]
    if isinstance(part, str):  # _SE
        match = re.fullmatch(r"fc([12])\.(weight|bias)", rest)
        if match is None:
            return None
        return f"se.{'conv_reduce' if match[1] == '1' else 'conv_expand'}.{match[2]}"
    conv, bn = part
    if rest == "0.weight":
        return f"{conv}.weight"
    match = re.fullmatch(rf"1\.{_BN}", rest)
    return None if match is None else f"{bn}.{match[1]}"


# MobileNetV2 ---------------------------------------------------------------------------

_MOBILENETV2_DEPTHS = (1, 2, 3, 4, 3, 3, 1)  # timm blocks.0-6 = torchvision features.1-17
_MOBILENETV2_BLOCKS = _flat_to_staged(_MOBILENETV2_DEPTHS)
_MOBILENETV2_HEAD = len(_MOBILENETV2_BLOCKS) + 1  # features.18: the 1x1 conv to 1280


def _mobilenetv2_inverted(template: str) -> Callable[[re.Match[str]], str | None]:
    """timm key of an expanding block ``features.<i>`` (i = 2..17)."""

    def target(match: re.Match[str]) -> str | None:
        index = int(match["i"])
        if index == 1 or index not in _MOBILENETV2_BLOCKS:
            return None
        stage, block = _MOBILENETV2_BLOCKS[index]
        return f"blocks.{stage}.{block}.{match.expand(template)}"

    return target


_MOBILENETV2_RULES = (
    _rule(r"features\.0\.0\.weight", "conv_stem.weight"),
    _rule(rf"features\.0\.1\.{_BN}", r"bn1.\1"),
    # features.1, expansion 1: conv.0 = depthwise ConvBNReLU, conv.1 = project conv, conv.2 = BN
    _rule(r"features\.1\.conv\.0\.0\.weight", "blocks.0.0.conv_dw.weight"),
    _rule(rf"features\.1\.conv\.0\.1\.{_BN}", r"blocks.0.0.bn1.\1"),
    _rule(r"features\.1\.conv\.1\.weight", "blocks.0.0.conv_pw.weight"),
    _rule(rf"features\.1\.conv\.2\.{_BN}", r"blocks.0.0.bn2.\1"),
    # features.2-17, expansion 6: conv.0 = expand ConvBNReLU, conv.1 = depthwise ConvBNReLU,
    # conv.2 = project conv, conv.3 = BN
    _rule(r"features\.(?P<i>\d+)\.conv\.0\.0\.weight", _mobilenetv2_inverted("conv_pw.weight")),
    _rule(rf"features\.(?P<i>\d+)\.conv\.0\.1\.{_BN}", _mobilenetv2_inverted(r"bn1.\2")),
    _rule(r"features\.(?P<i>\d+)\.conv\.1\.0\.weight", _mobilenetv2_inverted("conv_dw.weight")),
    _rule(rf"features\.(?P<i>\d+)\.conv\.1\.1\.{_BN}", _mobilenetv2_inverted(r"bn2.\2")),
    _rule(r"features\.(?P<i>\d+)\.conv\.2\.weight", _mobilenetv2_inverted("conv_pwl.weight")),
    _rule(rf"features\.(?P<i>\d+)\.conv\.3\.{_BN}", _mobilenetv2_inverted(r"bn3.\2")),
    _rule(rf"features\.{_MOBILENETV2_HEAD}\.0\.weight", "conv_head.weight"),
    _rule(rf"features\.{_MOBILENETV2_HEAD}\.1\.{_BN}", r"bn2.\1"),
    _rule(r"classifier\.1\.(weight|bias)", r"classifier.\1"),
)


def _convert_mobilenetv2(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """torchvision ``mobilenet_v2`` → timm ``mobilenetv2_100``.

    ``features.0`` → ``conv_stem``/``bn1``; ``features.1``-``17`` → ``blocks.<stage>.<block>``
    (stage depths 1, 2, 3, 4, 3, 3, 1); ``features.18`` → ``conv_head``/``bn2``;
    ``classifier.1`` → ``classifier``. Both use BatchNorm eps 1e-5 and ReLU6. torchvision
    trains with dropout 0.2 before the classifier (timm's ``drop_rate`` defaults to 0).
    """
    return _apply("MobileNetV2", _MOBILENETV2_RULES, state_dict)


# MobileNetV3 ---------------------------------------------------------------------------

# Per timm stage, the layout of each of its blocks (torchvision numbers them flat from
# features.1). torchvision omits the expansion conv when a block does not expand
# (the first block of both variants), like timm's DepthwiseSeparableConv.
_MOBILENETV3_LARGE: tuple[tuple[_Layout, ...], ...] = (
    (_DS,),
    (_IR, _IR),
    (_IR_SE,) * 3,
    (_IR,) * 4,
    (_IR_SE,) * 2,
    (_IR_SE,) * 3,
)
_MOBILENETV3_SMALL: tuple[tuple[_Layout, ...], ...] = (
    (_DS_SE,),
    (_IR, _IR),
    (_IR_SE,) * 3,
    (_IR_SE,) * 2,
    (_IR_SE,) * 3,
)
# the index of torchvision's last ``features`` entry (the 1x1 conv after the blocks)
# tells the variants apart: large 16, small 12
_MOBILENETV3_VARIANTS = {
    sum(map(len, stages)) + 1: (name, stages)
    for name, stages in (("large", _MOBILENETV3_LARGE), ("small", _MOBILENETV3_SMALL))
}


def _mobilenetv3_rules(stages: tuple[tuple[_Layout, ...], ...]) -> tuple[_Rule, ...]:
    depths = [len(layouts) for layouts in stages]
    blocks = _flat_to_staged(depths)
    layouts = [layout for stage in stages for layout in stage]
    last = len(blocks) + 1
    last_conv = f"blocks.{len(stages)}.0"  # timm ConvBnAct stage after the blocks

    def block_key(match: re.Match[str]) -> str | None:
        index = int(match["i"])
        if index not in blocks:
            return None
        suffix = _mbconv_key(layouts[index - 1], int(match["sub"]), match["rest"])
        if suffix is None:
            return None
        stage, block = blocks[index]
        return f"blocks.{stage}.{block}.{suffix}"

    return (
        _rule(r"features\.0\.0\.weight", "conv_stem.weight"),
        _rule(rf"features\.0\.1\.{_BN}", r"bn1.\1"),
        _rule(r"features\.(?P<i>\d+)\.block\.(?P<sub>\d+)\.(?P<rest>.+)", block_key),
        _rule(rf"features\.{last}\.0\.weight", f"{last_conv}.conv.weight"),
        _rule(rf"features\.{last}\.1\.{_BN}", rf"{last_conv}.bn1.\1"),
        # classifier: Linear, Hardswish, Dropout, Linear. timm applies the first Linear
        # after pooling as a 1x1 conv with bias (``conv_head``).
        _rule(r"classifier\.0\.weight", "conv_head.weight", _linear_as_conv(1)),
        _rule(r"classifier\.0\.bias", "conv_head.bias"),
        _rule(r"classifier\.3\.(weight|bias)", r"classifier.\1"),
    )


def _convert_mobilenetv3(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """torchvision ``mobilenet_v3_large`` / ``mobilenet_v3_small`` → timm
    ``mobilenetv3_large_100`` / ``mobilenetv3_small_100``.

    The variant is recognised by torchvision's last ``features`` index (16 large, 12 small).
    ``features.0`` → ``conv_stem``/``bn1``; ``features.1..`` → ``blocks.<stage>.<block>``
    (large: stage depths 1, 2, 3, 4, 2, 3; small: 1, 2, 3, 2, 3), inside a block
    ``block.<i>`` → ``conv_pw``/``conv_dw``/``se``/``conv_pwl`` and their BNs; the last
    ``features`` entry → ``blocks.<last>.0.conv``/``bn1``; ``classifier.0`` (Linear) →
    ``conv_head`` (1x1 conv with bias); ``classifier.3`` → ``classifier``.

    torchvision builds its BatchNorms with eps 1e-3 (timm: 1e-5), hence
    ``build_kwargs={"bn_eps": 1e-3}``. torchvision also trains with BN momentum 0.01 and
    dropout 0.2 (timm defaults: 0.1 and 0).
    """
    indices = {int(m[1]) for key in state_dict if (m := re.match(r"features\.(\d+)\.", key))}
    last = max(indices, default=None)
    if last not in _MOBILENETV3_VARIANTS:
        raise ValueError(
            f"MobileNetV3: cannot tell large from small: the last torchvision key "
            f"'features.<i>' has i = {last}, expected one of {sorted(_MOBILENETV3_VARIANTS)}"
        )
    name, stages = _MOBILENETV3_VARIANTS[last]
    return _apply(f"MobileNetV3-{name}", _mobilenetv3_rules(stages), state_dict)


# EfficientNet --------------------------------------------------------------------------


def _efficientnet_block(match: re.Match[str]) -> str | None:
    stage = int(match["s"]) - 1  # torchvision features.1-7 = timm blocks.0-6
    layout = _DS_SE if stage == 0 else _IR_SE  # stage 0 has expansion 1, the others 6
    suffix = _mbconv_key(layout, int(match["sub"]), match["rest"])
    return None if suffix is None else f"blocks.{stage}.{match['j']}.{suffix}"


_EFFICIENTNET_RULES = (
    _rule(r"features\.0\.0\.weight", "conv_stem.weight"),
    _rule(rf"features\.0\.1\.{_BN}", r"bn1.\1"),
    # features.<s> is a Sequential of MBConv blocks, each holding a ``block`` Sequential
    _rule(
        r"features\.(?P<s>[1-7])\.(?P<j>\d+)\.block\.(?P<sub>\d+)\.(?P<rest>.+)",
        _efficientnet_block,
    ),
    _rule(r"features\.8\.0\.weight", "conv_head.weight"),
    _rule(rf"features\.8\.1\.{_BN}", r"bn2.\1"),
    _rule(r"classifier\.1\.(weight|bias)", r"classifier.\1"),  # classifier.0 is Dropout
)


def _convert_efficientnet(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """torchvision ``efficientnet_b0`` … ``efficientnet_b7`` → the timm models of the same
    names (not the ``tf_`` ones: torchvision pads symmetrically, like timm's plain ones).

    ``features.0`` → ``conv_stem``/``bn1``; ``features.<s>.<j>`` (s = 1..7) →
    ``blocks.<s-1>.<j>``, inside a block ``block.<i>`` → ``conv_dw``/``se``/``conv_pw``
    (stage 0) or ``conv_pw``/``conv_dw``/``se``/``conv_pwl`` and their BNs;
    ``features.8`` → ``conv_head``/``bn2``; ``classifier.1`` → ``classifier``.

    BatchNorm eps: torchvision uses 1e-5 (timm's default) for B0-B4 but 1e-3 for B5-B7, so
    use :data:`EFFICIENTNET` for B0-B4 and :data:`EFFICIENTNET_B5_B7`
    (``build_kwargs={"bn_eps": 1e-3}``) for B5-B7. Training-only differences: torchvision
    uses dropout 0.2 (B0, B1), 0.3 (B2, B3), 0.4 (B4, B5), 0.5 (B6, B7), stochastic depth
    0.2 and, for B5-B7, BN momentum 0.01 (timm defaults: 0, 0, 0.1).
    """
    return _apply("EfficientNet", _EFFICIENTNET_RULES, state_dict)


# ------------------------------------------------------------------------------- ConvNeXt

# torchvision CNBlock.block: 0 depthwise conv, 1 Permute, 2 LayerNorm, 3 Linear, 4 GELU,
# 5 Linear, 6 Permute
_CONVNEXT_BLOCK_PARTS = {"0": "conv_dw", "2": "norm", "3": "mlp.fc1", "5": "mlp.fc2"}


def _convnext_block(match: re.Match[str]) -> str:
    stage = int(match["f"]) // 2  # features.1/3/5/7 = stages.0/1/2/3
    part = _CONVNEXT_BLOCK_PARTS[match["sub"]]
    return f"stages.{stage}.blocks.{match['j']}.{part}.{match['p']}"


def _convnext_layer_scale(match: re.Match[str]) -> str:
    return f"stages.{int(match['f']) // 2}.blocks.{match['j']}.gamma"


def _convnext_downsample(match: re.Match[str]) -> str:
    # features.2/4/6 (LayerNorm2d, 2x2 conv) = stages.1/2/3.downsample.0/1
    return f"stages.{int(match['f']) // 2}.downsample.{match['sub']}.{match['p']}"


_CONVNEXT_RULES = (
    _rule(r"features\.0\.([01])\.(weight|bias)", r"stem.\1.\2"),  # 4x4 conv, LayerNorm2d
    _rule(r"features\.(?P<f>[1357])\.(?P<j>\d+)\.layer_scale", _convnext_layer_scale, _per_channel),
    _rule(
        r"features\.(?P<f>[1357])\.(?P<j>\d+)\.block\.(?P<sub>[0235])\.(?P<p>weight|bias)",
        _convnext_block,
    ),
    _rule(r"features\.(?P<f>[246])\.(?P<sub>[01])\.(?P<p>weight|bias)", _convnext_downsample),
    # classifier: LayerNorm2d, Flatten, Linear
    _rule(r"classifier\.0\.(weight|bias)", r"head.norm.\1"),
    _rule(r"classifier\.2\.(weight|bias)", r"head.fc.\1"),
)


def _convert_convnext(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """torchvision ``convnext_tiny/small/base/large`` → the timm models of the same names.

    ``features.0`` → ``stem``; ``features.1/3/5/7.<j>`` → ``stages.0/1/2/3.blocks.<j>``
    with ``block.0/2/3/5`` → ``conv_dw``/``norm``/``mlp.fc1``/``mlp.fc2`` and
    ``layer_scale [C, 1, 1]`` → ``gamma [C]``; ``features.2/4/6`` →
    ``stages.1/2/3.downsample``; ``classifier.0`` → ``head.norm``; ``classifier.2`` →
    ``head.fc``. Both use LayerNorm eps 1e-6 and exact GELU. torchvision trains with
    stochastic depth 0.1 (tiny) to 0.5 (large); timm's ``drop_path_rate`` defaults to 0.
    """
    return _apply("ConvNeXt", _CONVNEXT_RULES, state_dict)


# ------------------------------------------------------------------------------- DenseNet

_DENSENET_RULES = (
    _rule(r"features\.conv0\.weight", r"\g<0>"),
    _rule(rf"features\.norm[05]\.{_BN}", r"\g<0>"),
    _rule(r"features\.denseblock[1-4]\.denselayer\d+\.conv[12]\.weight", r"\g<0>"),
    _rule(rf"features\.denseblock[1-4]\.denselayer\d+\.norm[12]\.{_BN}", r"\g<0>"),
    # the checkpoints torchvision publishes still spell ``norm1`` as ``norm.1``: its own
    # loader renames them, and so does this rule
    _rule(r"(?P<layer>features\.denseblock[1-4]\.denselayer\d+)\.conv\.(?P<i>[12])\.weight",
          r"\g<layer>.conv\g<i>.weight"),
    _rule(rf"(?P<layer>features\.denseblock[1-4]\.denselayer\d+)\.norm\.(?P<i>[12])\.{_BN}",
          r"\g<layer>.norm\g<i>.\3"),
    _rule(r"features\.transition[1-3]\.conv\.weight", r"\g<0>"),
    _rule(rf"features\.transition[1-3]\.norm\.{_BN}", r"\g<0>"),
    _rule(r"classifier\.(weight|bias)", r"\g<0>"),
)


def _convert_densenet(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """torchvision ``densenet121/161/169/201`` → the timm models of the same names.

    The layouts are identical (``features.conv0/norm0``, ``features.denseblockN.denselayerM.
    norm1/conv1/norm2/conv2``, ``features.transitionN.norm/conv``, ``features.norm5``,
    ``classifier``), so keys and tensors pass unchanged, each checked against that layout.
    The legacy spelling of torchvision's published ``.pth`` files (``denselayerM.norm.1``)
    is renamed as torchvision's own loader does. Both use BatchNorm eps 1e-5.
    torchvision's ``drop_rate`` (0 by default) is the dropout after each dense layer, timm's
    ``proj_drop_rate``; timm's ``drop_rate`` is the dropout before the classifier.
    """
    return _apply("DenseNet", _DENSENET_RULES, state_dict)


# --------------------------------------------------------------------------- Inception-v3

_INCEPTION_V3_RULES = (
    _rule(r"Conv2d_[1-4][ab]_[13]x[13]\.conv\.weight", r"\g<0>"),
    _rule(rf"Conv2d_[1-4][ab]_[13]x[13]\.bn\.{_BN}", r"\g<0>"),
    _rule(r"Mixed_[5-7][a-e]\.branch\w+\.conv\.weight", r"\g<0>"),
    _rule(rf"Mixed_[5-7][a-e]\.branch\w+\.bn\.{_BN}", r"\g<0>"),
    _rule(r"AuxLogits\.conv[01]\.conv\.weight", r"\g<0>"),
    _rule(rf"AuxLogits\.conv[01]\.bn\.{_BN}", r"\g<0>"),
    _rule(r"AuxLogits\.fc\.(weight|bias)", r"\g<0>"),
    _rule(r"fc\.(weight|bias)", r"\g<0>"),
)


def _convert_inception_v3(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """torchvision ``inception_v3`` → timm ``inception_v3`` built with ``aux_logits=True``
    (``build_kwargs``): torchvision's model and checkpoints have the auxiliary classifier
    ``AuxLogits``, timm's model leaves it out by default.

    The layouts are identical (``Conv2d_*``/``Mixed_*`` blocks of conv + ``bn``,
    ``AuxLogits.conv0/conv1/fc``, ``fc``); every key is checked against that layout. Both
    use BatchNorm eps 1e-3. torchvision's ``transform_input=True`` (the default with its
    pretrained weights) re-normalises ImageNet-normalised input to mean = std = 0.5; timm
    expects input normalised that way already (cnnzoo's builder has ``transform_input=``).
    """
    return _apply("Inception-v3", _INCEPTION_V3_RULES, state_dict)


# --------------------------------------------------------------------------------- RegNet

_REGNET_CONVS = {"a": "conv1", "b": "conv2", "c": "conv3"}


def _regnet_block(match: re.Match[str]) -> str | None:
    """``trunk_output.block<s>.block<s>-<j>.<rest>`` → ``s<s>.b<j+1>.<rest in timm's names>``."""
    if match["s"] != match["s2"]:
        return None
    prefix = f"s{match['s']}.b{int(match['j']) + 1}"
    rest = match["rest"]
    if rest == "proj.0.weight":
        return f"{prefix}.downsample.conv.weight"
    if found := re.fullmatch(rf"proj\.1\.{_BN}", rest):
        return f"{prefix}.downsample.bn.{found[1]}"
    if found := re.fullmatch(r"f\.([abc])\.0\.weight", rest):
        return f"{prefix}.{_REGNET_CONVS[found[1]]}.conv.weight"
    if found := re.fullmatch(rf"f\.([abc])\.1\.{_BN}", rest):
        return f"{prefix}.{_REGNET_CONVS[found[1]]}.bn.{found[2]}"
    if found := re.fullmatch(r"f\.se\.(fc[12])\.(weight|bias)", rest):
        return f"{prefix}.se.{found[1]}.{found[2]}"
    return None


_REGNET_RULES = (
    _rule(r"stem\.0\.weight", "stem.conv.weight"),
    _rule(rf"stem\.1\.{_BN}", r"stem.bn.\1"),
    _rule(r"trunk_output\.block(?P<s>[1-4])\.block(?P<s2>[1-4])-(?P<j>\d+)\.(?P<rest>.+)",
          _regnet_block),
    _rule(r"fc\.(weight|bias)", r"head.fc.\1"),
)


def _convert_regnet(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """torchvision ``regnet_x_*`` / ``regnet_y_*`` → the timm RegNets of the same
    architecture (``regnetx_004_tv``, ``regnetx_008``…, ``regnety_004``, ``regnety_008_tv``…).

    ``stem.0/1`` → ``stem.conv/bn``; ``trunk_output.block<s>.block<s>-<j>`` →
    ``s<s>.b<j+1>`` with ``proj`` → ``downsample``, ``f.a/b/c`` → ``conv1/conv2/conv3``
    (``.0`` conv, ``.1`` BN → ``.conv``/``.bn``) and ``f.se.fc1/fc2`` → ``se.fc1/fc2``;
    ``fc`` → ``head.fc``. Both use BatchNorm eps 1e-5.
    """
    return _apply("RegNet", _REGNET_RULES, state_dict)


# ------------------------------------------------------------------------ EfficientNetV2

_CN = (("conv", "bn1"),)  # expansion 1: timm ConvBnAct
_ER = (("conv_exp", "bn1"), ("conv_pwl", "bn2"))  # timm EdgeResidual (FusedMBConv)


def _efficientnetv2_block(match: re.Match[str]) -> str | None:
    stage = int(match["s"]) - 1  # torchvision features.1.. = timm blocks.0..
    # every variant (S, M, L) has one FusedMBConv stage of expansion 1, two FusedMBConv
    # stages of expansion 4, then MBConv stages with squeeze-and-excitation
    layout = _CN if stage == 0 else _ER if stage < 3 else _IR_SE
    suffix = _mbconv_key(layout, int(match["sub"]), match["rest"])
    return None if suffix is None else f"blocks.{stage}.{match['j']}.{suffix}"


_EFFICIENTNETV2_RULES = (
    _rule(r"features\.0\.0\.weight", "conv_stem.weight"),
    _rule(rf"features\.0\.1\.{_BN}", r"bn1.\1"),
    _rule(
        r"features\.(?P<s>[1-9])\.(?P<j>\d+)\.block\.(?P<sub>\d+)\.(?P<rest>.+)",
        _efficientnetv2_block,
    ),
    # the 1x1 conv to 1280 after the last stage: features.7 (S) or features.8 (M, L)
    _rule(r"features\.[78]\.0\.weight", "conv_head.weight"),
    _rule(rf"features\.[78]\.1\.{_BN}", r"bn2.\1"),
    _rule(r"classifier\.1\.(weight|bias)", r"classifier.\1"),  # classifier.0 is Dropout
)


def _convert_efficientnetv2(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """torchvision ``efficientnet_v2_s/m/l`` → timm ``efficientnetv2_s/m/l`` (not the
    ``tf_`` ones: torchvision pads symmetrically, like timm's plain ones).

    ``features.0`` → ``conv_stem``/``bn1``; ``features.<s>.<j>`` → ``blocks.<s-1>.<j>``,
    inside a block ``block.<i>`` → ``conv``/``bn1`` (stage 0, FusedMBConv of expansion 1),
    ``conv_exp``/``bn1``, ``conv_pwl``/``bn2`` (stages 1-2, FusedMBConv) or
    ``conv_pw``/``conv_dw``/``se``/``conv_pwl`` and their BNs (MBConv); the last
    ``features`` entry → ``conv_head``/``bn2``; ``classifier.1`` → ``classifier``.

    torchvision builds its BatchNorms with eps 1e-3 (timm: 1e-5), hence
    ``build_kwargs={"bn_eps": 1e-3}`` (cnnzoo's builder defaults to it). Training-only
    differences: torchvision uses dropout 0.2 (S), 0.3 (M), 0.4 (L) and stochastic depth
    0.2 (timm defaults: 0, 0).
    """
    return _apply("EfficientNetV2", _EFFICIENTNETV2_RULES, state_dict)


# ---------------------------------------------------------------------------- converters

RESNET = CheckpointConverter("torchvision", _convert_resnet)
"""torchvision ResNet/ResNeXt/Wide-ResNet → timm models of the same names (identity, checked)."""

VGG = CheckpointConverter("torchvision", _convert_vgg)
"""torchvision ``vgg11``…``vgg19_bn`` → timm models of the same names."""

MOBILENETV2 = CheckpointConverter("torchvision", _convert_mobilenetv2)
"""torchvision ``mobilenet_v2`` → timm ``mobilenetv2_100``."""

MOBILENETV3 = CheckpointConverter("torchvision", _convert_mobilenetv3, {"bn_eps": 1e-3})
"""torchvision ``mobilenet_v3_large/small`` → timm ``mobilenetv3_large_100/small_100``."""

EFFICIENTNET = CheckpointConverter("torchvision", _convert_efficientnet)
"""torchvision ``efficientnet_b0``…``b4`` → timm models of the same names (BN eps 1e-5)."""

EFFICIENTNET_B5_B7 = CheckpointConverter("torchvision", _convert_efficientnet, {"bn_eps": 1e-3})
"""torchvision ``efficientnet_b5``…``b7`` → timm models of the same names (BN eps 1e-3)."""

CONVNEXT = CheckpointConverter("torchvision", _convert_convnext)
"""torchvision ``convnext_tiny/small/base/large`` → timm models of the same names."""

DENSENET = CheckpointConverter("torchvision", _convert_densenet)
"""torchvision ``densenet121/161/169/201`` → timm models of the same names."""

INCEPTION_V3 = CheckpointConverter("torchvision", _convert_inception_v3, {"aux_logits": True})
"""torchvision ``inception_v3`` → timm ``inception_v3`` (with ``AuxLogits``)."""

REGNET = CheckpointConverter("torchvision", _convert_regnet)
"""torchvision ``regnet_x_*``/``regnet_y_*`` → the timm RegNets of the same architecture."""

EFFICIENTNETV2 = CheckpointConverter("torchvision", _convert_efficientnetv2, {"bn_eps": 1e-3})
"""torchvision ``efficientnet_v2_s/m/l`` → timm ``efficientnetv2_s/m/l`` (BN eps 1e-3)."""

# torchvision RegNet name → the timm RegNet of the same architecture. Three of timm's
# pycls-based RegNets differ from torchvision's (group width, depth); timm's ``_tv``
# variants reproduce torchvision's.
REGNET_NAMES: Mapping[str, str] = MappingProxyType({
    "regnet_x_400mf": "regnetx_004_tv",
    "regnet_x_800mf": "regnetx_008",
    "regnet_x_1_6gf": "regnetx_016",
    "regnet_x_3_2gf": "regnetx_032",
    "regnet_x_8gf": "regnetx_080",
    "regnet_x_16gf": "regnetx_160",
    "regnet_x_32gf": "regnetx_320",
    "regnet_y_400mf": "regnety_004",
    "regnet_y_800mf": "regnety_008_tv",
    "regnet_y_1_6gf": "regnety_016",
    "regnet_y_3_2gf": "regnety_032",
    "regnet_y_8gf": "regnety_080_tv",
    "regnet_y_16gf": "regnety_160",
    "regnet_y_32gf": "regnety_320",
    "regnet_y_128gf": "regnety_1280",
})


def _same_names(converter: CheckpointConverter, *names: str):
    return {name: (name, converter) for name in names}


TORCHVISION_TO_TIMM: Mapping[str, tuple[str, CheckpointConverter]] = MappingProxyType({
    **_same_names(RESNET, "resnet18", "resnet34", "resnet50", "resnet101", "resnet152",
                  "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d",
                  "wide_resnet50_2", "wide_resnet101_2"),
    **_same_names(VGG, "vgg11", "vgg13", "vgg16", "vgg19",
                  "vgg11_bn", "vgg13_bn", "vgg16_bn", "vgg19_bn"),
    "mobilenet_v2": ("mobilenetv2_100", MOBILENETV2),
    "mobilenet_v3_large": ("mobilenetv3_large_100", MOBILENETV3),
    "mobilenet_v3_small": ("mobilenetv3_small_100", MOBILENETV3),
    **_same_names(EFFICIENTNET, *(f"efficientnet_b{i}" for i in range(5))),
    **_same_names(EFFICIENTNET_B5_B7, *(f"efficientnet_b{i}" for i in range(5, 8))),
    **_same_names(CONVNEXT, "convnext_tiny", "convnext_small", "convnext_base", "convnext_large"),
    **_same_names(DENSENET, "densenet121", "densenet161", "densenet169", "densenet201"),
    "inception_v3": ("inception_v3", INCEPTION_V3),
    **{tv: (timm_name, REGNET) for tv, timm_name in REGNET_NAMES.items()},
    **{f"efficientnet_v2_{s}": (f"efficientnetv2_{s}", EFFICIENTNETV2) for s in "sml"},
})
"""``{torchvision model name: (timm model name, converter)}`` for every supported model."""
