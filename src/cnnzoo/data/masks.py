"""Segmentation masks: which class ids are allowed, and the ignore value.

A mask holds one class id per pixel, ``0 … C-1`` for a segmenter of ``C`` classes, or
the ignore value (:data:`IGNORE_INDEX`, 255 by default: Pascal VOC's and torchvision's
convention, ``ignore_index=255`` as in ``torch.nn.CrossEntropyLoss``) for pixels that
count nowhere — not in the loss, not in Dice, not in IoU or pixel accuracy.
:func:`mask_problem` is the one check that training (:func:`cnnzoo.train.fit`) and
evaluation (:func:`cnnzoo.evaluate`) run on masks: vectorised (a min/max over the whole
batch, a closer look only when something is out of range), once per batch.

Example:
    >>> import numpy as np
    >>> masks = np.zeros((4, 8, 8), dtype=np.int64)
    >>> masks[:, 0] = 255  # an ignored border
    >>> mask_problem(masks, 21) is None
    True
    >>> masks[2, 3, 3] = 23
    >>> print(mask_problem(masks, 21).split(":")[0])
    mask of sample 2 has class id 23; the model predicts 21 classes (0–20)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["IGNORE_INDEX", "background_only_problem", "mask_problem", "mask_range"]

IGNORE_INDEX = 255
"""The default mask value of pixels to ignore (Pascal VOC's and torchvision's)."""


def _numpy(masks: Any) -> np.ndarray:
    if isinstance(masks, torch.Tensor):
        return masks.detach().cpu().numpy()
    return np.asarray(masks)


def _size(masks: Any) -> int:
    return int(masks.numel()) if isinstance(masks, torch.Tensor) else int(np.size(masks))


def _min_max(masks: Any) -> tuple[int, int]:
    """The lowest and highest value, in one pass (and one device sync) for a tensor."""
    if isinstance(masks, torch.Tensor):
        lo, hi = torch.aminmax(masks)
        return int(lo), int(hi)
    return int(masks.min()), int(masks.max())


def _out_of_range(masks: Any, num_classes: int, ignore_index: int | None) -> Any:
    bad = (masks < 0) | (masks >= num_classes)
    return bad if ignore_index is None else bad & (masks != ignore_index)


def mask_range(masks: Any, ignore_index: int | None = IGNORE_INDEX) -> tuple[int, int] | None:
    """The lowest and highest class id of ``masks`` (a tensor or an array), ignored pixels
    left out; ``None`` when no pixel is left."""
    if not _size(masks):
        return None
    lo, hi = _min_max(masks)
    if ignore_index is None or not (lo == ignore_index or hi == ignore_index):
        return lo, hi
    values = _numpy(masks)
    values = values[values != ignore_index]
    return (int(values.min()), int(values.max())) if values.size else None


def mask_problem(masks: Any, num_classes: int, *, ignore_index: int | None = IGNORE_INDEX,
                 first_sample: int | None = 0, what: str | None = None) -> str | None:
    """What is wrong with the class ids of ``masks``, or ``None`` when nothing is.

    Every pixel must be a class id ``0 … num_classes-1`` or ``ignore_index``. The check is
    one min/max pass over the whole batch (``torch.aminmax`` for a tensor), one more
    vectorised pass when ignored pixels push the range out, and only masks that fail
    are searched for the first offending sample (16 masks of 512 × 512 on one CPU
    thread: about 8 ms, 50 ms with an ignored border).

    Args:
        masks: integer masks ``[N, H, W]`` (a tensor or an array; one mask ``[H, W]`` too).
        num_classes: the classes the model predicts.
        ignore_index: the value of pixels to ignore (``None``: every pixel is a class).
        first_sample: the index of ``masks[0]`` in the data (for the message; ``None``:
            unknown, e.g. a shuffled batch, whose masks are then named by their place in
            the batch).
        what: the data's role (``"training"``): the message then opens with the range of
            the class ids found.

    Returns:
        one message — what was found, what is allowed, and how to mark ignored pixels —
        for the caller to raise as its own error, or ``None``.
    """
    if not _size(masks):
        return None
    lo, hi = _min_max(masks)
    if lo >= 0 and hi < num_classes:
        return None
    if not bool(_out_of_range(masks, num_classes, ignore_index).any()):  # ignored pixels
        return None
    values = _numpy(masks)
    if values.ndim < 3:
        values = values.reshape(1, *values.shape) if values.ndim else values.reshape(1, 1)
    bad = _out_of_range(values, num_classes, ignore_index)
    sample = int(np.flatnonzero(bad.reshape(len(bad), -1).any(axis=1))[0])
    found = np.unique(values[sample][bad[sample]])
    value = int(found[-1] if found[-1] >= num_classes else found[0])
    more = f" (and {len(found) - 1} other out-of-range ids)" if len(found) > 1 else ""
    allowed = f"0–{num_classes - 1}" if num_classes > 1 else "0"
    fix = (f"; or create the model with num_classes={value + 1}" if value >= num_classes
           else "")
    if ignore_index is None and value == IGNORE_INDEX:
        hint, fix = f"if {value} marks pixels to skip, pass ignore_index={value}", ""
    elif ignore_index is None:
        hint = ("mark pixels to skip with one value and pass it as ignore_index "
                f"(e.g. ignore_index={IGNORE_INDEX})")
    else:
        hint = f"mark pixels to skip with {ignore_index} (ignore_index={ignore_index})"
    where = (f"mask {sample} of a batch" if first_sample is None
             else f"mask of sample {first_sample + sample}") + f" has class id {value}{more}"
    predicts = f"the model predicts {num_classes} classes ({allowed})"
    if what is not None:
        low, high = mask_range(masks, ignore_index) or (value, value)
        return (f"the {what} mask values run from {low} to {high} but {predicts}: {where}; "
                f"masks hold class ids {allowed}, {hint}{fix}")
    return f"{where}; {predicts}: masks hold class ids {allowed}, {hint}{fix}"


def background_only_problem(masks: Any, num_classes: int, *,
                            ignore_index: int | None = IGNORE_INDEX) -> str | None:
    """Masks whose every pixel is class 0 or ignored: binary masks saved as 0/255 images
    read with 255 as the ignore value, which would train on the background alone.

    For a whole dataset (a single batch may well be all background). Returns the message
    or ``None``.
    """
    if ignore_index is None or num_classes < 2 or not _size(masks):
        return None
    if not bool((masks == ignore_index).any()):
        return None
    found = mask_range(masks, ignore_index)
    if found is not None and found[1] > 0:
        return None
    return (f"every mask pixel is 0 or {ignore_index}, the ignore value: nothing but the "
            f"background would be learnt. If {ignore_index} marks the foreground (binary "
            f"masks saved as 0/{ignore_index} images), map it to class 1 (masks // "
            f"{ignore_index}); if it marks pixels to skip, the masks need pixels of "
            f"classes 1–{num_classes - 1}")
