"""LeNet-5 spec (torch-free: importing this module builds only registry dataclasses)."""

from __future__ import annotations

from cnnzoo.registry import FeatureStage, ModelSpec, Paper

SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        name="lenet5",
        family="lenet",
        task="classification",
        builder="cnnzoo.models.lenet:build_lenet5",
        defaults={"num_classes": 10, "in_chans": 1, "input_size": (1, 32, 32)},
        paper=Paper(
            title="Gradient-Based Learning Applied to Document Recognition",
            year=1998,
            url="https://doi.org/10.1109/5.726791",
        ),
        num_params=61_706,
        gmacs=0.000417,
        cam_layer="stage1",
        stages=("stem", "stage1", "pre_logits", "head"),
        stage_modules={
            "stem": ("stem",),
            "stage1": ("stage1",),
            "pre_logits": ("pre_logits",),
            "head": ("fc",),
        },
        feature_info=(
            FeatureStage("stem", 6, 2),
            FeatureStage("stage1", 16, 4),
        ),
        aliases=("lenet",),
        description=(
            "LeNet-5 for 1×32×32 digits: two tanh 5×5 convs with avg-pooling, fc 120-84 "
            "(full C3 connectivity, linear output instead of RBF)"
        ),
    ),
)
