"""create(checkpoint_path=…): safe reading, layout conversion, strict keys, parity.

References nobody here wrote: torchvision's implementations. Their random-weight
state dicts are saved as weights-only ``.pth`` files and loaded through cnnzoo;
outputs must match torchvision's within 1e-5.
"""

from __future__ import annotations

import warnings

import pytest
import torch
import torchvision
from safetensors.torch import save_file

import cnnzoo
from cnnzoo.build import loading
from cnnzoo.build.checkpoint import read_state_dict
from cnnzoo.errors import CheckpointError


def _randomize_bn(model: torch.nn.Module) -> None:
    """Random running statistics, so a wrong BN epsilon or mapping shows up."""
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)


PARITY = [
    # (cnnzoo name, torchvision name, torchvision kwargs, input size)
    ("alexnet", "alexnet", {}, 64),
    ("googlenet", "googlenet", {"aux_logits": False, "init_weights": True}, 64),
    ("resnet50", "resnet50", {}, 64),
    ("vgg16", "vgg16", {}, 224),  # timm's fc6-as-conv equals torchvision's Linear at 224
    ("mobilenet_v3_large", "mobilenet_v3_large", {}, 64),
    ("efficientnet_b0", "efficientnet_b0", {}, 64),
    ("convnext_tiny", "convnext_tiny", {}, 64),
]


@pytest.mark.parametrize(("name", "tv_name", "tv_kwargs", "size"), PARITY,
                         ids=[p[0] for p in PARITY])
def test_output_parity_with_torchvision_through_checkpoint_path(tmp_path, name, tv_name,
                                                                tv_kwargs, size):
    reference = torchvision.models.get_model(tv_name, weights=None, **tv_kwargs)
    with torch.no_grad():
        _randomize_bn(reference)
    reference.eval()
    path = tmp_path / f"{tv_name}.pth"
    torch.save(reference.state_dict(), path)
    model = cnnzoo.create(name, checkpoint_path=path).eval()
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        expected, actual = reference(x), model(x)
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max().item() < 1e-5


def test_weights_are_loaded_into_a_meta_built_model(tmp_path, monkeypatch):
    calls = []
    real_build = loading.build_module

    def spy(*args, **kwargs):
        calls.append(kwargs["meta"])
        return real_build(*args, **kwargs)

    monkeypatch.setattr(loading, "build_module", spy)
    path = tmp_path / "r18.safetensors"
    save_file(cnnzoo.create("resnet18").state_dict(), str(path))
    calls.clear()
    model = cnnzoo.create("resnet18", checkpoint_path=path)
    assert calls and all(calls), "a model that receives weights is never built on CPU first"
    assert not any(t.is_meta for t in model.state_dict().values())


def test_safetensors_roundtrip_is_exact(tmp_path):
    source = cnnzoo.create("mobilenetv3_small_100", num_classes=4).eval()
    path = tmp_path / "m.safetensors"
    save_file({k: v.contiguous() for k, v in source.state_dict().items()}, str(path))
    loaded = cnnzoo.create("mobilenetv3_small_100", num_classes=4, checkpoint_path=path).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), source(x), rtol=0, atol=0)


def test_nested_and_ddp_prefixed_checkpoints_are_unwrapped(tmp_path):
    state = cnnzoo.create("lenet5").state_dict()
    path = tmp_path / "nested.pth"
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    loaded = read_state_dict(path)
    assert set(loaded) == set(state)


class Payload:
    """Stands for any object a malicious pickle could smuggle in."""

    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickled_objects_are_refused(tmp_path, capsys):
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "payload": Payload()}, path)
    with pytest.raises(CheckpointError, match="weights_only=True"):
        read_state_dict(path)
    assert "must never run" not in capsys.readouterr().out


def test_missing_and_unexpected_keys_are_listed(tmp_path):
    state = cnnzoo.create("resnet18").state_dict()
    state.pop("layer4.1.conv2.weight")
    state["extra.weight"] = torch.zeros(1)
    path = tmp_path / "broken.safetensors"
    save_file(state, str(path))
    with pytest.raises(CheckpointError) as err:
        cnnzoo.create("resnet18", checkpoint_path=path)
    message = str(err.value)
    assert "layer4.1.conv2.weight" in message and "extra.weight" in message
    assert "torchvision" in message  # the layouts that were tried


def test_checkpoint_of_another_architecture_is_a_clear_error(tmp_path):
    path = tmp_path / "r18.pth"
    torch.save(torchvision.models.resnet18().state_dict(), path)
    with pytest.raises(CheckpointError, match=r"does not fit 'resnet34'"):
        cnnzoo.create("resnet34", checkpoint_path=path)


def test_bad_paths_and_kinds(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        cnnzoo.create("lenet5", checkpoint_path=tmp_path / "nope.safetensors")
    odd = tmp_path / "weights.npz"
    odd.write_bytes(b"xx")
    with pytest.raises(CheckpointError, match="unknown checkpoint kind"):
        cnnzoo.create("lenet5", checkpoint_path=odd)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        cnnzoo.create("lenet5", checkpoint_path=junk)


def test_new_head_is_reinitialised_with_a_warning(tmp_path):
    path = tmp_path / "r18.pth"
    reference = torchvision.models.resnet18().eval()
    torch.save(reference.state_dict(), path)
    with pytest.warns(UserWarning, match="1000 classes.*num_classes=5"):
        model = cnnzoo.create("resnet18", checkpoint_path=path, num_classes=5).eval()
    assert model.get_classifier().out_features == 5
    torch.testing.assert_close(model.conv1.weight, reference.conv1.weight)
    # the backbone is the checkpoint's: pre-logits features agree with torchvision's
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        tv_features = torch.flatten(reference.avgpool(reference.layer4(reference.layer3(
            reference.layer2(reference.layer1(reference.maxpool(reference.relu(
                reference.bn1(reference.conv1(x))))))))), 1)
        ours = model.forward_head(model.forward_features(x), pre_logits=True)
    torch.testing.assert_close(ours, tv_features, atol=1e-5, rtol=0)


def test_in_chans_adapts_the_first_conv(tmp_path):
    path = tmp_path / "r18.pth"
    reference = torchvision.models.resnet18()
    torch.save(reference.state_dict(), path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gray = cnnzoo.create("resnet18", checkpoint_path=path, in_chans=1)
    torch.testing.assert_close(gray.conv1.weight, reference.conv1.weight.sum(1, keepdim=True))
    assert gray.pretrained_cfg["mean"] == pytest.approx((sum((0.485, 0.456, 0.406)) / 3,))
    five = cnnzoo.create("resnet18", checkpoint_path=path, in_chans=5)
    assert five.conv1.weight.shape[1] == 5


def test_features_only_loads_the_classifier_checkpoint(tmp_path):
    source = cnnzoo.create("resnet18").eval()
    path = tmp_path / "r18.safetensors"
    save_file(source.state_dict(), str(path))
    extractor = cnnzoo.create("resnet18", checkpoint_path=path, features_only=True).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        last = extractor(x)[-1]
        torch.testing.assert_close(last, source.forward_features(x))
