"""SqueezeNet 1.0 and 1.1 (native, torchvision's layout; torchvision's weights)."""

from __future__ import annotations

from cnnzoo.catalog._common import feature_stages
from cnnzoo.catalog._tv_weights import CROP_256, torchvision_weights
from cnnzoo.spec import ModelSpec, Paper

PAPER = Paper(
    "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size",
    2016,
    "https://arxiv.org/abs/1602.07360",
)
RECIPE = "https://github.com/pytorch/vision/pull/49#issuecomment-277560717"
STAGES = ("stem", "stage1", "stage2", "stage3", "head")
# version: (params, GMACs at 224, Fire indices of stage1-3, feature taps, top-1, top-5)
VARIANTS = {
    "1_0": (1_248_424, 0.819, ((3, 4, 5), (7, 8, 9, 10), (12,)),
            (("features.1", 96, 2), ("features.5", 256, 4), ("features.10", 512, 8),
             ("features.12", 512, 16)),
            58.092, 80.42),
    "1_1": (1_235_496, 0.349, ((3, 4), (6, 7), (9, 10, 11, 12)),
            (("features.1", 64, 2), ("features.4", 128, 4), ("features.7", 256, 8),
             ("features.12", 512, 16)),
            58.178, 80.624),
}
DESCRIPTIONS = {
    "1_0": "SqueezeNet 1.0 (the paper's): Fire modules and a 1x1-conv classifier before "
           "the pooling",
    "1_1": "SqueezeNet 1.1: a 3x3 stem and earlier pooling, 2.4x cheaper than 1.0 at the "
           "same accuracy",
}


def squeezenet_spec(version: str) -> ModelSpec:
    params, gmacs, fires, taps, top1, top5 = VARIANTS[version]
    name = f"squeezenet{version}"
    tv = torchvision_weights(f"SqueezeNet{version}_Weights.IMAGENET1K_V1", top1=top1,
                             top5=top5, crop_pct=CROP_256, recipe=RECIPE)
    return ModelSpec(
        name=name,
        family="squeezenet",
        task="classification",
        builder="cnnzoo.models.torchvision_backed:build_squeezenet",
        builder_args={"version": version},
        weights={"tv_in1k": tv},
        default_tag="tv_in1k",
        paper=PAPER,
        num_params=params,
        gmacs=gmacs,
        cam_layer="features.12",
        stages=STAGES,
        stage_modules={
            "stem": ("features.0",),
            **{f"stage{i + 1}": tuple(f"features.{j}" for j in stage)
               for i, stage in enumerate(fires)},
            "head": ("classifier.1",),
        },
        feature_info=feature_stages(*taps),
        description=DESCRIPTIONS[version] + "; torchvision's layout, so its checkpoints load "
                    "unchanged (timm has no SqueezeNet)",
    )


SPECS: tuple[ModelSpec, ...] = tuple(squeezenet_spec(v) for v in VARIANTS)
