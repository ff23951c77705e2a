"""Segmentation specs (torch-free): torchvision's pretrained segmenters and smp's decoders.

**torchvision's segmenters** — ``deeplabv3_resnet50``, ``deeplabv3_resnet101``,
``deeplabv3_mobilenet_v3_large``, ``fcn_resnet50``, ``fcn_resnet101`` and
``lraspp_mobilenet_v3_large`` — native wrappers in torchvision's exact layout
(:mod:`cnnzoo.models.torchvision_segmentation`), with torchvision's COCO weights (the
20 Pascal VOC categories plus background) as the tag ``tv_coco_voc``. Every number
below is a literal copied from ``torchvision.models.get_weight(repo_id)`` (``meta``
and ``transforms()``); ``tests/models/test_torchvision_segmentation.py`` compares them
with torchvision's live values. ``num_params`` and ``gmacs`` are the inference model's
(no auxiliary head, at 520×520); torchvision's ``meta["num_params"]`` and ``_ops``
include the auxiliary FCN head, which ``aux_loss=True`` adds.

**smp's decoders on any zoo encoder** — segmentation_models_pytorch's architectures
with its hyper-parameter names and defaults (:mod:`cnnzoo.build.segmenters`), each on
``encoder="resnet34"`` by default and on any ``features_only`` zoo classifier with
``encoder=``:

======================  ===========================  ==========================
cnnzoo name             smp class                    input H, W multiple of
======================  ===========================  ==========================
``smp_unet``            ``smp.Unet``                 any size
``unetplusplus``        ``smp.UnetPlusPlus``         32
``fpn``                 ``smp.FPN``                  32
``deeplabv3plus``       ``smp.DeepLabV3Plus``        16 (output stride)
``pspnet``              ``smp.PSPNet``               8 (encoder_depth 3)
``linknet``             ``smp.Linknet``              32
======================  ===========================  ==========================

(``unet`` stays the classic 4-level UNet, with its own ``encoder=`` option.) The
parameter counts and GMACs (at 256×256) are those of the default build: a ResNet-34
encoder and 2 classes — smp's default is ``classes=1``, a sigmoid mask; cnnzoo's
segmenters predict class indices (softmax), so background/foreground is 2 classes.
An smp checkpoint with a ResNet encoder loads through ``checkpoint_path`` with the
``smp`` converter (:mod:`cnnzoo.models.converters.smp`).
"""

from __future__ import annotations

from cnnzoo.catalog._common import feature_stages
from cnnzoo.spec import IMAGENET_MEAN, IMAGENET_STD, ModelSpec, Paper, WeightsSpec

# -- torchvision's segmenters ---------------------------------------------------------------

#: ``meta["categories"]`` of torchvision's COCO-with-VOC-labels weights.
VOC_LABELS: tuple[str, ...] = (
    "__background__", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)
METRICS_DATASET = "coco-val2017-voc-labels"
TV_TAG = "tv_coco_voc"
TV_CONVERTER = {"torchvision": "cnnzoo.models.torchvision_segmentation:convert_torchvision"}
RECIPES = "https://github.com/pytorch/vision/tree/main/references/segmentation"

DEEPLABV3_PAPER = Paper("Rethinking Atrous Convolution for Semantic Image Segmentation", 2017,
                        "https://arxiv.org/abs/1706.05587")
FCN_PAPER = Paper("Fully Convolutional Networks for Semantic Segmentation", 2015,
                  "https://arxiv.org/abs/1411.4038")
LRASPP_PAPER = Paper("Searching for MobileNetV3", 2019, "https://arxiv.org/abs/1905.02244")

STAGES = ("stem", "stage1", "stage2", "stage3", "stage4", "head")
_RESNET_STAGES = {
    "stem": ("backbone.conv1", "backbone.bn1"),
    **{f"stage{i}": (f"backbone.layer{i}",) for i in range(1, 5)},
    "head": ("classifier", "aux_classifier"),
}
_MOBILENET_GROUPS = ((0, 1), (2, 3), (4, 5, 6), tuple(range(7, 13)), tuple(range(13, 17)))
_MOBILENET_STAGES = {
    **{stage: tuple(f"backbone.{i}" for i in group)
       for stage, group in zip(STAGES[:-1], _MOBILENET_GROUPS, strict=True)},
    "head": ("classifier", "aux_classifier"),
}
_RESNET_FEATURES = feature_stages(
    ("backbone.relu", 64, 2), ("backbone.layer1", 256, 4), ("backbone.layer2", 512, 8),
    ("backbone.layer3", 1024, 8), ("backbone.layer4", 2048, 8))
_MOBILENET_FEATURES = feature_stages(
    ("backbone.1", 16, 2), ("backbone.3", 24, 4), ("backbone.6", 40, 8),
    ("backbone.12", 112, 16), ("backbone.16", 960, 16))

# name: (family, paper, weights entry, params, GMACs at 520, mIoU, pixel acc, recipe anchor,
#        description)
TORCHVISION: dict[str, tuple[str, Paper, str, int, float, float, float, str, str]] = {
    "deeplabv3_resnet50": (
        "deeplabv3", DEEPLABV3_PAPER, "DeepLabV3_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1",
        39_638_869, 168.731, 66.4, 92.4, "deeplabv3_resnet50",
        "DeepLabV3 (ASPP head) on a dilated ResNet-50 (output stride 8)"),
    "deeplabv3_resnet101": (
        "deeplabv3", DEEPLABV3_PAPER, "DeepLabV3_ResNet101_Weights.COCO_WITH_VOC_LABELS_V1",
        58_630_997, 248.752, 67.4, 92.4, "fcn_resnet101",
        "DeepLabV3 (ASPP head) on a dilated ResNet-101 (output stride 8)"),
    "deeplabv3_mobilenet_v3_large": (
        "deeplabv3", DEEPLABV3_PAPER,
        "DeepLabV3_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1",
        11_025_477, 10.436, 60.3, 91.2, "deeplabv3_mobilenet_v3_large",
        "DeepLabV3 (ASPP head) on a dilated MobileNetV3-Large (output stride 16)"),
    "fcn_resnet50": (
        "fcn", FCN_PAPER, "FCN_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1",
        32_957_013, 142.726, 60.5, 91.4, "fcn_resnet50",
        "FCN head (3x3 conv, 1x1 classifier) on a dilated ResNet-50 (output stride 8)"),
    "fcn_resnet101": (
        "fcn", FCN_PAPER, "FCN_ResNet101_Weights.COCO_WITH_VOC_LABELS_V1",
        51_949_141, 222.747, 63.7, 91.9, "deeplabv3_resnet101",
        "FCN head (3x3 conv, 1x1 classifier) on a dilated ResNet-101 (output stride 8)"),
    "lraspp_mobilenet_v3_large": (
        "lraspp", LRASPP_PAPER, "LRASPP_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1",
        3_221_538, 2.086, 57.9, 91.2, "lraspp_mobilenet_v3_large",
        "Lite R-ASPP head on a dilated MobileNetV3-Large (strides 8 and 16)"),
}


def coco_voc_weights(repo_id: str, *, miou: float, pixel_acc: float, recipe: str) -> WeightsSpec:
    """torchvision's COCO weights with the 21 Pascal VOC labels (``repo_id``: its entry).

    Args:
        repo_id: ``"<WeightsEnum>.COCO_WITH_VOC_LABELS_V1"``.
        miou: ``meta["_metrics"]["COCO-val2017-VOC-labels"]["miou"]``.
        pixel_acc: the same entry's ``"pixel_acc"``.
        recipe: ``meta["recipe"]``.
    """
    return WeightsSpec(
        repo_id=repo_id,
        source="torchvision",
        format="torchvision",
        num_classes=21,
        labels=VOC_LABELS,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        input_size=(3, 520, 520),  # transforms(): resize the short side to 520, no crop
        crop_pct=1.0,
        interpolation="bilinear",
        license="bsd-3-clause",
        metrics={f"{METRICS_DATASET}/miou": miou, f"{METRICS_DATASET}/pixel_acc": pixel_acc},
        dataset="coco-voc-labels",
        description=f"torchvision's weights {repo_id}: trained on the COCO images of the 20 "
                    f"Pascal VOC categories; recipe: {recipe}",
    )


def torchvision_segmenter_spec(name: str) -> ModelSpec:
    family, paper, entry, params, gmacs, miou, acc, anchor, what = TORCHVISION[name]
    mobilenet = "mobilenet" in name
    return ModelSpec(
        name=name,
        family=family,
        task="segmentation",
        builder="cnnzoo.models.torchvision_segmentation:build_torchvision_segmenter",
        builder_args={"arch": name},
        defaults={"num_classes": 21, "in_chans": 3, "input_size": (3, 520, 520)},
        weights={TV_TAG: coco_voc_weights(entry, miou=miou, pixel_acc=acc,
                                          recipe=f"{RECIPES}#{anchor}")},
        default_tag=TV_TAG,
        paper=paper,
        num_params=params,
        gmacs=gmacs,
        cam_layer="backbone.16" if mobilenet else "backbone.layer4",
        stages=STAGES,
        stage_modules=_MOBILENET_STAGES if mobilenet else _RESNET_STAGES,
        feature_info=_MOBILENET_FEATURES if mobilenet else _RESNET_FEATURES,
        checkpoint_converters=TV_CONVERTER,
        description=f"torchvision's {what}; its layout, so its checkpoints load unchanged; "
                    "forward returns the 'out' logits at input size (aux_loss=True adds the "
                    "auxiliary head for training)" if family != "lraspp" else
                    f"torchvision's {what}; its layout, so its checkpoints load unchanged; "
                    "forward returns the logits at input size",
    )


# -- smp's decoders ----------------------------------------------------------------------------

SMP_CONVERTER = {"smp": "cnnzoo.models.converters.smp:SMP_RESNET"}
SMP_STAGES = ("stem", "stage1", "stage2", "stage3", "stage4", "decoder", "head")
_SMP_STAGE_MODULES = {
    "stem": ("encoder.model.conv1", "encoder.model.bn1", "encoder.model.act1"),
    "stage1": ("encoder.model.maxpool", "encoder.model.layer1"),
    "stage2": ("encoder.model.layer2",),
    "stage3": ("encoder.model.layer3",),
    "stage4": ("encoder.model.layer4", "encoder.model.global_pool", "encoder.model.fc"),
    "decoder": ("decoder",),
    "head": ("segmentation_head",),
}


def _resnet34_features(last_reduction: int = 32) -> tuple:
    return feature_stages(
        ("encoder.model.act1", 64, 2), ("encoder.model.layer1", 64, 4),
        ("encoder.model.layer2", 128, 8), ("encoder.model.layer3", 256, 16),
        ("encoder.model.layer4", 512, last_reduction))


# name: (builder, smp class, paper, params, GMACs at 256, last feature stride, description)
SMP: dict[str, tuple[str, str, Paper, int, float, int, str]] = {
    "smp_unet": (
        "build_smp_unet", "Unet",
        Paper("U-Net: Convolutional Networks for Biomedical Image Segmentation", 2015,
              "https://arxiv.org/abs/1505.04597"),
        24_436_514, 7.823, 32,
        "smp's Unet decoder (5 blocks, 256-128-64-32-16 channels) on any zoo encoder; any "
        "input size"),
    "unetplusplus": (
        "build_unetplusplus", "UnetPlusPlus",
        Paper("UNet++: A Nested U-Net Architecture for Medical Image Segmentation", 2018,
              "https://arxiv.org/abs/1807.10165"),
        26_078_754, 18.393, 32,
        "smp's Unet++ decoder (nested dense skips) on any zoo encoder; H, W multiples of 32"),
    "fpn": (
        "build_fpn", "FPN",
        Paper("Feature Pyramid Networks for Object Detection", 2017,
              "https://arxiv.org/abs/1612.03144"),
        23_155_522, 6.856, 32,
        "smp's FPN decoder (256-channel pyramid merged at stride 4) on any zoo encoder; "
        "H, W multiples of 32"),
    "deeplabv3plus": (
        "build_deeplabv3plus", "DeepLabV3Plus",
        Paper("Encoder-Decoder with Atrous Separable Convolution for Semantic Image "
              "Segmentation", 2018, "https://arxiv.org/abs/1802.02611"),
        22_437_714, 7.885, 16,
        "smp's DeepLabV3+ decoder (separable ASPP, rates 12-24-36) on any zoo encoder dilated "
        "to output stride 16; H, W multiples of 16"),
    "pspnet": (
        "build_pspnet", "PSPNet",
        Paper("Pyramid Scene Parsing Network", 2017, "https://arxiv.org/abs/1612.01105"),
        21_442_594, 4.929, 32,
        "smp's PSPNet decoder (pyramid pooling 1-2-3-6 on the stride-8 stage) on any zoo "
        "encoder; H, W multiples of 8"),
    "linknet": (
        "build_linknet", "Linknet",
        Paper("LinkNet: Exploiting Encoder Representations for Efficient Semantic "
              "Segmentation", 2017, "https://arxiv.org/abs/1707.03718"),
        21_771_970, 5.032, 32,
        "smp's Linknet decoder (additive skips) on any zoo encoder; H, W multiples of 32"),
}


def smp_spec(name: str) -> ModelSpec:
    builder, smp_class, paper, params, gmacs, last, what = SMP[name]
    return ModelSpec(
        name=name,
        family="smp",
        task="segmentation",
        builder=f"cnnzoo.build.segmenters:{builder}",
        defaults={"num_classes": 2, "in_chans": 3, "input_size": (3, 256, 256)},
        paper=paper,
        num_params=params,
        gmacs=gmacs,
        cam_layer="decoder",
        stages=SMP_STAGES,
        stage_modules=_SMP_STAGE_MODULES,
        feature_info=_resnet34_features(last),
        checkpoint_converters=SMP_CONVERTER,
        description=f"{what} (smp.{smp_class}'s names and defaults; encoder='resnet34'; "
                    "smp checkpoints load with the 'smp' converter)",
    )


SPECS: tuple[ModelSpec, ...] = (
    *(torchvision_segmenter_spec(name) for name in TORCHVISION),
    *(smp_spec(name) for name in SMP),
)
