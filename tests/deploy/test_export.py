"""ONNX and torch.export (.pt2) exports of every registered model, verified against eager.

The default run exports one model per family; every model is exported in the
``exhaustive`` tier (``scripts/run_exhaustive.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from torch import nn

import cnnzoo
from cnnzoo.build.loading import SkipMetaInit
from cnnzoo.cli import main
from cnnzoo.deploy.export import METADATA_KEY, read_metadata, to_exported_program, to_onnx
from cnnzoo.errors import ExportError, ExportVerificationError
from tests.helpers import materialize, scale_to_fan_in

# The biggest networks: still in the default run, deselect with -m "not slow".
SLOW = ("vgg", "senet154", "convnext_large", "efficientnet_b6", "efficientnet_b7",
        "resnext101")


# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


def _params(names):
    return [pytest.param(n, marks=pytest.mark.slow) if n.startswith(SLOW) else n for n in names]


def build(name: str, **kwargs) -> nn.Module:
    """A registered model on the meta device, materialised with well-scaled random weights.

    ``materialize`` gives every tensor real storage; :func:`tests.helpers.scale_to_fan_in`
    then gives conv and linear weights unit fan-in variance and norm layers identity, so
    activations stay of order one through deep networks and the 1e-4 comparison means
    something.
    """
    with torch.device("meta"), SkipMetaInit():
        model = cnnzoo.create(name, **kwargs)
    materialize(model)
    _copy_computed_buffers(model, name, **kwargs)
    return scale_to_fan_in(model).eval()


def _copy_computed_buffers(model: nn.Module, name: str, **kwargs) -> None:
    """Non-persistent buffers (BlurPool's fixed filter…) are computed in ``__init__`` and are
    not in the state dict, so ``materialize`` leaves them uninitialised: copy them from a
    model built on the CPU."""
    persistent = set(model.state_dict())
    computed = [n for n, b in model.named_buffers()
                if n not in persistent and b.is_floating_point()]
    if not computed:
        return
    reference = dict(cnnzoo.create(name, **kwargs).named_buffers())
    with torch.no_grad():
        for n, buffer in model.named_buffers():
            if n in computed:
                buffer.copy_(reference[n])


def small_size(name: str) -> tuple[int, int, int]:
    spec = cnnzoo.model_info(name)
    side = {"lenet5": 32, "inception_v3": 75}.get(name, 64)  # 64, or what the model needs
    return (spec.in_chans, side, side)


TOLERANCES: dict[str, tuple[float, float]] = {}


@pytest.fixture(scope="module", autouse=True)
def _print_tolerances():
    yield
    if TOLERANCES:
        print("\nmeasured ONNX vs eager (max abs diff, max rel diff):")
        for name, (abs_diff, rel_diff) in sorted(TOLERANCES.items()):
            print(f"  {name:24s} {abs_diff:.2e}  {rel_diff:.2e}")


def test_example_plugin_is_registered() -> None:
    assert "tinynet" in cnnzoo.list_models()


def _family_representatives() -> list[str]:
    """The smallest model of each family: the default run exports these."""
    smallest: dict[str, tuple[int, str]] = {}
    for name in cnnzoo.list_models():
        spec = cnnzoo.model_info(name)
        key = (spec.num_params or 0, name)
        smallest[spec.family] = min(smallest.get(spec.family, key), key)
    return sorted(name for _, name in smallest.values())


def check_onnx_export(name: str, tmp_path: Path) -> None:
    """Export ``name`` to ONNX and check the file, its dynamic axes and its agreement."""
    model = build(name)
    size = small_size(name)
    path = tmp_path / f"{name}.onnx"
    try:
        report = to_onnx(model, path, input_size=size)
        assert path.is_file() and report.file_size >= path.stat().st_size
        onnx.checker.check_model(str(path))
        assert report.verified and report.format == "onnx" and report.opset == 18
        # dynamic batch, verified at batch sizes 1 and 3, on random and real (digits) inputs
        batches = {c.shape[0] for c in report.checks}
        assert {1, 3} <= batches
        assert {c.inputs.split()[0] for c in report.checks} == {"random", "digits"}
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        assert isinstance(session.get_inputs()[0].shape[0], str)  # symbolic batch
        # within 1e-4, plus 1e-4 relative to the largest output (big, deep nets)
        assert (report.atol, report.rtol) == (1e-4, 1e-4)
        for check in report.checks:
            assert check.passed, check
        assert report.top1_agreement >= (0.999 if report.task == "segmentation" else 1.0)
        if report.task == "segmentation":
            out = session.run(None, {"input": np.zeros((2, *size), np.float32)})[0]
            assert out.shape[0] == 2 and out.shape[2:] == size[1:]
            # dynamic height/width when the model allows it, else the report says why not
            assert "2" in report.dynamic_axes or any("height and width" in n
                                                     for n in report.notes)
        TOLERANCES[name] = (report.max_abs_diff, report.max_rel_diff)
    finally:
        for leftover in tmp_path.iterdir():  # the big ones are hundreds of MB
            leftover.unlink()


@pytest.mark.parametrize("name", _params(_family_representatives()))
def test_each_family_exports_to_onnx(name: str, tmp_path: Path) -> None:
    check_onnx_export(name, tmp_path)


@pytest.mark.exhaustive
@pytest.mark.parametrize("name", _params(cnnzoo.list_models()))
def test_every_model_exports_to_onnx(name: str, tmp_path: Path) -> None:
    check_onnx_export(name, tmp_path)


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "mobilenetv3_small_100", "unet"])
def test_exported_program_pt2(name: str, tmp_path: Path) -> None:
    model = build(name)
    path = tmp_path / f"{name}.pt2"
    report = to_exported_program(model, path, input_size=small_size(name))
    assert report.verified and report.format == "pt2"
    assert {1, 3} <= {c.shape[0] for c in report.checks}
    assert report.max_abs_diff <= 1e-5
    loaded = torch.export.load(path).module()
    x = torch.randn(3, *small_size(name))
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), atol=1e-5, rtol=1e-5)
    meta = read_metadata(path)
    assert meta["architecture"] == name
    assert meta["input_size"] == small_size(name)


def test_metadata_round_trips_preprocessing_and_labels(tmp_path: Path) -> None:
    model = cnnzoo.create("lenet5", pretrained=True)
    path = tmp_path / "lenet5.onnx"
    report = to_onnx(model, path)
    cfg = model.pretrained_cfg
    meta = read_metadata(path)
    assert meta["architecture"] == "lenet5" and meta["task"] == "classification"
    for key in ("mean", "std", "input_size"):
        assert tuple(meta[key]) == tuple(cfg[key])
    assert meta["crop_pct"] == cfg["crop_pct"] and meta["interpolation"] == cfg["interpolation"]
    assert meta["labels"] == tuple(str(i) for i in range(10)) == tuple(cfg["labels"])
    # any ONNX consumer sees it: onnxruntime's model metadata
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    raw = json.loads(session.get_modelmeta().custom_metadata_map[METADATA_KEY])
    assert raw["labels"] == [str(i) for i in range(10)] and raw["mean"] == [0.5]
    # the real-data check used the digits at the model's preprocessing: all agree
    assert report.top1_agreement == 1.0


# -- failures: clear errors, nothing written ------------------------------------------


def _nothing_written(folder: Path) -> bool:
    return not folder.exists() or not any(folder.iterdir())


def test_wrong_input_size(tmp_path: Path) -> None:
    out = tmp_path / "out" / "lenet5.onnx"
    with pytest.raises(ExportError, match=r"does not accept inputs of size 1x64x64.*32"):
        to_onnx(cnnzoo.create("lenet5"), out, input_size=(1, 64, 64))
    with pytest.raises(ExportError, match="does not accept inputs of size 3x32x32"):
        to_onnx(cnnzoo.create("lenet5"), out, input_size=(3, 32, 32))
    assert not out.exists() and _nothing_written(out.parent)


def test_non_existent_path_and_unknown_name(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no such file or directory"):
        to_onnx(str(tmp_path / "missing" / "model"), tmp_path / "x.onnx")
    with pytest.raises(cnnzoo.CnnzooError, match="Did you mean: resnet50"):
        to_onnx("resnet5O", tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


@torch.library.custom_op("cnnzoo_test::opaque", mutates_args=())
def opaque(x: torch.Tensor) -> torch.Tensor:
    return x * 2


@opaque.register_fake
def _(x):
    return torch.empty_like(x)


class _OpaqueBlock(nn.Module):
    def forward(self, x):
        return opaque(x)


class _Unsupported(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.odd = _OpaqueBlock()
        self.pretrained_cfg = {"input_size": (3, 16, 16)}

    def forward(self, x):
        return self.odd(self.conv(x)).mean((2, 3))


class _DataDependent(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.pretrained_cfg = {"input_size": (3, 16, 16)}

    def forward(self, x):
        y = self.conv(x)
        if y.sum() > 0:
            return y.mean((2, 3))
        return y.amax((2, 3))


class _Noisy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.pretrained_cfg = {"input_size": (3, 16, 16)}

    def forward(self, x):
        y = self.conv(x)
        return (y + torch.rand_like(y)).mean((2, 3))


def test_unsupported_op_names_op_and_module(tmp_path: Path) -> None:
    out = tmp_path / "out" / "m.onnx"
    with pytest.raises(ExportError, match=r"cnnzoo_test\.opaque.*module 'odd' \(.*_OpaqueBlock"):
        to_onnx(_Unsupported(), out)
    assert not out.exists() and _nothing_written(out.parent)


def test_untraceable_code_names_module(tmp_path: Path) -> None:
    out = tmp_path / "m.onnx"
    with pytest.raises(ExportError, match=r"could not capture.*_DataDependent.*test_export\.py"):
        to_onnx(_DataDependent(), out)
    assert not out.exists()


def test_mismatch_is_refused_and_not_written(tmp_path: Path) -> None:
    out = tmp_path / "m.onnx"
    with pytest.raises(ExportVerificationError, match="does not match eager") as info:
        to_onnx(_Noisy(), out)
    assert not info.value.report.verified
    assert _nothing_written(tmp_path)


# -- the CLI -----------------------------------------------------------------------------


def test_cli_export(tmp_path: Path, capsys) -> None:
    out = tmp_path / "lenet5.onnx"
    assert main(["export", "lenet5", "--pretrained", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "max abs diff" in text and "random b3" in text and "digits b3" in text
    assert out.is_file()
    assert main(["export", "lenet5", "--out", str(tmp_path / "p.onnx"), "--pt2"]) == 0
    assert (tmp_path / "p.pt2").is_file()
    bad = tmp_path / "bad.onnx"
    assert main(["export", "lenet5", "--out", str(bad), "--input-size", "1", "64", "64"]) == 2
    assert "does not accept inputs" in capsys.readouterr().err
    assert not bad.exists()
