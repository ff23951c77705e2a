"""Transfer learning by stage: freeze/unfreeze, BatchNorm in frozen stages, per-stage
learning rates for every family, and a real transfer from digits 0–4 to digits 5–9."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import cnnzoo
from cnnzoo.build.heads import replace_head
from cnnzoo.data import digits, subset_classes
from cnnzoo.errors import StageError
from cnnzoo.train import fit
from cnnzoo.train.transfer import (
    ProgressiveUnfreezing,
    count_trainable,
    freeze,
    frozen_stages,
    param_groups,
    stage_of_parameters,
    stages,
    unfreeze,
)

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


def _trainable_stages(model: nn.Module) -> set[str]:
    owner = stage_of_parameters(model)
    return {owner[n] for n, p in model.named_parameters() if p.requires_grad}


def test_freeze_until_and_unfreeze():
    model = cnnzoo.create("resnet18", num_classes=5)
    assert list(stages(model)) == ["stem", "stage1", "stage2", "stage3", "stage4", "head"]
    assert freeze(model, until="stage3") == ["stem", "stage1", "stage2", "stage3"]
    assert _trainable_stages(model) == {"stage4", "head"}
    assert frozen_stages(model) == ["stem", "stage1", "stage2", "stage3"]
    trainable, total, percent = count_trainable(model)
    expected = sum(p.numel() for n, p in model.named_parameters()
                   if n.startswith(("layer4.", "fc.")))
    assert trainable == expected and total == sum(p.numel() for p in model.parameters())
    assert percent == pytest.approx(100 * expected / total)
    assert "trainable" in str(count_trainable(model))
    unfreeze(model, "stage3")
    assert _trainable_stages(model) == {"stage3", "stage4", "head"}
    unfreeze(model)
    assert count_trainable(model).percent == 100.0
    assert freeze(model) == ["stem", "stage1", "stage2", "stage3", "stage4"]  # linear probe
    assert _trainable_stages(model) == {"head"}
    assert freeze(model, stages=["head"]) == ["head"] and count_trainable(model).trainable == 0


def test_unknown_stage_lists_the_stages():
    model = cnnzoo.create("lenet5")
    with pytest.raises(StageError, match=r"unknown stage 'stage3'.*stem, stage1, pre_logits, "
                                         r"head.*Did you mean: stage1"):
        freeze(model, until="stage3")
    with pytest.raises(StageError, match="unknown stage 'body'"):
        param_groups(model, lr={"body": 1e-3})
    with pytest.raises(StageError, match="unknown stage 'stage9'"):
        unfreeze(model, ["stage9"])
    with pytest.raises(StageError, match="unknown stage"):
        ProgressiveUnfreezing(phases=[["head"], ["nope"]]).on_fit_start(
            type("S", (), {"model": model, "epochs": 4, "optimizer": None})())


def test_a_model_without_architecture_is_refused():
    with pytest.raises(StageError, match="pretrained_cfg"):
        freeze(nn.Sequential(nn.Linear(2, 2)))


def test_frozen_batchnorm_stays_in_eval_across_train():
    model = cnnzoo.create("resnet18", num_classes=3)
    freeze(model, until="stage2")
    model.train()  # would normally put every BatchNorm back into training mode
    frozen_bn, live_bn = model.layer2[0].bn1, model.layer4[0].bn1
    before = (frozen_bn.running_mean.clone(), live_bn.running_mean.clone())
    model(torch.randn(4, 3, 32, 32))
    assert not frozen_bn.training and live_bn.training
    assert torch.equal(frozen_bn.running_mean, before[0])  # statistics untouched
    assert not torch.equal(live_bn.running_mean, before[1])
    unfreeze(model)
    model.train()
    model(torch.randn(4, 3, 32, 32))
    assert frozen_bn.training and not torch.equal(frozen_bn.running_mean, before[0])
    model2 = cnnzoo.create("resnet18", num_classes=3)
    freeze(model2, until="stage2", bn_eval=False)
    model2.train()
    model2(torch.randn(4, 3, 32, 32))
    assert model2.layer2[0].bn1.training


@pytest.mark.parametrize("name", cnnzoo.list_models())
def test_param_groups_cover_every_parameter_once(name):
    with torch.device("meta"):
        model = cnnzoo.create(name)
    order = list(stages(model))
    late = order[-2]  # the last stage before the head
    lrs = {"stem": 1e-5, late: 1e-4, "head": 1e-3}
    groups = param_groups(model, lr=lrs, default_lr=3e-5, weight_decay=0.05)
    owner = stage_of_parameters(model)
    names = {id(p): n for n, p in model.named_parameters()}
    seen: dict[int, str] = {}
    for group in groups:
        for p in group["params"]:
            assert id(p) not in seen, f"{names[id(p)]} in {seen[id(p)]} and {group['name']}"
            seen[id(p)] = group["name"]
            stage = owner[names[id(p)]]
            assert group["stage"] == stage
            assert group["lr"] == lrs.get(stage, 3e-5)
            assert group["weight_decay"] == (0.0 if group["name"].endswith("no_decay") else 0.05)
    assert len(seen) == len({id(p) for p in model.parameters()})
    # frozen parameters are left out (unless asked for)
    freeze(model, until=order[1])
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    assert {id(p) for g in param_groups(model) for p in g["params"]} == trainable
    assert len({id(p) for g in param_groups(model, include_frozen=True)
                for p in g["params"]}) == len(seen)


def test_layer_decay():
    with torch.device("meta"):
        model = cnnzoo.create("resnet18")
    groups = param_groups(model, default_lr=1e-3, layer_decay=0.5, lr={"stem": 0.1},
                          no_decay_1d=False)
    got = {g["name"]: g["lr"] for g in groups}
    assert got == {"stem": 0.1, "stage1": 1e-3 / 16, "stage2": 1e-3 / 8, "stage3": 1e-3 / 4,
                   "stage4": 1e-3 / 2, "head": 1e-3}
    with pytest.raises(ValueError, match="layer_decay"):
        param_groups(model, layer_decay=1.5)


def test_unet_with_a_zoo_encoder_uses_its_own_stages():
    with torch.device("meta"):
        model = cnnzoo.create("unet", encoder="resnet18")
    assert list(stages(model))[-2:] == ["decoder", "head"]
    freeze(model, until="stage4")
    assert _trainable_stages(model) == {"decoder", "head"}


# -- a real transfer: digits 0–4 → digits 5–9 -----------------------------------------


@pytest.fixture(scope="module")
def pretrained_on_early_digits():
    """ResNet-18 (1×32×32) trained from scratch on digits 0–4 for three epochs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = cnnzoo.create("resnet18", num_classes=5, in_chans=1)
    split = digits((1, 32, 32), model=model)
    early = subset_classes(split.train, range(5)), subset_classes(split.test, range(5))
    late = subset_classes(split.train, range(5, 10)), subset_classes(split.test, range(5, 10))
    history = fit(model, *early, epochs=3, lr=2e-3, seed=0)
    torch.set_num_threads(threads)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    return state, history, late


def _from_state(state):
    model = cnnzoo.create("resnet18", num_classes=5, in_chans=1)
    model.load_state_dict(state)
    return model


def test_frozen_backbone_transfers_to_new_digits(pretrained_on_early_digits):
    state, history, (train, test) = pretrained_on_early_digits
    assert history.last["val_accuracy"] > 0.9  # the source task was learnt
    model = _from_state(state)
    replace_head(model, 5, "linear")
    freeze(model)  # everything but the head
    assert _trainable_stages(model) == {"head"}
    before = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(0)
    result = fit(model, train, test, epochs=3, lr=1e-2, seed=0)
    accuracy = result.last["val_accuracy"]
    assert accuracy > 0.6, f"5–9 accuracy with a frozen backbone: {accuracy:.2%} (chance 20 %)"
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"fc.weight", "fc.bias"}  # every frozen tensor bitwise unchanged


def test_progressive_unfreezing_trains_the_late_stages(pretrained_on_early_digits):
    state, _, (train, test) = pretrained_on_early_digits
    model = _from_state(state)
    replace_head(model, 5, "mlp:64")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    owner = stage_of_parameters(model)
    callback = ProgressiveUnfreezing(phases=[["head"], ["stage4"]], milestones=[1],
                                     lr_decay=0.5)
    grab = _Grab()
    torch.manual_seed(0)
    result = fit(model, train, test, epochs=2, lr=3e-3, seed=0, callbacks=[callback, grab])
    assert result.last["val_accuracy"] > 0.6
    assert callback.log == [(0, ["head"]), (1, ["stage4"])]
    after = dict(model.named_parameters())
    changed = {owner[n] for n in after if not torch.equal(before[n], after[n].detach())}
    assert changed == {"stage4", "head"}  # the late stage changed, the early ones did not
    lrs = {g["name"]: g["initial_lr"] for g in grab.groups}
    assert lrs["stage4"] == pytest.approx(lrs["head"] * 0.5)
    assert lrs["stem"] == pytest.approx(lrs["head"] * 0.5**5)  # discriminative


class _Grab:
    def on_fit_end(self, state):
        self.groups = [{k: v for k, v in g.items() if k != "params"}
                       for g in state.optimizer.param_groups]


def test_progressive_default_phases_reach_everything():
    model = cnnzoo.create("lenet5")
    split = digits(model=model)
    small = torch.utils.data.TensorDataset(*(t[:256] for t in split.train.tensors))
    callback = ProgressiveUnfreezing()
    fit(model, small, epochs=3, lr=1e-3, seed=0, callbacks=[callback])
    assert callback.log == [(0, ["head"]), (1, ["stage1", "pre_logits"]),
                            (2, ["stem", "stage1", "pre_logits", "head"])]
    assert count_trainable(model).percent == 100.0


def test_progressive_unfreezing_needs_every_parameter_in_the_optimizer():
    model = cnnzoo.create("lenet5")
    split = digits(model=model)
    freeze(model)
    with pytest.raises(StageError, match="include_frozen=True"):
        fit(model, split.train, epochs=2, param_groups=param_groups(model),
            callbacks=[ProgressiveUnfreezing()])
