"""MobileNetV4 convolutional variants (timm's implementation and layout and weights).

Listed: conv small/medium/large and, of timm's blur/anti-aliased variants, the two
with public weights (``conv_blur_medium``, ``conv_aa_large``; ``conv_aa_medium`` has
none). Not listed: timm's reduced-width ``conv_small_035`` (no weights) and
``conv_small_050``, and the hybrid (attention) variants, which are not CNN-only.
"""

from __future__ import annotations

from cnnzoo.catalog._common import feature_stages, registered_weights
from cnnzoo.catalog.mobilenet import block_stages
from cnnzoo.spec import ModelSpec, Paper

PAPER = Paper(
    "MobileNetV4 - Universal Models for the Mobile Ecosystem",
    2024,
    "https://arxiv.org/abs/2404.10518",
)
STAGES, STAGE_MODULES = block_stages(5)
STAGE_MODULES["head"] = ("conv_head", "norm_head", "classifier")  # conv_head after pooling
TAPS = ("bn1", "blocks.0", "blocks.1", "blocks.2", "blocks.4")
# name: (input size of timm's default weights, params, GMACs there, tap widths, description)
VARIANTS = {
    "mobilenetv4_conv_small": (224, 3_774_024, 0.186, (32, 32, 64, 96, 960),
                               "MobileNetV4-Conv-S: universal inverted bottlenecks"),
    "mobilenetv4_conv_medium": (256, 9_715_512, 1.08, (32, 48, 80, 160, 960),
                                "MobileNetV4-Conv-M: universal inverted bottlenecks"),
    "mobilenetv4_conv_large": (384, 32_590_864, 6.38, (24, 48, 96, 192, 960),
                               "MobileNetV4-Conv-L: universal inverted bottlenecks"),
    "mobilenetv4_conv_blur_medium": (224, 9_715_512, 1.2, (32, 48, 80, 160, 960),
                                     "MobileNetV4-Conv-M with blur-pool (anti-aliased) "
                                     "downsampling, timm's variant"),
    "mobilenetv4_conv_aa_large": (448, 32_590_864, 9.54, (24, 48, 96, 192, 960),
                                  "MobileNetV4-Conv-L with anti-aliased (blur) stride-2 "
                                  "convolutions, timm's variant"),
}


def mobilenetv4_spec(name: str) -> ModelSpec:
    size, params, gmacs, widths, description = VARIANTS[name]
    return ModelSpec(
        name=name,
        family="mobilenetv4",
        task="classification",
        builder="cnnzoo.models.timm_modern:build_mobilenetv4",
        builder_args={"arch": name},
        defaults={"num_classes": 1000, "in_chans": 3, "input_size": (3, size, size)},
        paper=PAPER,
        num_params=params,
        gmacs=gmacs,
        cam_layer="blocks.4",
        stages=STAGES,
        stage_modules=STAGE_MODULES,
        feature_info=feature_stages(
            *((tap, w, 2 ** (i + 1)) for i, (tap, w) in enumerate(zip(TAPS, widths, strict=True)))
        ),
        description=f"{description}, at {size}x{size}",
        **registered_weights(name),
    )


SPECS: tuple[ModelSpec, ...] = tuple(mobilenetv4_spec(name) for name in VARIANTS)
