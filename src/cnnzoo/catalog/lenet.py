"""LeNet-5 spec (torch-free: importing this module builds only registry dataclasses)."""

from __future__ import annotations

from cnnzoo.spec import FeatureStage, ModelSpec, Paper, WeightsSpec

DIGITS = WeightsSpec(
    repo_id="cnnzoo/lenet5.digits",
    embedded="cnnzoo:weights/lenet5-digits",  # shipped in the wheel: no network needed
    sha256="a5fe8e8927c1dd9249b38f48cfbf3144bbde93c8e2aa61bc5b351c2926441757",
    num_classes=10,
    labels=tuple(str(i) for i in range(10)),
    mean=(0.5,),
    std=(0.5,),
    input_size=(1, 32, 32),
    crop_pct=1.0,
    license="apache-2.0",
    metrics={"digits/top1": 99.17},
    dataset="sklearn-digits",
    description="trained on 1,437 of scikit-learn's digits by scripts/make_lenet5_digits.py "
    "(seed 0); top-1 on the 360 held out",
)

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
        weights={"digits": DIGITS},
        default_tag="digits",
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
