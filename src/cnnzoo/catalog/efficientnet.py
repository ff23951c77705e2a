"""EfficientNet-B0…B7 (timm's implementation and layout)."""

from __future__ import annotations

from typing import Any

from cnnzoo.catalog._common import feature_stages, registered_weights, torchvision_weights
from cnnzoo.catalog.mobilenet import block_stages
from cnnzoo.spec import ModelSpec, Paper

PAPER = Paper(
    "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks",
    2019,
    "https://arxiv.org/abs/1905.11946",
)
# name: (input size of the paper, params, GMACs at that size, stage widths)
VARIANTS = {
    "efficientnet_b0": (224, 5_288_548, 0.386, (16, 24, 40, 112, 320)),
    "efficientnet_b1": (240, 7_794_184, 0.687, (16, 24, 40, 112, 320)),
    "efficientnet_b2": (260, 9_109_994, 0.994, (16, 24, 48, 120, 352)),
    "efficientnet_b3": (300, 12_233_232, 1.827, (24, 32, 48, 136, 384)),
    "efficientnet_b4": (380, 19_341_616, 4.394, (24, 32, 56, 160, 448)),
    "efficientnet_b5": (456, 30_389_784, 10.266, (24, 40, 64, 176, 512)),
    "efficientnet_b6": (528, 43_040_704, 19.068, (32, 40, 72, 200, 576)),
    "efficientnet_b7": (600, 66_347_960, 37.746, (32, 48, 80, 224, 640)),
}
STAGES, STAGE_MODULES = block_stages(7)
STAGE_MODULES["stage7"] = ("blocks.6", "conv_head", "bn2")
STAGE_MODULES["head"] = ("classifier",)
TAPS = ("blocks.0", "blocks.1", "blocks.2", "blocks.4", "blocks.6")


def efficientnet_spec(name: str) -> ModelSpec:
    size, params, gmacs, widths = VARIANTS[name]
    return ModelSpec(
        name=name,
        family="efficientnet",
        task="classification",
        builder="cnnzoo.models.timm_backed:build_efficientnet",
        builder_args={"arch": name},
        defaults={"num_classes": 1000, "in_chans": 3, "input_size": (3, size, size)},
        paper=PAPER,
        num_params=params,
        gmacs=gmacs,
        cam_layer="bn2",
        stages=STAGES,
        stage_modules=STAGE_MODULES,
        feature_info=feature_stages(
            *((tap, w, 2 ** (i + 1)) for i, (tap, w) in enumerate(zip(TAPS, widths, strict=True)))
        ),
        # torchvision builds B5-B7 with BatchNorm eps 1e-3, B0-B4 with 1e-5
        checkpoint_converters={
            "torchvision": "cnnzoo.models.converters.torchvision:" + (
                "EFFICIENTNET_B5_B7" if name[-1] in "567" else "EFFICIENTNET"),
            "efficientnet_pytorch":
                "cnnzoo.models.converters.efficientnet_pytorch:EFFICIENTNET_PYTORCH",
        },
        description=f"EfficientNet-{name[-2:].upper()} at {size}x{size}",
        **_weights(name),
    )


# torchvision publishes the only B6/B7 weights ported from the reference implementation.
TORCHVISION_ONLY = {
    "efficientnet_b6": torchvision_weights(
        "EfficientNet_B6_Weights.IMAGENET1K_V1", top1=84.008, top5=96.916, size=528,
        crop_pct=1.0, interpolation="bicubic"),
    "efficientnet_b7": torchvision_weights(
        "EfficientNet_B7_Weights.IMAGENET1K_V1", top1=84.122, top5=96.908, size=600,
        crop_pct=1.0, interpolation="bicubic"),
}


def _weights(name: str) -> dict[str, Any]:
    """timm's Hub tags, or torchvision's weights where only torchvision has them."""
    found = registered_weights(name)
    if not found["weights"] and name in TORCHVISION_ONLY:
        return {"weights": {"tv_in1k": TORCHVISION_ONLY[name]}, "default_tag": "tv_in1k"}
    return found


SPECS = tuple(efficientnet_spec(name) for name in VARIANTS)
