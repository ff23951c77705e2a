"""The shared plumbing of every explain method.

* :class:`Explanation`, the result (maps, targets, scores; overlays and PNGs);
* input checks, layer resolution (``layer="auto"``) and the method registry;
* :func:`capture`: one forward pass that records a layer's activations and, for the
  gradient CAMs, prepares the one backward pass. Activations are recorded by a
  forward hook that *replaces* the layer's output by a detached leaf (then a clone
  of it): the part of the network before the layer runs without autograd, the
  backward covers only the part after it, in-place activations downstream modify
  the clone and never the recorded tensor, and gradients come from
  ``torch.autograd.grad`` w.r.t. that leaf — the parameters never get ``.grad``;
* :func:`evaluating`: eval mode for the call, every module's mode restored after;
* normalisation exactly as pytorch-grad-cam's (ReLU, per-image min-max with
  ``1e-7``, bilinear resize to the input, min-max again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo._utils import did_you_mean
from cnnzoo.errors import ExplainError

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "METHODS",
    "Context",
    "ExplainError",
    "Explanation",
    "Method",
    "capture",
    "check_images",
    "colorize",
    "evaluating",
    "resolve_layer",
    "scale_maps",
]

EPS = 1e-7  # pytorch-grad-cam's scale_cam_image: (x - min) / (1e-7 + max)


# -- the result -------------------------------------------------------------------------
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
        images: Any,
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
        """
        rgb = to_display(images, mean=mean, std=std)  # [B, 3, H, W] in 0..1, CPU
        if rgb.shape[0] != len(self):
            raise ExplainError(f"overlay got {rgb.shape[0]} images for {len(self)} maps")
        maps = self.maps.detach().float().cpu()
        if tuple(maps.shape[-2:]) != tuple(rgb.shape[-2:]):
            maps = F.interpolate(maps[:, None], size=rgb.shape[-2:], mode="bilinear",
                                 align_corners=False)[:, 0].clamp(0, 1)
        heat = colorize(maps, colormap)
        out = (1 - alpha) * rgb + alpha * heat
        return (out.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()

    def save(
        self,
        path: str | Path,
        images: Any = None,
        **overlay_options: Any,
    ) -> list[Path]:
        """Write PNGs: overlays if ``images`` are given, else coloured heatmaps.

        ``path`` ending in ``.png`` names the file (``name_0.png``, ``name_1.png``…
        for a batch of several); any other path is a folder that gets
        ``000.png``, ``001.png``… Returns the written paths.
        """
        from PIL import Image

        if images is not None:
            pixels = self.overlay(images, **overlay_options)
        else:
            heat = colorize(self.maps.detach().float().cpu(),
                            overlay_options.get("colormap", "jet"))
            pixels = (heat * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
        path = Path(path)
        if path.suffix.lower() == ".png":
            path.parent.mkdir(parents=True, exist_ok=True)
            files = [path] if len(self) == 1 else [
                path.with_name(f"{path.stem}_{i}.png") for i in range(len(self))]
        else:
            path.mkdir(parents=True, exist_ok=True)
            files = [path / f"{i:03d}.png" for i in range(len(self))]
        for file, img in zip(files, pixels, strict=True):
            Image.fromarray(img).save(file)
        return files


# -- colours ------------------------------------------------------------------------------
def colorize(maps: torch.Tensor, colormap: str = "jet") -> torch.Tensor:
    """``[B, H, W]`` in 0…1 → ``[B, 3, H, W]`` RGB in 0…1.

    ``"jet"`` needs nothing but torch; other names go through matplotlib.
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


def to_display(images: Any, *, mean: Sequence[float] | None = None,
               std: Sequence[float] | None = None) -> torch.Tensor:
    """Images as ``[B, 3, H, W]`` float RGB in 0…1 on the CPU, for display."""
    x = torch.as_tensor(images).detach().float().cpu()
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ExplainError(f"images must be [B, C, H, W]; got shape {tuple(x.shape)}")
    if mean is not None and std is not None:
        chans = x.shape[1]
        m = torch.tensor(_cycle(mean, chans)).view(1, -1, 1, 1)
        s = torch.tensor(_cycle(std, chans)).view(1, -1, 1, 1)
        x = (x * s + m).clamp(0, 1)
    elif x.min() < 0 or x.max() > 1:
        lo = x.flatten(1).min(1).values.view(-1, 1, 1, 1)
        hi = x.flatten(1).max(1).values.view(-1, 1, 1, 1)
        x = (x - lo) / (hi - lo).clamp_min(1e-12)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    elif x.shape[1] != 3:
        x = x.mean(1, keepdim=True).expand(-1, 3, -1, -1)
    return x


def _cycle(values: Sequence[float], n: int) -> list[float]:
    values = [float(v) for v in values]
    if len(values) == n:
        return values
    if n == 1:
        return [sum(values) / len(values)]
    return [values[i % len(values)] for i in range(n)]


# -- checks ---------------------------------------------------------------------------
def model_device(model: nn.Module, fallback: torch.device) -> torch.device:
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return fallback


def expected_channels(model: nn.Module) -> int | None:
    chans = getattr(model, "in_chans", None)
    if isinstance(chans, int):
        return chans
    size = (getattr(model, "pretrained_cfg", None) or {}).get("input_size")
    if size and len(size) == 3:
        return int(size[0])
    return None


def check_images(model: nn.Module, images: Any) -> torch.Tensor:
    """A float batch ``[B, C, H, W]`` with the model's channel count, on its device."""
    if not isinstance(images, torch.Tensor):
        raise ExplainError(
            f"images must be a float tensor [B, C, H, W]; got {type(images).__name__} "
            "(preprocess with cnnzoo.data.eval_transform(model.pretrained_cfg))"
        )
    if images.ndim != 4:
        hint = (" — one image? add the batch dimension: images.unsqueeze(0)"
                if images.ndim == 3 else "")
        raise ExplainError(
            f"images must be a batch [B, C, H, W]; got shape {tuple(images.shape)}{hint}"
        )
    if not images.is_floating_point():
        raise ExplainError(
            f"images must be floating point (normalised as the model expects); got "
            f"{images.dtype} — use cnnzoo.data.eval_transform(model.pretrained_cfg)"
        )
    if images.shape[0] == 0 or images.shape[-1] == 0 or images.shape[-2] == 0:
        raise ExplainError(f"images is empty: shape {tuple(images.shape)}")
    chans = expected_channels(model)
    if chans is not None and images.shape[1] != chans:
        raise ExplainError(
            f"the model takes {chans}-channel images; got {images.shape[1]} channels "
            f"(shape {tuple(images.shape)})"
        )
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), images.dtype)
    return images.detach().to(device=model_device(model, images.device), dtype=dtype)


# -- layers ---------------------------------------------------------------------------
def _feature_modules(model: nn.Module) -> list[str]:
    info = getattr(model, "feature_info", None)
    if info is None:
        return []
    if hasattr(info, "module_name"):  # timm's FeatureInfo
        return [str(n) for n in info.module_name()]
    try:
        return [str(d["module"]) for d in info if isinstance(d, Mapping) and d.get("module")]
    except TypeError:
        return []


def auto_layer_candidates(model: nn.Module) -> list[str]:
    """Names ``layer="auto"`` tries, in order: the spec's ``cam_layer``, the last feature stage."""
    candidates = []
    arch = (getattr(model, "pretrained_cfg", None) or {}).get("architecture")
    if arch:
        from cnnzoo.spec import is_model, model_info

        if is_model(arch) and model_info(arch).cam_layer:
            candidates.append(model_info(arch).cam_layer)
    feats = _feature_modules(model)
    if feats:
        candidates.append(feats[-1])
    return candidates


def resolve_layer(model: nn.Module, layer: str | nn.Module) -> tuple[str, nn.Module]:
    """``(name, module)`` for ``"auto"``, a module name or a module of ``model``."""
    modules = dict(model.named_modules())
    if isinstance(layer, nn.Module):
        for name, module in modules.items():
            if module is layer:
                return name or type(model).__name__, module
        raise ExplainError(f"the layer {type(layer).__name__} is not a submodule of the model")
    if not isinstance(layer, str):
        raise ExplainError(f"layer must be 'auto', a module name or a module; got {layer!r}")
    if layer == "auto":
        candidates = auto_layer_candidates(model)
        for name in candidates:
            for spelling in (name, name.replace("_", ".")):
                if spelling in modules:
                    return spelling, modules[spelling]
        children = ", ".join(n for n, _ in model.named_children())
        raise ExplainError(
            f"cannot choose a layer for {type(model).__name__} automatically "
            f"(tried: {', '.join(candidates) or 'no cam_layer in its spec and no feature_info'});"
            f" pass layer='<module name>', e.g. one of its children: {children}"
        )
    if layer in modules and layer:
        return layer, modules[layer]
    names = [n for n in modules if n]
    children = [n for n, _ in model.named_children()]
    raise ExplainError(
        f"the model has no layer {layer!r}" + did_you_mean(layer, names)
        + f" (its top-level layers: {', '.join(children)}; any name of "
        "model.named_modules() works, or layer='auto')"
    )


# -- model state ---------------------------------------------------------------------------
@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """Eval mode inside; every module's own ``training`` flag restored on exit."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, mode in modes:
            module.training = mode


# -- capture ------------------------------------------------------------------------------
@dataclass
class Captured:
    """One forward pass: the model's outputs and the hooked layer's activations."""

    outputs: torch.Tensor
    activations: torch.Tensor


def capture(model: nn.Module, module: nn.Module, name: str, images: torch.Tensor, *,
            grad: bool) -> Captured:
    """Run ``model(images)`` once, recording ``module``'s output.

    With ``grad=True`` the layer's output is replaced by a leaf tensor requiring
    grad (the activations) followed by a clone, and autograd is switched on from
    that point: the outputs' graph reaches back to the activations only, so the
    backward pass is as short as it can be and touches no parameter's ``.grad``.
    The hook is removed whatever happens.
    """
    from cnnzoo.interpret.targets import model_outputs

    store: list[torch.Tensor] = []

    def hook(_module: nn.Module, _args: Any, output: Any) -> Any:
        if not isinstance(output, torch.Tensor) or output.ndim != 4:
            shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(
                output).__name__
            raise ExplainError(
                f"layer {name!r} outputs {shape}; CAM methods need a feature map "
                "[B, C, H, W] — pick another layer (layer='auto' picks the last feature stage)"
            )
        if store:
            raise ExplainError(
                f"layer {name!r} runs more than once in a forward pass; pick a layer that "
                "runs once"
            )
        leaf = output.detach()
        if grad:
            leaf.requires_grad_(True)
            store.append(leaf)
            torch.set_grad_enabled(True)  # from here on; the caller's no_grad() restores it
            return leaf.clone()  # in-place ops downstream write into the clone
        store.append(leaf.clone())
        return None

    handle = module.register_forward_hook(hook)
    try:
        with torch.no_grad():
            outputs = model_outputs(model(images))
    finally:
        handle.remove()
    if not store:
        raise ExplainError(f"layer {name!r} did not run in the model's forward pass")
    if grad and not outputs.requires_grad:
        raise ExplainError(f"the model's output does not depend on layer {name!r}")
    return Captured(outputs, store[0])


# -- maps ------------------------------------------------------------------------------------
def scale_maps(maps: torch.Tensor) -> torch.Tensor:
    """Per-image ``(m - min) / (1e-7 + max(m - min))``, as pytorch-grad-cam scales."""
    flat = maps.flatten(1)
    shifted = maps - flat.min(1).values.view(-1, *[1] * (maps.ndim - 1))
    return shifted / (EPS + shifted.flatten(1).max(1).values.view(-1, *[1] * (maps.ndim - 1)))


def cam_to_maps(cam: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A layer-resolution CAM ``[B, h, w]`` → ``[B, H, W]`` maps in 0…1.

    pytorch-grad-cam's convention exactly: ReLU, min-max, bilinear resize
    (half-pixel centres, as ``cv2.resize`` and ``align_corners=False``), min-max.
    """
    cam = scale_maps(cam.clamp_min(0))
    if tuple(cam.shape[-2:]) != tuple(size):
        cam = F.interpolate(cam[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]
    return scale_maps(cam)


# -- the method registry -------------------------------------------------------------------
MethodKind = Literal["gradient_cam", "activation_cam", "input"]


@dataclass(frozen=True)
class Method:
    """One explain method: its rule and the options it accepts (with defaults).

    ``kind`` says what the shared plumbing hands the rule:

    * ``"gradient_cam"``: ``rule(activations, gradients) -> cam [B, h, w]``
      (one forward, one backward for the batch);
    * ``"activation_cam"``: ``rule(activations, context, **options) -> cam``
      (``context`` has model, images, targets; no backward);
    * ``"input"``: ``rule(context, **options) -> (attributions, map)`` in input space.
    """

    name: str
    kind: MethodKind
    rule: Callable[..., Any]
    options: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    input_grad: bool = False  # "input" methods: the clean forward keeps a graph to the input


@dataclass
class Context:
    """What a rule may use besides activations: the model, the batch, its targets.

    ``x`` is the batch (a leaf requiring grad when the method asked for
    ``input_grad``); ``outputs`` the logits of the clean forward pass.
    """

    model: nn.Module
    images: torch.Tensor
    targets: Any  # TargetSet
    outputs: torch.Tensor
    x: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        from cnnzoo.interpret.targets import model_outputs

        return model_outputs(self.model(x))


METHODS: dict[str, Method] = {}


def register_method(name: str, kind: MethodKind, *, summary: str = "", input_grad: bool = False,
                    **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register ``rule`` as the method ``name`` with its ``options`` and defaults."""

    def deco(rule: Callable[..., Any]) -> Callable[..., Any]:
        METHODS[name] = Method(name, kind, rule, dict(options), summary, input_grad)
        return rule

    return deco


def _load_methods() -> None:
    import cnnzoo.interpret.cam
    import cnnzoo.interpret.gradients  # noqa: F401  (registration)


def get_method(name: str, options: Mapping[str, Any] | None = None) -> Method:
    """The method ``name``; an unknown name or option raises with the valid choices."""
    _load_methods()
    if not isinstance(name, str) or name.lower() not in METHODS:
        choices = list(METHODS)
        raise ExplainError(
            f"unknown method {name!r}; choose one of {', '.join(choices)}"
            + did_you_mean(str(name).lower(), choices)
        )
    method = METHODS[name.lower()]
    unknown = [k for k in options or {} if k not in method.options]
    if unknown:
        accepted = ", ".join(f"{k}={v!r}" for k, v in method.options.items()) or "none"
        raise ExplainError(
            f"method {method.name!r} got unknown option(s) {', '.join(unknown)}; it accepts: "
            f"{accepted}" + "".join(did_you_mean(k, list(method.options)) for k in unknown)
        )
    return method


def method_names() -> list[str]:
    """Every registered method name."""
    _load_methods()
    return list(METHODS)
