"""Losses for :func:`cnnzoo.train.fit`: Dice and CE+Dice for segmentation, distillation.

Segmentation losses take logits ``[B, C, H, W]`` and integer masks ``[B, H, W]``
(or soft masks ``[B, C, H, W]``); ``ignore_index`` pixels count nowhere, and any other
value outside ``0 … C-1`` is a :class:`~cnnzoo.errors.TrainError` naming it (one min/max
over the batch).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo._utils import did_you_mean
from cnnzoo.data.masks import mask_problem
from cnnzoo.errors import TrainError

__all__ = ["SEGMENTATION_LOSSES", "CEDiceLoss", "DiceLoss", "distillation_loss",
           "segmentation_loss"]

# the names segmentation_loss() (and fit(loss=...) for segmenters) understand
SEGMENTATION_LOSSES: tuple[str, ...] = ("ce", "dice", "ce+dice", "dice+ce")


def _check_masks(targets: torch.Tensor, num_classes: int, ignore_index: int | None) -> None:
    problem = mask_problem(targets, num_classes, ignore_index=ignore_index, first_sample=None)
    if problem:
        raise TrainError(problem)


def _one_hot(targets: torch.Tensor, num_classes: int, ignore_index: int | None
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """Masks ``[B, H, W]`` (checked) → one-hot ``[B, C, H, W]`` (float) and a valid-pixel
    mask."""
    valid = torch.ones_like(targets, dtype=torch.bool) if ignore_index is None \
        else targets != ignore_index
    safe = torch.where(valid, targets, torch.zeros_like(targets))
    one_hot = F.one_hot(safe, num_classes).permute(0, 3, 1, 2).to(torch.float32)
    return one_hot, valid.unsqueeze(1)


class DiceLoss(nn.Module):
    """Soft multi-class Dice loss: ``1 − mean_c (2·Σ p·g + s) / (Σ p + Σ g + s)``.

    ``p`` are the softmax probabilities, ``g`` the one-hot masks, sums run over the
    batch and the pixels, ``s`` is ``smooth``. Classes absent from both prediction
    and target score 1 (no penalty), thanks to ``smooth``.

    Example:
        >>> import torch
        >>> from cnnzoo.train.losses import DiceLoss
        >>> masks = torch.tensor([[[0, 1], [1, 1]]])
        >>> perfect = torch.nn.functional.one_hot(masks, 2).permute(0, 3, 1, 2) * 50.0
        >>> round(float(DiceLoss()(perfect, masks)), 4)
        0.0
    """

    def __init__(self, smooth: float = 1.0, ignore_index: int | None = None) -> None:
        super().__init__()
        self.smooth = float(smooth)
        self.ignore_index = ignore_index

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if targets.ndim != logits.ndim:
            _check_masks(targets, logits.shape[1], self.ignore_index)
        return self.checked(logits, targets)

    def checked(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The loss of masks already checked to hold class ids or the ignore value."""
        probs = logits.float().softmax(1)
        if targets.ndim == logits.ndim:  # soft masks
            onehot, valid = targets.float(), torch.ones_like(targets[:, :1], dtype=torch.bool)
        else:
            onehot, valid = _one_hot(targets, logits.shape[1], self.ignore_index)
        probs = probs * valid
        onehot = onehot * valid
        dims = (0, 2, 3)
        inter = (probs * onehot).sum(dims)
        denom = probs.sum(dims) + onehot.sum(dims)
        dice = (2 * inter + self.smooth) / (denom + self.smooth)
        return 1.0 - dice.mean()


class CEDiceLoss(nn.Module):
    """``ce_weight · CrossEntropy + dice_weight · Dice`` — the usual segmentation loss."""

    def __init__(self, ce_weight: float = 1.0, dice_weight: float = 1.0, *,
                 smooth: float = 1.0, ignore_index: int | None = None,
                 label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.ce_weight, self.dice_weight = float(ce_weight), float(dice_weight)
        self.dice = DiceLoss(smooth=smooth, ignore_index=ignore_index)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if targets.ndim != logits.ndim:  # integer masks, checked once for both terms
            _check_masks(targets, logits.shape[1], self.ignore_index)
        ce = F.cross_entropy(
            logits.float(), targets,
            ignore_index=-100 if self.ignore_index is None else self.ignore_index,
            label_smoothing=self.label_smoothing,
        )
        return self.ce_weight * ce + self.dice_weight * self.dice.checked(logits, targets)


def segmentation_loss(name: str, *, label_smoothing: float = 0.0,
                      ignore_index: int | None = None) -> nn.Module:
    """``"ce"``, ``"dice"`` or ``"ce+dice"`` as a loss module.

    Raises:
        TrainError: another name.
    """
    key = name.lower().replace(" ", "")
    if key == "ce":
        return nn.CrossEntropyLoss(label_smoothing=label_smoothing,
                                   ignore_index=-100 if ignore_index is None else ignore_index)
    if key == "dice":
        return DiceLoss(ignore_index=ignore_index)
    if key in ("ce+dice", "dice+ce"):
        return CEDiceLoss(ignore_index=ignore_index, label_smoothing=label_smoothing)
    raise TrainError(f"unknown segmentation loss {name!r}; choose 'ce', 'dice' or 'ce+dice'"
                     + did_you_mean(key, SEGMENTATION_LOSSES))


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    targets: torch.Tensor,
    *,
    temperature: float = 4.0,
    alpha: float = 0.7,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """Hinton et al.'s knowledge-distillation loss.

    ``alpha · KL(softmax(t/T) ‖ softmax(s/T)) · T² + (1 − alpha) · CE(s, y)``, the KL
    divergence averaged over the batch. ``targets`` are class indices or soft labels
    (MixUp/CutMix).

    Raises:
        TrainError: a temperature ≤ 0, an alpha outside ``[0, 1]``, or logits of
            different shapes.

    Example:
        >>> import torch
        >>> from cnnzoo.train.losses import distillation_loss
        >>> s = torch.tensor([[2.0, 0.0]]); y = torch.tensor([0])
        >>> bool(distillation_loss(s, s, y, alpha=1.0) == 0)
        True
    """
    if temperature <= 0:
        raise TrainError(f"temperature must be positive, got {temperature}")
    if not 0.0 <= alpha <= 1.0:
        raise TrainError(f"alpha must be in [0, 1], got {alpha}")
    if student_logits.shape != teacher_logits.shape:
        raise TrainError(f"student logits {tuple(student_logits.shape)} and teacher logits "
                         f"{tuple(teacher_logits.shape)} differ: teacher and student must "
                         "predict the same classes")
    t = float(temperature)
    soft = F.kl_div(
        F.log_softmax(student_logits.float() / t, dim=1),
        F.log_softmax(teacher_logits.float() / t, dim=1),
        reduction="batchmean", log_target=True,
    ) * (t * t)
    hard = F.cross_entropy(student_logits.float(), targets, label_smoothing=label_smoothing)
    return alpha * soft + (1.0 - alpha) * hard
