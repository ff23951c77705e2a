"""segmentation_models_pytorch checkpoints → cnnzoo's smp-compatible segmenters.

An smp model's state dict has three parts: ``encoder.*`` (smp's encoder),
``decoder.*`` and ``segmentation_head.*``. cnnzoo's decoders and head
(:mod:`cnnzoo.models.smp_decoders`) keep smp's module names, so those keys pass
unchanged. smp's ResNet encoders are torchvision's ResNet without ``fc``; their keys
are checked and renamed by the torchvision → timm ResNet converter
(:data:`cnnzoo.models.converters.torchvision.RESNET`) and placed under the zoo
encoder's ``encoder.model.`` (the ``features_only`` wrapper keeps the classifier
under ``model``)::

    encoder.layer1.0.conv1.weight   →  encoder.model.layer1.0.conv1.weight
    decoder.blocks.0.conv1.0.weight →  decoder.blocks.0.conv1.0.weight
    segmentation_head.0.weight      →  segmentation_head.0.weight

A key outside those three parts — e.g. ``classification_head.*`` of a model trained
with smp's ``aux_params``, which cnnzoo's segmenters do not have — raises
``ValueError`` naming it: nothing is dropped silently. Other smp encoders
(EfficientNet, MobileNet…) tap their features at other modules than the zoo's
encoders and are not converted.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor

from cnnzoo.models.converters.torchvision import RESNET, CheckpointConverter

__all__ = ["SMP_RESNET", "convert_smp_resnet"]

ENCODER = "encoder."
ZOO_ENCODER = "encoder.model."
PASSTHROUGH = ("decoder.", "segmentation_head.")


def convert_smp_resnet(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """An smp model with a ResNet/ResNeXt encoder → the same decoder on a zoo ResNet.

    Raises:
        ValueError: a key that is neither an smp ResNet encoder key nor a decoder or
            segmentation-head key.
    """
    encoder: dict[str, Tensor] = {}
    out: dict[str, Tensor] = {}
    for key, value in state_dict.items():
        if key.startswith(PASSTHROUGH):
            out[key] = value
        elif key.startswith(ENCODER):
            encoder[key[len(ENCODER):]] = value
        else:
            hint = (" (smp's aux_params classification head; cnnzoo's segmenters have none: "
                    "drop those keys first)" if key.startswith("classification_head.") else "")
            raise ValueError(f"smp: no conversion rule for key {key!r}{hint}")
    if not encoder:
        raise ValueError("smp: the checkpoint has no encoder.* keys")
    try:
        converted = RESNET(encoder)
    except ValueError as exc:
        raise ValueError(f"smp: the encoder is not a ResNet ({exc})") from None
    out.update({ZOO_ENCODER + k: v for k, v in converted.items()})
    return out


SMP_RESNET = CheckpointConverter(source="smp", convert=convert_smp_resnet)
