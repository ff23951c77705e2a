"""RegNetX and RegNetY in every size torchvision has (timm's implementation and layout).

The canonical names are timm's, so timm's Hub weights load unchanged; torchvision's names
are aliases. For three sizes timm's pycls-based RegNet differs from torchvision's (which
rounds group widths differently); timm's ``_tv`` variants reproduce torchvision's, and
those are the ones registered here.
"""

from __future__ import annotations

from cnnzoo.catalog._common import feature_stages, registered_weights
from cnnzoo.spec import ModelSpec, Paper

PAPER = Paper("Designing Network Design Spaces", 2020, "https://arxiv.org/abs/2003.13678")
# timm name: (torchvision name, params, GMACs at 224, stage widths)
VARIANTS = {
    "regnetx_004_tv": ("regnet_x_400mf", 5_495_976, 0.414, (32, 64, 160, 400)),
    "regnetx_008": ("regnet_x_800mf", 7_259_656, 0.8, (64, 128, 288, 672)),
    "regnetx_016": ("regnet_x_1_6gf", 9_190_136, 1.603, (72, 168, 408, 912)),
    "regnetx_032": ("regnet_x_3_2gf", 15_296_552, 3.177, (96, 192, 432, 1008)),
    "regnetx_080": ("regnet_x_8gf", 39_572_648, 7.995, (80, 240, 720, 1920)),
    "regnetx_160": ("regnet_x_16gf", 54_278_536, 15.941, (256, 512, 896, 2048)),
    "regnetx_320": ("regnet_x_32gf", 107_811_560, 31.736, (336, 672, 1344, 2520)),
    "regnety_004": ("regnet_y_400mf", 4_344_144, 0.402, (48, 104, 208, 440)),
    "regnety_008_tv": ("regnet_y_800mf", 6_432_512, 0.834, (64, 144, 320, 784)),
    "regnety_016": ("regnet_y_1_6gf", 11_202_430, 1.612, (48, 120, 336, 888)),
    "regnety_032": ("regnet_y_3_2gf", 19_436_338, 3.177, (72, 216, 576, 1512)),
    "regnety_080_tv": ("regnet_y_8gf", 39_381_472, 8.473, (224, 448, 896, 2016)),
    "regnety_160": ("regnet_y_16gf", 83_590_140, 15.912, (224, 448, 1232, 3024)),
    "regnety_320": ("regnet_y_32gf", 145_046_770, 32.28, (232, 696, 1392, 3712)),
    "regnety_1280": ("regnet_y_128gf", 644_812_894, 127.518, (528, 1056, 2904, 7392)),
}
# timm's pycls-based models of the same size, which are not torchvision's architecture
PYCLS_DIFFERS = {"regnetx_004_tv": ("regnetx_004", 5_157_512),
                 "regnety_008_tv": ("regnety_008", 6_263_168),
                 "regnety_080_tv": ("regnety_080", 39_180_068)}
STAGES = ("stem", "stage1", "stage2", "stage3", "stage4", "head")
STAGE_MODULES = {
    "stem": ("stem",),
    "stage1": ("s1",),
    "stage2": ("s2",),
    "stage3": ("s3",),
    "stage4": ("s4",),
    "head": ("final_conv", "head"),
}


def _description(name: str, tv_name: str) -> str:
    kind = "X" if name.startswith("regnetx") else "Y"
    size = tv_name.split("_", 2)[2].replace("_", ".").upper()
    text = (f"RegNet{kind}-{size} (torchvision's {tv_name}): "
            + ("residual bottlenecks with group convolutions" if kind == "X" else
               "RegNetX blocks with squeeze-and-excitation"))
    if name in PYCLS_DIFFERS:
        other, params = PYCLS_DIFFERS[name]
        text += (f"; timm's {name}, which rounds group widths as torchvision does "
                 f"(timm's pycls-based {other} is another network, {params:,} parameters)")
    return text


def regnet_spec(name: str) -> ModelSpec:
    tv_name, params, gmacs, widths = VARIANTS[name]
    return ModelSpec(
        name=name,
        family="regnet",
        task="classification",
        builder="cnnzoo.models.timm_backed:build_regnet",
        builder_args={"arch": name},
        defaults={"num_classes": 1000, "in_chans": 3, "input_size": (3, 224, 224)},
        paper=PAPER,
        num_params=params,
        gmacs=gmacs,
        cam_layer="s4",
        stages=STAGES,
        stage_modules=STAGE_MODULES,
        feature_info=feature_stages(
            ("stem", 32, 2), *((f"s{i + 1}", w, 2 ** (i + 2)) for i, w in enumerate(widths))
        ),
        aliases=(tv_name,),
        checkpoint_converters={"torchvision": "cnnzoo.models.converters.torchvision:REGNET"},
        description=_description(name, tv_name),
        **registered_weights(name),
    )


SPECS: tuple[ModelSpec, ...] = tuple(regnet_spec(name) for name in VARIANTS)
