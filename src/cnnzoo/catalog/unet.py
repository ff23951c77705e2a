"""UNet spec (torch-free: importing this module builds only registry dataclasses)."""

from __future__ import annotations

from cnnzoo.spec import FeatureStage, ModelSpec, Paper

_ENCODER_STAGES = ("stem", "stage1", "stage2", "stage3", "stage4")

SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="unet",
        family="unet",
        task="segmentation",
        builder="cnnzoo.build.unet:build_unet",
        defaults={"num_classes": 2, "in_chans": 3, "input_size": (3, 256, 256)},
        paper=Paper(
            title="U-Net: Convolutional Networks for Biomedical Image Segmentation",
            year=2015,
            url="https://arxiv.org/abs/1505.04597",
        ),
        num_params=31_037_698,
        gmacs=48.2,
        cam_layer="decoder",
        stages=(*_ENCODER_STAGES, "decoder", "head"),
        stage_modules={
            **{stage: (f"encoder.{stage}",) for stage in _ENCODER_STAGES},
            "decoder": ("decoder",),
            "head": ("segmentation_head",),
        },
        feature_info=(
            FeatureStage("encoder.stem", 64, 1),
            FeatureStage("encoder.stage1", 128, 2),
            FeatureStage("encoder.stage2", 256, 4),
            FeatureStage("encoder.stage3", 512, 8),
            FeatureStage("encoder.stage4", 1024, 16),
        ),
        description=(
            "classic 4-level UNet (width 64, BN, same padding, any input size); "
            "encoder='<zoo model>' puts a UNet decoder on any zoo classifier instead"
        ),
    ),
)
