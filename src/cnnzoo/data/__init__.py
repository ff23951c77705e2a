"""Data: the digits, image folders, transforms and mixing, all from a model's config."""

from __future__ import annotations

from cnnzoo.data.datasets import (
    DatasetSplit,
    DigitsSplit,
    MatchChannels,
    digits,
    digits_images,
    digits_segmentation,
    eval_transform,
    image_folder,
    image_folder_split,
    mixup_cutmix,
    random_shift,
    subset_classes,
    train_transform,
)
from cnnzoo.errors import DataError

__all__ = [
    "DataError",
    "DatasetSplit",
    "DigitsSplit",
    "MatchChannels",
    "digits",
    "digits_images",
    "digits_segmentation",
    "eval_transform",
    "image_folder",
    "image_folder_split",
    "mixup_cutmix",
    "random_shift",
    "subset_classes",
    "train_transform",
]

# Images for inference (export checks, quantization, prediction): cnnzoo.data.images.
from cnnzoo.data.images import (
    IMAGE_SUFFIXES,
    ImageData,
    as_data,
    digits_split,
    image_files,
    load_images,
    sample_digits,
)

__all__ += ["IMAGE_SUFFIXES", "ImageData", "as_data", "digits_split", "image_files",
            "load_images", "sample_digits"]
