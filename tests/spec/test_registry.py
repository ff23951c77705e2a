"""The registry: discovery through entry points, lookups, errors, laziness."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import cnnzoo
from cnnzoo.errors import DuplicateModelError, PluginWarning, SpecError, UnknownModelError
from cnnzoo.spec import ModelSpec, Registry

BUILTIN_FAMILIES = {
    "lenet", "alexnet", "vgg", "googlenet", "resnet", "resnext", "senet", "mobilenet",
    "efficientnet", "convnext", "unet",
}
REQUIRED = [
    "lenet5", "alexnet", "googlenet", "unet", "resnet18", "resnet34", "resnet50", "resnet101",
    "resnet152", "resnext50_32x4d", "resnext101_32x8d", "seresnet50", "senet154",
    "mobilenetv2_100", "mobilenetv3_small_100", "mobilenetv3_large_100", "convnext_tiny",
    "convnext_small", "convnext_base", "convnext_large",
    *(f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")),
    *(f"efficientnet_b{i}" for i in range(8)),
]


def test_every_required_architecture_is_registered():
    names = cnnzoo.list_models()
    missing = [n for n in REQUIRED if n not in names]
    assert not missing
    assert {cnnzoo.model_info(n).family for n in names} >= BUILTIN_FAMILIES


def test_builtins_come_from_cnnzoo_distribution_via_entry_points():
    from importlib.metadata import entry_points

    eps = {ep.name: ep for ep in entry_points(group="cnnzoo.models")}
    assert {"lenet", "resnet", "unet", "convnext"} <= set(eps)
    assert eps["resnet"].dist.name == "cnnzoo"
    assert cnnzoo.model_info("resnet50").source == "cnnzoo"


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("mobilenet_v3_large", "mobilenetv3_large_100"),
        ("mobilenet_v3_small", "mobilenetv3_small_100"),
        ("mobilenet_v2", "mobilenetv2_100"),
        ("resnext50_32x4d", "resnext50_32x4d"),
        ("inception_v1", "googlenet"),
        ("se_resnet50", "seresnet50"),
        ("lenet", "lenet5"),
        ("convnext_t", "convnext_tiny"),
    ],
)
def test_aliases_resolve_to_one_spec(alias, canonical):
    assert cnnzoo.is_model(alias)
    assert cnnzoo.model_info(alias).name == canonical


def test_list_models_filters():
    assert cnnzoo.list_models("resnet*") == [
        "resnet101", "resnet152", "resnet18", "resnet34", "resnet50"]
    segmenters = cnnzoo.list_models(task="segmentation")
    assert {"unet", "fpn", "deeplabv3_resnet50"} <= set(segmenters) and "resnet50" not in segmenters
    assert set(cnnzoo.list_models(family="vgg")) == {
        f"vgg{d}{bn}" for d in (11, 13, 16, 19) for bn in ("", "_bn")}
    # aliases match patterns too
    assert "mobilenetv3_large_100" in cnnzoo.list_models("mobilenet_v3_*")
    assert cnnzoo.list_models(["lenet*", "alexnet"]) == ["alexnet", "lenet5"]
    all_names = cnnzoo.list_models()
    with_w = cnnzoo.list_models(pretrained=True)
    without = cnnzoo.list_models(pretrained=False)
    assert sorted(with_w + without) == sorted(all_names)


def test_unknown_name_suggests_closest():
    with pytest.raises(UnknownModelError) as err:
        cnnzoo.model_info("resnet51")
    assert "resnet50" in str(err.value) and "Did you mean" in str(err.value)
    with pytest.raises(UnknownModelError, match="efficientnet_b0"):
        cnnzoo.model_info("efficentnet_b0")
    assert not cnnzoo.is_model("resnet51")


def test_bad_filters_list_the_choices():
    with pytest.raises(cnnzoo.CnnzooError, match="classification, segmentation"):
        cnnzoo.list_models(task="detection")
    with pytest.raises(cnnzoo.CnnzooError, match="Did you mean: resnet"):
        cnnzoo.list_models(family="resnets")


def test_capabilities_are_queryable_from_the_spec():
    spec = cnnzoo.model_info("resnet50")
    assert spec.features_only
    assert spec.cam_layer == "layer4"
    assert spec.stages == ("stem", "stage1", "stage2", "stage3", "stage4", "head")
    assert [f.reduction for f in spec.feature_info] == [2, 4, 8, 16, 32]
    info = spec.to_dict()
    assert info["capabilities"]["features_only"] is True
    assert "torchvision" in info["capabilities"]["checkpoint_formats"]


def test_every_spec_is_complete():
    for name in cnnzoo.list_models():
        spec = cnnzoo.model_info(name)
        assert spec.paper is not None and spec.paper.url.startswith("http"), name
        assert spec.num_params and spec.gmacs, name
        assert spec.stages and spec.stages[-1] == "head", name
        assert set(spec.stage_modules) == set(spec.stages), name
        assert spec.cam_layer, name
        assert spec.feature_info, name


def test_spec_validation_errors_are_clear():
    with pytest.raises(SpecError, match="classification, segmentation"):
        ModelSpec(name="x", family="x", task="detection", builder="a:b")
    with pytest.raises(SpecError, match=r"package\.module:function"):
        ModelSpec(name="x", family="x", task="classification", builder="nocolon")
    with pytest.raises(SpecError, match="default_tag"):
        ModelSpec(name="x", family="x", task="classification", builder="a:b", default_tag="t")


def test_listing_imports_neither_torch_nor_timm_nor_torchvision():
    code = textwrap.dedent(
        """
        import sys, cnnzoo
        names = cnnzoo.list_models()
        cnnzoo.model_info("resnet50"); cnnzoo.is_model("unet")
        heavy = [m for m in ("torch", "torchvision", "timm") if m in sys.modules]
        assert len(names) >= 36, names
        assert not heavy, heavy
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _fake_distribution(root: Path, name: str, module: str, source: str) -> None:
    """A minimal installed distribution (dist-info + module) on a temporary sys.path entry."""
    (root / f"{module}.py").write_text(textwrap.dedent(source))
    info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[cnnzoo.test]\n{module} = {module}:SPECS\n")


GOOD_PLUGIN = """
from cnnzoo.spec import ModelSpec, Paper
SPECS = [ModelSpec(name="{name}", family="fake", task="classification",
                   builder="fake:build", paper=Paper("t", 2020, "https://x"))]
"""


def test_broken_plugin_warns_once_and_the_rest_still_works(tmp_path, monkeypatch):
    _fake_distribution(tmp_path, "good-plugin", "good_plugin", GOOD_PLUGIN.format(name="goodnet"))
    _fake_distribution(tmp_path, "broken-plugin", "broken_plugin", "raise ImportError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = Registry(group="cnnzoo.test")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert registry.list() == ["goodnet"]
        assert registry.list() == ["goodnet"]  # second query: no second warning
    plugin_warnings = [w for w in caught if issubclass(w.category, PluginWarning)]
    assert len(plugin_warnings) == 1
    message = str(plugin_warnings[0].message)
    assert "broken-plugin" in message and "boom" in message
    assert "broken-plugin:broken_plugin" in registry.failed


def test_same_name_from_two_distributions_is_an_error_naming_both(tmp_path, monkeypatch):
    _fake_distribution(tmp_path, "plugin-a", "plugin_a", GOOD_PLUGIN.format(name="samenet"))
    _fake_distribution(tmp_path, "plugin-b", "plugin_b", GOOD_PLUGIN.format(name="samenet"))
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(DuplicateModelError) as err:
        Registry(group="cnnzoo.test").list()
    assert "plugin-a" in str(err.value) and "plugin-b" in str(err.value)


def test_plugin_yielding_a_non_spec_is_reported(tmp_path, monkeypatch):
    _fake_distribution(tmp_path, "odd-plugin", "odd_plugin", "SPECS = ['not a spec']\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(PluginWarning, match="not a ModelSpec"):
        assert Registry(group="cnnzoo.test").list() == []


def test_runtime_register_and_unregister():
    spec = ModelSpec(name="scratchnet", family="scratch", task="classification",
                     builder="cnnzoo_plugin_example.net:build_tinynet",
                     stages=("stem", "head"))
    from cnnzoo.spec import REGISTRY

    REGISTRY.register(spec)
    try:
        assert cnnzoo.model_info("scratchnet").source == "__main__"
        with pytest.raises(DuplicateModelError):
            REGISTRY.register(spec)
    finally:
        REGISTRY.unregister("scratchnet")
    assert not cnnzoo.is_model("scratchnet")
