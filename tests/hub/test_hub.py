"""Pretrained weights, the Hub and offline use — through huggingface_hub's own client.

A Hub-compatible endpoint runs on 127.0.0.1 (``tests/hub/hubserver.py``); it serves exactly
the bytes that were uploaded to it and counts every request.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch
import torchvision
from safetensors.torch import save

import cnnzoo
from cnnzoo.build.weights import Lock, fetch, sha256_file
from cnnzoo.cli import main as cli
from cnnzoo.errors import CheckpointError, WeightsError
from cnnzoo.hub import push_to_hub, save_pretrained
from cnnzoo.spec import REGISTRY, ModelSpec, WeightsSpec
from tests.hub.hubserver import client_env

# `hub`: the shared fixture of tests/conftest.py


def _offline(monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _safetensors_bytes(state) -> bytes:
    return save({k: v.contiguous() for k, v in state.items()})


def _tv_resnet18():
    torch.manual_seed(1)
    model = torchvision.models.resnet18().eval()
    return model


@pytest.fixture
def resnet18_tag(hub):
    """The registered tag's repository, holding torchvision-initialised resnet18 weights."""
    reference = _tv_resnet18()
    hub.add_repo("timm/resnet18.tv_in1k",
                 {"model.safetensors": _safetensors_bytes(reference.state_dict())})
    return reference


def test_registered_tag_downloads_verifies_and_carries_preprocessing(resnet18_tag, hub):
    model = cnnzoo.create("resnet18", pretrained=True).eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), resnet18_tag(x), atol=1e-5, rtol=0)
    cfg = model.pretrained_cfg
    assert cfg["tag"] == "tv_in1k"
    assert len(cfg["labels"]) == 1000 and cfg["labels"][0].startswith("tench")
    assert cfg["interpolation"] == "bilinear" and cfg["crop_pct"] == 0.875
    assert any(path.endswith("/resolve/main/model.safetensors") for _, path in hub.requests)


def test_fetch_bundle_and_lock_then_zero_requests_offline(resnet18_tag, hub, tmp_path,
                                                         monkeypatch, capsys):
    bundle, lock = tmp_path / "bundle", tmp_path / "cnnzoo.lock"
    assert cli(["fetch", "resnet18.tv_in1k", "lenet5", "--to", str(bundle),
                "--lock", str(lock)]) == 0
    assert "lock written" in capsys.readouterr().out
    entry = Lock.read(lock).entries["resnet18.tv_in1k"]
    assert entry["revision"] == hub.commit("timm/resnet18.tv_in1k").sha
    blob = next((bundle).rglob("model.safetensors"))
    assert entry["files"]["model.safetensors"]["sha256"] == sha256_file(blob)

    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(bundle))
    monkeypatch.setenv("CNNZOO_LOCK", str(lock))
    _offline(monkeypatch)
    hub.reset_requests()
    model = cnnzoo.create("resnet18", pretrained=True).eval()
    assert hub.requests == []
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), resnet18_tag(x), atol=1e-5, rtol=0)


def test_offline_cache_miss_names_the_file_and_the_fetch_command(hub, monkeypatch):
    _offline(monkeypatch)
    with pytest.raises(WeightsError) as err:
        cnnzoo.create("resnet34", pretrained=True)
    message = str(err.value)
    assert "model.safetensors of timm/resnet34.tv_in1k" in message
    assert "cnnzoo fetch resnet34.tv_in1k" in message
    assert hub.requests == []


def test_lock_file_is_verified(resnet18_tag, hub, tmp_path, monkeypatch):
    lock_path = tmp_path / "cnnzoo.lock"
    fetch(["resnet18"], lock=lock_path)
    data = json.loads(lock_path.read_text())
    data["weights"]["resnet18.tv_in1k"]["files"]["model.safetensors"]["sha256"] = "0" * 64
    lock_path.write_text(json.dumps(data))
    monkeypatch.setenv("CNNZOO_LOCK", str(lock_path))
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        cnnzoo.create("resnet18", pretrained=True)
    with pytest.raises(WeightsError, match=r"not in the lock file .*cnnzoo fetch resnet50"):
        cnnzoo.create("resnet50", pretrained=True)


def test_push_round_trip_and_model_card(hub, tmp_path):
    model = cnnzoo.create("resnet18", num_classes=3).eval()
    model.pretrained_cfg["labels"] = ("cat", "dog", "fox")
    url = push_to_hub(model, "user/r18-pets", metrics={"accuracy": 0.9},
                      datasets=["pets"], base_model="timm/resnet18.tv_in1k")
    assert "user/r18-pets" in url
    files = hub.repo_files("user/r18-pets")
    assert {"config.json", "model.safetensors", "README.md"} <= set(files)
    card = files["README.md"].decode()
    assert card.startswith("---\n") and "library_name: cnnzoo" in card
    assert "base_model: timm/resnet18.tv_in1k" in card and "cat" in card
    config = json.loads(files["config.json"])
    assert config["architecture"] == "resnet18" and config["label_names"] == ["cat", "dog", "fox"]

    loaded = cnnzoo.create("hf-hub:user/r18-pets").eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    assert loaded.pretrained_cfg["labels"] == ("cat", "dog", "fox")

    import timm  # the same repository loads in timm

    timm_model = timm.create_model("hf-hub:user/r18-pets", pretrained=True).eval()
    with torch.no_grad():
        torch.testing.assert_close(timm_model(x), model(x), rtol=0, atol=0)


def test_push_never_overwrites_an_existing_readme(hub):
    hub.add_repo("user/mine", {"README.md": b"# my own card\n"})
    push_to_hub(cnnzoo.create("lenet5"), "user/mine")
    files = hub.repo_files("user/mine")
    assert files["README.md"] == b"# my own card\n"
    assert "model.safetensors" in files


def test_push_cli_publishes_a_folder(hub, tmp_path, capsys):
    folder = save_pretrained(cnnzoo.create("lenet5", pretrained=True), tmp_path / "lenet")
    assert cli(["push", str(folder), "user/lenet-digits"]) == 0
    assert "pushed" in capsys.readouterr().out
    loaded = cnnzoo.create("hf-hub:user/lenet-digits")
    assert loaded.pretrained_cfg["labels"] == tuple(str(i) for i in range(10))


def test_timm_folder_loads_in_cnnzoo(tmp_path):
    import timm
    from timm.models import save_for_hf

    source = timm.create_model("resnet18", num_classes=4).eval()
    save_for_hf(source, str(tmp_path / "timm-folder"), safe_serialization=True)
    model = cnnzoo.create(str(tmp_path / "timm-folder")).eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), source(x), rtol=0, atol=0)


def test_cnnzoo_folder_loads_in_timm(tmp_path):
    import timm

    model = cnnzoo.create("mobilenetv3_small_100", num_classes=5).eval()
    folder = save_pretrained(model, tmp_path / "m")
    loaded = timm.create_model(f"local-dir:{folder}", pretrained=True)  # timm's own loader
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded.eval()(x), model(x), rtol=0, atol=0)


def test_converted_torchvision_alexnet_tag_round_trip(hub, tmp_path):
    torch.manual_seed(2)
    reference = torchvision.models.alexnet().eval()
    pth = tmp_path / "alexnet-owt.pth"
    torch.save(reference.state_dict(), pth)
    out = tmp_path / "alexnet.tv_in1k"
    assert cli(["convert", "alexnet", str(pth), "--out", str(out),
                "--repo-id", "cnnzoo/alexnet.tv_in1k"]) == 0
    assert cli(["push", str(out), "cnnzoo/alexnet.tv_in1k"]) == 0
    # alexnet's registered tag now reads torchvision's registry (tests/build/
    # test_torchvision_weights.py); a converted, published copy loads by its repo
    model = cnnzoo.create("hf-hub:cnnzoo/alexnet.tv_in1k").eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=0)
    assert len(model.pretrained_cfg["labels"]) == 1000


def test_embedded_lenet_reaches_97_percent_offline(hub, monkeypatch):
    from cnnzoo.data import digits
    from cnnzoo.demo import accuracy

    _offline(monkeypatch)
    model = cnnzoo.create("lenet5", pretrained=True)
    assert accuracy(model, digits(model=model).test) >= 0.97
    assert model.pretrained_cfg["labels"] == tuple(str(i) for i in range(10))
    assert hub.requests == []


def test_head_and_channels_adapt_to_pretrained_weights():
    with pytest.warns(UserWarning, match="10 classes.*num_classes=4"):
        model = cnnzoo.create("lenet5", pretrained=True, num_classes=4)
    assert model.get_classifier().out_features == 4
    assert model.pretrained_cfg["labels"] is None  # the checkpoint's labels do not apply
    rgb = cnnzoo.create("lenet5", pretrained=True, in_chans=3)
    assert rgb.pretrained_cfg["mean"] == (0.5, 0.5, 0.5)


# -- bad input -----------------------------------------------------------------------


def test_corrupt_weights_on_the_hub_are_a_clear_error(hub):
    good = _safetensors_bytes(cnnzoo.create("lenet5").state_dict())
    config = json.dumps({"architecture": "lenet5", "num_classes": 10, "in_chans": 1})
    hub.add_repo("user/broken", {"config.json": config.encode(),
                                 "model.safetensors": good[: len(good) // 2]})
    with pytest.raises(CheckpointError, match=r"model.safetensors.*not a valid safetensors"):
        cnnzoo.create("hf-hub:user/broken")


def test_malformed_config_and_unknown_architecture(hub):
    weights = _safetensors_bytes(cnnzoo.create("lenet5").state_dict())
    hub.add_repo("user/badjson", {"config.json": b"{not json", "model.safetensors": weights})
    with pytest.raises(WeightsError, match=r"config\.json.*not valid JSON"):
        cnnzoo.create("hf-hub:user/badjson")
    hub.add_repo("user/alien", {"config.json": b'{"architecture": "resnet5O"}',
                                "model.safetensors": weights})
    with pytest.raises(WeightsError, match=r"'resnet5O'.*Did you mean: resnet50"):
        cnnzoo.create("hf-hub:user/alien")
    with pytest.raises(WeightsError, match="does not exist on the Hub"):
        cnnzoo.create("hf-hub:user/nothing-here")
    with pytest.raises(WeightsError, match="not a Hub reference"):
        cnnzoo.create("resnet18", pretrained="hf-hub:no-slash")


def test_unknown_tag_lists_the_registered_ones():
    with pytest.raises(cnnzoo.CnnzooError, match="tv_in1k, a1_in1k"):
        cnnzoo.create("resnet50", pretrained="in22k")
    with pytest.raises(cnnzoo.CnnzooError, match="no pretrained weights"):
        cnnzoo.create("unet", pretrained=True)  # B7 now has torchvision's weights


def test_folder_without_weights_is_a_clear_error(tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "config.json").write_text('{"architecture": "lenet5"}')
    with pytest.raises(WeightsError, match=r"needs config.json and model.safetensors"):
        cnnzoo.create("lenet5", pretrained=tmp_path / "half")


def test_pickles_are_never_downloaded(hub):
    spec = ModelSpec(name="picklenet", family="x", task="classification",
                     builder="cnnzoo.models.lenet:build_lenet5",
                     weights={"bin": WeightsSpec(repo_id="user/picklenet",
                                                 filename="pytorch_model.bin")},
                     default_tag="bin")
    REGISTRY.register(spec)
    try:
        with pytest.raises(WeightsError, match="only loads safetensors from the network"):
            cnnzoo.create("picklenet", pretrained=True)
    finally:
        REGISTRY.unregister("picklenet")
    assert hub.requests == []


def test_interrupted_download_leaves_no_partial_file(resnet18_tag, hub, tmp_path):
    hub.truncate_downloads = 100  # every attempt is cut: the client retries, then gives up
    hub.truncate_keep_bytes = 0
    with pytest.raises(WeightsError, match=r"interrupted|failed"):
        cnnzoo.create("resnet18", pretrained=True)
    cache = tmp_path / "hf-cache"
    assert not [p for p in cache.rglob("*") if p.is_file() and p.stat().st_size > 0
                and "blobs" in p.parts]
    hub.truncate_downloads = 0
    assert cnnzoo.create("resnet18", pretrained=True)  # a retry then succeeds


@pytest.mark.slow
def test_two_processes_downloading_at_once_keep_one_intact_copy(resnet18_tag, hub, tmp_path):
    cache = tmp_path / "shared-cache"
    env = {**os.environ, **client_env(hub.url, cache)}
    code = textwrap.dedent("""
        import cnnzoo
        cnnzoo.create("resnet18", pretrained=True)
        print("ok")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    blobs = [p for p in cache.rglob("*") if p.is_file() and "blobs" in p.parts]
    served = hub.repo_files("timm/resnet18.tv_in1k")["model.safetensors"]
    assert len(blobs) == 1 and sha256_file(blobs[0]) == hashlib.sha256(served).hexdigest()
