"""MobileNetV2 and MobileNetV3 small/large (timm's implementation and layout)."""

from __future__ import annotations

from cnnzoo.catalog._common import feature_stages, registered_weights
from cnnzoo.spec import ModelSpec, Paper

V2_PAPER = Paper(
    "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
    2018,
    "https://arxiv.org/abs/1801.04381",
)
V3_PAPER = Paper("Searching for MobileNetV3", 2019, "https://arxiv.org/abs/1905.02244")


def block_stages(num_groups: int) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """Stage names and modules for an EfficientNet-style ``blocks`` Sequential."""
    stages = ("stem", *(f"stage{i + 1}" for i in range(num_groups)), "head")
    modules: dict[str, tuple[str, ...]] = {"stem": ("conv_stem", "bn1")}
    modules.update({f"stage{i + 1}": (f"blocks.{i}",) for i in range(num_groups)})
    return stages, modules


def _v2_stages():
    stages, modules = block_stages(7)
    modules["stage7"] = ("blocks.6", "conv_head", "bn2")  # the 1x1 conv head is a feature layer
    modules["head"] = ("classifier",)
    return stages, modules


def _v3_stages(num_groups: int):
    stages, modules = block_stages(num_groups)
    modules["head"] = ("conv_head", "classifier")  # timm applies conv_head after pooling
    return stages, modules


V2_STAGES, V2_MODULES = _v2_stages()

SPECS = (
    ModelSpec(
        name="mobilenetv2_100",
        family="mobilenet",
        task="classification",
        builder="cnnzoo.models.timm_backed:build_mobilenet",
        builder_args={"arch": "mobilenetv2_100"},
        **registered_weights("mobilenetv2_100"),
        paper=V2_PAPER,
        num_params=3_504_872,
        gmacs=0.301,
        cam_layer="bn2",
        stages=V2_STAGES,
        stage_modules=V2_MODULES,
        feature_info=feature_stages(("blocks.0", 16, 2), ("blocks.1", 24, 4),
                                    ("blocks.2", 32, 8), ("blocks.4", 96, 16),
                                    ("blocks.6", 320, 32)),
        aliases=("mobilenet_v2",),
        checkpoint_converters={"torchvision": "cnnzoo.models.converters.torchvision:MOBILENETV2"},
        description="MobileNetV2, width 1.0: inverted residuals with linear bottlenecks",
    ),
    ModelSpec(
        name="mobilenetv3_small_100",
        family="mobilenet",
        task="classification",
        builder="cnnzoo.models.timm_backed:build_mobilenet",
        builder_args={"arch": "mobilenetv3_small_100"},
        **registered_weights("mobilenetv3_small_100"),
        paper=V3_PAPER,
        num_params=2_542_856,
        gmacs=0.057,
        cam_layer="blocks.5",
        stages=_v3_stages(6)[0],
        stage_modules=_v3_stages(6)[1],
        feature_info=feature_stages(("bn1", 16, 2), ("blocks.0", 16, 4), ("blocks.1", 24, 8),
                                    ("blocks.3", 48, 16), ("blocks.5", 576, 32)),
        aliases=("mobilenet_v3_small",),
        checkpoint_converters={"torchvision": "cnnzoo.models.converters.torchvision:MOBILENETV3"},
        description="MobileNetV3-Small, width 1.0 (hard-swish, squeeze-excite)",
    ),
    ModelSpec(
        name="mobilenetv3_large_100",
        family="mobilenet",
        task="classification",
        builder="cnnzoo.models.timm_backed:build_mobilenet",
        builder_args={"arch": "mobilenetv3_large_100"},
        **registered_weights("mobilenetv3_large_100"),
        paper=V3_PAPER,
        num_params=5_483_032,
        gmacs=0.217,
        cam_layer="blocks.6",
        stages=_v3_stages(7)[0],
        stage_modules=_v3_stages(7)[1],
        feature_info=feature_stages(("blocks.0", 16, 2), ("blocks.1", 24, 4),
                                    ("blocks.2", 40, 8), ("blocks.4", 112, 16),
                                    ("blocks.6", 960, 32)),
        aliases=("mobilenet_v3_large",),
        checkpoint_converters={"torchvision": "cnnzoo.models.converters.torchvision:MOBILENETV3"},
        description="MobileNetV3-Large, width 1.0 (hard-swish, squeeze-excite)",
    ),
)
