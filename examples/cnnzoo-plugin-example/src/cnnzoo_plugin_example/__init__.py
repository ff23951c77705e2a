"""TinyNet: the example cnnzoo plugin. This module is torch-free on purpose."""

from cnnzoo import ModelSpec
from cnnzoo.spec import FeatureStage, Paper

SPECS = (
    ModelSpec(
        name="tinynet",
        family="tinynet",
        task="classification",
        builder="cnnzoo_plugin_example.net:build_tinynet",
        defaults={"num_classes": 10, "in_chans": 3, "input_size": (3, 64, 64)},
        paper=Paper("An example cnnzoo plugin", 2026,
                    "https://github.com/cnnzoo/cnnzoo/tree/main/examples/cnnzoo-plugin-example"),
        num_params=24_346,
        gmacs=0.0028,
        cam_layer="stage2",
        stages=("stem", "stage1", "stage2", "head"),
        stage_modules={"stem": ("stem",), "stage1": ("stage1",), "stage2": ("stage2",),
                       "head": ("fc",)},
        feature_info=(FeatureStage("stem", 16, 2), FeatureStage("stage1", 32, 4),
                      FeatureStage("stage2", 64, 8)),
        aliases=("tiny_net",),
        description="Three conv-BN-ReLU stages and a linear head: a plugin example",
    ),
)
