"""Models and checks shared by the cnnzoo.interpret tests."""

from __future__ import annotations

from pathlib import Path

import torch

import cnnzoo

ROOT = Path(__file__).resolve().parents[2]


def lenet():
    return cnnzoo.create("lenet5", pretrained=True).eval()


def resnet18():
    torch.manual_seed(0)
    return cnnzoo.create("resnet18").eval()


def model_state(model: torch.nn.Module) -> dict:
    return {
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "state": {k: v.clone() for k, v in model.state_dict().items()},
    }


def assert_pristine(model: torch.nn.Module, before: dict) -> None:
    for name, m in model.named_modules():
        for attr in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
                     "_backward_pre_hooks"):
            assert not getattr(m, attr, {}), f"{name or 'model'}.{attr} left behind"
    assert all(p.grad is None for p in model.parameters()), "a parameter got .grad"
    assert [m.training for m in model.modules()] == before["training"]
    assert [p.requires_grad for p in model.parameters()] == before["requires_grad"]
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before["state"].items())

