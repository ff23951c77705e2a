"""``cnnzoo.evaluate`` on segmentation masks: class ids outside the model's classes are one
clear error naming the sample; pixels holding the ignore value (255 by default) count
nowhere in IoU, Dice and pixel accuracy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cnnzoo.deploy.evaluation import evaluate, pixel_confusion, segmentation_metrics
from cnnzoo.errors import EvaluateError

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


class Bands(nn.Module):
    """A per-pixel segmenter of 3 classes: the class is the nearest of 0, 1, 2 to the pixel's
    value. Per pixel, so cropping its input crops its output."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("centres", torch.tensor([0.0, 1.0, 2.0]).view(1, 3, 1, 1))
        self.pretrained_cfg = {"architecture": "bands", "task": "segmentation",
                               "input_size": (1, 8, 8), "mean": (0.0,), "std": (1.0,),
                               "labels": ("a", "b", "c"), "num_classes": 3}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return -10.0 * (x - self.centres) ** 2


def _data(n: int = 6, size: int = 8) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Images, masks (about 70 % of pixels agreeing with Bands) and Bands' predictions."""
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(-0.4, 2.4, (n, 1, size, size)).astype(np.float32))
    predicted = np.rint(np.clip(x[:, 0].numpy(), 0, 2)).astype(np.int64)
    masks = np.where(rng.random(predicted.shape) < 0.7, predicted,
                     rng.integers(0, 3, predicted.shape))
    return x, masks, predicted


def _bordered(masks: np.ndarray, value: int = 255) -> np.ndarray:
    out = masks.copy()
    out[:, 0, :] = out[:, -1, :] = out[:, :, 0] = out[:, :, -1] = value
    return out


def test_an_ignored_border_counts_nowhere() -> None:
    x, masks, predicted = _data()
    inner = (slice(None), slice(1, -1), slice(1, -1))
    expected = segmentation_metrics(pixel_confusion(masks[inner], predicted[inner], 3),
                                    ["a", "b", "c"])
    assert expected.pixel_accuracy < 1.0  # the masks disagree somewhere: a real check
    for value, kwargs in ((255, {}), (-1, {"ignore_index": -1})):
        report = evaluate(Bands(), (x, torch.from_numpy(_bordered(masks, value))),
                          progress=False, **kwargs)
        seg = report.segmentation
        assert seg is not None and seg.confusion.tolist() == expected.confusion.tolist()
        assert (seg.iou, seg.dice, seg.pixel_accuracy) == (expected.iou, expected.dice,
                                                          expected.pixel_accuracy)
        assert f"{6 * 28:,} mask pixels hold the ignore value {value}" in " ".join(report.notes)
    cropped = evaluate(Bands(), (x[:, :, 1:-1, 1:-1], torch.from_numpy(masks[inner].copy())),
                       progress=False)
    assert cropped.segmentation.miou == pytest.approx(expected.miou)
    assert not cropped.notes


def test_class_ids_out_of_range_name_the_sample() -> None:
    x, masks, _ = _data()
    masks[3, 2, 5] = 7
    with pytest.raises(EvaluateError) as caught:
        evaluate(Bands(), (x, torch.from_numpy(masks)), progress=False)
    message = str(caught.value)
    assert ("the evaluation mask values run from 0 to 7 but the model predicts 3 classes "
            "(0–2): mask of sample 3 has class id 7") in message
    assert "ignore_index=255" in message
    masks[3, 2, 5], masks[1, 0, 0] = 0, -2
    with pytest.raises(EvaluateError, match="mask of sample 1 has class id -2"):
        evaluate(Bands(), (x, torch.from_numpy(masks)), progress=False)


def test_ignore_index_none_rejects_255_and_an_ignore_value_may_not_be_a_class() -> None:
    x, masks, _ = _data()
    bordered = torch.from_numpy(_bordered(masks))
    with pytest.raises(EvaluateError, match=r"mask of sample 0 has class id 255.*pass "
                                            r"ignore_index=255"):
        evaluate(Bands(), (x, bordered), progress=False, ignore_index=None)
    with pytest.raises(EvaluateError, match=r"ignore_index=2 is one of the model's 3 classes"):
        evaluate(Bands(), (x, bordered), progress=False, ignore_index=2)
    with pytest.raises(EvaluateError, match=r"every mask pixel is 0 or 255"):
        evaluate(Bands(), (x, torch.from_numpy(np.where(masks > 0, 255, 0))), progress=False)


def test_pixel_confusion_skips_the_ignore_value_and_rejects_the_rest() -> None:
    true = np.array([[[0, 1, 255], [2, 2, 255]]])
    pred = np.array([[[0, 2, 1], [2, 1, 0]]])
    assert pixel_confusion(true, pred, 3).tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    with pytest.raises(EvaluateError, match="mask of sample 0 has class id 255"):
        pixel_confusion(true, pred, 3, ignore_index=None)
    with pytest.raises(EvaluateError, match="class id 3; the model predicts 3 classes"):
        pixel_confusion(np.array([[[3]]]), np.array([[[0]]]), 3)
    with pytest.raises(EvaluateError, match="predictions hold classes 0 to 5"):
        pixel_confusion(np.array([[[0, 1]]]), np.array([[[0, 5]]]), 3)


def test_pixel_confusion_equals_sklearns() -> None:
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(2)
    masks = rng.integers(0, 21, (4, 32, 32))
    masks[:, :3] = 255
    predicted = rng.integers(0, 21, masks.shape)
    keep = masks != 255
    reference = confusion_matrix(masks[keep], predicted[keep], labels=list(range(21)))
    ours = pixel_confusion(masks, predicted, 21)
    assert ours.dtype == reference.dtype and (ours == reference).all()
