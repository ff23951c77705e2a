"""AlexNet spec (torch-free: importing this module builds only registry dataclasses)."""

from __future__ import annotations

from cnnzoo.catalog._common import torchvision_weights
from cnnzoo.spec import FeatureStage, ModelSpec, Paper

TV_IN1K = torchvision_weights("AlexNet_Weights.IMAGENET1K_V1", top1=56.522, top5=79.066)

SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        weights={"tv_in1k": TV_IN1K},
        default_tag="tv_in1k",
        name="alexnet",
        family="alexnet",
        task="classification",
        builder="cnnzoo.models.alexnet:build_alexnet",
        defaults={"num_classes": 1000, "in_chans": 3, "input_size": (3, 224, 224)},
        paper=Paper(
            title="ImageNet Classification with Deep Convolutional Neural Networks",
            year=2012,
            url="https://papers.nips.cc/paper/4824-imagenet-classification-with-deep-convolutional-neural-networks",
        ),
        num_params=61_100_840,
        gmacs=0.714,
        cam_layer="features.11",
        stages=("stem", "stage1", "stage2", "pre_logits", "head"),
        stage_modules={
            "stem": ("features.0",),
            "stage1": ("features.3",),
            "stage2": ("features.6", "features.8", "features.10"),
            "pre_logits": ("classifier.1", "classifier.4"),
            "head": ("classifier.6",),
        },
        feature_info=(
            FeatureStage("features.1", 64, 4),
            FeatureStage("features.4", 192, 8),
            FeatureStage("features.11", 256, 16),
        ),
        checkpoint_converters={"torchvision": "cnnzoo.models.alexnet:convert_torchvision"},
        description=(
            "AlexNet (torchvision's single-tower variant) in torchvision's parameter layout: "
            "its checkpoints load unchanged"
        ),
    ),
)
