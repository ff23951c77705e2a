"""GoogLeNet spec (torch-free: importing this module builds only registry dataclasses)."""

from __future__ import annotations

from cnnzoo.catalog._common import torchvision_weights
from cnnzoo.spec import FeatureStage, ModelSpec, Paper

TV_IN1K = torchvision_weights("GoogLeNet_Weights.IMAGENET1K_V1", top1=69.778, top5=89.53)

SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        weights={"tv_in1k": TV_IN1K},
        default_tag="tv_in1k",
        name="googlenet",
        family="googlenet",
        task="classification",
        builder="cnnzoo.models.googlenet:build_googlenet",
        defaults={"num_classes": 1000, "in_chans": 3, "input_size": (3, 224, 224)},
        paper=Paper(
            title="Going Deeper with Convolutions",
            year=2014,
            url="https://arxiv.org/abs/1409.4842",
        ),
        num_params=6_624_904,
        gmacs=1.50,
        cam_layer="inception5b",
        stages=("stem", "stage1", "stage2", "stage3", "stage4", "head"),
        stage_modules={
            "stem": ("conv1",),
            "stage1": ("conv2", "conv3"),
            "stage2": ("inception3a", "inception3b"),
            "stage3": ("inception4a", "inception4b", "inception4c", "inception4d", "inception4e"),
            "stage4": ("inception5a", "inception5b"),
            "head": ("fc", "aux1", "aux2"),
        },
        feature_info=(
            FeatureStage("conv1", 64, 2),
            FeatureStage("conv3", 192, 4),
            FeatureStage("inception3b", 480, 8),
            FeatureStage("inception4e", 832, 16),
            FeatureStage("inception5b", 1024, 32),
        ),
        aliases=("inception_v1",),
        checkpoint_converters={"torchvision": "cnnzoo.models.googlenet:convert_torchvision"},
        description=(
            "GoogLeNet / Inception v1 with BN in torchvision's parameter layout "
            "(aux_logits=, transform_input= as in torchvision)"
        ),
    ),
)
