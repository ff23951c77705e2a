"""Inception-v3 (timm's implementation and module layout = torchvision's)."""

from __future__ import annotations

from cnnzoo.catalog._common import feature_stages, registered_weights
from cnnzoo.spec import ModelSpec, Paper

PAPER = Paper(
    "Rethinking the Inception Architecture for Computer Vision",
    2015,
    "https://arxiv.org/abs/1512.00567",
)

SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="inception_v3",
        family="inception",
        task="classification",
        builder="cnnzoo.models.timm_backed:build_inception_v3",
        builder_args={"arch": "inception_v3"},
        defaults={"num_classes": 1000, "in_chans": 3, "input_size": (3, 299, 299)},
        paper=PAPER,
        num_params=27_161_264,  # with the auxiliary classifier, as torchvision counts
        gmacs=5.713,  # the auxiliary classifier runs only in training
        cam_layer="Mixed_7c",
        stages=("stem", "stage1", "stage2", "stage3", "stage4", "head"),
        stage_modules={
            "stem": ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Pool1"),
            "stage1": ("Conv2d_3b_1x1", "Conv2d_4a_3x3", "Pool2"),
            "stage2": ("Mixed_5b", "Mixed_5c", "Mixed_5d"),
            "stage3": ("Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"),
            "stage4": ("Mixed_7a", "Mixed_7b", "Mixed_7c"),
            "head": ("fc", "AuxLogits"),
        },
        feature_info=feature_stages(
            ("Conv2d_2b_3x3", 64, 2),
            ("Conv2d_4a_3x3", 192, 4),
            ("Mixed_5d", 288, 8),
            ("Mixed_6e", 768, 16),
            ("Mixed_7c", 2048, 32),
        ),
        checkpoint_converters={
            "torchvision": "cnnzoo.models.converters.torchvision:INCEPTION_V3"},
        description=(
            "Inception-v3 at 299x299 with torchvision's auxiliary classifier (AuxLogits, run "
            "only in training; aux_logits=False drops it) and transform_input= option. "
            "timm's tf_in1k, tf_adv_in1k and gluon_in1k weights have no AuxLogits: load "
            "them with create('hf-hub:timm/inception_v3.tf_in1k', aux_logits=False)"
        ),
        **registered_weights("inception_v3"),
    ),
)
