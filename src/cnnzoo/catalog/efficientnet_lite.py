"""EfficientNet-Lite0…4 (timm's implementation and layout; Google's and timm's weights).

The Lite variants drop squeeze-excite, use ReLU6 and keep the stem and head fixed while
scaling, for integer-quantized mobile inference. Google trained them in TensorFlow:
timm's ``tf_efficientnet_lite*`` carry those weights with TensorFlow's asymmetric
"same" padding; ``efficientnet_lite0`` is timm's own PyTorch-padded Lite0 with timm's
weights. timm's PyTorch-padded Lite1-4 have no public weights and are not listed.
"""

from __future__ import annotations

from cnnzoo.catalog._common import feature_stages, registered_weights
from cnnzoo.catalog.efficientnet import STAGE_MODULES, STAGES, TAPS
from cnnzoo.spec import ModelSpec, Paper

PAPER = Paper(
    "Higher accuracy on vision models with EfficientNet-Lite",
    2020,
    "https://blog.tensorflow.org/2020/03/higher-accuracy-on-vision-models-with-efficientnet-lite.html",
)
# name: (input size of its weights, params, GMACs at that size, stage widths, aliases)
VARIANTS = {
    "efficientnet_lite0": (224, 4_652_008, 0.385, (16, 24, 40, 112, 320), ()),
    "tf_efficientnet_lite0": (224, 4_652_008, 0.385, (16, 24, 40, 112, 320), ()),
    "tf_efficientnet_lite1": (240, 5_416_680, 0.6, (16, 24, 40, 112, 320),
                              ("efficientnet_lite1",)),
    "tf_efficientnet_lite2": (260, 6_092_072, 0.86, (16, 24, 48, 120, 352),
                              ("efficientnet_lite2",)),
    "tf_efficientnet_lite3": (300, 8_197_096, 1.61, (24, 32, 48, 136, 384),
                              ("efficientnet_lite3",)),
    "tf_efficientnet_lite4": (380, 13_006_568, 3.94, (24, 32, 56, 160, 448),
                              ("efficientnet_lite4",)),
}


def _description(name: str, size: int) -> str:
    level = name[-1]
    if name.startswith("tf_"):
        return (f"EfficientNet-Lite{level} at {size}x{size} with TensorFlow 'same' padding, "
                "for Google's original weights (ReLU6, no squeeze-excite)")
    return (f"EfficientNet-Lite{level} at {size}x{size} with PyTorch padding, for timm's "
            "weights (ReLU6, no squeeze-excite)")


def efficientnet_lite_spec(name: str) -> ModelSpec:
    size, params, gmacs, widths, aliases = VARIANTS[name]
    return ModelSpec(
        name=name,
        family="efficientnet_lite",
        task="classification",
        builder="cnnzoo.models.timm_modern:build_efficientnet_lite",
        builder_args={"arch": name},
        defaults={"num_classes": 1000, "in_chans": 3, "input_size": (3, size, size)},
        paper=PAPER,
        num_params=params,
        gmacs=gmacs,
        cam_layer="bn2",
        stages=STAGES,
        stage_modules=STAGE_MODULES,
        feature_info=feature_stages(
            *((tap, w, 2 ** (i + 1)) for i, (tap, w) in enumerate(zip(TAPS, widths, strict=True)))
        ),
        aliases=aliases,
        # Google's Lite weights as efficientnet_pytorch ports them (TF padding, BN eps 1e-3)
        checkpoint_converters={
            "efficientnet_pytorch":
                "cnnzoo.models.converters.efficientnet_pytorch:EFFICIENTNET_PYTORCH"},
        description=_description(name, size),
        **registered_weights(name),
    )


SPECS: tuple[ModelSpec, ...] = tuple(efficientnet_lite_spec(name) for name in VARIANTS)
