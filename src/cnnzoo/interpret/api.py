"""``explain()``: one call for every model and method."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from cnnzoo._utils import eval_mode
from cnnzoo.errors import ExplainError
from cnnzoo.interpret.capture import capture
from cnnzoo.interpret.checks import check_images
from cnnzoo.interpret.layers import resolve_layer
from cnnzoo.interpret.methods import Context, Method, get_method
from cnnzoo.interpret.methods.base import cam_to_maps, scale_maps
from cnnzoo.interpret.result import Explanation
from cnnzoo.interpret.targets import TargetLike, model_outputs, resolve_targets

__all__ = ["explain"]


def explain(
    model: nn.Module,
    images: torch.Tensor,
    *,
    method: str = "gradcam",
    target: TargetLike = None,
    layer: str | nn.Module = "auto",
    **options: Any,
) -> Explanation:
    """Explain a model's decision on a batch of images.

    The gradient CAMs take one forward and one backward pass for the whole batch,
    the backward only from the layer on. The model is left as it was: hooks
    removed (also on errors), no parameter ``.grad``, ``requires_grad`` and every
    module's train/eval mode unchanged (it runs in eval mode).

    Args:
        model: any model (from :func:`cnnzoo.create` or not); classifiers return
            ``[B, classes]``, segmenters ``[B, classes, H, W]``.
        images: a float batch ``[B, C, H, W]``, preprocessed as the model expects
            (e.g. with ``cnnzoo.data.eval_transform(model.pretrained_cfg)``).
        method: ``"gradcam"``, ``"gradcam++"``, ``"xgradcam"``, ``"layercam"``,
            ``"scorecam"``, ``"eigencam"`` (CAMs, on ``layer``) or ``"saliency"``,
            ``"integrated_gradients"``, ``"occlusion"`` (on the input).
        target: ``None`` (the predicted class), a class index for every image, a
            list with one entry per image, or for segmenters
            ``cnnzoo.interpret.Target(cls, mask)`` / ``(cls, mask)``: the class's
            logits summed over the ``[H, W]`` mask. A segmenter's ``None`` is the
            class predicted at most pixels, over the pixels where it is predicted;
            its plain int is the class over the whole image.
        layer: CAM methods: ``"auto"`` (the spec's ``cam_layer``, else the last
            feature stage), a module name (``"layer3.1"``) or the module itself.
        **options: method options, e.g. ``steps``, ``baseline`` and
            ``internal_batch_size`` (integrated gradients), ``window``, ``stride``
            (occlusion), ``batch_size`` (scorecam, occlusion). An unknown one
            raises an error listing those accepted.

    Returns:
        an :class:`~cnnzoo.interpret.Explanation`: ``maps [B, H, W]`` in 0…1 on the
        model's device, ``targets``, ``scores``, ``method``, ``layer``.

    Raises:
        ExplainError: an unknown method, option or layer, images the model cannot
            take, or a target that does not fit the model's output.

    Example:
        >>> import cnnzoo, torch
        >>> model = cnnzoo.create("lenet5", pretrained=True)
        >>> x = torch.randn(2, 1, 32, 32)
        >>> e = cnnzoo.explain(model, x, method="gradcam", target=[3, 7])
        >>> tuple(e.maps.shape), e.layer, e.targets.tolist()
        ((2, 32, 32), 'stage1', [3, 7])
    """
    spec = get_method(method, options)
    x = check_images(model, images)
    opts = {**spec.options, **options}
    with torch.inference_mode(False), torch.enable_grad():  # whatever mode the caller is in
        if x.is_inference():
            x = x.clone()
        if spec.kind == "input":
            if not (isinstance(layer, str) and layer == "auto"):
                raise ExplainError(
                    f"method {spec.name!r} attributes to the input pixels; layer= does not "
                    "apply (it is for the CAM methods)"
                )
            return _explain_input(model, x, spec, target, opts)
        return _explain_cam(model, x, spec, target, layer, opts)


def _explain_input(model: nn.Module, x: torch.Tensor, spec: Method, target: TargetLike,
                   opts: dict[str, Any]) -> Explanation:
    """An input-space method: one clean forward (with a graph to ``x`` if asked), the rule."""
    with eval_mode(model):
        if spec.input_grad:
            leaf: torch.Tensor | None = x.clone().requires_grad_(True)
            with torch.enable_grad():
                outputs = model_outputs(model(leaf))
        else:
            leaf = None
            with torch.no_grad():
                outputs = model_outputs(model(x))
        targets = resolve_targets(target, outputs)
        attributions, raw_map, *rest = spec.rule(Context(model, x, targets, outputs, leaf),
                                                 **opts)
    with torch.no_grad():
        scores = targets.score(outputs).detach()
        maps = scale_maps(raw_map.detach().clamp_min(0))
    return Explanation(maps, targets.classes, scores, spec.name, None,
                       attributions=attributions.detach(),
                       extras=dict(rest[0]) if rest else {})


def _explain_cam(model: nn.Module, x: torch.Tensor, spec: Method, target: TargetLike,
                 layer: str | nn.Module, opts: dict[str, Any]) -> Explanation:
    """A CAM: one forward recording ``layer`` (one backward from it for gradient CAMs)."""
    name, module = resolve_layer(model, layer)
    gradient = spec.kind == "gradient_cam"
    with eval_mode(model):
        cap = capture(model, module, name, x, grad=gradient)
        targets = resolve_targets(target, cap.outputs)
        scores = targets.score(cap.outputs)
        if gradient:
            (grads,) = torch.autograd.grad(scores.sum(), cap.activations)
            with torch.no_grad():
                cam = spec.rule(cap.activations.detach(), grads)
        else:
            with torch.no_grad():
                cam = spec.rule(cap.activations, Context(model, x, targets, cap.outputs),
                                **opts)
    with torch.no_grad():
        raw = cam.clamp_min(0)
        maps = cam_to_maps(cam, (int(x.shape[-2]), int(x.shape[-1])))
    return Explanation(maps, targets.classes, scores.detach(), spec.name, name, raw=raw)
