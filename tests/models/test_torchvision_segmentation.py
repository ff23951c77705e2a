"""torchvision's segmenters (DeepLabV3, FCN, LR-ASPP): literals, counts, parity, aux head.

The catalog's literals are compared with torchvision's live weights registry; the
parameter counts with ``meta["num_params"]``; the outputs with torchvision's own model
after its state dict (random weights, BatchNorm statistics from a training-mode pass)
is loaded through ``cnnzoo.create(name, checkpoint_path=...)``. The released COCO
weights carry the auxiliary head: a checkpoint with ``aux_classifier.*`` loads into
the inference model (the ``torchvision`` converter drops it), and through the
torchvision weights source too (a local server stands in for download.pytorch.org).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import replace

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models._api import Weights, WeightsEnum

import cnnzoo
from cnnzoo.analysis import count_macs
from cnnzoo.build import torchvision_weights as tvw
from cnnzoo.errors import ModelOptionError
from cnnzoo.models.torchvision_segmentation import ARCHITECTURES, SegmentationOutputs
from cnnzoo.spec import REGISTRY, ModelSpec
from tests.build.test_torchvision_weights import _Server

NAMES = sorted(ARCHITECTURES)
WITH_AUX = [n for n in NAMES if not n.startswith("lraspp")]


def _entry(name):
    spec = cnnzoo.model_info(name)
    _, weights = spec.resolve_tag(None)
    return spec, weights, torchvision.models.get_weight(weights.repo_id)


def _reference(name: str, num_classes: int = 21, seed: int = 0) -> nn.Module:
    """torchvision's model with random weights and BN statistics of a random batch."""
    torch.manual_seed(seed)
    kwargs = {} if name.startswith("lraspp") else {"aux_loss": True}
    model = ARCHITECTURES[name].builder(weights=None, weights_backbone=None,
                                        num_classes=num_classes, **kwargs)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = None  # cumulative average: the statistics of this one batch
    with torch.no_grad():
        model.train()(torch.randn(2, 3, 64, 64))
    return model.eval()


# -- the literals against torchvision's registry ------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_weights_literals_equal_torchvision_meta(name):
    spec, weights, entry = _entry(name)
    meta, transforms = entry.meta, entry.transforms()
    assert weights.source == "torchvision" and weights.format == "torchvision"
    assert weights.repo_id.endswith(".COCO_WITH_VOC_LABELS_V1")
    assert weights.labels == tuple(meta["categories"]) and weights.num_classes == 21
    metrics = meta["_metrics"]["COCO-val2017-VOC-labels"]
    assert dict(weights.metrics) == {"coco-val2017-voc-labels/miou": metrics["miou"],
                                     "coco-val2017-voc-labels/pixel_acc": metrics["pixel_acc"]}
    assert weights.mean == tuple(transforms.mean) and weights.std == tuple(transforms.std)
    assert weights.input_size == (3, transforms.resize_size[0], transforms.resize_size[0])
    assert weights.crop_pct == 1.0  # SemanticSegmentation resizes and does not crop
    assert weights.interpolation == transforms.interpolation.value
    assert weights.license == "bsd-3-clause"
    assert meta["recipe"] in weights.description
    assert spec.task == "segmentation" and spec.num_classes == 21


@pytest.mark.parametrize("name", NAMES)
def test_param_counts_and_macs_equal_torchvision_meta(name):
    spec, _, entry = _entry(name)
    aux = name in WITH_AUX
    with torch.device("meta"):
        plain = cnnzoo.create(name)
        full = cnnzoo.create(name, aux_loss=True) if aux else plain
    # torchvision's count includes the auxiliary head its COCO weights were trained with
    assert sum(p.numel() for p in full.parameters()) == entry.meta["num_params"]
    assert sum(p.numel() for p in plain.parameters()) == spec.num_params
    # and so do its GMACs (at 520x520); ours are the inference model's
    aux_macs = 0
    if aux:
        channels = full.aux_classifier[0].in_channels
        aux_macs = count_macs(full.aux_classifier, (channels, 65, 65))  # stride 8 of 520
    assert round(spec.gmacs + aux_macs / 1e9, 3) == entry.meta["_ops"]
    assert round(count_macs(plain, (3, 520, 520)) / 1e9, 3) == spec.gmacs


# -- outputs equal torchvision's ----------------------------------------------------------
# The ResNet-101 variants run the ResNet-50 ones' code with deeper stages (their counts
# are checked above); their 240 MB round trips are in the exhaustive tier.
EXHAUSTIVE = (pytest.mark.exhaustive,
              pytest.mark.skipif(os.environ.get("CNNZOO_EXHAUSTIVE") != "1",
                                 reason="exhaustive tier: run scripts/run_exhaustive.py"))
PARITY = [pytest.param(n, marks=EXHAUSTIVE) if "resnet101" in n else n for n in NAMES]


@pytest.mark.parametrize("name", PARITY)
def test_torchvision_checkpoint_with_aux_loads_and_outputs_agree(name, tmp_path):
    reference = _reference(name)
    state = reference.state_dict()
    assert any(k.startswith("aux_classifier.") for k in state) == (name in WITH_AUX)
    path = tmp_path / "tv.pth"
    torch.save(state, path)
    model = cnnzoo.create(name, checkpoint_path=path).eval()
    assert getattr(model, "aux_classifier", None) is None  # dropped for inference
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = reference(x)["out"]
        out = model(x)
        split = model.forward_head(model.forward_features(x))
    assert isinstance(out, torch.Tensor) and out.shape == (2, 21, 64, 64)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(split, expected, rtol=1e-5, atol=1e-5)
    with torch.no_grad():  # any size: the logits are interpolated to the input's
        odd = torch.randn(1, 3, 50, 70)
        torch.testing.assert_close(model(odd), reference(odd)["out"], rtol=1e-5, atol=1e-5)
    assert model.pretrained_cfg["num_classes"] == 21
    del reference, model


def test_aux_head_is_kept_for_training_and_matches_torchvision(tmp_path):
    name = "deeplabv3_mobilenet_v3_large"
    reference = _reference(name)
    path = tmp_path / "tv.pth"
    torch.save(reference.state_dict(), path)
    model = cnnzoo.create(name, checkpoint_path=path, aux_loss=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = reference(x)
        torch.testing.assert_close(model.eval().forward_aux(x), expected["aux"],
                                   rtol=1e-5, atol=1e-5)
        assert isinstance(model(x), torch.Tensor)  # eval: the logits alone
        outputs = model.train()(x)
    assert isinstance(outputs, SegmentationOutputs)
    assert outputs.out.shape == outputs.aux.shape == (2, 21, 64, 64)
    # fit's contract: the first item is the logits, the rest auxiliary logits
    from cnnzoo.train.tasks import main_output

    logits, aux = main_output(outputs)
    assert logits is outputs.out and len(aux) == 1
    # a new class count reaches both heads
    model.reset_classifier(3)
    with torch.no_grad():
        assert model.eval().forward_aux(x).shape[1] == model(x).shape[1] == 3


def test_aux_options_are_checked():
    with pytest.raises(ModelOptionError, match="LR-ASPP has no auxiliary head"):
        cnnzoo.create("lraspp_mobilenet_v3_large", aux_loss=True)
    with torch.device("meta"):
        model = cnnzoo.create("fcn_resnet50")
    with pytest.raises(ModelOptionError, match="aux_loss=True"):
        model.forward_aux(torch.zeros(1, 3, 8, 8, device="meta"))


def test_new_class_count_and_input_channels():
    with torch.device("meta"):
        model = cnnzoo.create("deeplabv3_resnet50", num_classes=5, in_chans=1, aux_loss=True)
    assert model.get_classifier().out_channels == 5
    assert model.aux_classifier[4].out_channels == 5
    assert model.backbone.conv1.in_channels == 1
    assert model.pretrained_cfg["input_size"] == (1, 520, 520)
    assert len(model.pretrained_cfg["mean"]) == 1


# -- the torchvision weights source: COCO weights with aux keys --------------------------
@pytest.fixture
def served_coco_weights(tmp_path, monkeypatch):
    """deeplabv3_mobilenet_v3_large's tag pointing at a locally served torchvision file."""
    reference = _reference("deeplabv3_mobilenet_v3_large", seed=1)
    www = tmp_path / "www" / "models"
    www.mkdir(parents=True)
    tmp = www / "tmp.pth"
    torch.save(reference.state_dict(), tmp)
    served = www / f"deeplabv3-test-{hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]}.pth"
    tmp.rename(served)
    entry = Weights(url=tvw.TORCHVISION_BASE_URL + served.name, transforms=lambda: None,
                    meta={"num_params": 0})
    monkeypatch.setattr(torchvision.models, "DeepLabTest_Weights",
                        WeightsEnum("DeepLabTest_Weights", {"COCO_V1": entry}), raising=False)
    base = cnnzoo.model_info("deeplabv3_mobilenet_v3_large")
    _, real = base.resolve_tag(None)
    spec = replace(base, name="deeplabv3_tvtest", aliases=(),
                   weights={"coco": replace(real, repo_id="DeepLabTest_Weights.COCO_V1")},
                   default_tag="coco")
    REGISTRY.register(spec)
    cache = tmp_path / "hf-cache"
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("CNNZOO_TORCHVISION_CACHE", raising=False)
    monkeypatch.delenv("CNNZOO_LOCK", raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "torch-hub"))
    with _Server(tmp_path / "www") as server:
        monkeypatch.setenv("CNNZOO_TORCHVISION_BASE_URL", server.url)
        yield reference
    REGISTRY.unregister("deeplabv3_tvtest")


def test_pretrained_coco_tag_loads_through_the_torchvision_source(served_coco_weights):
    reference = served_coco_weights
    assert isinstance(REGISTRY.get("deeplabv3_tvtest"), ModelSpec)
    model = cnnzoo.create("deeplabv3_tvtest", pretrained=True).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        out, expected = model(x), reference(x)["out"]
    # the same tensors, memory-mapped from the cached safetensors: oneDNN may pick other
    # kernels, so the agreement is to float32 rounding of the output's scale
    assert float((out - expected).abs().max()) <= 1e-5 * max(1.0, float(expected.abs().max()))
    cfg = model.pretrained_cfg
    assert cfg["labels"][0] == "__background__" and len(cfg["labels"]) == 21
    assert cfg["input_size"] == (3, 520, 520) and cfg["task"] == "segmentation"



def test_fit_trains_with_the_aux_head():
    """The training contract end to end: fit sees (out, aux) in train mode, out in eval."""
    from torch.utils.data import TensorDataset

    torch.manual_seed(0)
    model = cnnzoo.create("deeplabv3_mobilenet_v3_large", num_classes=2, aux_loss=True)
    data = TensorDataset(torch.randn(4, 3, 64, 64), torch.randint(0, 2, (4, 64, 64)))
    before = model.aux_classifier[4].weight.detach().clone()
    history = cnnzoo.fit(model, data, data, epochs=1, lr=1e-3, batch_size=2, seed=0,
                         progress=False)
    assert history.task == "segmentation" and "val_miou" in history.last
    assert not torch.equal(model.aux_classifier[4].weight, before)  # the aux loss trained it
