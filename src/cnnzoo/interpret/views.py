"""Pictures of what a model sees: overlays, method grids, feature maps, filters, embeddings.

matplotlib is optional (``pip install 'cnnzoo[viz]'``): it is imported inside the
functions, and each returns a ``matplotlib.figure.Figure`` built without pyplot (no
global state, no GUI backend) — save it with ``fig.savefig("x.png")``; Jupyter
shows it inline. :func:`embeddings` needs neither matplotlib nor scikit-learn;
:func:`plot_embeddings` needs both.

Example:
    >>> import cnnzoo, torch
    >>> from cnnzoo.interpret import views
    >>> model = cnnzoo.create("lenet5", pretrained=True)
    >>> fig = views.plot_filters(model)
    >>> len(fig.axes) >= 6
    True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

import torch
from torch import nn

from cnnzoo._utils import eval_mode
from cnnzoo.errors import ExplainError
from cnnzoo.interpret.api import explain
from cnnzoo.interpret.checks import model_config, model_device
from cnnzoo.interpret.layers import feature_modules, resolve_layer
from cnnzoo.interpret.methods import get_method
from cnnzoo.interpret.render import to_display
from cnnzoo.interpret.result import Explanation
from cnnzoo.interpret.targets import TargetLike

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from torch.utils.data import DataLoader, Dataset

__all__ = [
    "compare_methods",
    "embeddings",
    "plot_embeddings",
    "plot_feature_maps",
    "plot_filters",
    "plot_overlays",
]

DEFAULT_METHODS = ("gradcam", "gradcam++", "layercam", "eigencam", "saliency",
                   "integrated_gradients")

#: What :func:`embeddings` reads: an images tensor, an ``(images, labels)`` tuple, a
#: ``Dataset`` of ``(image, label)`` items or a ``DataLoader``.
EmbeddingData: TypeAlias = (
    "torch.Tensor | tuple[torch.Tensor, Any] | Dataset[Any] | DataLoader[Any]"
)


def _figure(nrows: int, ncols: int, cell: float = 1.6, *, extra_height: float = 0.0
            ) -> tuple[Figure, np.ndarray]:
    """A pyplot-free figure with a ``[nrows, ncols]`` array of axes, all axes off."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ExplainError(
            "cnnzoo's explain views need matplotlib: pip install 'cnnzoo[viz]'"
        ) from exc
    fig = Figure(figsize=(cell * ncols, cell * nrows + extra_height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    return fig, axes


def _cfg_norm(model: nn.Module | None, mean: Sequence[float] | None,
              std: Sequence[float] | None
              ) -> tuple[Sequence[float] | None, Sequence[float] | None]:
    """``mean``/``std``, or the model config's when neither is given."""
    if mean is None and std is None and model is not None:
        cfg = model_config(model)
        return cfg.get("mean"), cfg.get("std")
    return mean, std


def _label(labels: Sequence[str] | None, cls: int) -> str:
    if labels is not None and 0 <= cls < len(labels):
        return str(labels[cls])
    return str(cls)


def plot_overlays(
    explanation: Explanation,
    images: torch.Tensor,
    *,
    labels: Sequence[str] | None = None,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    ncols: int = 8,
    alpha: float = 0.5,
    cell: float = 1.6,
) -> Figure:
    """The explanation's heatmaps over the images, titled with the explained class.

    Args:
        explanation: what :func:`cnnzoo.explain` returned for ``images``.
        images: the explained batch ``[B, C, H, W]``.
        labels: the class names (e.g. ``model.pretrained_cfg["labels"]``).
        mean: with ``std``, undo the input normalisation for display.
        std: the normalisation's standard deviations.
        ncols: images per row.
        alpha: the heatmap's weight.
        cell: inches per image.

    Returns:
        a matplotlib ``Figure``.
    """
    pixels = explanation.overlay(images, mean=mean, std=std, alpha=alpha)
    n = len(explanation)
    cols = max(1, min(ncols, n))
    rows = (n + cols - 1) // cols
    fig, axes = _figure(rows, cols, cell)
    for i in range(n):
        ax = axes.flat[i]
        ax.imshow(pixels[i], interpolation="nearest")
        ax.set_title(_label(labels, int(explanation.targets[i])), fontsize=9)
    return fig


def compare_methods(
    model: nn.Module,
    images: torch.Tensor,
    methods: Sequence[str] = DEFAULT_METHODS,
    *,
    target: TargetLike = None,
    layer: str | nn.Module = "auto",
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    alpha: float = 0.5,
    cell: float = 1.4,
) -> Figure:
    """A grid: one row per image, its input then one overlay per method.

    Args:
        model: the model to explain.
        images: the batch ``[B, C, H, W]``.
        methods: the methods, one column each.
        target: as for :func:`cnnzoo.explain`.
        layer: the CAM methods' layer (input-space methods ignore it).
        mean: undo this normalisation for display (default: the model's config).
        std: the normalisation's standard deviations (default: the model's config).
        options: a method name to its options (``{"occlusion": {"window": 4}}``).
        alpha: the heatmaps' weight.
        cell: inches per image.

    Returns:
        a matplotlib ``Figure``.

    Raises:
        ExplainError: an unknown method or option, before any work is done.
    """
    options = options or {}
    for name in methods:
        get_method(name, options.get(name))  # fail before any work on a typo
    mean, std = _cfg_norm(model, mean, std)
    results = []
    for name in methods:
        kind = get_method(name).kind
        results.append(explain(model, images, method=name, target=target,
                               layer=layer if kind != "input" else "auto",
                               **options.get(name, {})))
    shown = (to_display(images, mean=mean, std=std) * 255).round().to(torch.uint8)
    shown_pixels = shown.permute(0, 2, 3, 1).numpy()
    overlays = [res.overlay(images, mean=mean, std=std, alpha=alpha) for res in results]
    fig, axes = _figure(len(shown_pixels), len(methods) + 1, cell)
    for i in range(len(shown_pixels)):
        axes[i, 0].imshow(shown_pixels[i], interpolation="nearest")
        for j, pixels in enumerate(overlays, start=1):
            axes[i, j].imshow(pixels[i], interpolation="nearest")
    axes[0, 0].set_title("input", fontsize=9)
    for j, res in enumerate(results, start=1):
        axes[0, j].set_title(res.method, fontsize=9)
    return fig


def _as_batch(image: torch.Tensor) -> torch.Tensor:
    if image.ndim == 3:
        image = image[None]
    if image.ndim != 4 or image.shape[0] != 1:
        raise ExplainError(f"one image [C, H, W] (or [1, C, H, W]) please; got shape "
                           f"{tuple(image.shape)}")
    return image


def _keeping(name: str, outputs: dict[str, torch.Tensor]
             ) -> Callable[[nn.Module, object, object], None]:
    """A forward hook storing the layer's feature map in ``outputs[name]``."""

    def hook(_m: nn.Module, _a: object, out: object) -> None:
        if not isinstance(out, torch.Tensor) or out.ndim != 4:
            raise ExplainError(f"layer {name!r} does not output a feature map [B, C, H, W]")
        outputs[name] = out.detach().clone()

    return hook


def _feature_maps(model: nn.Module, x: torch.Tensor,
                  layers: Sequence[tuple[str, nn.Module]]) -> dict[str, torch.Tensor]:
    """One eval-mode forward of ``x`` recording each layer's output; hooks always removed."""
    outputs: dict[str, torch.Tensor] = {}
    handles = []
    try:
        for name, module in layers:
            handles.append(module.register_forward_hook(_keeping(name, outputs)))
        with eval_mode(model), torch.no_grad():
            model(x.to(model_device(model, x.device)))
    finally:
        for h in handles:
            h.remove()
    return outputs


def plot_feature_maps(
    model: nn.Module,
    image: torch.Tensor,
    layers: str | Sequence[str] = "auto",
    *,
    max_channels: int = 16,
    cmap: str = "viridis",
    cell: float = 0.9,
) -> Figure:
    """The first ``max_channels`` feature maps of each named layer for one image.

    One row per layer; each map is min-max scaled on its own.

    Args:
        model: the model.
        image: one image ``[C, H, W]`` (or ``[1, C, H, W]``).
        layers: layer names, or ``"auto"``: every feature stage (``feature_info``).
        max_channels: maps shown per layer.
        cmap: the matplotlib colormap.
        cell: inches per map.

    Returns:
        a matplotlib ``Figure``.

    Raises:
        ExplainError: not one image, an unknown layer, or a layer without feature map.
    """
    x = _as_batch(image)
    if isinstance(layers, str):
        layers = feature_modules(model) if layers == "auto" else [layers]
        if not layers:
            raise ExplainError("the model has no feature_info: name the layers to show")
    resolved = [resolve_layer(model, name) for name in layers]
    outputs = _feature_maps(model, x, resolved)
    cols = max(1, min(max_channels, max(int(outputs[n].shape[1]) for n, _ in resolved)))
    fig, axes = _figure(len(resolved), cols, cell, extra_height=0.2)
    for row, (name, _) in enumerate(resolved):
        fmap = outputs[name][0, :cols].float().cpu()
        for c in range(fmap.shape[0]):
            axes[row, c].imshow(fmap[c].numpy(), cmap=cmap, interpolation="nearest")
        shape = "×".join(str(int(v)) for v in outputs[name].shape[1:])
        axes[row, 0].set_title(f"{name} ({shape})", fontsize=8, loc="left")
    return fig


def _conv_layer(model: nn.Module, layer: str | None) -> nn.Conv2d:
    """The first ``nn.Conv2d`` of the model, or the named layer if it is one."""
    if layer is None:
        conv = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
        if conv is None:
            raise ExplainError("the model has no nn.Conv2d layer")
        return conv
    _, module = resolve_layer(model, layer)
    if not isinstance(module, nn.Conv2d):
        raise ExplainError(f"layer {layer!r} is a {type(module).__name__}, not an nn.Conv2d")
    return module


def plot_filters(
    model: nn.Module,
    *,
    layer: str | None = None,
    max_filters: int = 64,
    ncols: int = 8,
    cell: float = 0.8,
) -> Figure:
    """The kernels of the first convolution (or of ``layer``), one cell per filter.

    Three input channels show in colour, others as the mean over input channels;
    each filter is min-max scaled on its own.

    Args:
        model: the model.
        layer: the name of an ``nn.Conv2d`` layer; default the first one.
        max_filters: filters shown.
        ncols: filters per row.
        cell: inches per filter.

    Returns:
        a matplotlib ``Figure``.

    Raises:
        ExplainError: no convolution, or ``layer`` is not one.
    """
    weight = _conv_layer(model, layer).weight.detach().float().cpu()[:max_filters]
    if weight.shape[1] != 3:
        weight = weight.mean(1, keepdim=True)
    lo = weight.flatten(1).min(1).values.view(-1, 1, 1, 1)
    hi = weight.flatten(1).max(1).values.view(-1, 1, 1, 1)
    weight = (weight - lo) / (hi - lo).clamp_min(1e-12)
    n = weight.shape[0]
    cols = max(1, min(ncols, n))
    fig, axes = _figure((n + cols - 1) // cols, cols, cell)
    for i in range(n):
        w = weight[i].permute(1, 2, 0).numpy()
        axes.flat[i].imshow(w[..., 0] if w.shape[-1] == 1 else w, cmap="gray",
                            interpolation="nearest")
    return fig


def _batches(data: EmbeddingData, batch_size: int
             ) -> Iterable[tuple[torch.Tensor, torch.Tensor | None]]:
    if isinstance(data, torch.Tensor):
        for i in range(0, len(data), batch_size):
            yield data[i:i + batch_size], None
        return
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], torch.Tensor):
        x, y = data
        for i in range(0, len(x), batch_size):
            yield x[i:i + batch_size], torch.as_tensor(y[i:i + batch_size])
        return
    from torch.utils.data import DataLoader, Dataset

    loader = data if isinstance(data, DataLoader) else None
    if loader is None and isinstance(data, Dataset):
        loader = DataLoader(data, batch_size=batch_size, shuffle=False)
    if loader is None:
        raise ExplainError(
            "data must be an images tensor, an (images, labels) tuple, a Dataset or a "
            f"DataLoader; got {type(data).__name__}"
        )
    for batch in loader:
        if isinstance(batch, (tuple, list)):
            yield batch[0], (torch.as_tensor(batch[1]) if len(batch) > 1 else None)
        else:
            yield batch, None


def embeddings(model: nn.Module, data: EmbeddingData, *, batch_size: int = 256
               ) -> tuple[np.ndarray, np.ndarray | None]:
    """Pre-logits features of a dataset: ``(features [N, D], labels [N] or None)``.

    Features are ``model.forward_head(model.forward_features(x), pre_logits=True)``
    (globally averaged if still spatial, as for a segmenter), in eval mode and
    without autograd; the model's mode is restored.

    Raises:
        ExplainError: a model without ``forward_features``/``forward_head``, data of
            another kind, or empty data.
    """
    forward_features = getattr(model, "forward_features", None)
    forward_head = getattr(model, "forward_head", None)
    if not (callable(forward_features) and callable(forward_head)):
        raise ExplainError("embeddings need the cnnzoo model protocol: forward_features and "
                           "forward_head(pre_logits=True)")
    feats, labels = [], []
    device = None
    with eval_mode(model), torch.no_grad():
        for x, y in _batches(data, batch_size):
            device = device or model_device(model, x.device)
            f = forward_head(forward_features(x.to(device)), pre_logits=True)
            if f.ndim > 2:
                f = f.flatten(2).mean(2)
            feats.append(f.float().cpu())
            if y is not None:
                labels.append(y.cpu())
    if not feats:
        raise ExplainError("data is empty")
    return torch.cat(feats).numpy(), (torch.cat(labels).numpy() if labels else None)


def project(features: np.ndarray, method: str = "pca", *, seed: int = 0,
            perplexity: float = 30.0) -> np.ndarray:
    """2-D coordinates of ``features`` by PCA or t-SNE (scikit-learn).

    Raises:
        ExplainError: an unknown ``method`` or no scikit-learn.
    """
    try:
        from sklearn.decomposition import PCA
        from sklearn.manifold import TSNE
    except ImportError as exc:
        raise ExplainError("embedding projections need scikit-learn") from exc
    if method == "pca":
        return PCA(n_components=2, random_state=seed).fit_transform(features)
    if method in ("tsne", "t-sne"):
        perplexity = min(perplexity, max(1.0, (len(features) - 1) / 3))
        return TSNE(n_components=2, init="pca", random_state=seed,
                    perplexity=perplexity).fit_transform(features)
    raise ExplainError(f"unknown projection {method!r}; choose 'pca' or 'tsne'")


def _scatter(ax: Axes, xy: np.ndarray, labels: np.ndarray | None,
             class_names: Sequence[str] | None) -> None:
    """Points of ``xy``, one colour and legend entry per label."""
    if labels is None:
        ax.scatter(xy[:, 0], xy[:, 1], s=6)
        return
    import numpy as np

    classes = np.unique(labels)
    for i, cls in enumerate(classes):
        sel = labels == cls
        ax.scatter(xy[sel, 0], xy[sel, 1], s=6, color=_palette(i),
                   label=_label(class_names, int(cls)))
    ax.legend(fontsize=7, markerscale=2, loc="best", ncols=2 if len(classes) > 6 else 1,
              frameon=False)


def plot_embeddings(
    model: nn.Module,
    data: EmbeddingData,
    *,
    method: str = "pca",
    class_names: Sequence[str] | None = None,
    seed: int = 0,
    size: tuple[float, float] = (4.5, 4.0),
    batch_size: int = 256,
) -> Figure:
    """A 2-D PCA or t-SNE scatter of the dataset's pre-logits features, coloured by class.

    Args:
        model: the model (see :func:`embeddings`).
        data: the images, with their labels for colours (see :data:`EmbeddingData`).
        method: ``"pca"`` or ``"tsne"``.
        class_names: the legend's names; default the model's ``pretrained_cfg["labels"]``.
        seed: the projection's random state.
        size: the figure's size in inches.
        batch_size: images per forward pass.

    Returns:
        a matplotlib ``Figure``.
    """
    features, labels = embeddings(model, data, batch_size=batch_size)
    xy = project(features, method, seed=seed)
    if class_names is None:
        class_names = model_config(model).get("labels")
    fig, axes = _figure(1, 1)
    fig.set_size_inches(*size)
    ax = axes[0, 0]
    ax.set_axis_on()
    ax.set_xticks([])
    ax.set_yticks([])
    _scatter(ax, xy, labels, class_names)
    ax.set_title(f"{'t-SNE' if method.startswith('t') else 'PCA'} of pre-logits features",
                 fontsize=9)
    return fig


def _palette(i: int) -> tuple[float, float, float, float]:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if i < 10 else "tab20"]
    return cmap(i % cmap.N)
