"""Checkpoints in efficientnet_pytorch's layout load through ``checkpoint_path``.

The reference is efficientnet_pytorch itself (a test dependency): its own model, with
random weights and randomised BatchNorm statistics, against cnnzoo's converted one.
"""

from __future__ import annotations

import pytest
import torch

import cnnzoo
from cnnzoo.errors import CheckpointError
from cnnzoo.models.converters.efficientnet_pytorch import convert_efficientnet_pytorch

efficientnet_pytorch = pytest.importorskip(
    "efficientnet_pytorch", reason="efficientnet-pytorch is a dev dependency (.[dev])")


def _reference(name: str, image_size: int) -> torch.nn.Module:
    torch.manual_seed(0)
    model = efficientnet_pytorch.EfficientNet.from_name(name, image_size=image_size)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 1.5)
    return model.eval()


def test_b0_in_efficientnet_pytorch_layout_is_detected_and_matches(tmp_path):
    reference = _reference("efficientnet-b0", 224)
    path = tmp_path / "b0.pth"
    torch.save(reference.state_dict(), path)
    model = cnnzoo.create("efficientnet_b0", checkpoint_path=path).eval()
    assert model.pretrained_cfg["model_args"] == {"pad_type": "same", "bn_eps": 1e-3}
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), rtol=0, atol=1e-5)


def test_the_stage_split_follows_the_widths_for_a_deeper_variant():
    state = _reference("efficientnet-b2", 260).state_dict()
    converted = convert_efficientnet_pytorch(state)
    expected = set(cnnzoo.create("efficientnet_b2").state_dict())
    assert set(converted) == expected


def test_a_key_outside_the_layout_is_named():
    state = dict(_reference("efficientnet-b0", 224).state_dict())
    state["_extra.weight"] = torch.zeros(1)
    with pytest.raises(KeyError, match=r"_extra\.weight"):
        convert_efficientnet_pytorch(state)


def test_no_known_layout_names_the_layouts_tried_and_the_closest_keys(tmp_path):
    state = {f"encoder.{k}": v for k, v in cnnzoo.create("efficientnet_b0").state_dict().items()}
    path = tmp_path / "prefixed.pth"
    torch.save(state, path)
    with pytest.raises(CheckpointError) as info:
        cnnzoo.create("efficientnet_b0", checkpoint_path=path)
    message = str(info.value)
    assert "cnnzoo, torchvision, efficientnet_pytorch" in message
    closest = message.split("Closest mismatching keys: ")[1]
    assert closest.startswith(
        "model 'blocks.0.0.bn1.bias' ~ checkpoint 'encoder.blocks.0.0.bn1.bias'")
