"""Data for :func:`~cnnzoo.train.fit`: loaders (sharded when distributed), class checks, MixUp."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, Sampler
from torch.utils.data.distributed import DistributedSampler

from cnnzoo.data import mixup_cutmix
from cnnzoo.data.masks import IGNORE_INDEX, background_only_problem, mask_problem
from cnnzoo.errors import TrainError
from cnnzoo.train.config import MixupArg
from cnnzoo.train.distributed import DistributedContext, ShardSampler

__all__ = ["BatchMixer", "check_classes", "dataset_labels", "make_loader", "make_mixer"]

Data = Dataset[Any] | DataLoader[Any]
BatchMixer = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


def make_loader(data: Data, *, train: bool, batch_size: int, num_workers: int,
                dist: DistributedContext, seed: int | None
                ) -> tuple[DataLoader[Any], Sampler[int] | None]:
    """A ``DataLoader`` over ``data`` (this process's share of it), and its sampler.

    A ``DataLoader`` is used as is in a single process; otherwise its dataset,
    batch size, workers and collate function are kept. Training data is shuffled
    (reproducibly with ``seed``); a last training batch of one sample is dropped
    (BatchNorm cannot train on it).

    Raises:
        TrainError: the data is empty.
    """
    world, rank = dist.world_size, dist.rank
    collate = None
    if isinstance(data, DataLoader):
        if world == 1:
            return data, None
        dataset, batch_size = data.dataset, data.batch_size or batch_size
        num_workers, collate = data.num_workers, data.collate_fn
    else:
        dataset = data
    n = len(dataset)  # type: ignore[arg-type]
    if n == 0:
        raise TrainError(f"the {'training' if train else 'validation'} data is empty")
    sampler: Sampler[int] | None = None
    generator = None
    if world > 1:
        sampler = (DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True,
                                      seed=seed or 0) if train
                   else ShardSampler(n, rank, world))
    elif train and seed is not None:
        generator = torch.Generator().manual_seed(seed)
    per_rank = math.ceil(n / world)
    kwargs: dict[str, Any] = {"collate_fn": collate} if collate is not None else {}
    loader = DataLoader(
        dataset, batch_size=batch_size, shuffle=train and sampler is None, sampler=sampler,
        num_workers=num_workers, generator=generator,
        drop_last=train and per_rank % batch_size == 1, **kwargs,
    )
    return loader, sampler


def dataset_labels(data: Data) -> tuple[list[str] | None, torch.Tensor | None]:
    """The class names (``dataset.classes``) and all labels, where the dataset shows them."""
    dataset = data.dataset if isinstance(data, DataLoader) else data
    classes = getattr(dataset, "classes", None)
    labels = None
    tensors = getattr(dataset, "tensors", None)
    targets = getattr(dataset, "targets", None)
    if isinstance(tensors, tuple) and len(tensors) >= 2 and not tensors[1].is_floating_point():
        labels = tensors[1]
    elif isinstance(targets, list | torch.Tensor):
        labels = torch.as_tensor(targets)
    return (list(classes) if classes is not None else None), labels


def check_classes(model_classes: int, data: Data | None, what: str, task: str, *,
                  ignore_index: int | None = IGNORE_INDEX) -> list[str] | None:
    """Check that the classes ``data`` shows fit a model predicting ``model_classes``.

    Args:
        model_classes: the model's class count (``-1``: unknown, nothing to check).
        data: a dataset or loader (``None``: nothing to check).
        what: ``"training"``, ``"validation"``… (for the message).
        task: ``"classification"`` or ``"segmentation"`` (labels or mask values).
        ignore_index: the mask value of ignored pixels (segmentation; ``None``: none).

    Returns:
        the dataset's class names, if it has them.

    Raises:
        TrainError: more or fewer class names than the model predicts, labels out
            of range (mask values neither a class nor ``ignore_index``; the message names
            the first such sample), or masks of background and ignored pixels only; the
            message says how to fix it.
    """
    if data is None:
        return None
    classes, labels = dataset_labels(data)
    if model_classes < 0:
        return classes
    if classes is not None and len(classes) != model_classes:
        shown = ", ".join(map(str, classes[:10])) + (" …" if len(classes) > 10 else "")
        raise TrainError(
            f"the {what} data has {len(classes)} classes ({shown}) but the model predicts "
            f"{model_classes}: create the model with num_classes={len(classes)} or give it a "
            f"new head with cnnzoo.heads.replace_head(model, {len(classes)})"
        )
    if labels is not None and labels.numel() and task == "segmentation":
        problem = mask_problem(labels, model_classes, ignore_index=ignore_index, what=what) \
            or background_only_problem(labels, model_classes, ignore_index=ignore_index)
        if problem:
            raise TrainError(problem)
    elif labels is not None and labels.numel():
        top, low = int(labels.max()), int(labels.min())
        if top >= model_classes or low < 0:
            raise TrainError(
                f"the {what} labels run from {low} to {top} but the model "
                f"predicts {model_classes} classes (0…{model_classes - 1}): create the model "
                f"with num_classes={top + 1} or give it a new head with "
                f"cnnzoo.build.heads.replace_head(model, {top + 1})"
            )
    return classes


def make_mixer(mixup: MixupArg, num_classes: int) -> BatchMixer | None:
    """The batch transform ``fit(mixup=...)`` asks for, or ``None``.

    Raises:
        TrainError: a value other than those :class:`~cnnzoo.train.FitConfig` lists.
    """
    if not mixup:
        return None
    if callable(mixup):
        return mixup
    if mixup is True:
        return mixup_cutmix(num_classes)
    if mixup == "mixup":
        return mixup_cutmix(num_classes, cutmix_alpha=0.0)
    if mixup == "cutmix":
        return mixup_cutmix(num_classes, mixup_alpha=0.0)
    if isinstance(mixup, int | float):
        return mixup_cutmix(num_classes, mixup_alpha=float(mixup), cutmix_alpha=0.0)
    raise TrainError(f"mixup={mixup!r}: use True, 'mixup', 'cutmix', an alpha or a callable")
