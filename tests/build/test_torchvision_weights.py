"""torchvision's weights registry as a source: hash-checked download, one conversion,
cached safetensors, bundles and offline loads — against a local HTTP server.

The served checkpoints are real torchvision-format files (torch.save of a torchvision
model's state_dict). The weights entry is a real torchvision ``WeightsEnum``, found by
torchvision's own ``get_weight`` and downloaded by its own hash-checking loader, whose
URL points at torchvision's download base; ``CNNZOO_TORCHVISION_BASE_URL`` redirects it.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import threading
from pathlib import Path

import pytest
import torch
import torchvision
from torchvision.models._api import Weights, WeightsEnum

import cnnzoo
from cnnzoo.build import torchvision_weights as tvw
from cnnzoo.build.weights import fetch
from cnnzoo.errors import WeightsError
from cnnzoo.spec import REGISTRY, ModelSpec, WeightsSpec


class _Server:
    """A static file server on 127.0.0.1 that counts requests."""

    def __init__(self, root: Path) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):
                outer.requests.append(self.path)
                super().do_GET()

        handler = functools.partial(Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/models/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> _Server:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _torchvision_checkpoint(folder: Path, stem: str, *, corrupt: bool = False) -> tuple[Path, dict]:
    """A torchvision GoogLeNet state dict saved as torchvision names its files."""
    torch.manual_seed(3)
    model = torchvision.models.googlenet(num_classes=10, aux_logits=False, init_weights=True)
    state = model.state_dict()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "tmp.pth"
    torch.save(state, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]
    target = folder / "models" / f"{stem}-{digest}.pth"
    target.parent.mkdir(parents=True, exist_ok=True)
    data = tmp.read_bytes()
    target.write_bytes(data[:-16] + b"x" * 16 if corrupt else data)
    tmp.unlink()
    return target, state


@pytest.fixture
def tv_tag(tmp_path, monkeypatch):
    """A registered model whose tag is a real torchvision weights entry, served locally."""
    served, state = _torchvision_checkpoint(tmp_path / "www", "googlenet-test")
    url = tvw.TORCHVISION_BASE_URL + served.name
    entry = Weights(url=url, transforms=lambda: None, meta={"num_params": 0})
    weights_enum = WeightsEnum("GoogLeNetTest_Weights", {"IMAGENET1K_V1": entry})
    # get_weight looks for the enum in torchvision.models' namespace, as for its own
    monkeypatch.setattr(torchvision.models, "GoogLeNetTest_Weights", weights_enum, raising=False)
    base = cnnzoo.model_info("googlenet")
    spec = ModelSpec(
        name="googlenet_tvtest", family="googlenet", task="classification",
        builder=base.builder, defaults={"num_classes": 10, "in_chans": 3,
                                        "input_size": (3, 224, 224)},
        weights={"tv": WeightsSpec(repo_id="GoogLeNetTest_Weights.IMAGENET1K_V1",
                                   source="torchvision", format="torchvision", num_classes=10,
                                   labels=tuple("abcdefghij"))},
        default_tag="tv", checkpoint_converters=base.checkpoint_converters,
    )
    REGISTRY.register(spec)
    cache = tmp_path / "hf-cache"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.delenv("CNNZOO_TORCHVISION_CACHE", raising=False)
    monkeypatch.delenv("CNNZOO_LOCK", raising=False)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "torch-hub"))
    with _Server(tmp_path / "www") as server:
        monkeypatch.setenv("CNNZOO_TORCHVISION_BASE_URL", server.url)
        yield server, state, cache
    REGISTRY.unregister("googlenet_tvtest")


def _outputs(model, x):
    with torch.no_grad():
        return model.eval()(x)


def test_first_load_downloads_converts_and_caches_second_makes_no_request(tv_tag):
    server, state, cache = tv_tag
    reference = torchvision.models.googlenet(num_classes=10, aux_logits=False, init_weights=True)
    reference.load_state_dict(state)
    x = torch.randn(2, 3, 64, 64)
    model = cnnzoo.create("googlenet_tvtest", pretrained=True)
    assert len(server.requests) == 1
    torch.testing.assert_close(_outputs(model, x), _outputs(reference, x), rtol=0, atol=1e-6)
    entry = cache / "cnnzoo-torchvision" / "googlenet_tvtest.tv"
    assert sorted(p.name for p in entry.iterdir()) == ["model.safetensors", "source.json"]
    record = json.loads((entry / "source.json").read_text())
    stored = (entry / "model.safetensors").read_bytes()
    assert record["sha256"] == hashlib.sha256(stored).hexdigest()
    assert record["url"].startswith(server.url)
    assert model.pretrained_cfg["source"] == "torchvision:GoogLeNetTest_Weights.IMAGENET1K_V1"
    assert model.pretrained_cfg["labels"] == tuple("abcdefghij")
    again = cnnzoo.create("googlenet_tvtest", pretrained=True)
    assert len(server.requests) == 1  # the second load reads the cached safetensors
    torch.testing.assert_close(_outputs(again, x), _outputs(reference, x), rtol=0, atol=1e-6)
    # nothing pickled is kept: no .pth in the cache nor in torch's hub directory
    assert not list(cache.rglob("*.pth"))


def test_hash_mismatch_is_a_clear_error_and_leaves_nothing_cached(tv_tag, tmp_path):
    _server, _, cache = tv_tag
    served = next((tmp_path / "www" / "models").iterdir())
    served.write_bytes(served.read_bytes()[:-8] + b"\0" * 8)  # same name, other bytes
    with pytest.raises(WeightsError, match="does not match torchvision's published hash"):
        cnnzoo.create("googlenet_tvtest", pretrained=True)
    root = cache / "cnnzoo-torchvision"
    assert not root.exists() or not any(root.iterdir())


def test_unreachable_server_is_a_clear_error(tv_tag, monkeypatch):
    monkeypatch.setenv("CNNZOO_TORCHVISION_BASE_URL", "http://127.0.0.1:9/models/")
    with pytest.raises(WeightsError, match=r"downloading .* failed"):
        cnnzoo.create("googlenet_tvtest", pretrained=True)


def test_fetch_bundles_and_locks_torchvision_tags_then_offline_makes_no_request(
        tv_tag, tmp_path, monkeypatch):
    server, state, _ = tv_tag
    bundle, lock = tmp_path / "bundle", tmp_path / "cnnzoo.lock"
    fetched = fetch(["googlenet_tvtest"], to=bundle, lock=lock)
    assert [f.key for f in fetched] == ["googlenet_tvtest.tv"]
    entry = json.loads(lock.read_text())["weights"]["googlenet_tvtest.tv"]
    assert entry["source"] == "torchvision"
    assert entry["files"]["model.safetensors"]["sha256"] == fetched[0].sha256
    requests = len(server.requests)
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(bundle))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("CNNZOO_LOCK", str(lock))
    model = cnnzoo.create("googlenet_tvtest", pretrained=True)
    assert len(server.requests) == requests  # 0 requests offline
    reference = torchvision.models.googlenet(num_classes=10, aux_logits=False, init_weights=True)
    reference.load_state_dict(state)
    x = torch.randn(1, 3, 64, 64)
    torch.testing.assert_close(_outputs(model, x), _outputs(reference, x), rtol=0, atol=1e-6)


def test_offline_without_a_bundle_names_the_fetch_command(tv_tag, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(WeightsError, match=r"cnnzoo fetch googlenet_tvtest\.tv"):
        cnnzoo.create("googlenet_tvtest", pretrained=True)


def test_a_tampered_cache_fails_the_lock(tv_tag, tmp_path, monkeypatch):
    _, _, cache = tv_tag
    lock = tmp_path / "cnnzoo.lock"
    fetch(["googlenet_tvtest"], lock=lock)
    weights = cache / "cnnzoo-torchvision" / "googlenet_tvtest.tv" / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    monkeypatch.setenv("CNNZOO_LOCK", str(lock))
    with pytest.raises(WeightsError, match="sha256 mismatch"):
        cnnzoo.create("googlenet_tvtest", pretrained=True)


def test_unknown_torchvision_entry_is_a_clear_error():
    spec = WeightsSpec(repo_id="NoSuch_Weights.IMAGENET1K_V1", source="torchvision",
                       format="torchvision")
    with pytest.raises(WeightsError, match="torchvision has no weights entry"):
        tvw.torchvision_entry(spec)


@pytest.mark.parametrize("name", ["alexnet", "googlenet", "efficientnet_b6", "efficientnet_b7"])
def test_torchvision_sourced_tags_match_torchvision_meta(name):
    from torchvision.models import get_weight

    spec = cnnzoo.model_info(name)
    _, wspec = spec.resolve_tag(None)
    assert wspec.source == "torchvision"
    weights = get_weight(wspec.repo_id)
    metrics = weights.meta["_metrics"]["ImageNet-1K"]
    assert wspec.metrics["imagenet-1k/top1"] == metrics["acc@1"]
    assert wspec.metrics["imagenet-1k/top5"] == metrics["acc@5"]
    transforms = weights.transforms()
    assert wspec.input_size[1:] == (transforms.crop_size[0],) * 2
    assert wspec.interpolation == transforms.interpolation.value
    assert spec.num_params == weights.meta["num_params"]


def test_headless_pretraining_weights_load_without_a_classifier(tmp_path):
    """Weights registered with num_classes=0 (e.g. ConvNeXt V2's fcmae) build no head."""
    from safetensors.torch import save_file

    from cnnzoo.build.loading import build_with_weights
    from cnnzoo.spec import import_object

    spec = cnnzoo.model_info("resnet18")
    headless = cnnzoo.create("resnet18", num_classes=0).state_dict()
    save_file(headless, str(tmp_path / "h.safetensors"))
    loaded = build_with_weights(spec, import_object(spec.builder), dict(headless),
                                num_classes=None, in_chans=3, kwargs={}, saved_classes=0)
    assert loaded.num_classes == 0 and set(loaded.model.state_dict()) == set(headless)
    with pytest.warns(UserWarning, match="num_classes=5"):
        fresh = build_with_weights(spec, import_object(spec.builder), dict(headless),
                                   num_classes=5, in_chans=3, kwargs={}, saved_classes=0)
    assert fresh.model.get_classifier().out_features == 5
