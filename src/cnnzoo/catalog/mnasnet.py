"""MNASNet 0.5, 0.75, 1.0 and 1.3 (timm's MNASNet-B1, which is torchvision's network).

timm's ``mnasnet_050/075/100`` (and its generator at width 1.3) have torchvision's
parameter count, tensor shapes and outputs exactly, so the family is timm-backed and
torchvision's weights load through a key renaming (``MNASNET_TORCHVISION``).
"""

from __future__ import annotations

from cnnzoo.catalog._common import feature_stages, registered_weights
from cnnzoo.catalog._tv_weights import CROP_232, CROP_256, torchvision_weights
from cnnzoo.catalog.mobilenet import block_stages
from cnnzoo.spec import ModelSpec, Paper

PAPER = Paper(
    "MnasNet: Platform-Aware Neural Architecture Search for Mobile",
    2019,
    "https://arxiv.org/abs/1807.11626",
)
OLD_RECIPE = "https://github.com/1e100/mnasnet_trainer"
NEW_RECIPE = "https://github.com/pytorch/vision/pull/6019"
STAGES, STAGE_MODULES = block_stages(7)
STAGE_MODULES["stage7"] = ("blocks.6", "conv_head", "bn2")  # the 1x1 head conv precedes pooling
STAGE_MODULES["head"] = ("classifier",)
TAPS = ("blocks.0", "blocks.1", "blocks.2", "blocks.4", "blocks.6")
# name: (torchvision name, params, GMACs at 224, tap widths, top-1, top-5, crop, recipe)
VARIANTS = {
    "mnasnet_050": ("mnasnet0_5", 2_218_512, 0.104, (8, 16, 24, 48, 160), 67.734, 87.49,
                    CROP_256, OLD_RECIPE),
    "mnasnet_075": ("mnasnet0_75", 3_170_208, 0.215, (16, 24, 32, 72, 240), 71.18, 90.496,
                    CROP_232, NEW_RECIPE),
    "mnasnet_100": ("mnasnet1_0", 4_383_312, 0.314, (16, 24, 40, 96, 320), 73.456, 91.51,
                    CROP_256, OLD_RECIPE),
    "mnasnet_130": ("mnasnet1_3", 6_282_256, 0.526, (24, 32, 56, 128, 416), 76.506, 93.522,
                    CROP_232, NEW_RECIPE),
}


def mnasnet_spec(name: str) -> ModelSpec:
    tv_name, params, gmacs, widths, top1, top5, crop_pct, recipe = VARIANTS[name]
    width = tv_name[len("mnasnet"):].replace("_", ".")
    tv = torchvision_weights(f"MNASNet{tv_name[len('mnasnet'):]}_Weights.IMAGENET1K_V1",
                             top1=top1, top5=top5, crop_pct=crop_pct, recipe=recipe)
    # timm's own Hub weights of the same architecture (mnasnet_100.rmsp_in1k), when listed
    timm_tags = registered_weights(name)["weights"]
    return ModelSpec(
        name=name,
        family="mnasnet",
        task="classification",
        builder="cnnzoo.models.timm_modern:build_mnasnet",
        builder_args={"arch": name},
        weights={"tv_in1k": tv, **timm_tags},
        default_tag="tv_in1k",
        paper=PAPER,
        num_params=params,
        gmacs=gmacs,
        cam_layer="bn2",
        stages=STAGES,
        stage_modules=STAGE_MODULES,
        feature_info=feature_stages(
            *((tap, w, 2 ** (i + 1)) for i, (tap, w) in enumerate(zip(TAPS, widths, strict=True)))
        ),
        aliases=(tv_name,),
        checkpoint_converters={"torchvision": "cnnzoo.models.timm_modern:MNASNET_TORCHVISION"},
        description=(
            f"MNASNet-B1 at depth multiplier {width} (timm's implementation, which is "
            f"torchvision's {tv_name} exactly; torchvision's checkpoints convert by renaming)"
        ),
    )


SPECS: tuple[ModelSpec, ...] = tuple(mnasnet_spec(name) for name in VARIANTS)
