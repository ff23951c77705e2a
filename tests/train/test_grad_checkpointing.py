"""Gradient checkpointing: the same loss and gradients, on timm's models and the native ones.

Each comparison runs one forward/backward step of a model and of an exact copy with
checkpointing on, from the same random state (dropout draws the same masks), in
training mode (BatchNorm normalises with the batch's statistics in both).
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import TensorDataset

import cnnzoo
from cnnzoo.errors import StageError, TrainError
from cnnzoo.models.checkpointing import (
    CheckpointedForward,
    checkpointed_modules,
    set_checkpointed,
)
from cnnzoo.models.lenet import LeNet5
from cnnzoo.train import fit, set_grad_checkpointing, supports_grad_checkpointing
from cnnzoo.train.grad_checkpointing import grad_checkpointing
from cnnzoo.train.tasks import main_output

pytestmark = pytest.mark.usefixtures("one_thread")

TOL = {"rtol": 1e-6, "atol": 1e-6}


Grads = dict[str, torch.Tensor]


def _step(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, Grads]:
    model.zero_grad(set_to_none=True)
    torch.manual_seed(1)
    logits, _ = main_output(model(x))
    loss = F.cross_entropy(logits, target)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()
                           if p.grad is not None}


def _compare(model: nn.Module, x: torch.Tensor, target: torch.Tensor, *,
             buffers: bool = True) -> list[str]:
    """Assert one step with and without checkpointing agree; return the checkpointed modules."""
    model.train()
    twin = copy.deepcopy(model)
    twin.set_grad_checkpointing(True)
    segments = checkpointed_modules(twin) or ["(timm)"]
    loss, grads = _step(model, x, target)
    loss_ckpt, grads_ckpt = _step(twin, x, target)
    torch.testing.assert_close(loss_ckpt, loss, **TOL)
    assert grads_ckpt.keys() == grads.keys() and grads
    for name, grad in grads.items():
        torch.testing.assert_close(grads_ckpt[name], grad, **TOL, msg=name)
    if buffers:  # BatchNorm's running statistics are updated once, as without checkpointing
        for (name, a), b in zip(model.named_buffers(), twin.buffers(), strict=True):
            torch.testing.assert_close(b, a, rtol=0, atol=0, msg=name)
    return segments


# -- the must-shows: same loss and gradients -------------------------------------------------


def test_resnet18_same_loss_and_gradients():
    model = cnnzoo.create("resnet18", num_classes=10)
    x, target = torch.randn(2, 3, 64, 64), torch.tensor([3, 7])
    # timm's checkpointing replays BatchNorm's forward, so its running statistics see the
    # batch twice; the gradients are exact
    _compare(model, x, target, buffers=False)
    assert model.grad_checkpointing is False


def test_lenet5_same_loss_and_gradients():
    model = cnnzoo.create("lenet5")
    x, target = torch.randn(4, 1, 32, 32), torch.tensor([0, 1, 2, 3])
    assert _compare(model, x, target) == ["stem", "stage1", "pre_logits"]


def test_unet_same_loss_and_gradients():
    model = cnnzoo.create("unet", base_width=8, num_classes=3)
    x = torch.randn(2, 3, 32, 32)
    target = torch.randint(0, 3, (2, 32, 32), generator=torch.Generator().manual_seed(0))
    segments = _compare(model, x, target)
    # the decoder is checkpointed block by block (a ModuleList has no forward of its own)
    assert segments == [*(f"encoder.{s}" for s in ("stem", "stage1", "stage2", "stage3",
                                                    "stage4")),
                        *(f"decoder.blocks.{i}" for i in range(4))]


@pytest.mark.parametrize(("name", "size"), [
    ("alexnet", 64), ("googlenet", 64), ("squeezenet1_1", 64), ("shufflenet_v2_x0_5", 64),
])
def test_every_native_classifier_same_loss_and_gradients(name, size):
    model = cnnzoo.create(name, num_classes=5)
    segments = _compare(model, torch.randn(2, 3, size, size), torch.tensor([1, 4]))
    head = cnnzoo.model_info(name).stage_modules["head"]
    assert segments and not set(segments) & set(head)


# -- the mechanism ---------------------------------------------------------------------------


def test_forward_is_an_instance_attribute_and_comes_off():
    model = cnnzoo.create("lenet5")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.set_grad_checkpointing(True)
    assert isinstance(model.stem.forward, CheckpointedForward)
    assert model.state_dict().keys() == before.keys()
    with torch.no_grad():  # inference runs the plain forward
        assert model(torch.zeros(1, 1, 32, 32)).shape == (1, 10)
    model.set_grad_checkpointing(False)
    assert checkpointed_modules(model) == [] and model.grad_checkpointing is False
    assert "forward" not in model.stem.__dict__


def test_a_deep_copy_checkpoints_itself():
    model = cnnzoo.create("lenet5")
    model.set_grad_checkpointing(True)
    twin = copy.deepcopy(model)
    assert checkpointed_modules(twin) == checkpointed_modules(model)
    assert twin.stem.forward.module is twin.stem


def test_explicit_segments_and_bad_names():
    model = cnnzoo.create("lenet5")
    assert set_checkpointed(model, ["stage1"]) == ["stage1"]
    assert checkpointed_modules(model) == ["stage1"]
    with pytest.raises(StageError, match="no submodule 'stage9'"):
        set_checkpointed(model, ["stage9"])
    assert checkpointed_modules(model) == ["stage1"]  # a failed call changes nothing
    with pytest.raises(StageError, match="no module to checkpoint"):
        set_checkpointed(model, [])
    model.stem.forward = lambda x: x  # someone else's forward is left alone
    with pytest.raises(StageError, match="already has its forward replaced"):
        set_checkpointed(model, ["stem"])


# -- fit(grad_checkpointing=True) ----------------------------------------------------------


@pytest.fixture(scope="module")
def digits_small():
    from cnnzoo.data import digits

    train = digits((1, 32, 32)).train
    return TensorDataset(*(t[:64] for t in train.tensors))


def test_fit_with_checkpointing_equals_fit_without(digits_small):
    torch.manual_seed(0)
    model = cnnzoo.create("lenet5")
    twin = copy.deepcopy(model)
    plain = fit(model, digits_small, epochs=1, batch_size=16, seed=0)
    ckpt = fit(twin, digits_small, epochs=1, batch_size=16, seed=0, grad_checkpointing=True)
    assert ckpt.last["train_loss"] == pytest.approx(plain.last["train_loss"], rel=1e-6)
    for a, b in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(b, a, **TOL)
    assert twin.grad_checkpointing is False and checkpointed_modules(twin) == []


def test_fit_keeps_checkpointing_the_user_enabled(digits_small):
    model = cnnzoo.create("lenet5")
    model.set_grad_checkpointing(True)
    fit(model, digits_small, epochs=1, batch_size=32, grad_checkpointing=True, ema=True)
    assert model.grad_checkpointing is True and checkpointed_modules(model)


def test_fit_checkpoints_a_segmenter():
    model = cnnzoo.create("unet", base_width=8, num_classes=2)
    images = torch.randn(4, 3, 32, 32)
    masks = (images[:, 0] > 0).long()
    history = fit(model, TensorDataset(images, masks), epochs=1, batch_size=2,
                  grad_checkpointing=True)
    assert math.isfinite(history.last["train_loss"])


def test_models_that_cannot_are_train_errors_naming_them(digits_small):
    with torch.device("meta"):
        vgg = cnnzoo.create("vgg11")
    assert not supports_grad_checkpointing(vgg)
    with pytest.raises(TrainError, match=r"'vgg11' \(timm's VGG\) does not support gradient "
                                         "checkpointing"):
        set_grad_checkpointing(vgg)
    bare = LeNet5()  # not built by create(): its stages are unknown
    with pytest.raises(TrainError, match=r"LeNet5 does not support gradient checkpointing: "
                                         r".*stages are unknown"):
        fit(bare, digits_small, epochs=1, grad_checkpointing=True)
    plain = nn.Sequential(nn.Flatten(), nn.Linear(32 * 32, 10))
    with pytest.raises(TrainError, match="Sequential does not support gradient checkpointing"), \
            grad_checkpointing(plain):
        pass
    assert supports_grad_checkpointing(cnnzoo.create("lenet5"))
    assert supports_grad_checkpointing(cnnzoo.create("resnet18"))
