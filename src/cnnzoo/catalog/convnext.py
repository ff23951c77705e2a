"""ConvNeXt-T/S/B/L (timm's implementation and layout)."""

from __future__ import annotations

from cnnzoo.catalog._common import feature_stages, registered_weights
from cnnzoo.spec import ModelSpec, Paper

PAPER = Paper("A ConvNet for the 2020s", 2022, "https://arxiv.org/abs/2201.03545")
# name: (params, GMACs at 224, stage widths, depths, alias)
VARIANTS = {
    "convnext_tiny": (28_589_128, 4.456, (96, 192, 384, 768), (3, 3, 9, 3), "convnext_t"),
    "convnext_small": (50_223_688, 8.684, (96, 192, 384, 768), (3, 3, 27, 3), "convnext_s"),
    "convnext_base": (88_591_464, 15.355, (128, 256, 512, 1024), (3, 3, 27, 3), "convnext_b"),
    "convnext_large": (197_767_336, 34.361, (192, 384, 768, 1536), (3, 3, 27, 3),
                       "convnext_l"),
}
STAGES = ("stem", "stage1", "stage2", "stage3", "stage4", "head")
STAGE_MODULES = {
    "stem": ("stem",),
    **{f"stage{i + 1}": (f"stages.{i}",) for i in range(4)},
    "head": ("norm_pre", "head"),
}


def convnext_spec(name: str) -> ModelSpec:
    params, gmacs, widths, depths, alias = VARIANTS[name]
    return ModelSpec(
        name=name,
        family="convnext",
        task="classification",
        builder="cnnzoo.models.timm_backed:build_convnext",
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
        aliases=(alias,),
        checkpoint_converters={"torchvision": "cnnzoo.models.converters.torchvision:CONVNEXT"},
        description=f"ConvNeXt-{alias[-1].upper()}, depths {list(depths)}, widths {list(widths)}",
        **registered_weights(name),
    )


SPECS = tuple(convnext_spec(name) for name in VARIANTS)
