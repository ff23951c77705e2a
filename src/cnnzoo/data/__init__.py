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
