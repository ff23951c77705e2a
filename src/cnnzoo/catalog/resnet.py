"""ResNet, ResNeXt and Wide ResNet (timm's implementation and module layout)."""

from __future__ import annotations

from cnnzoo.catalog._common import feature_stages, registered_weights
from cnnzoo.spec import ModelSpec, Paper

RESNET_PAPER = Paper(
    "Deep Residual Learning for Image Recognition", 2015, "https://arxiv.org/abs/1512.03385"
)
RESNEXT_PAPER = Paper(
    "Aggregated Residual Transformations for Deep Neural Networks",
    2016,
    "https://arxiv.org/abs/1611.05431",
)
WIDE_RESNET_PAPER = Paper("Wide Residual Networks", 2016, "https://arxiv.org/abs/1605.07146")
STAGES = ("stem", "stage1", "stage2", "stage3", "stage4", "head")
STAGE_MODULES = {
    "stem": ("conv1", "bn1"),
    "stage1": ("layer1",),
    "stage2": ("layer2",),
    "stage3": ("layer3",),
    "stage4": ("layer4",),
    "head": ("fc",),
}
TORCHVISION = {"torchvision": "cnnzoo.models.converters.torchvision:RESNET"}


def resnet_spec(
    name: str,
    *,
    family: str,
    paper: Paper,
    num_params: int,
    gmacs: float,
    widths: tuple[int, ...],
    description: str,
    aliases: tuple[str, ...] = (),
    stem_chs: int = 64,
    converters: dict[str, str] | None = None,
) -> ModelSpec:
    """A spec for one timm ResNet-layout network (ResNet, ResNeXt, SE-ResNet, SENet)."""
    return ModelSpec(
        name=name,
        family=family,
        task="classification",
        builder="cnnzoo.models.timm_backed:build_resnet",
        builder_args={"arch": name},
        defaults={"num_classes": 1000, "in_chans": 3, "input_size": (3, 224, 224)},
        paper=paper,
        num_params=num_params,
        gmacs=gmacs,
        cam_layer="layer4",
        stages=STAGES,
        stage_modules=STAGE_MODULES,
        feature_info=feature_stages(
            ("act1", stem_chs, 2),
            *((f"layer{i + 1}", w, 2 ** (i + 2)) for i, w in enumerate(widths)),
        ),
        aliases=aliases,
        checkpoint_converters=TORCHVISION if converters is None else converters,
        description=description,
        **registered_weights(name),
    )


BASIC = (64, 128, 256, 512)
BOTTLENECK = (256, 512, 1024, 2048)

SPECS = (
    resnet_spec("resnet18", family="resnet", paper=RESNET_PAPER, num_params=11_689_512,
                gmacs=1.814, widths=BASIC, description="ResNet-18, basic blocks [2, 2, 2, 2]"),
    resnet_spec("resnet34", family="resnet", paper=RESNET_PAPER, num_params=21_797_672,
                gmacs=3.664, widths=BASIC, description="ResNet-34, basic blocks [3, 4, 6, 3]"),
    resnet_spec("resnet50", family="resnet", paper=RESNET_PAPER, num_params=25_557_032,
                gmacs=4.089, widths=BOTTLENECK,
                description="ResNet-50, bottleneck blocks [3, 4, 6, 3]"),
    resnet_spec("resnet101", family="resnet", paper=RESNET_PAPER, num_params=44_549_160,
                gmacs=7.801, widths=BOTTLENECK,
                description="ResNet-101, bottleneck blocks [3, 4, 23, 3]"),
    resnet_spec("resnet152", family="resnet", paper=RESNET_PAPER, num_params=60_192_808,
                gmacs=11.514, widths=BOTTLENECK,
                description="ResNet-152, bottleneck blocks [3, 8, 36, 3]"),
    resnet_spec("resnext50_32x4d", family="resnext", paper=RESNEXT_PAPER,
                num_params=25_028_904, gmacs=4.23, widths=BOTTLENECK,
                aliases=("resnext50",),
                description="ResNeXt-50, cardinality 32, bottleneck width 4"),
    resnet_spec("resnext101_32x8d", family="resnext", paper=RESNEXT_PAPER,
                num_params=88_791_336, gmacs=16.414, widths=BOTTLENECK,
                aliases=("resnext101",),
                description="ResNeXt-101, cardinality 32, bottleneck width 8"),
    resnet_spec("resnext101_64x4d", family="resnext", paper=RESNEXT_PAPER,
                num_params=83_455_272, gmacs=15.46, widths=BOTTLENECK,
                description="ResNeXt-101, cardinality 64, bottleneck width 4"),
    resnet_spec("wide_resnet50_2", family="wide_resnet", paper=WIDE_RESNET_PAPER,
                num_params=68_883_240, gmacs=11.398, widths=BOTTLENECK,
                description="Wide ResNet-50-2: ResNet-50 with bottlenecks twice as wide "
                            "(torchvision's and timm's model of that name)"),
    resnet_spec("wide_resnet101_2", family="wide_resnet", paper=WIDE_RESNET_PAPER,
                num_params=126_886_696, gmacs=22.753, widths=BOTTLENECK,
                description="Wide ResNet-101-2: ResNet-101 with bottlenecks twice as wide "
                            "(torchvision's and timm's model of that name)"),
)
