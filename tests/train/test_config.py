"""FitConfig, the Task protocol, DistillationTask and the Callback protocol of ``fit``."""

from __future__ import annotations

import dataclasses
import inspect
import typing

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

import cnnzoo
from cnnzoo.data import digits
from cnnzoo.errors import FitOptionError, TrainError
from cnnzoo.train import (
    Callback,
    ClassificationTask,
    DistillationTask,
    EarlyStopping,
    FitConfig,
    SegmentationTask,
    Task,
    distill,
    fit,
)
from cnnzoo.train.config import FitOptions
from cnnzoo.train.optim import accumulation_window, lr_multiplier
from cnnzoo.train.state import History
from cnnzoo.train.transfer import ProgressiveUnfreezing

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def small():
    split = digits((1, 32, 32))
    return TensorDataset(*(t[:96] for t in split.train.tensors))


def _weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _twins() -> tuple[nn.Module, nn.Module]:
    torch.manual_seed(0)
    a, b = cnnzoo.create("lenet5"), cnnzoo.create("lenet5")
    b.load_state_dict(a.state_dict())
    return a, b


# -- FitConfig ---------------------------------------------------------------------------


# fit's keyword options before FitConfig existed, with their defaults
OLD_DEFAULTS = {
    "optimizer": None, "lr": 1e-3, "weight_decay": 0.01, "momentum": 0.9, "param_groups": None,
    "scheduler": "cosine", "warmup": 0.0, "min_lr_ratio": 0.0, "amp": False, "grad_accum": 1,
    "clip_grad": None, "label_smoothing": 0.0, "mixup": None, "ema": False,
    "grad_checkpointing": False, "callbacks": (), "early_stopping": None,
    "checkpoint_dir": None, "batch_size": 32, "num_workers": 0, "loss": None, "augment": None,
    "task": "auto", "ignore_index": 255, "seed": None, "device": None, "progress": None,
    "verbose": False,
}


def test_fit_config_has_every_option_with_the_same_default():
    cfg = FitConfig(epochs=3)
    assert FitConfig.field_names()[0] == "epochs"
    for name, default in OLD_DEFAULTS.items():  # new options may be added, none removed
        assert getattr(cfg, name) == default, name
    # the keyword options' type is the config's fields, one for one
    assert typing.get_type_hints(FitOptions) == typing.get_type_hints(FitConfig)
    assert "_teacher" not in inspect.signature(fit).parameters
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lr = 1.0  # type: ignore[misc]
    assert cfg.replace(lr=0.1).lr == 0.1 and cfg.lr == 1e-3


@pytest.mark.parametrize(("options", "message"), [
    ({"epochs": 0}, "epochs must be at least 1, got 0"),
    ({"epochs": 2.5}, "epochs must be an integer"),
    ({"epochs": 1, "grad_accum": 0}, "grad_accum must be at least 1"),
    ({"epochs": 1, "batch_size": 0}, "batch_size must be at least 1"),
    ({"epochs": 1, "lr": -1.0}, "lr must be a number ≥ 0"),
    ({"epochs": 1, "label_smoothing": 1.0}, "label_smoothing must be below 1"),
    ({"epochs": 1, "clip_grad": 0}, "clip_grad must be a positive number"),
    ({"epochs": 1, "ema": 1.5}, r"ema=1.5: use True .* decay in \(0, 1\]"),
    ({"epochs": 1, "scheduler": "cosinus"}, "unknown scheduler 'cosinus'.*Did you mean: cosine"),
    ({"epochs": 1, "optimizer": "adamv"}, "unknown optimizer 'adamv'.*Did you mean: .*adamw"),
    ({"epochs": 1, "amp": "fp8"}, "amp='fp8': use True, 'bf16' or 'fp16'"),
    ({"epochs": 1, "mixup": "blend"}, "mixup='blend'"),
    ({"epochs": 1, "loss": "focal"}, "unknown loss 'focal'; choose one of ce, dice, ce\\+dice"),
    ({"epochs": 1, "task": "segmentaton"}, "task must be .*Did you mean: segmentation"),
    ({"epochs": 1, "task": 3}, "neither a task name nor a Task"),
    ({"epochs": 1, "early_stopping": 0}, "early_stopping=0: give a patience"),
    ({"epochs": 1, "callbacks": [object()]}, "has none of the hooks"),
    ({"epochs": 1, "callbacks": EarlyStopping(2)}, "callbacks must be a list"),
    ({"epochs": 1, "device": "gpu"}, "device='gpu' is not a device"),
])
def test_bad_options_are_clear_train_errors(options, message):
    with pytest.raises(TrainError, match=message):
        FitConfig(**options)


def test_keywords_and_config_train_the_same(small):
    a, b = _twins()
    fit(a, small, epochs=1, lr=3e-3, batch_size=16, seed=1)
    fit(b, small, config=FitConfig(epochs=1, lr=3e-3, batch_size=16, seed=1))
    for name, value in _weights(a).items():
        torch.testing.assert_close(value, b.state_dict()[name], rtol=0, atol=0, msg=name)


def test_config_and_keywords_together(small):
    model = cnnzoo.create("lenet5")
    cfg = FitConfig(epochs=1, lr=0.0, batch_size=32)
    assert len(fit(model, small, config=cfg, epochs=1, lr=0.0)) == 1  # agreeing: accepted
    with pytest.raises(FitOptionError, match=r"contradict it: lr=0.1 \(config has 0.0\)"):
        fit(model, small, config=cfg, lr=0.1)
    with pytest.raises(TypeError, match=r"config\.replace"):  # FitOptionError is a TypeError too
        fit(model, small, config=cfg, epochs=2)
    with pytest.raises(FitOptionError, match=r"no option 'lrr'\. Did you mean: lr"):
        fit(model, small, epochs=1, lrr=0.1)  # type: ignore[call-arg]
    with pytest.raises(FitOptionError, match="needs epochs="):
        fit(model, small, lr=0.1)
    with pytest.raises(FitOptionError, match="config must be a FitConfig"):
        fit(model, small, config={"epochs": 1})  # type: ignore[arg-type]


# -- tasks -------------------------------------------------------------------------------


def test_builtin_tasks_follow_the_protocol():
    teacher = cnnzoo.create("lenet5")
    for task in (ClassificationTask(), SegmentationTask(), DistillationTask(teacher)):
        assert isinstance(task, Task)
    with pytest.raises(TrainError, match="alpha must be in"):
        DistillationTask(teacher, alpha=1.5)
    with pytest.raises(TrainError, match="temperature must be positive"):
        DistillationTask(teacher, temperature=0)


def test_distill_is_fit_with_a_distillation_task(small):
    teacher = cnnzoo.create("lenet5", pretrained=True)
    a, b = _twins()
    ha = distill(teacher, a, small, epochs=1, seed=0, temperature=2.0, alpha=0.5)
    hb = fit(b, small, epochs=1, seed=0, task=DistillationTask(teacher, 2.0, 0.5))
    assert ha.last["train_loss"] == pytest.approx(hb.last["train_loss"])
    for name, value in _weights(a).items():
        torch.testing.assert_close(value, b.state_dict()[name], rtol=0, atol=0, msg=name)
    assert not any(p.requires_grad for p in teacher.parameters())
    with pytest.raises(TrainError, match="do not pass loss="):
        fit(b, small, epochs=1, task=DistillationTask(teacher), loss=nn.CrossEntropyLoss())
    with pytest.raises(TrainError, match="distill computes its own loss"):
        distill(teacher, b, small, epochs=1, loss=nn.CrossEntropyLoss())
    with pytest.raises(TrainError, match="distill sets the task itself"):
        distill(teacher, b, small, epochs=1, task=ClassificationTask())


def test_a_custom_task_is_used(small):
    class Counting(ClassificationTask):
        def __init__(self) -> None:
            super().__init__()
            self.batches = 0

        def loss(self, logits, targets, *, inputs, aux):
            self.batches += 1
            return super().loss(logits, targets, inputs=inputs, aux=aux)

    task = Counting()
    history = fit(cnnzoo.create("lenet5"), small, small, epochs=2, batch_size=32, task=task)
    assert task.batches == 6 and history.monitor == "val_accuracy"


# -- callbacks and small pieces ------------------------------------------------------------


def test_callbacks_implement_any_subset_of_the_hooks(small):
    seen: list[str] = []

    class Typed(Callback):
        def on_fit_end(self, state):
            seen.append(f"end after {len(state.history)}")

    class Duck:  # no Callback base class: missing hooks are skipped
        def on_epoch_start(self, state, epoch):
            seen.append(f"start {epoch}")

    fit(cnnzoo.create("lenet5"), small, epochs=2, lr=0.0, callbacks=[Typed(), Duck()])
    assert seen == ["start 0", "start 1", "end after 2"]
    assert isinstance(ProgressiveUnfreezing(), Callback)
    assert isinstance(EarlyStopping(), Callback)


def test_accumulation_schedule_and_history():
    assert [accumulation_window(i, 5, 2) for i in range(5)] == [
        (2, False), (2, True), (2, False), (2, True), (1, True)]
    assert [accumulation_window(i, 3, 1) for i in range(3)] == [(1, True)] * 3
    assert lr_multiplier("cosine", 0, 100, 0, 0.0) == 1.0
    assert lr_multiplier("cosine", 100, 100, 0, 0.1) == pytest.approx(0.1)
    assert lr_multiplier("linear", 4, 100, 10, 0.0) == pytest.approx(0.5)
    history = History(monitor="val_loss", mode="min")
    assert history.record({"val_loss": 2.0}) and not history.record({"val_loss": 3.0})
    assert history.record({"val_loss": 1.0}) and history.best_epoch == 3
