"""Segmentation masks in training: class ids out of range are clear errors naming the sample,
and pixels holding the ignore value (255 by default) change neither the loss, Dice nor the
metrics."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset, TensorDataset

import cnnzoo
from cnnzoo.data.masks import IGNORE_INDEX, mask_problem, mask_range
from cnnzoo.errors import TrainError
from cnnzoo.train import evaluate, fit
from cnnzoo.train.losses import CEDiceLoss, DiceLoss, segmentation_loss
from cnnzoo.train.tasks import SegmentationTask, TaskContext

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")

CLASSES = 3


def _unet() -> nn.Module:
    torch.manual_seed(0)
    return cnnzoo.create("unet", base_width=8, in_chans=1, num_classes=CLASSES)


def _data(n: int = 8, size: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return (torch.randn(n, 1, size, size, generator=g),
            torch.randint(0, CLASSES, (n, size, size), generator=g))


def _bordered(masks: torch.Tensor, value: int = IGNORE_INDEX) -> torch.Tensor:
    out = masks.clone()
    out[:, 0, :] = out[:, -1, :] = out[:, :, 0] = out[:, :, -1] = value
    return out


def _inner(t: torch.Tensor) -> torch.Tensor:
    return t[..., 1:-1, 1:-1]


class Pairs(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """Images and masks the loader cannot see up front (no ``.tensors``): checked per batch."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.x[i], self.y[i]


# -- errors ------------------------------------------------------------------------------------


def test_a_class_id_out_of_range_names_the_sample_and_the_fix() -> None:
    x, y = _data()
    y[5, 3, 4] = 23
    with pytest.raises(TrainError) as caught:
        fit(_unet(), TensorDataset(x, y), epochs=1)
    message = str(caught.value)
    assert "the training mask values run from 0 to 23 but the model predicts 3 classes " \
           "(0–2): mask of sample 5 has class id 23" in message
    assert "ignore_index=255" in message and "num_classes=24" in message
    y[5, 3, 4], y[2, 0, 0] = 0, -1
    with pytest.raises(TrainError, match=r"validation mask .* mask of sample 2 has class id -1"):
        fit(_unet(), TensorDataset(x, _data()[1]), TensorDataset(x, y), epochs=1)


def test_255_is_ignored_by_default_and_rejected_with_ignore_index_none() -> None:
    x, y = _data()
    with pytest.raises(TrainError, match=r"mask of sample 0 has class id 255.*if 255 marks "
                                          r"pixels to skip, pass ignore_index=255"):
        fit(_unet(), TensorDataset(x, _bordered(y)), epochs=1, ignore_index=None)
    with pytest.raises(TrainError, match=r"ignore_index=1 is one of the model's 3 classes"):
        fit(_unet(), TensorDataset(x, y), epochs=1, ignore_index=1)


def test_binary_masks_saved_as_0_255_are_not_silently_ignored() -> None:
    x, _ = _data()
    y = torch.where(x[:, 0] > 0, 255, 0)
    with pytest.raises(TrainError, match=r"every mask pixel is 0 or 255.*masks // 255"):
        fit(_unet(), TensorDataset(x, y), epochs=1)


def test_masks_the_loader_cannot_see_are_checked_per_batch() -> None:
    x, y = _data()
    y[6, 2, 2] = 7
    with pytest.raises(TrainError, match=r"mask \d of a batch has class id 7; the model "
                                          r"predicts 3 classes \(0–2\)"):
        fit(_unet(), Pairs(x, y), epochs=1, batch_size=4, seed=0)


def test_the_losses_reject_bad_ids_with_the_same_message() -> None:
    logits = torch.randn(2, CLASSES, 4, 4)
    masks = torch.zeros(2, 4, 4, dtype=torch.long)
    masks[1, 0, 0] = 9
    for loss in (DiceLoss(ignore_index=255), CEDiceLoss(ignore_index=255)):
        with pytest.raises(TrainError, match=r"mask 1 of a batch has class id 9"):
            loss(logits, masks)
    masks[1, 0, 0] = -3
    with pytest.raises(TrainError, match=r"class id -3"):
        DiceLoss()(logits, masks)


def test_the_check_is_one_min_max_when_the_masks_are_fine() -> None:
    masks = torch.randint(0, 21, (4, 64, 64))
    masks[:, :2] = 255
    assert mask_problem(masks, 21) is None
    assert mask_problem(masks.numpy(), 21) is None
    assert mask_range(masks) == (int(masks[masks != 255].min()), int(masks[masks != 255].max()))
    assert mask_range(torch.full((2, 2), 255)) is None
    masks[3, 10, 10] = 21
    assert mask_problem(masks, 21, first_sample=100).startswith(
        "mask of sample 103 has class id 21; the model predicts 21 classes (0–20)")


# -- ignored pixels count nowhere --------------------------------------------------------------


def test_ignored_pixels_change_neither_the_losses_nor_the_metrics() -> None:
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(2, CLASSES, 8, 8, generator=g)
    masks = torch.randint(0, CLASSES, (2, 8, 8), generator=g)
    bordered = _bordered(masks)
    inner_logits, inner_masks = _inner(logits), _inner(masks)
    torch.testing.assert_close(F.cross_entropy(logits, bordered, ignore_index=255),
                               F.cross_entropy(inner_logits, inner_masks))
    for name in ("ce", "dice", "ce+dice"):
        loss = segmentation_loss(name, ignore_index=255)
        torch.testing.assert_close(loss(logits, bordered), loss(inner_logits, inner_masks),
                                   msg=name)
    task = SegmentationTask()
    task.setup(TaskContext(nn.Identity(), CLASSES, torch.device("cpu"), contextlib.nullcontext))
    assert task.ignore_index == IGNORE_INDEX  # the default
    task.check_targets(logits, bordered)
    full, cropped = task.meter(torch.device("cpu")), task.meter(torch.device("cpu"))
    loss = task.loss(logits, bordered, inputs=logits, aux=())
    torch.testing.assert_close(loss, task.loss(inner_logits, inner_masks, inputs=logits, aux=()))
    task.update(full, logits, bordered, loss)
    task.update(cropped, inner_logits, inner_masks, loss)
    assert torch.equal(full, cropped)
    assert task.summarize(full, "val") == task.summarize(cropped, "val")


def test_fit_and_evaluate_skip_the_ignored_border() -> None:
    x, y = _data()
    model = _unet()
    data = TensorDataset(x, _bordered(y))
    history = fit(model, data, data, epochs=1, batch_size=4, seed=0)
    assert np.isfinite(history.last["train_loss"]) and 0 <= history.last["val_miou"] <= 1
    metrics = evaluate(model, data)
    with torch.no_grad():
        logits = model.eval()(x)
    task = SegmentationTask()
    task.setup(TaskContext(model, CLASSES, torch.device("cpu"), contextlib.nullcontext))
    meter = task.meter(torch.device("cpu"))
    task.update(meter, _inner(logits), _inner(y), torch.zeros(()))
    expected = task.summarize(meter, "val")
    assert metrics["miou"] == pytest.approx(expected["val_miou"])
    assert metrics["pixel_accuracy"] == pytest.approx(expected["val_pixel_accuracy"])
