"""ConvNeXt V2 atto…large (timm's implementation and layout; the paper's weights via timm)."""

from __future__ import annotations

from cnnzoo.catalog._common import feature_stages, registered_weights
from cnnzoo.catalog.convnext import STAGE_MODULES, STAGES
from cnnzoo.spec import ModelSpec, Paper

PAPER = Paper(
    "ConvNeXt V2: Co-designing and Scaling ConvNets with Masked Autoencoders",
    2023,
    "https://arxiv.org/abs/2301.00808",
)
# name: (params, GMACs at 224, stage widths, depths)
VARIANTS = {
    "convnextv2_atto": (3_708_400, 0.547, (40, 80, 160, 320), (2, 2, 6, 2)),
    "convnextv2_femto": (5_233_240, 0.78, (48, 96, 192, 384), (2, 2, 6, 2)),
    "convnextv2_pico": (9_066_280, 1.37, (64, 128, 256, 512), (2, 2, 6, 2)),
    "convnextv2_nano": (15_623_800, 2.45, (80, 160, 320, 640), (2, 2, 8, 2)),
    "convnextv2_tiny": (28_635_496, 4.46, (96, 192, 384, 768), (3, 3, 9, 3)),
    "convnextv2_base": (88_717_800, 15.4, (128, 256, 512, 1024), (3, 3, 27, 3)),
    "convnextv2_large": (197_956_840, 34.4, (192, 384, 768, 1536), (3, 3, 27, 3)),
}


def convnextv2_spec(name: str) -> ModelSpec:
    params, gmacs, widths, depths = VARIANTS[name]
    size = name.split("_")[1]
    return ModelSpec(
        name=name,
        family="convnextv2",
        task="classification",
        builder="cnnzoo.models.timm_modern:build_convnextv2",
        builder_args={"arch": name},
        paper=PAPER,
        num_params=params,
        gmacs=gmacs,
        cam_layer="stages.3",
        stages=STAGES,
        stage_modules=STAGE_MODULES,
        feature_info=feature_stages(
            *((f"stages.{i}", w, 2 ** (i + 2)) for i, w in enumerate(widths))
        ),
        description=(
            f"ConvNeXt V2-{size.capitalize()}: ConvNeXt blocks with global response "
            f"normalisation instead of layer scale, depths {list(depths)}, widths "
            f"{list(widths)}; FCMAE-pretrained"
        ),
        **registered_weights(name),
    )


SPECS: tuple[ModelSpec, ...] = tuple(convnextv2_spec(name) for name in VARIANTS)
