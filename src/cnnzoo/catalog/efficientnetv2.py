"""EfficientNetV2-S/M/L as torchvision builds them (timm's implementation and layout).

timm's ``efficientnetv2_s/m/l`` are torchvision's architecture (symmetric padding) once
BatchNorm eps is torchvision's 1e-3, which cnnzoo's builder defaults to. timm's Hub
weights are for ``tf_efficientnetv2_*`` (TensorFlow's asymmetric "same" padding: another
function), so the registered weights are torchvision's own.
"""

from __future__ import annotations

import dataclasses

from cnnzoo.catalog._common import feature_stages, torchvision_weights
from cnnzoo.catalog.mobilenet import block_stages
from cnnzoo.spec import ModelSpec, Paper, WeightsSpec

PAPER = Paper(
    "EfficientNetV2: Smaller Models and Faster Training", 2021, "https://arxiv.org/abs/2104.00298"
)
# name: (torchvision's eval size, params, GMACs there, block stages, feature taps and widths)
VARIANTS = {
    "efficientnetv2_s": (384, 21_458_488, 8.366, 6,
                         (("blocks.0", 24), ("blocks.1", 48), ("blocks.2", 64),
                          ("blocks.4", 160), ("blocks.5", 256))),
    "efficientnetv2_m": (480, 54_139_356, 24.583, 7,
                         (("blocks.0", 24), ("blocks.1", 48), ("blocks.2", 80),
                          ("blocks.4", 176), ("blocks.6", 512))),
    "efficientnetv2_l": (480, 118_515_272, 56.08, 7,
                         (("blocks.0", 32), ("blocks.1", 64), ("blocks.2", 96),
                          ("blocks.4", 224), ("blocks.6", 640))),
}
# torchvision's IMAGENET1K_V1 weights: (top-1, top-5, interpolation, mean = std)
TORCHVISION = {
    "efficientnetv2_s": ("EfficientNet_V2_S_Weights.IMAGENET1K_V1", 84.228, 96.878, "bilinear",
                         None),
    "efficientnetv2_m": ("EfficientNet_V2_M_Weights.IMAGENET1K_V1", 85.112, 97.156, "bilinear",
                         None),
    "efficientnetv2_l": ("EfficientNet_V2_L_Weights.IMAGENET1K_V1", 85.808, 97.788, "bicubic",
                         0.5),
}


def _stages(num_groups: int) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    stages, modules = block_stages(num_groups)
    last = f"stage{num_groups}"
    modules[last] = (*modules[last], "conv_head", "bn2")  # the 1x1 conv head is a feature layer
    modules["head"] = ("classifier",)
    return stages, modules


def _tv_weights(name: str, size: int) -> WeightsSpec:
    entry, top1, top5, interpolation, half = TORCHVISION[name]
    weights = torchvision_weights(entry, top1=top1, top5=top5, size=size, crop_pct=1.0,
                                  interpolation=interpolation)
    if half is None:
        return weights
    return dataclasses.replace(weights, mean=(half,) * 3, std=(half,) * 3)


def efficientnetv2_spec(name: str) -> ModelSpec:
    size, params, gmacs, groups, taps = VARIANTS[name]
    stages, stage_modules = _stages(groups)
    letter = name[-1]
    return ModelSpec(
        name=name,
        family="efficientnetv2",
        task="classification",
        builder="cnnzoo.models.timm_backed:build_efficientnetv2",
        builder_args={"arch": name},
        defaults={"num_classes": 1000, "in_chans": 3, "input_size": (3, size, size)},
        paper=PAPER,
        num_params=params,
        gmacs=gmacs,
        cam_layer="bn2",
        stages=stages,
        stage_modules=stage_modules,
        feature_info=feature_stages(*((tap, w, 2 ** (i + 1)) for i, (tap, w) in enumerate(taps))),
        aliases=(f"efficientnet_v2_{letter}",),
        checkpoint_converters={
            "torchvision": "cnnzoo.models.converters.torchvision:EFFICIENTNETV2"},
        description=(
            f"EfficientNetV2-{letter.upper()} at {size}x{size} as torchvision builds it "
            f"(timm's efficientnetv2_{letter} with BatchNorm eps 1e-3); timm's "
            f"tf_efficientnetv2_{letter} weights use TensorFlow 'same' padding and do not fit"
        ),
        weights={"tv_in1k": _tv_weights(name, size)},
        default_tag="tv_in1k",
    )


SPECS: tuple[ModelSpec, ...] = tuple(efficientnetv2_spec(name) for name in VARIANTS)
