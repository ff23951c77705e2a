"""fit(), distill(), the data helpers and ``cnnzoo finetune`` on real data (the digits)."""

from __future__ import annotations

import json
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset

import cnnzoo
from cnnzoo.cli import main as cli
from cnnzoo.data import (
    digits,
    image_folder,
    image_folder_split,
    mixup_cutmix,
    random_shift,
    subset_classes,
    train_transform,
)
from cnnzoo.errors import DataError, TrainError
from cnnzoo.train import EarlyStopping, distill, evaluate, fit
from cnnzoo.train.losses import distillation_loss

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def lenet_split():
    return digits((1, 32, 32))


def _small(dataset: TensorDataset, n: int) -> TensorDataset:
    return TensorDataset(*(t[:n] for t in dataset.tensors))


# -- the must-shows ---------------------------------------------------------------------


def test_lenet_from_scratch_reaches_97_percent(tmp_path, lenet_split):
    torch.manual_seed(0)
    model = cnnzoo.create("lenet5")
    shifts = torch.Generator().manual_seed(1)
    history = fit(model, lenet_split.train, lenet_split.test, epochs=15, lr=3e-3, warmup=3,
                  weight_decay=1e-4, label_smoothing=0.05, seed=0,
                  augment=lambda x: random_shift(x, 2, shifts), checkpoint_dir=tmp_path / "best")
    assert len(history) == 15 and history.monitor == "val_accuracy"
    assert history.best >= 0.97, history["val_accuracy"]
    assert history.last["val_accuracy"] >= 0.97
    assert history["train_loss"][-1] < history["train_loss"][0]
    # the best epoch was saved in the Hub format and reloads with the same accuracy
    folder = history.best_checkpoint
    assert {p.name for p in folder.iterdir()} >= {"config.json", "model.safetensors",
                                                  "README.md"}
    assert "val_accuracy" in (folder / "README.md").read_text()
    best = cnnzoo.create(str(folder))
    assert evaluate(best, lenet_split.test)["accuracy"] == pytest.approx(history.best)
    assert best.pretrained_cfg["labels"] is None or len(best.pretrained_cfg["labels"]) == 10


def test_distillation_loss_is_the_formula():
    torch.manual_seed(0)
    student, teacher = torch.randn(6, 5), torch.randn(6, 5) * 3
    targets = torch.tensor([0, 1, 2, 3, 4, 0])
    t, alpha = 4.0, 0.7
    p_teacher = torch.softmax(teacher / t, 1)
    log_p_student = torch.log_softmax(student / t, 1)
    kl = (p_teacher * (p_teacher.log() - log_p_student)).sum(1).mean()
    ce = -torch.log_softmax(student, 1)[torch.arange(6), targets].mean()
    expected = alpha * kl * t * t + (1 - alpha) * ce
    got = distillation_loss(student, teacher, targets, temperature=t, alpha=alpha)
    torch.testing.assert_close(got, expected)
    assert float(distillation_loss(student, student, targets, alpha=1.0)) == pytest.approx(0.0,
                                                                                           abs=1e-6)
    torch.testing.assert_close(distillation_loss(student, teacher, targets, alpha=0.0),
                               F.cross_entropy(student, targets))
    with pytest.raises(ValueError, match="same classes"):
        distillation_loss(student, teacher[:, :4], targets)


def test_distilled_student_reaches_95_percent(lenet_split):
    teacher = cnnzoo.create("lenet5", pretrained=True)  # embedded weights, no network
    assert evaluate(teacher, lenet_split.test)["accuracy"] > 0.98
    torch.manual_seed(0)
    student = nn.Sequential(nn.Flatten(), nn.Linear(32 * 32, 32), nn.ReLU(), nn.Linear(32, 10))
    assert sum(p.numel() for p in student.parameters()) < 0.6 * sum(
        p.numel() for p in teacher.parameters())
    history = distill(teacher, student, lenet_split.train, lenet_split.test, epochs=8, lr=3e-3,
                      temperature=4.0, alpha=0.7, seed=0)
    assert history.last["val_accuracy"] >= 0.95, history["val_accuracy"]
    assert not any(p.requires_grad for p in teacher.parameters())
    with pytest.raises(TrainError, match="teacher predicts 10 classes and the student 3"):
        distill(teacher, cnnzoo.create("lenet5", num_classes=3), lenet_split.train, epochs=1)


# -- bad input ----------------------------------------------------------------------------


def test_class_count_contradicting_the_data(lenet_split, tmp_path):
    model = cnnzoo.create("lenet5", num_classes=5)
    with pytest.raises(TrainError, match=r"labels run from 0 to 9 but the model predicts 5 "
                                         r"classes.*num_classes=10.*replace_head"):
        fit(model, lenet_split.train, epochs=1)

    class NoLabels(Dataset):  # labels only visible batch by batch
        def __len__(self):
            return 64

        def __getitem__(self, i):
            return lenet_split.train[i]

    with pytest.raises(TrainError, match=r"a batch holds class \d but the model predicts 5"):
        fit(model, NoLabels(), epochs=1)
    folder = _write_digit_folder(tmp_path / "three", classes=(0, 1, 2), per_class=4)
    with pytest.raises(TrainError, match=r"has 3 classes \(digit0, digit1, digit2\) but the "
                                         r"model predicts 5"):
        fit(model, image_folder(folder, model), epochs=1)
    with pytest.raises(TrainError, match="no classifier"):
        fit(cnnzoo.create("lenet5", num_classes=0), lenet_split.train, epochs=1)


def test_empty_or_missing_image_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        image_folder(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match=r"no images in .*empty.*one subfolder per class"):
        image_folder(tmp_path / "empty")
    (tmp_path / "hollow" / "cat").mkdir(parents=True)
    (tmp_path / "hollow" / "cat" / "notes.txt").write_text("not an image")
    with pytest.raises(DataError, match="no images"):
        image_folder_split(tmp_path / "hollow", cnnzoo.create("lenet5"))
    assert issubclass(DataError, cnnzoo.CnnzooError)


def test_bad_settings_are_clear_errors(lenet_split):
    model = cnnzoo.create("lenet5")
    small = _small(lenet_split.train, 64)
    with pytest.raises(TrainError, match="unknown scheduler 'cosinus'"):
        fit(model, small, epochs=1, scheduler="cosinus")
    with pytest.raises(TrainError, match="unknown optimizer 'lion'"):
        fit(model, small, epochs=1, optimizer="lion")
    with pytest.raises(TrainError, match="epochs must be at least 1"):
        fit(model, small, epochs=0)
    with pytest.raises(TrainError, match="mixup"):
        fit(model, small, epochs=1, mixup="blend")


# -- the loop's options --------------------------------------------------------------------


def test_grad_accumulation_equals_the_bigger_batch(lenet_split):
    data = _small(lenet_split.train, 256)
    torch.manual_seed(0)
    a = cnnzoo.create("lenet5")
    b = cnnzoo.create("lenet5")
    b.load_state_dict(a.state_dict())
    fit(a, data, epochs=2, optimizer="sgd", lr=0.05, batch_size=32, seed=3)
    fit(b, data, epochs=2, optimizer="sgd", lr=0.05, batch_size=16, grad_accum=2, seed=3)
    for (name, pa), pb in zip(a.named_parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(pa, pb, rtol=1e-4, atol=1e-5, msg=name)


def test_amp_mixup_ema_clipping_and_a_custom_scheduler(lenet_split, tmp_path):
    torch.manual_seed(0)
    model = cnnzoo.create("lenet5")
    data = _small(lenet_split.train, 512)
    history = fit(model, data, lenet_split.test, epochs=3, lr=3e-3, amp=True, mixup=True,
                  ema=0.9, clip_grad=1.0, label_smoothing=0.1, warmup=0.5,
                  checkpoint_dir=tmp_path / "ema")
    assert all(math.isfinite(v) for row in history.epochs for v in row.values())
    assert history.last["val_accuracy"] > 0.5
    # the model ends with the averaged weights, which are the ones evaluated and saved
    assert evaluate(model, lenet_split.test, amp=True)["accuracy"] == pytest.approx(
        history.last["val_accuracy"])
    saved = cnnzoo.create(str(tmp_path / "ema"))
    assert evaluate(saved, lenet_split.test, amp=True)["accuracy"] == pytest.approx(history.best)

    steps = []
    fit(model, _small(data, 64), epochs=2, batch_size=32, lr=1e-3, scheduler=lambda opt, total: (
        steps.append(total) or torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)))
    assert steps == [4]


def test_mixup_cutmix_and_train_transform():
    _, soft = mixup_cutmix(10)(torch.rand(4, 3, 16, 16), torch.tensor([0, 1, 2, 3]))
    assert soft.shape == (4, 10) and torch.allclose(soft.sum(1), torch.ones(4))
    cfg = cnnzoo.create("resnet18").pretrained_cfg
    tf = train_transform({**cfg, "input_size": (3, 48, 48)})
    out = tf(torch.randint(0, 255, (3, 100, 80), dtype=torch.uint8))
    assert out.shape == (3, 48, 48) and out.dtype == torch.float32
    gray = train_transform({**cfg, "input_size": (1, 32, 32)}, re_prob=0.0)
    assert gray(torch.randint(0, 255, (3, 50, 50), dtype=torch.uint8)).shape == (1, 32, 32)
    with pytest.raises(DataError):
        mixup_cutmix(10, mixup_alpha=0, cutmix_alpha=0)


def test_early_stopping(lenet_split):
    model = cnnzoo.create("lenet5")
    history = fit(model, _small(lenet_split.train, 64), _small(lenet_split.test, 64), epochs=6,
                  lr=0.0, early_stopping=2)
    assert len(history) == 3 and history.stopped_early and history.best_epoch == 1
    stopper = EarlyStopping(1, monitor="val_loss")
    history = fit(model, _small(lenet_split.train, 64), _small(lenet_split.test, 64), epochs=5,
                  lr=0.0, callbacks=[stopper])
    assert stopper.mode == "min" and len(history) == 2


def test_grad_checkpointing_on_a_timm_family(lenet_split):
    model = cnnzoo.create("resnet18", num_classes=10, in_chans=1)
    history = fit(model, _small(lenet_split.train, 64), epochs=1, grad_checkpointing=True,
                  batch_size=32)
    assert math.isfinite(history.last["train_loss"])


def test_dataloader_input_and_evaluate(lenet_split):
    model = cnnzoo.create("lenet5", pretrained=True)
    loader = DataLoader(lenet_split.test, batch_size=100)
    result = evaluate(model, loader)
    assert result["accuracy"] > 0.98 and set(result) == {"loss", "accuracy"}
    history = fit(model, DataLoader(_small(lenet_split.train, 64), batch_size=16), loader,
                  epochs=1, lr=1e-5)
    assert history.last["val_accuracy"] > 0.97


def test_subset_classes(lenet_split):
    late = subset_classes(lenet_split.test, [5, 6, 7, 8, 9])
    labels = late.tensors[1]
    assert sorted(set(labels.tolist())) == [0, 1, 2, 3, 4]
    original = lenet_split.test.tensors[1]
    assert len(late) == int((original >= 5).sum())


# -- image folders and the CLI ----------------------------------------------------------


def _write_digit_folder(root, classes=(0, 1, 2), per_class=12):
    from PIL import Image
    from sklearn.datasets import load_digits

    data = load_digits()
    for c in classes:
        (root / f"digit{c}").mkdir(parents=True, exist_ok=True)
        picks = [i for i, t in enumerate(data.target) if t == c][:per_class]
        for j, i in enumerate(picks):
            pixels = (data.images[i] * 255 / 16).astype("uint8")
            Image.fromarray(pixels).resize((32, 32)).save(root / f"digit{c}" / f"{j}.png")
    return root


def test_image_folder_keeps_class_names(tmp_path):
    root = _write_digit_folder(tmp_path / "imgs")
    model = cnnzoo.create("lenet5")
    dataset = image_folder(root, model)
    assert dataset.classes == ["digit0", "digit1", "digit2"]
    image, label = dataset[0]
    assert image.shape == (1, 32, 32) and label == 0
    split = image_folder_split(root, model, val_fraction=0.25, seed=0)
    assert split.labels == ("digit0", "digit1", "digit2")
    assert len(split.train) == 27 and len(split.val) == 9
    assert sorted(split.val.dataset.targets[i] for i in split.val.indices) == [0] * 3 + [1] * 3 \
        + [2] * 3  # stratified
    (tmp_path / "tv").mkdir()
    _write_digit_folder(tmp_path / "tv" / "train")
    _write_digit_folder(tmp_path / "tv" / "val", per_class=2)
    split = image_folder_split(tmp_path / "tv", model)
    assert len(split.train) == 36 and len(split.val) == 6


def test_finetune_cli_on_a_folder_and_publish(tmp_path, capsys, monkeypatch):
    from tests.hub.hubserver import HubServer, use_endpoint

    root = _write_digit_folder(tmp_path / "imgs", per_class=20)
    out = tmp_path / "out"
    with HubServer() as server:
        use_endpoint(monkeypatch, server.url, tmp_path / "hf-cache")
        code = cli(["finetune", "--model", "lenet5", "--data", str(root), "--epochs", "2",
                    "--head", "mlp:32,dropout=0.1", "--freeze", "until:stem", "--lr", "3e-3",
                    "--out", str(out), "--push-to-hub", "user/lenet-three"])
        text = capsys.readouterr().out
        assert code == 0, text
        assert "mlp:32,dropout=0.1 head for 3 classes" in text
        assert "epoch 1/2" in text and "epoch 2/2" in text and "val loss" in text
        assert f"saved to {out}" in text and "pushed to user/lenet-three" in text
        config = json.loads((out / "config.json").read_text())
        assert config["label_names"] == ["digit0", "digit1", "digit2"]
        assert config["head"]["hidden"] == [32]
        local = cnnzoo.create(str(out)).eval()
        remote = cnnzoo.create("hf-hub:user/lenet-three").eval()
        x = torch.randn(2, 1, 32, 32)
        with torch.no_grad():
            assert torch.equal(local(x), remote(x))
        assert remote.pretrained_cfg["labels"] == ("digit0", "digit1", "digit2")


def test_finetune_cli_digits_progressive_and_errors(tmp_path, capsys):
    out = tmp_path / "digits"
    assert cli(["finetune", "--model", "lenet5", "--data", "digits", "--epochs", "3",
                "--freeze", "progressive", "--lr", "3e-3", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "freeze: progressive" in text and "best val_accuracy" in text
    assert (out / "model.safetensors").is_file()
    assert cli(["finetune", "--model", "lenet5", "--data", "digits", "--head", "mlp:x",
                "--out", str(out)]) == 2
    assert "cannot parse head 'mlp:x'" in capsys.readouterr().err
    assert cli(["finetune", "--model", "lenet5", "--data", "digits", "--freeze", "until:stage7",
                "--epochs", "1", "--out", str(out)]) == 2
    assert "unknown stage 'stage7'" in capsys.readouterr().err
    (tmp_path / "void").mkdir()
    assert cli(["finetune", "--model", "lenet5", "--data", str(tmp_path / "void"),
                "--out", str(out)]) == 2
    assert "no images" in capsys.readouterr().err
