"""Helpers shared by the test modules: ``from tests.helpers import materialize, ROOT``."""

from __future__ import annotations

import math
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A prime, so a repeated block never lines up with the power-of-two sizes of conv filters.
_BLOCK = 1_048_583


def materialize(module, *, tiled: bool = False):
    """Give a meta-device module real CPU storage with cheap, well-scaled values.

    Tests that only check shapes use this instead of a full random init, which for
    the 100M-parameter models costs seconds each. Every floating-point tensor gets
    N(0, 0.02) values (BatchNorm running statistics: mean 0, variance 1). Buffers left
    out of the state dict (timm's blur-pool filters) become averaging filters, so no
    tensor keeps the uninitialised memory ``to_empty`` gives it.

    ``tiled=True`` draws one block of ~1M N(0, 0.02) values and repeats it through
    larger tensors (copying is ~20x cheaper than drawing): for tests where only shapes
    and strides matter, it makes the 600M-parameter models cheap too.
    """
    import torch

    module.to_empty(device="cpu")
    block = torch.empty(_BLOCK).normal_(0.0, 0.02) if tiled else None
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith("running_var"):
                tensor.fill_(1.0)
            elif name.endswith(("running_mean", "num_batches_tracked")):
                tensor.zero_()
            elif tensor.is_floating_point():
                if block is None or tensor.numel() <= _BLOCK:
                    tensor.normal_(0.0, 0.02)
                else:
                    flat = tensor.view(-1)
                    whole = flat.numel() // _BLOCK * _BLOCK
                    flat[:whole].view(-1, _BLOCK).copy_(block)
                    flat[whole:].copy_(block[: flat.numel() - whole])
        kept = set(module.state_dict(keep_vars=True))
        for name, buffer in module.named_buffers():
            if name not in kept and buffer.is_floating_point():
                buffer.fill_(1.0 / max(1, buffer[0].numel() if buffer.dim() else 1))
    return module


def scale_to_fan_in(model):
    """Random weights that keep activations of order one through any depth.

    Conv and linear weights are redrawn with unit fan-in variance, norm layers get weight
    1 and bias 0. The libraries' own initialisers assume trained BatchNorm statistics: at
    random init some deep nets' activations explode (EfficientNetV2-S's logits reach
    ~900), and comparing two runtimes to 1e-4 on such numbers measures float chaos, not
    the export. Used by the export tests and ``scripts/capability_matrix.py``.
    """
    import torch
    from torch import nn

    with torch.no_grad():
        for module in model.modules():
            weight = getattr(module, "weight", None)
            if not isinstance(weight, torch.Tensor):
                continue
            if isinstance(module, nn.Conv2d | nn.Linear):
                weight.normal_(0.0, 1.0 / math.sqrt(weight[0].numel()))
            elif isinstance(module, nn.ConvTranspose2d):
                weight.normal_(0.0, 1.0 / math.sqrt(weight.shape[0] * weight[0, 0].numel()))
            elif weight.dim() == 1:  # batch/layer/group norm
                weight.fill_(1.0)
                bias = getattr(module, "bias", None)
                if isinstance(bias, torch.Tensor):
                    bias.zero_()
    return model
