"""DenseNet-121/161/169/201 (timm's implementation and module layout = torchvision's)."""

from __future__ import annotations

from cnnzoo.catalog._common import feature_stages, registered_weights
from cnnzoo.spec import ModelSpec, Paper

PAPER = Paper("Densely Connected Convolutional Networks", 2016, "https://arxiv.org/abs/1608.06993")
# name: (params, GMACs at 224, growth rate, layers per dense block, feature widths)
VARIANTS = {
    "densenet121": (7_978_856, 2.834, 32, (6, 12, 24, 16), (64, 256, 512, 1024, 1024)),
    "densenet161": (28_681_000, 7.728, 48, (6, 12, 36, 24), (96, 384, 768, 2112, 2208)),
    "densenet169": (14_149_480, 3.36, 32, (6, 12, 32, 32), (64, 256, 512, 1280, 1664)),
    "densenet201": (20_013_928, 4.291, 32, (6, 12, 48, 32), (64, 256, 512, 1792, 1920)),
}
STAGES = ("stem", "stage1", "stage2", "stage3", "stage4", "head")
STAGE_MODULES = {
    "stem": ("features.conv0", "features.norm0", "features.pool0"),
    "stage1": ("features.denseblock1", "features.transition1"),
    "stage2": ("features.denseblock2", "features.transition2"),
    "stage3": ("features.denseblock3", "features.transition3"),
    "stage4": ("features.denseblock4", "features.norm5"),
    "head": ("classifier",),
}
# the dense blocks' outputs, before each transition halves channels and resolution
TAPS = ("features.norm0", "features.denseblock1", "features.denseblock2",
        "features.denseblock3", "features.norm5")


def densenet_spec(name: str) -> ModelSpec:
    params, gmacs, growth, blocks, widths = VARIANTS[name]
    return ModelSpec(
        name=name,
        family="densenet",
        task="classification",
        builder="cnnzoo.models.timm_backed:build_densenet",
        builder_args={"arch": name},
        defaults={"num_classes": 1000, "in_chans": 3, "input_size": (3, 224, 224)},
        paper=PAPER,
        num_params=params,
        gmacs=gmacs,
        cam_layer="features.norm5",
        stages=STAGES,
        stage_modules=STAGE_MODULES,
        feature_info=feature_stages(
            *((tap, w, 2 ** (i + 1)) for i, (tap, w) in enumerate(zip(TAPS, widths, strict=True)))
        ),
        checkpoint_converters={"torchvision": "cnnzoo.models.converters.torchvision:DENSENET"},
        description=(
            f"DenseNet-{name[len('densenet'):]}-BC: dense blocks of {list(blocks)} layers, "
            f"growth rate {growth}; torchvision's and timm's layouts are the same"
        ),
        **registered_weights(name),
    )


SPECS: tuple[ModelSpec, ...] = tuple(densenet_spec(name) for name in VARIANTS)
