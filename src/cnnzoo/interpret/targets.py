"""What an explanation explains: a class, per image, and for segmenters a region.

A target turns the model's output into one score per image. For a classifier that
is the logit of the target class; for a segmenter it is the sum of the class's
logits over a region (a mask of the output's height × width, by default the whole
image). :class:`TargetSet` holds the resolved targets of a batch and scores any
output whose rows belong to those images — the original batch, interpolated
inputs of integrated gradients, occluded copies…
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import torch

from cnnzoo.errors import ExplainError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Target", "TargetLike", "TargetSet", "model_outputs", "resolve_targets"]


@dataclass(frozen=True)
class Target:
    """One target: a class index and, for segmenters, an optional region.

    Attributes:
        cls: the class to explain.
        mask: segmenters only: ``[H, W]`` (bool or float weights) at the output's
            resolution; the score is ``(logits[cls] * mask).sum()``. ``None`` is the
            whole image.

    Example:
        >>> import torch
        >>> from cnnzoo.interpret import Target
        >>> mask = torch.zeros(64, 64, dtype=torch.bool)
        >>> mask[:32] = True                      # the top half only
        >>> Target(1, mask).cls
        1
    """

    cls: int
    mask: torch.Tensor | np.ndarray | None = None


#: What ``explain(target=...)`` accepts: ``None`` (the predicted class), a class index,
#: a :class:`Target`, a ``(cls, mask)`` tuple, a 1-D integer tensor or a sequence of
#: those with one entry per image.
TargetLike: TypeAlias = "int | Target | tuple[int, Any] | torch.Tensor | Sequence[Any] | None"


def _is_index(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return True
    return isinstance(value, torch.Tensor) and value.ndim == 0 and not value.is_floating_point()


def _is_mask(value: object) -> bool:
    return hasattr(value, "shape") and len(getattr(value, "shape", ())) == 2


def _one(item: object, where: str) -> Target | None:
    """Normalise one image's target: ``None``, an int, ``Target`` or ``(cls, mask)``."""
    if item is None or isinstance(item, Target):
        return item
    if _is_index(item):
        return Target(int(item))  # type: ignore[call-overload]
    if isinstance(item, tuple) and len(item) == 2 and _is_index(item[0]) and (
            item[1] is None or _is_mask(item[1])):
        return Target(int(item[0]), item[1])
    raise ExplainError(
        f"{where}: a target is None (the predicted class), an int class index, "
        f"cnnzoo.interpret.Target(cls, mask) or a (cls, mask) tuple; got {item!r:.80}"
    )


def _per_image(target: object, batch: int) -> list[Target | None]:
    """One ``Target | None`` per image, or an error for a list of the wrong length."""
    if target is None or _is_index(target) or isinstance(target, Target):
        return [_one(target, "target")] * batch
    if isinstance(target, tuple) and len(target) == 2 and _is_index(target[0]) and _is_mask(
            target[1]):
        return [_one(target, "target")] * batch  # one region target for every image
    if isinstance(target, torch.Tensor):
        if target.ndim != 1 or target.is_floating_point():
            raise ExplainError(
                f"a tensor target must be 1-D integer class indices, one per image; got "
                f"{target.dtype} of shape {tuple(target.shape)}"
            )
        target = target.tolist()
    if isinstance(target, Sequence) and not isinstance(target, str):
        if len(target) != batch:
            raise ExplainError(
                f"target has {len(target)} entries but the batch has {batch} images; pass one "
                "target per image, a single int for all, or None for the predicted classes"
            )
        return [_one(t, f"target[{i}]") for i, t in enumerate(target)]
    return [_one(target, "target")] * batch


@dataclass
class TargetSet:
    """The resolved targets of a batch.

    Attributes:
        classes: ``[B]`` class index per image.
        weights: segmenters: ``[B, H, W]`` region weights (1 = the whole image);
            classifiers: ``None``.
    """

    classes: torch.Tensor
    weights: torch.Tensor | None = None

    def score(self, outputs: torch.Tensor, index: torch.Tensor | None = None) -> torch.Tensor:
        """One score per row of ``outputs``; ``index[i]`` is the image row ``i`` belongs to."""
        classes = self.classes if index is None else self.classes[index]
        rows = torch.arange(outputs.shape[0], device=outputs.device)
        picked = outputs[rows, classes.to(outputs.device)]
        if self.weights is None:
            return picked
        weights = self.weights if index is None else self.weights[index]
        return (picked * weights.to(picked.dtype)).flatten(1).sum(1)


def model_outputs(result: object) -> torch.Tensor:
    """The logits tensor of a forward result (a tensor, a tuple's first item, ``.logits``).

    Raises:
        ExplainError: the result holds no logits ``[B, classes]`` or ``[B, classes, H, W]``.
    """
    logits = getattr(result, "logits", None)
    if isinstance(result, torch.Tensor):
        out = result
    elif isinstance(result, (tuple, list)) and result and isinstance(result[0], torch.Tensor):
        out = result[0]
    elif isinstance(logits, torch.Tensor):
        out = logits
    else:
        raise ExplainError(
            f"the model returned {type(result).__name__}; explain needs logits "
            "[B, classes] (classifier) or [B, classes, H, W] (segmenter)"
        )
    if out.ndim not in (2, 4):
        raise ExplainError(
            f"the model's output has shape {tuple(out.shape)}; explain needs logits "
            "[B, classes] (classifier) or [B, classes, H, W] (segmenter)"
        )
    return out


def _check_class(cls: int, num_classes: int) -> int:
    if not 0 <= cls < num_classes:
        raise ExplainError(
            f"target class {cls} is out of range: the model outputs {num_classes} "
            f"classes (0–{num_classes - 1})"
        )
    return cls


def _region_weights(items: list[Target | None], classes: list[int], outputs: torch.Tensor,
                    per_pixel: torch.Tensor) -> torch.Tensor:
    """``[B, H, W]`` weights: the predicted pixels for ``None``, else the mask or all ones."""
    batch, size = int(outputs.shape[0]), tuple(outputs.shape[-2:])
    weights = torch.ones(batch, *size, dtype=outputs.dtype, device=outputs.device)
    for i, item in enumerate(items):
        if item is None:
            weights[i] = (per_pixel[i] == classes[i]).to(weights.dtype)
        elif item.mask is not None:
            mask = torch.as_tensor(item.mask, device=outputs.device)
            if tuple(mask.shape) != size:
                raise ExplainError(
                    f"the region mask has shape {tuple(mask.shape)}; it must match the "
                    f"model's output resolution {size}"
                )
            weights[i] = mask.to(weights.dtype)
    return weights


def resolve_targets(target: TargetLike, outputs: torch.Tensor) -> TargetSet:
    """Resolve ``target`` (see :func:`cnnzoo.interpret.explain`) against a batch's outputs.

    ``None`` picks the predicted class: the arg-max logit for a classifier; for a
    segmenter the class predicted at most pixels, over the pixels where it is
    predicted. An int for a segmenter scores that class over the whole image.

    Args:
        target: what to explain, per image or for all (see :data:`TargetLike`).
        outputs: the batch's logits, ``[B, classes]`` or ``[B, classes, H, W]``.

    Returns:
        the classes (and for segmenters the region weights) of the batch.

    Raises:
        ExplainError: a class out of range, a target list of the wrong length, a
            mask for a classifier or a mask of the wrong size.
    """
    batch, num_classes = int(outputs.shape[0]), int(outputs.shape[1])
    items = _per_image(target, batch)
    segmenter = outputs.ndim == 4
    with torch.no_grad():
        if segmenter:
            per_pixel = outputs.argmax(1)  # [B, H, W]
            counts = torch.nn.functional.one_hot(per_pixel.flatten(1), num_classes).sum(1)
            predicted = counts.argmax(1)
        else:
            predicted = outputs.argmax(1)
    classes = []
    for i, item in enumerate(items):
        cls = _check_class(int(predicted[i]) if item is None else item.cls, num_classes)
        if item is not None and item.mask is not None and not segmenter:
            raise ExplainError(
                "a region mask only applies to a segmentation model; this model outputs "
                f"class scores of shape {tuple(outputs.shape)}"
            )
        classes.append(cls)
    classes_t = torch.tensor(classes, dtype=torch.long, device=outputs.device)
    if not segmenter:
        return TargetSet(classes_t)
    return TargetSet(classes_t, _region_weights(items, classes, outputs, per_pixel))
