"""A segmenter's predictions as files: palette PNG masks, colour overlays, predictions.json.

One tiny UNet (``base_width=4``, 3 classes, 64x64): its head is rebalanced so that a
random network gives every class a real share of the pixels (a random head's bias alone
would paint every pixel one class). The ONNX copy is written with the TorchScript
exporter plus cnnzoo's metadata (a fraction of a second; ``to_onnx``'s verified export
of the same model runs in the exhaustive tier).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import cnnzoo
from cnnzoo.cli import main
from cnnzoo.deploy.masks import mask_transform, voc_palette, write_png
from cnnzoo.deploy.predict import PREDICTIONS_FILE, Predictor, predict
from cnnzoo.deploy.runtime import METADATA_KEY, metadata_for
from cnnzoo.errors import PredictError
from tests.cli.test_bad_input import fails

pytestmark = pytest.mark.usefixtures("one_thread")

SIZE = 64
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
VOC = {0: (0, 0, 0), 1: (128, 0, 0), 2: (0, 128, 0), 3: (128, 128, 0), 4: (0, 0, 128),
       8: (64, 0, 0), 15: (192, 128, 128), 20: (0, 64, 128), 255: (224, 224, 192)}


def _picture(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """Gradients, stripes and a white square: enough structure for varied logits."""
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 // width, y * 255 // height, (x + y) % 32 * 8], -1)
    rgb[height // 4:height // 2, width // 4:width // 2] = 255
    return Image.fromarray(rgb.astype(np.uint8)).convert(mode)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("pictures")
    paths = []
    for name, (w, h, mode) in {"square": (SIZE, SIZE, "RGB"), "wide": (80, 48, "RGB"),
                               "grey": (40, 56, "L")}.items():
        paths.append(folder / f"{name}.png")
        _picture(w, h, mode).save(paths[-1])
    return paths


@pytest.fixture(scope="module")
def unet(pictures: list[Path]) -> torch.nn.Module:
    torch.manual_seed(0)
    model = cnnzoo.create("unet", base_width=4, num_classes=3).eval()
    model.pretrained_cfg["input_size"] = (3, SIZE, SIZE)
    model.pretrained_cfg["labels"] = ("background", "left", "right")
    head = model.get_classifier()
    x = torch.stack([mask_transform(model.pretrained_cfg)(Image.open(p)) for p in pictures])
    with torch.no_grad():  # centre each class's logit on these pictures, then sharpen
        head.bias.zero_()
        head.bias.copy_(-model(x).mean((0, 2, 3)))
        head.weight.mul_(100)
        head.bias.mul_(100)
    return model


@pytest.fixture(scope="module")
def unet_onnx(unet: torch.nn.Module, tmp_path_factory: pytest.TempPathFactory) -> Path:
    import onnx

    path = tmp_path_factory.mktemp("onnx") / "unet.onnx"
    with warnings.catch_warnings():  # the legacy exporter's deprecation and tracer notes
        warnings.simplefilter("ignore")
        torch.onnx.export(unet, (torch.zeros(1, 3, SIZE, SIZE),), str(path), dynamo=False,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(metadata_for(unet, (3, SIZE, SIZE)))
    onnx.save(proto, str(path))
    return path


def _eager_mask(model: torch.nn.Module, x: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The eager logits of one preprocessed image, resized bilinearly to ``size``, argmax."""
    with torch.no_grad():
        logits = model(torch.from_numpy(x)[None])
    return torch.nn.functional.interpolate(logits, size=size, mode="bilinear",
                                           align_corners=False)[0].argmax(0).numpy()


def test_palette_is_vocs_colour_map() -> None:
    palette = voc_palette()
    assert palette.shape == (256, 3) and palette.dtype == np.uint8
    for index, colour in VOC.items():
        assert tuple(palette[index]) == colour, index
    assert len({tuple(c) for c in palette}) == 256  # one colour per class id
    with pytest.raises(PredictError, match="1 to 256"):
        voc_palette(257)


def test_masks_are_the_eager_argmax_at_the_image_size(unet, pictures, tmp_path) -> None:
    results = predict(unet, pictures, out=tmp_path)
    predictor = Predictor(unet)
    for path, result in zip(pictures, results, strict=True):
        with Image.open(path) as image:
            size = (image.height, image.width)
            x = mask_transform(predictor.cfg)(image).numpy()
        png = Image.open(tmp_path / f"{path.stem}.mask.png")
        assert png.mode == "P" and png.size == (size[1], size[0])
        np.testing.assert_array_equal(np.asarray(png), _eager_mask(unet, x, size))
        np.testing.assert_array_equal(np.asarray(png), result.mask)
        assert png.getpalette()[:3 * 256] == voc_palette().ravel().tolist()
        # the classes present, by pixel share, sum to the whole image
        shares = np.bincount(np.asarray(png).ravel(), minlength=3) / np.asarray(png).size
        assert [p.index for p in result.top] == [i for i in np.argsort(-shares,
                                                                         kind="stable")
                                                 if shares[i] > 0]
        assert [p.score for p in result.top] == pytest.approx(sorted(shares[shares > 0],
                                                                     reverse=True))
    square = results[0]
    assert sum(p.score > 0.05 for p in square.top) == 3  # the seeded model is not trivial
    # the square picture needs no resize: its input is plain (pixel / 255 - mean) / std
    pixels = np.asarray(Image.open(pictures[0]), dtype=np.float32) / 255
    manual = ((pixels - MEAN) / STD).transpose(2, 0, 1).astype(np.float32)
    np.testing.assert_array_equal(square.mask, _eager_mask(unet, manual, (SIZE, SIZE)))


def test_overlay_colours_only_the_foreground(unet, pictures, tmp_path) -> None:
    results = predict(unet, pictures, out=tmp_path, alpha=0.5)
    palette = voc_palette().astype(np.float32)
    for path, result in zip(pictures, results, strict=True):
        image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32)
        over = Image.open(tmp_path / f"{path.stem}.overlay.png")
        assert over.mode == "RGB" and over.size == Image.open(path).size
        over_px = np.asarray(over, dtype=np.float32)
        changed = (over_px != image).any(-1)
        foreground = result.mask != 0
        assert not (changed & ~foreground).any()  # background pixels are the image's
        assert foreground.any() and changed[foreground].mean() > 0.9
        expected = np.rint(0.5 * image + 0.5 * palette[result.mask])
        np.testing.assert_array_equal(over_px[foreground], expected[foreground])


def test_onnx_gives_the_eager_masks(unet, unet_onnx, pictures) -> None:
    eager = Predictor(unet).masks(pictures)
    onnx_ = Predictor(unet_onnx)
    assert (onnx_.backend, onnx_.task, onnx_.labels) == (
        "onnx", "segmentation", ("background", "left", "right"))
    for a, b in zip(eager, onnx_.masks(pictures), strict=True):
        np.testing.assert_array_equal(a.mask, b.mask)
        assert [p.index for p in a.top] == [p.index for p in b.top]


@pytest.mark.exhaustive
def test_every_backend_gives_the_eager_masks(unet, unet_onnx, pictures) -> None:
    """``to_onnx``'s verified export and OpenVINO (when installed) give the eager masks."""
    eager = Predictor(unet).masks(pictures)
    backends = [Predictor(unet, backend="onnx")]
    try:
        import openvino  # noqa: F401
    except ImportError:
        pass
    else:
        backends.append(Predictor(unet_onnx, backend="openvino", precision="fp32"))
    for predictor in backends:
        for a, b in zip(eager, predictor.masks(pictures), strict=True):
            assert (a.mask == b.mask).mean() > 0.999, predictor.backend


def test_predictions_json_and_rewrites(unet, pictures, tmp_path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("kept")
    results = predict(unet, pictures[:2], out=tmp_path, top_k=2, overlay=True)
    payload = json.loads((tmp_path / PREDICTIONS_FILE).read_text())
    assert payload["task"] == "segmentation" and payload["labels"] == ["background", "left",
                                                                        "right"]
    assert payload["legend"] == [{"index": 0, "label": "background", "colour": [0, 0, 0]},
                                 {"index": 1, "label": "left", "colour": [128, 0, 0]},
                                 {"index": 2, "label": "right", "colour": [0, 128, 0]}]
    first = payload["predictions"][0]
    assert first["files"] == {"mask": "square.mask.png", "overlay": "square.overlay.png"}
    assert len(first["top"]) == 2 and first["top"][0]["label"] == results[0].best.label
    # a second run replaces its own files whole, leaves the rest, and drops no temporaries
    predict(unet, pictures[:1], out=tmp_path, overlay=False, alpha=None)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "notes.txt", PREDICTIONS_FILE, "square.mask.png", "square.overlay.png",
        "wide.mask.png", "wide.overlay.png"]
    assert "overlay" not in json.loads((tmp_path / PREDICTIONS_FILE).read_text())[
        "predictions"][0]["files"]
    assert other.read_text() == "kept"
    # in-memory images are named by position
    [memory] = predict(unet, [Image.open(pictures[1])], out=tmp_path / "mem")
    assert Path(memory.files["mask"]).name == "image-0.mask.png"


def test_bad_requests_write_nothing(unet, pictures, tmp_path) -> None:
    twin = tmp_path / "b" / "square.png"
    twin.parent.mkdir()
    twin.write_bytes(pictures[0].read_bytes())
    out = tmp_path / "out"
    with pytest.raises(PredictError, match=r"would both be written as square\.mask\.png"):
        predict(unet, [pictures[0], twin], out=out)
    beside = tmp_path / "c"
    beside.mkdir()
    for name in ("a.png", "a.mask.png"):
        (beside / name).write_bytes(pictures[0].read_bytes())
    with pytest.raises(PredictError, match="would replace the input image"):
        predict(unet, [beside / "a.png", beside / "a.mask.png"], out=beside)
    not_image = tmp_path / "fake.png"
    not_image.write_text("not a png")
    with pytest.raises(PredictError, match="is not an image"):
        predict(unet, [pictures[0], not_image], out=out)
    with pytest.raises(PredictError, match="is a file"):
        predict(unet, pictures[:1], out=not_image)
    with pytest.raises(PredictError, match="cannot create the output folder"):
        predict(unet, pictures[:1], out=not_image / "sub")
    with pytest.raises(PredictError, match="opacity"):
        predict(unet, pictures[:1], out=out, alpha=1.5)
    with pytest.raises(PredictError, match="written with out=DIR"):
        predict(unet, pictures[:1], alpha=0.3)
    assert not list(out.iterdir()) if out.exists() else True
    assert sorted(p.name for p in beside.iterdir()) == ["a.mask.png", "a.png"]


def test_write_png_is_atomic(tmp_path) -> None:
    class Failing:
        def save(self, path, format):
            Path(path).write_bytes(b"\x89PNG half")
            raise OSError("disk full")

    target = tmp_path / "x.mask.png"
    target.write_bytes(b"old")
    with pytest.raises(OSError, match="disk full"):
        write_png(Failing(), target)
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == [
        "x.mask.png"]


def test_classifier_out_writes_predictions_json(pictures, tmp_path) -> None:
    lenet = cnnzoo.create("lenet5", pretrained=True)
    results = predict(lenet, pictures[:1], out=tmp_path, top_k=3)
    assert [p.name for p in tmp_path.iterdir()] == [PREDICTIONS_FILE]
    payload = json.loads((tmp_path / PREDICTIONS_FILE).read_text())
    assert payload["task"] == "classification" and "legend" not in payload
    assert [p["index"] for p in payload["predictions"][0]["top"]] == [
        p.index for p in results[0].top]
    assert results[0].mask is None
    with pytest.raises(PredictError, match="classification model"):
        predict(lenet, pictures[:1], out=tmp_path, alpha=0.5)
    with pytest.raises(PredictError, match="masks need a segmentation model"):
        Predictor(lenet).masks(pictures[:1])


def test_cli_writes_masks(unet_onnx, pictures, tmp_path, capsys) -> None:
    out = tmp_path / "masks"
    assert main(["predict", str(unet_onnx), *map(str, pictures), "--out", str(out),
                 "--alpha", "0.4"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{unet_onnx} (onnx, fp32)"
    assert lines[-1] == f"wrote {out / PREDICTIONS_FILE}"
    per_image = lines[1:-1]
    assert len(per_image) == len(pictures)
    for line, path in zip(per_image, pictures, strict=True):
        assert line.startswith(f"{path} -> {out / path.stem}.mask.png, "
                               f"{out / path.stem}.overlay.png: ")
        assert "%" in line and ("left" in line or "right" in line or "background" in line)
    assert (out / "wide.mask.png").is_file() and (out / "grey.overlay.png").is_file()
    assert main(["predict", str(unet_onnx), str(pictures[0]), "--out", str(out),
                 "--no-overlay", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["predictions"][0]["files"] == {"mask": "square.mask.png"}
    assert payload == json.loads((out / PREDICTIONS_FILE).read_text())


def test_cli_classifier_out(pictures, tmp_path, capsys) -> None:
    assert main(["predict", "lenet5", str(pictures[0]), "--out", str(tmp_path),
                 "--top-k", "2"]) == 0
    out = capsys.readouterr().out
    assert "rank" in out and out.rstrip().endswith(f"wrote {tmp_path / PREDICTIONS_FILE}")
    assert len(json.loads((tmp_path / PREDICTIONS_FILE).read_text())["predictions"]) == 1


def test_cli_bad_input(unet_onnx, pictures, tmp_path, capsys) -> None:
    image, model = str(pictures[0]), str(unet_onnx)
    fake = tmp_path / "fake.png"
    fake.write_text("text")
    assert "is not an image" in fails(capsys, "predict", model, str(fake), "--out",
                                      str(tmp_path / "o"))
    assert "is a file" in fails(capsys, "predict", model, image, "--out", str(fake))
    assert "cannot create the output folder" in fails(capsys, "predict", model, image,
                                                      "--out", str(fake / "o"))
    assert "add --out DIR" in fails(capsys, "predict", model, image, "--alpha", "0.3")
    assert "expected a number from 0 to 1" in fails(capsys, "predict", model, image,
                                                    "--out", str(tmp_path), "--alpha", "2")
    err = fails(capsys, "predict", "lenet5", image, "--out", str(tmp_path / "c"),
                "--no-overlay")
    assert "--no-overlay shape a segmenter's overlays; lenet5 is a classification" in err
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").iterdir())
