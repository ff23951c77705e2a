"""The result of :func:`cnnzoo.explain`: maps, targets and scores, with overlays and PNGs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch

from cnnzoo.interpret.render import heatmap_pixels, overlay_pixels, write_pngs

if TYPE_CHECKING:
    import numpy as np

__all__ = ["Explanation"]


@dataclass
class Explanation:
    """What :func:`cnnzoo.explain` returns.

    Attributes:
        maps: ``[B, H, W]`` in 0…1 at the input's resolution, on the model's device.
        targets: ``[B]`` the class explained for each image.
        scores: ``[B]`` the target score of each image (the class logit; for a
            segmenter the class's logits summed over the region).
        method: the method's name.
        layer: the layer a CAM method used (``None`` for input-space methods).
        attributions: input-space methods: per-input-pixel attributions ``[B, C, H, W]``
            (saliency: gradients; integrated gradients: the attributions, whose sum
            is ``f(x) - f(baseline)``; occlusion: the score drop ``[B, 1, H, W]``).
        raw: CAM methods: the map at the layer's resolution, after ReLU, before scaling.
        extras: method-specific diagnostics (integrated gradients: ``delta``, the
            completeness error per image).

    Example:
        >>> import cnnzoo, torch
        >>> e = cnnzoo.explain(cnnzoo.create("lenet5"), torch.randn(2, 1, 32, 32))
        >>> len(e), e.overlay(torch.rand(2, 1, 32, 32)).shape
        (2, (2, 32, 32, 3))
    """

    maps: torch.Tensor
    targets: torch.Tensor
    scores: torch.Tensor
    method: str
    layer: str | None = None
    attributions: torch.Tensor | None = None
    raw: torch.Tensor | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.maps.shape[0])

    def __repr__(self) -> str:
        return (f"Explanation(method={self.method!r}, layer={self.layer!r}, "
                f"maps={tuple(self.maps.shape)}, targets={self.targets.tolist()})")

    def to_numpy(self) -> np.ndarray:
        """The maps as a float32 NumPy array ``[B, H, W]``."""
        return self.maps.detach().float().cpu().numpy()

    def overlay(
        self,
        images: torch.Tensor | np.ndarray,
        *,
        alpha: float = 0.5,
        colormap: str = "jet",
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> np.ndarray:
        """Heatmaps blended over the images: ``uint8 [B, H, W, 3]`` for PIL or ``imshow``.

        Args:
            images: ``[B, C, H, W]`` tensor (the batch that was explained, or the
                same images at another size: the maps are resized to them).
            alpha: the heatmap's weight.
            colormap: ``"jet"`` (built in) or any matplotlib colormap name.
            mean: with ``std``, undo this normalisation (``model.pretrained_cfg["mean"]``);
                without them each image is min-max scaled to 0…1 for display.
            std: the normalisation's standard deviations (``model.pretrained_cfg["std"]``).

        Returns:
            the blended pixels, one ``[H, W, 3]`` image per map.

        Raises:
            ExplainError: a different number of images than maps, or a bad colormap.
        """
        return overlay_pixels(self.maps, images, alpha=alpha, colormap=colormap, mean=mean,
                              std=std)

    def save(
        self,
        path: str | Path,
        images: torch.Tensor | np.ndarray | None = None,
        *,
        alpha: float = 0.5,
        colormap: str = "jet",
        mean: Sequence[float] | None = None,
        std: Sequence[float] | None = None,
    ) -> list[Path]:
        """Write PNGs: overlays if ``images`` are given, else coloured heatmaps.

        Args:
            path: ending in ``.png``, the file (``name_0.png``, ``name_1.png``… for a
                batch of several); any other path is a folder that gets ``000.png``,
                ``001.png``…
            images: the images to overlay (see :meth:`overlay`), or ``None``.
            alpha: the heatmap's weight in an overlay.
            colormap: ``"jet"`` or any matplotlib colormap name.
            mean: see :meth:`overlay`.
            std: see :meth:`overlay`.

        Returns:
            the written paths.
        """
        if images is not None:
            pixels = self.overlay(images, alpha=alpha, colormap=colormap, mean=mean, std=std)
        else:
            pixels = heatmap_pixels(self.maps, colormap)
        return write_pngs(pixels, path)
