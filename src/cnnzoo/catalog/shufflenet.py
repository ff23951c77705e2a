"""ShuffleNetV2 x0.5, x1.0, x1.5 and x2.0 (native, torchvision's layout; torchvision's weights)."""

from __future__ import annotations

from cnnzoo.catalog._common import feature_stages
from cnnzoo.catalog._tv_weights import CROP_232, CROP_256, torchvision_weights
from cnnzoo.spec import ModelSpec, Paper

PAPER = Paper(
    "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design",
    2018,
    "https://arxiv.org/abs/1807.11164",
)
OLD_RECIPE = "https://github.com/ericsun99/Shufflenet-v2-Pytorch"
NEW_RECIPE = "https://github.com/pytorch/vision/pull/5906"
STAGES = ("stem", "stage1", "stage2", "stage3", "head")
STAGE_MODULES = {
    "stem": ("conv1",),
    "stage1": ("stage2",),
    "stage2": ("stage3",),
    "stage3": ("stage4", "conv5"),  # the 1x1 conv5 is a feature layer (before pooling)
    "head": ("fc",),
}
# suffix: (width multiplier, params, GMACs at 224, stage widths, top-1, top-5, crop, recipe)
VARIANTS = {
    "x0_5": (0.5, 1_366_792, 0.0405, (24, 48, 96, 192, 1024), 60.552, 81.746, CROP_256,
             OLD_RECIPE),
    "x1_0": (1.0, 2_278_604, 0.145, (24, 116, 232, 464, 1024), 69.362, 88.316, CROP_256,
             OLD_RECIPE),
    "x1_5": (1.5, 3_503_624, 0.296, (24, 176, 352, 704, 1024), 72.996, 91.086, CROP_232,
             NEW_RECIPE),
    "x2_0": (2.0, 7_393_996, 0.583, (24, 244, 488, 976, 2048), 76.23, 93.006, CROP_232,
             NEW_RECIPE),
}


def shufflenet_spec(suffix: str) -> ModelSpec:
    width, params, gmacs, chs, top1, top5, crop_pct, recipe = VARIANTS[suffix]
    tv = torchvision_weights(f"ShuffleNet_V2_{suffix.upper()}_Weights.IMAGENET1K_V1",
                             top1=top1, top5=top5, crop_pct=crop_pct, recipe=recipe)
    return ModelSpec(
        name=f"shufflenet_v2_{suffix}",
        family="shufflenet",
        task="classification",
        builder="cnnzoo.models.torchvision_backed:build_shufflenet_v2",
        builder_args={"width_mult": width},
        weights={"tv_in1k": tv},
        default_tag="tv_in1k",
        paper=PAPER,
        num_params=params,
        gmacs=gmacs,
        cam_layer="conv5",
        stages=STAGES,
        stage_modules=STAGE_MODULES,
        feature_info=feature_stages(("conv1", chs[0], 2), ("maxpool", chs[0], 4),
                                    ("stage2", chs[1], 8), ("stage3", chs[2], 16),
                                    ("stage4", chs[3], 32)),
        aliases=(f"shufflenetv2_{round(width * 100):03d}",),
        description=(
            f"ShuffleNetV2 x{width}: channel split and shuffle, stage widths "
            f"{list(chs[1:4])}, a {chs[4]}-channel 1x1 conv5; torchvision's layout, so its "
            "checkpoints load unchanged (timm has no ShuffleNet)"
        ),
    )


SPECS: tuple[ModelSpec, ...] = tuple(shufflenet_spec(s) for s in VARIANTS)
