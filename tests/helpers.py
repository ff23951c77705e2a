"""Helpers shared by the test modules: ``from tests.helpers import materialize, ROOT``."""

from __future__ import annotations

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
