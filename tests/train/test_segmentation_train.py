"""Segmentation training: Dice and CE+Dice, and UNet learning to find the ink of the digits."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import cnnzoo
from cnnzoo.data import digits_segmentation
from cnnzoo.errors import TrainError
from cnnzoo.train import evaluate, fit
from cnnzoo.train.losses import CEDiceLoss, DiceLoss, segmentation_loss

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


def test_dice_loss_values():
    masks = torch.tensor([[[0, 1], [1, 1]]])
    perfect = F.one_hot(masks, 2).permute(0, 3, 1, 2).float() * 100
    assert float(DiceLoss(smooth=0.0)(perfect, masks)) == pytest.approx(0.0, abs=1e-6)
    assert float(DiceLoss(smooth=0.0)(-perfect, masks)) == pytest.approx(1.0, abs=1e-6)
    # by hand: uniform predictions (p = 0.5 everywhere), class 0 on 1 pixel, class 1 on 3
    uniform = torch.zeros(1, 2, 2, 2)
    dice0 = 2 * 0.5 / (2.0 + 1)
    dice1 = 2 * 1.5 / (2.0 + 3)
    expected = 1 - (dice0 + dice1) / 2
    assert float(DiceLoss(smooth=0.0)(uniform, masks)) == pytest.approx(expected)
    ignored = torch.tensor([[[0, 255], [1, 1]]])
    assert float(DiceLoss(smooth=0.0, ignore_index=255)(perfect, ignored)) == pytest.approx(
        0.0, abs=1e-6)
    combo = CEDiceLoss()(uniform, masks)
    torch.testing.assert_close(combo, F.cross_entropy(uniform, masks) + DiceLoss()(uniform, masks))
    with pytest.raises(ValueError, match="'ce', 'dice' or 'ce\\+dice'"):
        segmentation_loss("focal")


def test_digit_masks_are_the_ink():
    split = digits_segmentation((1, 32, 32), normalize=False)
    image, mask = split.train[0]
    assert mask.shape == (32, 32) and mask.dtype == torch.int64
    assert torch.equal(mask, (image[0] > 0.5).long())
    assert split.labels == ("background", "ink")
    assert 0.2 < float(mask.float().mean()) < 0.5


def test_classic_unet_segments_the_ink():
    torch.manual_seed(0)
    model = cnnzoo.create("unet", base_width=8, in_chans=1, num_classes=2)
    split = digits_segmentation((1, 32, 32), model=model)
    history = fit(model, split.train, split.test, epochs=3, lr=3e-3, seed=0)
    assert history.task == "segmentation" and history.monitor == "val_miou"
    assert history.last["val_miou"] >= 0.8, history["val_miou"]
    assert 0.0 < history.last["val_pixel_accuracy"] <= 1.0
    result = evaluate(model, split.test)
    assert result["miou"] == pytest.approx(history.last["val_miou"])


def test_unet_on_a_zoo_encoder_segments_the_ink(tmp_path):
    torch.manual_seed(0)
    model = cnnzoo.create("unet", encoder="resnet18", in_chans=1, num_classes=2,
                          decoder_channels=(32, 16, 16, 8, 8), head="mlp:8")
    split = digits_segmentation((1, 32, 32), model=model)
    history = fit(model, split.train, split.test, epochs=1, lr=3e-3, seed=0, loss="ce+dice",
                  checkpoint_dir=tmp_path / "seg")
    assert history.last["val_miou"] >= 0.8, history["val_miou"]
    reloaded = cnnzoo.create(str(tmp_path / "seg")).eval()
    x = split.test.tensors[0][:2]
    with torch.no_grad():
        assert torch.equal(reloaded(x), model.eval()(x))


def test_masks_that_do_not_fit_are_clear_errors():
    model = cnnzoo.create("unet", base_width=8, in_chans=1, num_classes=2)
    images = torch.randn(8, 1, 16, 16)
    with pytest.raises(TrainError, match=r"mask values run from 0 to 4 but the model predicts 2"):
        fit(model, torch.utils.data.TensorDataset(images, torch.randint(0, 5, (8, 16, 16))),
            epochs=1)
    with pytest.raises(TrainError, match=r"masks must be \[B, H, W\]"):
        fit(model, torch.utils.data.TensorDataset(images, torch.zeros(8, 8, 8, dtype=torch.long)),
            epochs=1)
    with pytest.raises(TrainError, match="mixup applies to classification"):
        fit(model, torch.utils.data.TensorDataset(images, torch.zeros(8, 16, 16).long()),
            epochs=1, mixup=True)
