"""Input-space attributions: saliency, integrated gradients and occlusion.

Each rule receives the shared :class:`~cnnzoo.interpret.methods.base.Context` (model,
batch, resolved targets, clean outputs) and returns ``(attributions, map)`` — plus
optional diagnostics — where ``map [B, H, W]`` is scaled to 0…1 by the plumbing.
Expanded batches (interpolation steps, occluded copies) run in chunks so memory
stays bounded whatever the batch size.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnzoo.errors import ExplainError
from cnnzoo.interpret.checks import baseline_like, positive_int, positive_pair
from cnnzoo.interpret.methods.base import Context, register_method

IG_RULES = ("gausslegendre", "trapezoid", "midpoint")


@register_method("saliency", "input", input_grad=True,
                 summary="vanilla gradients: |d score / d pixel|, max over channels")
def saliency(ctx: Context) -> tuple[torch.Tensor, torch.Tensor]:
    """Saliency (Simonyan et al., 2014): the input gradient of the target score.

    One forward and one backward for the batch; the map is ``max_c |∂s/∂x_c|``.
    """
    assert ctx.x is not None
    (grads,) = torch.autograd.grad(ctx.targets.score(ctx.outputs).sum(), ctx.x)
    return grads, grads.abs().amax(1)


def _quadrature(steps: int, rule: str, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Points in [0, 1] and weights summing to 1 for the path integral."""
    if rule == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)
        return (torch.tensor((nodes + 1) / 2, dtype=x.dtype, device=x.device),
                torch.tensor(weights / 2, dtype=x.dtype, device=x.device))
    if rule == "trapezoid":
        if steps < 2:
            raise ExplainError("integrated_gradients: the trapezoid rule needs steps >= 2")
        points = torch.linspace(0, 1, steps, dtype=x.dtype, device=x.device)
        trapezoid = torch.full((steps,), 1.0 / (steps - 1), dtype=x.dtype, device=x.device)
        trapezoid[0] = trapezoid[-1] = 0.5 / (steps - 1)
        return points, trapezoid
    if rule == "midpoint":
        points = (torch.arange(steps, dtype=x.dtype, device=x.device) + 0.5) / steps
        return points, torch.full((steps,), 1.0 / steps, dtype=x.dtype, device=x.device)
    raise ExplainError(f"integrated_gradients: rule must be one of {', '.join(IG_RULES)}; "
                       f"got {rule!r}")


@register_method("integrated_gradients", "input", steps=64, baseline=0.0,
                 internal_batch_size=32, rule="gausslegendre",
                 summary="integrated gradients from a baseline (completeness holds)")
def integrated_gradients(
    ctx: Context, *, steps: int = 64, baseline: float | torch.Tensor = 0.0,
    internal_batch_size: int = 32, rule: str = "gausslegendre",
) -> tuple[torch.Tensor, torch.Tensor, dict[str, Any]]:
    """Integrated gradients (Sundararajan et al., 2017).

    ``attr = (x - x0) · ∫₀¹ ∂s/∂x (x0 + α (x - x0)) dα``, the integral by the
    quadrature ``rule`` with ``steps`` points. The ``B × steps`` interpolated
    images run ``internal_batch_size`` at a time. Completeness — the attributions
    sum to ``s(x) - s(x0)`` — is reported as ``extras["delta"]`` (the difference,
    per image). The map is ``|sum_c attr_c|``.
    """
    positive_int(steps, "integrated_gradients: steps")
    positive_int(internal_batch_size, "integrated_gradients: internal_batch_size")
    x = ctx.images
    base = baseline_like(baseline, x, "integrated_gradients")
    alphas, weights = _quadrature(steps, rule, x)
    b = x.shape[0]
    image_of = torch.arange(b, device=x.device).repeat_interleave(steps)
    step_of = torch.arange(steps, device=x.device).repeat(b)
    total = torch.zeros_like(x)
    for start in range(0, b * steps, internal_batch_size):
        img = image_of[start:start + internal_batch_size]
        step = step_of[start:start + internal_batch_size]
        a = alphas[step].view(-1, 1, 1, 1)
        path = (base[img] + a * (x[img] - base[img])).requires_grad_(True)
        with torch.enable_grad():
            score = ctx.targets.score(ctx.forward(path), img)
            (grads,) = torch.autograd.grad(score.sum(), path)
        total.index_add_(0, img, grads * weights[step].view(-1, 1, 1, 1))
    attributions = (x - base) * total
    with torch.no_grad():
        base_scores = ctx.targets.score(ctx.forward(base))
        scores = ctx.targets.score(ctx.outputs)
    delta = attributions.flatten(1).sum(1) - (scores - base_scores)
    return attributions, attributions.sum(1).abs(), {"delta": delta.detach(),
                                                     "baseline_scores": base_scores}


def _positions(length: int, window: int, stride: int) -> list[int]:
    window = min(window, length)
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] + window < length:
        starts.append(length - window)  # the last window reaches the edge
    return starts


@register_method("occlusion", "input", window=None, stride=None, baseline=0.0, batch_size=64,
                 summary="score drop when a sliding patch is replaced by the baseline")
def occlusion(
    ctx: Context, *, window: int | tuple[int, int] | None = None,
    stride: int | tuple[int, int] | None = None, baseline: float | torch.Tensor = 0.0,
    batch_size: int = 64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Occlusion (Zeiler & Fergus, 2014): slide a ``window`` (default 1/8 of the
    shorter side) with ``stride`` (default half the window) and replace it by the
    ``baseline``; a pixel's value is the mean drop of the target score over the
    windows covering it. The ``B × positions`` occluded images run ``batch_size``
    at a time, without autograd. The map is the positive part of the drop.
    """
    positive_int(batch_size, "occlusion: batch_size")
    x = ctx.images
    b, _, h, w = x.shape
    wh, ww = positive_pair(window if window is not None else max(1, min(h, w) // 8),
                           "occlusion: window")
    wh, ww = min(wh, h), min(ww, w)
    default_stride = (max(1, wh // 2), max(1, ww // 2))
    sh, sw = positive_pair(stride if stride is not None else default_stride,
                           "occlusion: stride")
    masks = torch.stack([
        torch.zeros(h, w, dtype=x.dtype, device=x.device).index_fill_(
            0, torch.arange(top, top + wh, device=x.device), 1.0)
        * torch.zeros(w, dtype=x.dtype, device=x.device).index_fill_(
            0, torch.arange(left, left + ww, device=x.device), 1.0)
        for top in _positions(h, wh, sh) for left in _positions(w, ww, sw)
    ])  # [P, H, W]
    n_pos = masks.shape[0]
    base = baseline_like(baseline, x, "occlusion")
    drops = torch.empty(b * n_pos, dtype=x.dtype, device=x.device)
    with torch.no_grad():
        clean = ctx.targets.score(ctx.outputs)
        for start in range(0, b * n_pos, batch_size):
            idx = torch.arange(start, min(start + batch_size, b * n_pos), device=x.device)
            img, pos = idx // n_pos, idx % n_pos
            m = masks[pos][:, None]
            occluded = x[img] * (1 - m) + base[img] * m
            drops[idx] = clean[img] - ctx.targets.score(ctx.forward(occluded), img)
    drops = drops.view(b, n_pos)
    mean_drop = torch.einsum("bp,phw->bhw", drops, masks) / masks.sum(0).clamp_min(1)
    return mean_drop[:, None], mean_drop.clamp_min(0)
