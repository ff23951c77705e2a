"""Head specs: the grammar, replacing the head of every zoo model, and reloading a fine-tune."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

import cnnzoo
from cnnzoo.build.heads import HEAD_GRAMMAR, HeadSpec, MLPHead, SegmentationHead, replace_head
from cnnzoo.errors import HeadSpecError
from cnnzoo.hub import save_pretrained

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize(("text", "kind", "hidden", "dropout", "act"), [
    ("linear", "linear", (), 0.0, "relu"),
    ("linear:dropout=0.2", "linear", (), 0.2, "relu"),
    ("mlp:512", "mlp", (512,), 0.0, "relu"),
    ("mlp:512,256,dropout=0.3,act=gelu", "mlp", (512, 256), 0.3, "gelu"),
    (" MLP:64 , act=silu ", "mlp", (64,), 0.0, "silu"),
])
def test_parse(text, kind, hidden, dropout, act):
    spec = HeadSpec.parse(text)
    assert (spec.kind, spec.hidden, spec.dropout, spec.act) == (kind, hidden, dropout, act)
    assert HeadSpec.parse(str(spec)) == spec
    assert HeadSpec.from_dict(json.loads(json.dumps(spec.to_dict()))) == spec


@pytest.mark.parametrize("text", [
    "", "conv", "mlp", "mlp:", "mlp:abc", "mlp:512,dropout=1.5", "mlp:512,dropout=x",
    "mlp:0", "linear:512", "linear:act=gelu", "mlp:512,act=sparkle", "mlp:dropout=0.1",
    "mlp:512,dropout=0.1,dropout=0.2", "mlp:512,width=3", "mlp:dropout=0.1,512",
])
def test_bad_specs_raise_with_the_grammar(text):
    with pytest.raises(HeadSpecError) as info:
        HeadSpec.parse(text)
    message = str(info.value)
    assert "KIND" in message or "hidden size" in message or "activation" in message \
        or "dropout" in message or "given twice" in message
    assert isinstance(info.value, ValueError) and isinstance(info.value, cnnzoo.CnnzooError)


def test_grammar_error_names_the_string_and_examples():
    with pytest.raises(HeadSpecError, match=r"cannot parse head 'mlp:abc'.*mlp:512"):
        HeadSpec.parse("mlp:abc")
    assert "linear" in HEAD_GRAMMAR and "act=NAME" in HEAD_GRAMMAR


def test_create_rejects_a_bad_head_before_building():
    with pytest.raises(HeadSpecError, match="unknown kind 'transformer'"):
        cnnzoo.create("resnet18", num_classes=3, head="transformer:4")


@pytest.mark.parametrize("name", cnnzoo.list_models())
def test_replace_head_every_model_on_meta(name):
    with torch.device("meta"):
        model = cnnzoo.create(name)
    before = {n for n, _ in model.named_parameters()}
    replace_head(model, 7, "mlp:32,dropout=0.1")
    head = model.get_classifier()
    segmenter = cnnzoo.model_info(name).task == "segmentation"
    assert isinstance(head, SegmentationHead if segmenter else MLPHead)
    assert head.out_channels == 7 if segmenter else head.out_features == 7
    assert model.num_classes == 7 and model.pretrained_cfg["num_classes"] == 7
    assert model.pretrained_cfg["head"] == {"kind": "mlp", "hidden": [32], "dropout": 0.1,
                                            "act": "relu"}
    assert all(p.is_meta for p in head.parameters())
    # the backbone's parameter names are untouched; only the classifier's changed
    after = {n for n, _ in model.named_parameters()}
    head_name = next(n for n, m in model.named_modules() if m is head)
    assert {n for n in before - after if not n.startswith(head_name + ".")} == set()


@pytest.mark.parametrize(("name", "size", "kwargs"), [
    ("resnet18", 32, {}),
    ("convnext_tiny", 32, {}),
    ("mobilenetv3_small_100", 32, {}),
    ("lenet5", 32, {}),
    ("alexnet", 64, {}),
    ("googlenet", 32, {"aux_logits": True}),
])
def test_pre_logits_feed_the_new_head(name, size, kwargs):
    model = cnnzoo.create(name, num_classes=10, **kwargs)
    replace_head(model, 4, "mlp:16,8,act=gelu")
    model.eval()
    x = torch.randn(2, model.pretrained_cfg["input_size"][0], size, size)
    with torch.no_grad():
        feats = model.forward_features(x)
        pooled = model.forward_head(feats, pre_logits=True)
        logits = model.forward_head(feats)
        assert pooled.shape[1] == model.get_classifier().in_features
        assert logits.shape == (2, 4)
        torch.testing.assert_close(model.get_classifier()(pooled), logits)
        torch.testing.assert_close(model(x), logits)
    if name == "googlenet":  # the auxiliary classifiers follow the new class count
        model.train()
        out = model(torch.randn(2, 3, 64, 64))
        assert [o.shape[1] for o in out] == [4, 4, 4]


def test_mlp_layout_and_linear_roundtrip():
    model = cnnzoo.create("resnet18", num_classes=5, head="mlp:256,dropout=0.2")
    assert [n for n, _ in model.fc.named_children()] == ["drop1", "fc1", "act1", "drop", "fc"]
    assert model.fc.fc1.in_features == 512 and model.fc.fc.out_features == 5
    replace_head(model, 3)  # back to a plain linear layer
    assert type(model.fc) is nn.Linear and model.fc.in_features == 512
    assert model.pretrained_cfg["head"]["kind"] == "linear"


def test_segmentation_head_is_conv():
    model = cnnzoo.create("unet", base_width=8, num_classes=3, head="mlp:16,dropout=0.1")
    head = model.get_classifier()
    assert isinstance(head, SegmentationHead)
    assert isinstance(head.block1.conv, nn.Conv2d) and head.block1.conv.kernel_size == (3, 3)
    assert head.conv.kernel_size == (1, 1) and head.conv.out_channels == 3
    out = model.eval()(torch.randn(1, 3, 40, 40))
    assert out.shape == (1, 3, 40, 40)
    replace_head(model, 2)  # plain linear on a segmenter: the classic 1×1 conv
    assert isinstance(model.get_classifier(), nn.Conv2d)


def test_head_follows_the_model_device_and_dtype():
    model = cnnzoo.create("lenet5").to(torch.float64)
    replace_head(model, 3, "mlp:8")
    assert all(p.dtype == torch.float64 for p in model.get_classifier().parameters())


def test_zero_classes_needs_a_linear_head():
    model = cnnzoo.create("lenet5")
    with pytest.raises(HeadSpecError, match="num_classes=0"):
        replace_head(model, 0, "mlp:8")
    replace_head(model, 0)
    assert isinstance(model.get_classifier(), nn.Identity)


@pytest.mark.parametrize(("name", "kwargs", "shape"), [
    ("resnet18", {}, (2, 3, 32, 32)),
    ("lenet5", {}, (2, 1, 32, 32)),
    ("unet", {"base_width": 8}, (1, 3, 32, 32)),
])
def test_published_finetune_reloads_with_its_head(tmp_path, name, kwargs, shape):
    model = cnnzoo.create(name, num_classes=4, head="mlp:32,16,dropout=0.2,act=gelu",
                          **kwargs).eval()
    with torch.no_grad():  # make the head's weights non-default so a re-init would show
        for p in model.get_classifier().parameters():
            p.add_(0.01)
    folder = save_pretrained(model, tmp_path / "ft")
    config = json.loads((folder / "config.json").read_text())
    assert config["head"] == {"kind": "mlp", "hidden": [32, 16], "dropout": 0.2, "act": "gelu"}
    reloaded = cnnzoo.create(str(folder)).eval()
    assert type(reloaded.get_classifier()) is type(model.get_classifier())
    assert reloaded.pretrained_cfg["head"] == config["head"]
    x = torch.randn(*shape)
    with torch.no_grad():
        assert torch.equal(model(x), reloaded(x))
    # and through pretrained= with the name
    again = cnnzoo.create(name, pretrained=str(folder)).eval()
    with torch.no_grad():
        assert torch.equal(model(x), again(x))


def test_reloaded_head_keys_load_strictly(tmp_path):
    from safetensors.torch import load_file, save_file

    from cnnzoo.errors import CheckpointError

    model = cnnzoo.create("lenet5", num_classes=4, head="mlp:16")
    folder = save_pretrained(model, tmp_path / "ft")
    state = load_file(str(folder / "model.safetensors"))
    del state["fc.fc1.weight"]
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises((CheckpointError, RuntimeError), match=r"fc\.fc1\.weight"):
        cnnzoo.create(str(folder))


def test_reload_with_new_class_count_keeps_the_head_kind(tmp_path):
    model = cnnzoo.create("lenet5", num_classes=4, head="mlp:16")
    folder = save_pretrained(model, tmp_path / "ft")
    with pytest.warns(UserWarning, match="new head for num_classes=6"):
        other = cnnzoo.create(str(folder), num_classes=6)
    assert isinstance(other.fc, MLPHead) and other.fc.out_features == 6
    assert torch.equal(other.stem.conv.weight, model.stem.conv.weight)
    swapped = cnnzoo.create(str(folder), head="linear")
    assert type(swapped.fc) is nn.Linear and swapped.fc.out_features == 4
