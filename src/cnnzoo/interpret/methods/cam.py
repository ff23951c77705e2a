"""The CAM family: each method is only its weighting rule over a layer's activations.

Gradient CAMs receive the activations ``A [B, C, h, w]`` and the gradients of the
target scores w.r.t. them ``G``; the shared plumbing does the single forward and
backward pass, the ReLU, the scaling and the resize. The formulas follow
pytorch-grad-cam's (so the maps agree with it), computed batched in torch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnzoo.interpret.checks import positive_int
from cnnzoo.interpret.methods.base import Context, register_method

SPATIAL = (2, 3)


@register_method("gradcam", "gradient_cam",
                 summary="Grad-CAM: channels weighted by their mean gradient")
def gradcam(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """Grad-CAM (Selvaraju et al., 2017): ``sum_c mean(G_c) · A_c``."""
    weights = gradients.mean(SPATIAL, keepdim=True)
    return (weights * activations).sum(1)


@register_method("gradcam++", "gradient_cam",
                 summary="Grad-CAM++: positive gradients weighted per pixel")
def gradcam_pp(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """Grad-CAM++ (Chattopadhyay et al., 2018), eq. 19 with exponential scores."""
    g2 = gradients.pow(2)
    g3 = g2 * gradients
    sum_a = activations.sum(SPATIAL, keepdim=True)
    alpha = g2 / (2 * g2 + sum_a * g3 + 1e-6)
    alpha = torch.where(gradients != 0, alpha, torch.zeros_like(alpha))
    weights = (gradients.clamp_min(0) * alpha).sum(SPATIAL, keepdim=True)
    return (weights * activations).sum(1)


@register_method("xgradcam", "gradient_cam",
                 summary="XGrad-CAM: gradients weighted by normalised activations")
def xgradcam(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """XGrad-CAM (Fu et al., 2020): ``w_c = sum(G_c · A_c) / sum(A_c)``."""
    sum_a = activations.sum(SPATIAL, keepdim=True)
    weights = (gradients * activations / (sum_a + 1e-7)).sum(SPATIAL, keepdim=True)
    return (weights * activations).sum(1)


@register_method("layercam", "gradient_cam",
                 summary="LayerCAM: activations weighted by their positive gradients per pixel")
def layercam(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    """LayerCAM (Jiang et al., 2021): ``sum_c relu(G_c) ⊙ A_c``."""
    return (gradients.clamp_min(0) * activations).sum(1)


@register_method("eigencam", "activation_cam",
                 summary="Eigen-CAM: the first principal component of the activations")
def eigencam(activations: torch.Tensor, context: Context) -> torch.Tensor:
    """Eigen-CAM (Muhammad & Yeasin, 2020): activations projected on their first
    principal component (batched SVD, no gradients, class-agnostic).

    The SVD's sign is arbitrary; it is chosen so that the map correlates positively
    with the channel sum of the activations.
    """
    del context
    b, _, h, w = activations.shape
    x = activations.flatten(2).transpose(1, 2).double()  # [B, hw, C]
    x = x - x.mean(1, keepdim=True)
    _, _, vh = torch.linalg.svd(x, full_matrices=False)
    proj = (x @ vh[:, 0, :, None])[..., 0]  # [B, hw]
    total = activations.sum(1).flatten(1).double()
    total = total - total.mean(1, keepdim=True)
    sign = torch.sign((proj * total).sum(1, keepdim=True))
    sign[sign == 0] = 1
    return (proj * sign).view(b, h, w).to(activations.dtype)


@register_method("scorecam", "activation_cam", batch_size=64,
                 summary="Score-CAM: channels weighted by the score of the input masked by them")
def scorecam(activations: torch.Tensor, context: Context, *, batch_size: int = 64
             ) -> torch.Tensor:
    """Score-CAM (Wang et al., 2020): each channel, up-sampled (bilinear, corners
    aligned, as pytorch-grad-cam does) and min-max scaled,
    masks the input; the softmax over channels of the masked inputs' target scores
    weights the channels. The ``B × C`` masked inputs run through the model in
    batches of ``batch_size`` (across images and channels), without autograd.
    """
    positive_int(batch_size, "scorecam: batch_size")
    images, targets = context.images, context.targets
    b, c = activations.shape[:2]
    size = images.shape[-2:]
    scores = torch.empty(b * c, dtype=images.dtype, device=images.device)
    image_index = torch.arange(b, device=images.device).repeat_interleave(c)
    with torch.no_grad():
        for start in range(0, b * c, batch_size):
            idx = torch.arange(start, min(start + batch_size, b * c), device=images.device)
            img, ch = idx // c, idx % c
            masks = F.interpolate(activations[img, ch][:, None], size=size, mode="bilinear",
                                  align_corners=True)  # as pytorch-grad-cam's ScoreCAM
            lo = masks.flatten(1).min(1).values.view(-1, 1, 1, 1)
            hi = masks.flatten(1).max(1).values.view(-1, 1, 1, 1)
            masks = (masks - lo) / (hi - lo + 1e-8)
            out = context.forward(images[img] * masks)
            scores[idx] = targets.score(out, image_index[idx]).to(scores.dtype)
    weights = torch.softmax(scores.view(b, c), dim=1).to(activations.dtype)
    return (weights[:, :, None, None] * activations).sum(1)
