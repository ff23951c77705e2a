"""VGG-11/13/16/19, with and without batch norm (timm's implementation and layout)."""

from __future__ import annotations

from cnnzoo.catalog._common import feature_stages, registered_weights
from cnnzoo.spec import ModelSpec, Paper

PAPER = Paper(
    "Very Deep Convolutional Networks for Large-Scale Image Recognition",
    2014,
    "https://arxiv.org/abs/1409.1556",
)
CONFIGS: dict[str, tuple[int | str, ...]] = {
    "vgg11": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg13": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "vgg16": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"),
    "vgg19": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"),
}
STAGES = ("stem", "stage1", "stage2", "stage3", "stage4", "head")
NUM_PARAMS = {
    "vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848,
    "vgg13_bn": 133_053_736, "vgg16": 138_357_544, "vgg16_bn": 138_365_992,
    "vgg19": 143_667_240, "vgg19_bn": 143_678_248,
}
GMACS = {"vgg11": 7.609, "vgg13": 11.308, "vgg16": 15.47, "vgg19": 19.632}


def _layout(cfg: tuple[int | str, ...], batch_norm: bool):
    """Module indices of timm's ``features`` Sequential: blocks, feature taps, last ReLU."""
    per_conv = 3 if batch_norm else 2
    blocks: list[list[str]] = [[]]
    taps: list[tuple[str, int, int]] = []
    index, channels, reduction = 0, 0, 1
    for item in cfg:
        if item == "M":
            taps.append((f"features.{index - 1}", channels, reduction))
            blocks[-1].append(f"features.{index}")
            blocks.append([])
            index += 1
            reduction *= 2
        else:
            channels = int(item)
            blocks[-1].extend(f"features.{index + k}" for k in range(per_conv))
            index += per_conv
    taps.append((f"features.{index - 1}", channels, reduction))
    return blocks[:-1], taps


def vgg_spec(name: str, batch_norm: bool) -> ModelSpec:
    base = name.removesuffix("_bn")
    blocks, taps = _layout(CONFIGS[base], batch_norm)
    stage_modules = {stage: tuple(block) for stage, block in zip(STAGES[:-1], blocks, strict=True)}
    stage_modules["head"] = ("pre_logits", "head")
    depth = sum(1 for c in CONFIGS[base] if c != "M") + 3
    return ModelSpec(
        name=name,
        family="vgg",
        task="classification",
        builder="cnnzoo.models.timm_backed:build_vgg",
        builder_args={"arch": name},
        defaults={"num_classes": 1000, "in_chans": 3, "input_size": (3, 224, 224)},
        paper=PAPER,
        num_params=NUM_PARAMS[name],
        gmacs=GMACS[base],
        cam_layer=taps[-2][0],
        stages=STAGES,
        stage_modules=stage_modules,
        feature_info=feature_stages(*taps),
        checkpoint_converters={"torchvision": "cnnzoo.models.converters.torchvision:VGG"},
        description=f"VGG-{depth}" + (" with batch norm" if batch_norm else ""),
        **registered_weights(name),
    )


SPECS = tuple(vgg_spec(f"{base}{bn}", bool(bn)) for base in CONFIGS for bn in ("", "_bn"))
