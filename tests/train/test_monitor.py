"""GradientMonitor: per-stage statistics in the history; flags exploding runs, not healthy ones."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

import cnnzoo
from cnnzoo.errors import GradientWarning, TrainError
from cnnzoo.train import FitConfig, GradientMonitor, fit
from cnnzoo.train.monitor import EXPLODE_RATIO, parameters_by_stage
from cnnzoo.train.state import FitState, History

pytestmark = pytest.mark.usefixtures("one_thread")

LENET_STAGES = ("stem", "stage1", "pre_logits", "head")


@pytest.fixture(scope="module")
def split():
    from cnnzoo.data import digits

    return digits((1, 32, 32))


def _fit(split, lr: float, epochs: int, **options):
    torch.manual_seed(0)
    monitor = GradientMonitor()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = fit(cnnzoo.create("lenet5"), split.train, epochs=epochs, lr=lr, seed=0,
                      callbacks=[monitor], **options)
    return history, monitor, [w for w in caught if issubclass(w.category, GradientWarning)]


# -- the must-shows ------------------------------------------------------------------------


def test_an_exploding_run_is_flagged(split):
    history, monitor, warned = _fit(split, lr=10.0, epochs=1)
    assert len(warned) == 1
    message = str(warned[0].message)
    assert "epoch 1: exploding gradients" in message and "update/weight ratio" in message
    assert [a.kind for a in monitor.alerts] == ["explode"]
    assert set(monitor.alerts[0].stages) <= set(LENET_STAGES) and monitor.alerts[0].stages
    assert max(history[f"update_ratio/{s}"][0] for s in LENET_STAGES) > EXPLODE_RATIO


def test_a_healthy_run_stays_quiet(split):
    history, monitor, warned = _fit(split, lr=1e-3, epochs=2)
    assert warned == [] and monitor.alerts == []
    for stage in LENET_STAGES:  # logged per epoch, for every stage of the spec
        grads, ratios = history[f"grad_norm/{stage}"], history[f"update_ratio/{stage}"]
        weights = history[f"weight_norm/{stage}"]
        assert len(grads) == len(ratios) == len(weights) == 2
        assert all(1e-4 < g < 10 for g in grads), (stage, grads)
        assert all(1e-5 < r < 5e-2 for r in ratios), (stage, ratios)
        assert all(w > 0 for w in weights)
    assert monitor.epochs[-1] == {k: v for k, v in history.last.items() if "/" in k}


# -- the statistics --------------------------------------------------------------------------


def test_statistics_are_the_definitions():
    """One SGD step by hand: ‖g‖, ‖Δw‖/‖w‖ and ‖w‖ per stage, exactly."""
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    monitor = GradientMonitor(warn=False)
    state = FitState(model=model, optimizer=opt, epochs=1, history=History())
    monitor.on_fit_start(state)
    monitor.on_epoch_start(state, 0)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    model(torch.randn(5, 3)).square().mean().backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    opt.step()
    row = monitor.summarize()
    assert list(parameters_by_stage(model)) == ["0", "2"]  # no stages: top-level modules
    for stage in ("0", "2"):
        names = [n for n in before if n.startswith(stage + ".")]
        norm = lambda ts: math.sqrt(sum(float(t.detach().square().sum()) for t in ts))  # noqa: E731
        assert row[f"grad_norm/{stage}"] == pytest.approx(norm(grads[n] for n in names))
        assert row[f"update_ratio/{stage}"] == pytest.approx(
            norm(0.5 * grads[n] for n in names) / norm(before[n] for n in names))
        assert row[f"weight_norm/{stage}"] == pytest.approx(
            norm(p for n, p in model.named_parameters() if n in names))
    monitor.on_fit_end(state)
    assert not opt._optimizer_step_pre_hooks and not opt._optimizer_step_post_hooks


def _run(model: nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]], lr: float,
         **thresholds: float) -> GradientMonitor:
    """Epochs of plain SGD on ``batches``, through the monitor's hooks (one batch an epoch)."""
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    monitor = GradientMonitor(**thresholds)
    state = FitState(model=model, optimizer=opt, epochs=len(batches), history=History())
    monitor.on_fit_start(state)
    for epoch, (x, y) in enumerate(batches):
        monitor.on_epoch_start(state, epoch)
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
        monitor.on_epoch_end(state, epoch, {})
    monitor.on_fit_end(state)
    return monitor


def test_non_finite_gradients_explode():
    model = nn.Sequential(nn.Linear(2, 1))
    x = torch.tensor([[1.0, float("inf")]])
    with pytest.warns(GradientWarning, match="non-finite gradients in 1 of 1 measured steps"):
        monitor = _run(model, [(x, torch.zeros(1, 1))], lr=1e-3)
    assert monitor.alerts[0].kind == "explode" and monitor.alerts[0].stages == ("0",)


def test_gradient_growth_explodes():
    model = nn.Sequential(nn.Linear(2, 1, bias=False))
    nn.init.constant_(model[0].weight, 1.0)
    small, large = torch.full((1, 2), 1e-3), torch.full((1, 2), 10.0)
    with pytest.warns(GradientWarning, match=r"gradient norm 0 ×1e\+0?8"):
        monitor = _run(model, [(small, torch.zeros(1, 1)), (large, torch.zeros(1, 1))],
                       lr=1e-9, explode_ratio=1e9)
    assert [(a.epoch, a.kind) for a in monitor.alerts] == [(2, "explode")]


def test_vanishing_gradients_are_flagged_once_per_kind():
    model = nn.Sequential(nn.Linear(2, 1))
    batches = [(torch.full((1, 2), 1e-9), torch.zeros(1, 1))] * 3  # ‖g‖ ≈ 4e-9
    with torch.no_grad():
        model[0].weight.fill_(1.0)
        model[0].bias.zero_()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        monitor = _run(model, batches, lr=1e-3)
    assert [a.kind for a in monitor.alerts] == ["vanish"] * 3
    assert len([w for w in caught if issubclass(w.category, GradientWarning)]) == 1
    assert "vanishing gradients" in monitor.alerts[0].message


def test_frozen_stages_are_recorded_as_zero(split):
    from cnnzoo.train.transfer import freeze

    model = cnnzoo.create("lenet5")
    freeze(model, until="stage1")
    history = fit(model, TensorDataset(*(t[:64] for t in split.train.tensors)), epochs=1,
                  monitor=True)
    assert history["grad_norm/stem"] == [0.0] and history["update_ratio/stage1"] == [0.0]
    assert history["grad_norm/head"][0] > 0


# -- fit(monitor=True) -----------------------------------------------------------------------


def test_fit_monitor_option(split):
    small = TensorDataset(*(t[:64] for t in split.train.tensors))
    assert FitConfig(epochs=1).monitor is False
    history = fit(cnnzoo.create("lenet5"), small, epochs=1, monitor=True, early_stopping=1)
    assert {f"grad_norm/{s}" for s in LENET_STAGES} <= set(history.last)
    with pytest.raises(TrainError, match="monitor must be True or False"):
        FitConfig(epochs=1, monitor="yes")  # type: ignore[arg-type]
    # a monitor in callbacks is not doubled by monitor=True
    mine = GradientMonitor(every=2)
    history = fit(cnnzoo.create("lenet5"), small, epochs=1, batch_size=16, monitor=True,
                  callbacks=[mine])
    assert len(mine.epochs) == 1 and "grad_norm/head" in history.last


def test_bad_thresholds():
    with pytest.raises(TrainError, match="explode_ratio must be a positive number"):
        GradientMonitor(explode_ratio=0)
    with pytest.raises(TrainError, match="every must be an integer"):
        GradientMonitor(every=0)
