"""Pictures of maps: colours, display-ready images, overlays and PNG files.

``"jet"`` needs nothing but torch; other colormaps go through matplotlib (optional).
Every function works on the CPU and returns float RGB in 0…1 or ``uint8`` pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from cnnzoo._utils import did_you_mean, per_channel, staged_path
from cnnzoo.errors import ExplainError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["colorize", "heatmap_pixels", "overlay_pixels", "png_paths", "to_display",
           "write_pngs"]


def colorize(maps: torch.Tensor, colormap: str = "jet") -> torch.Tensor:
    """``[B, H, W]`` in 0…1 → ``[B, 3, H, W]`` RGB in 0…1.

    Args:
        maps: the maps (clamped to 0…1).
        colormap: ``"jet"`` (built in) or any matplotlib colormap name.

    Raises:
        ExplainError: an unknown colormap, or a non-jet one without matplotlib.
    """
    maps = maps.clamp(0, 1)
    if colormap == "jet":
        channels = [(1.5 - (4 * maps - c).abs()).clamp(0, 1) for c in (3.0, 2.0, 1.0)]
        return torch.stack(channels, dim=1)
    try:
        from matplotlib import colormaps
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ExplainError(
            f"colormap {colormap!r} needs matplotlib (pip install 'cnnzoo[viz]'); "
            "'jet' works without it"
        ) from exc
    try:
        cmap = colormaps[colormap]
    except KeyError:
        raise ExplainError(
            f"unknown colormap {colormap!r}" + did_you_mean(colormap, list(colormaps))
        ) from None
    rgba = torch.from_numpy(cmap(maps.numpy())).float()
    return rgba[..., :3].permute(0, 3, 1, 2)


def _normalisation(values: Sequence[float], channels: int, what: str) -> torch.Tensor:
    if len(values) == 0:
        raise ExplainError(f"{what} is empty; give one value per channel or one for all")
    return torch.tensor(per_channel(values, channels)).view(1, -1, 1, 1)


def to_display(images: torch.Tensor | np.ndarray, *, mean: Sequence[float] | None = None,
               std: Sequence[float] | None = None) -> torch.Tensor:
    """Images as ``[B, 3, H, W]`` float RGB in 0…1 on the CPU, for display.

    Args:
        images: ``[B, C, H, W]`` or one image ``[C, H, W]``.
        mean: with ``std``, undo this normalisation (values adapted to the channel
            count by :func:`cnnzoo._utils.per_channel`); without them each image is
            min-max scaled when it is outside 0…1.
        std: the normalisation's standard deviations.

    Raises:
        ExplainError: images that are not 3-D or 4-D, or an empty ``mean``/``std``.
    """
    x = torch.as_tensor(images).detach().float().cpu()
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ExplainError(f"images must be [B, C, H, W]; got shape {tuple(x.shape)}")
    if mean is not None and std is not None:
        chans = x.shape[1]
        x = (x * _normalisation(std, chans, "std") + _normalisation(mean, chans, "mean")
             ).clamp(0, 1)
    elif x.min() < 0 or x.max() > 1:
        lo = x.flatten(1).min(1).values.view(-1, 1, 1, 1)
        hi = x.flatten(1).max(1).values.view(-1, 1, 1, 1)
        x = (x - lo) / (hi - lo).clamp_min(1e-12)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    elif x.shape[1] != 3:
        x = x.mean(1, keepdim=True).expand(-1, 3, -1, -1)
    return x


def _to_pixels(rgb: torch.Tensor) -> np.ndarray:
    """``[B, 3, H, W]`` in 0…1 → ``uint8 [B, H, W, 3]``."""
    return (rgb.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def heatmap_pixels(maps: torch.Tensor, colormap: str = "jet") -> np.ndarray:
    """Coloured maps as ``uint8 [B, H, W, 3]``."""
    return _to_pixels(colorize(maps.detach().float().cpu(), colormap))


def overlay_pixels(
    maps: torch.Tensor,
    images: torch.Tensor | np.ndarray,
    *,
    alpha: float = 0.5,
    colormap: str = "jet",
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
) -> np.ndarray:
    """Heatmaps of ``maps [B, H, W]`` blended over ``images``: ``uint8 [B, H, W, 3]``.

    The maps are resized (bilinear) to the images when their sizes differ; see
    :meth:`cnnzoo.interpret.Explanation.overlay` for the arguments.

    Raises:
        ExplainError: as many images as maps are needed.
    """
    rgb = to_display(images, mean=mean, std=std)  # [B, 3, H, W] in 0..1, CPU
    if rgb.shape[0] != maps.shape[0]:
        raise ExplainError(f"overlay got {rgb.shape[0]} images for {maps.shape[0]} maps")
    maps = maps.detach().float().cpu()
    if tuple(maps.shape[-2:]) != tuple(rgb.shape[-2:]):
        maps = F.interpolate(maps[:, None], size=rgb.shape[-2:], mode="bilinear",
                             align_corners=False)[:, 0].clamp(0, 1)
    return _to_pixels((1 - alpha) * rgb + alpha * colorize(maps, colormap))


def png_paths(path: str | Path, count: int) -> list[Path]:
    """Where :func:`write_pngs` writes ``count`` images (``path`` as a file or a folder)."""
    path = Path(path)
    if path.suffix.lower() == ".png":
        if count == 1:
            return [path]
        return [path.with_name(f"{path.stem}_{i}.png") for i in range(count)]
    return [path / f"{i:03d}.png" for i in range(count)]


def write_pngs(pixels: np.ndarray, path: str | Path) -> list[Path]:
    """Write ``uint8 [B, H, W, 3]`` as PNGs; each file is complete or absent.

    ``path`` ending in ``.png`` names the file (``name_0.png``, ``name_1.png``… for
    a batch of several); any other path is a folder that gets ``000.png``,
    ``001.png``… Returns the written paths.
    """
    from PIL import Image

    files = png_paths(path, len(pixels))
    for file, img in zip(files, pixels, strict=True):
        with staged_path(file) as tmp:
            Image.fromarray(img).save(tmp, format="PNG")
    return files
