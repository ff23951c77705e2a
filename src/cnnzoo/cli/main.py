"""The ``cnnzoo`` command line: thin wrappers that parse, call the API and print.

``cnnzoo list`` and ``cnnzoo info`` read specs only (fast, no torch import);
``info --layers`` builds the model to print its per-layer summary.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from cnnzoo.errors import CnnzooError
from cnnzoo.spec import list_models, model_info

# Subcommands that live beside the feature they drive. Each module offers
# ``register(subparsers)`` and imports nothing heavy at module level.
COMMAND_MODULES: tuple[str, ...] = ("cnnzoo.cli.explain", "cnnzoo.cli.train",
                                   "cnnzoo.cli.deploy")


def _fmt_params(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:.2f}M" if n >= 1_000_000 else f"{n:,}"


def _fmt_gmacs(g: float | None) -> str:
    return "-" if g is None else f"{g:.3g}"


def render_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Plain aligned text table (numbers right-aligned)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    numeric = [all(_is_number(r[i]) for r in cells) and bool(cells) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out.extend(line(r) for r in cells)
    return "\n".join(out)


def _is_number(text: str) -> bool:
    return text.replace(",", "").replace(".", "").rstrip("M").isdigit()


def cmd_list(args: argparse.Namespace) -> int:
    pretrained = True if args.pretrained else None
    names = list_models(args.pattern or "*", pretrained=pretrained, task=args.task,
                        family=args.family)
    specs = [model_info(n) for n in names]
    if args.json:
        print(json.dumps([s.to_dict() for s in specs], indent=2))
        return 0
    if not specs:
        print(f"no model matches {args.pattern or '*'!r} with these filters", file=sys.stderr)
        return 1
    rows = [
        (s.name, s.family, s.task, _fmt_params(s.num_params), _fmt_gmacs(s.gmacs),
         "x".join(str(v) for v in s.input_size[1:]), ",".join(s.weights) or "-",
         ",".join(s.aliases) or "-")
        for s in specs
    ]
    print(render_table(("name", "family", "task", "params", "GMACs", "input", "pretrained",
                        "aliases"), rows))
    print(f"\n{len(specs)} model(s)")
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    spec = model_info(args.name)
    info = spec.to_dict()
    layers = None
    if args.layers:
        import cnnzoo
        from cnnzoo.analysis import summary

        size = tuple(args.input_size) if args.input_size else spec.input_size
        model = cnnzoo.create(spec.name).eval()
        layers = summary(model, input_size=size)
        info["summary"] = layers.to_dict()
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    paper = spec.paper
    lines = [
        f"{spec.name}  ({spec.family}, {spec.task})",
        f"  {spec.description}" if spec.description else "",
        f"  aliases        : {', '.join(spec.aliases) or '-'}",
        f"  registered by  : {spec.source}",
        f"  paper          : {paper.title} ({paper.year}) {paper.url}" if paper else "",
        f"  parameters     : {spec.num_params:,}" if spec.num_params else "",
        f"  GMACs          : {_fmt_gmacs(spec.gmacs)} at {'x'.join(map(str, spec.input_size))}",
        f"  defaults       : num_classes={spec.num_classes}, in_chans={spec.in_chans}, "
        f"input_size={spec.input_size}",
        f"  stages         : {', '.join(spec.stages) or '-'}",
        f"  cam layer      : {spec.cam_layer or '-'}",
        "  features_only  : "
        + (", ".join(f"{f.module} ({f.num_chs}ch /{f.reduction})" for f in spec.feature_info)
           if spec.feature_info else "no"),
        f"  checkpoints    : {', '.join(['cnnzoo', *spec.checkpoint_converters])}",
        f"  pretrained     : {', '.join(spec.weights) or '-'}",
    ]
    for tag, w in spec.weights.items():
        metrics = ", ".join(f"{k}={v}" for k, v in w.metrics.items())
        default = " (default)" if tag == spec.default_tag else ""
        lines.append(f"    {tag}{default}: {w.repo_id} {metrics}".rstrip())
    print("\n".join(line for line in lines if line))
    if layers is not None:
        print()
        print(layers)
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    from cnnzoo.build.weights import fetch

    fetched = fetch(args.refs, to=args.to, lock=args.lock)
    rows = [(f.key, f.filename, f.revision or "embedded", f.sha256[:16] + "…",
             f"{f.size / 1e6:.1f} MB") for f in fetched]
    print(render_table(("weights", "file", "commit", "sha256", "size"), rows))
    if args.lock:
        print(f"\nlock written: {args.lock}")
    if args.to:
        print(f"bundle: {args.to}  (offline use: HF_HUB_CACHE={args.to} HF_HUB_OFFLINE=1"
              + (f" CNNZOO_LOCK={args.lock}" if args.lock else "") + ")")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    import cnnzoo
    from cnnzoo.build.weights import cfg_from_weights_spec, sha256_file
    from cnnzoo.hub import save_pretrained

    spec = model_info(args.name)
    model = cnnzoo.create(spec.name, checkpoint_path=args.checkpoint)
    metrics, datasets, license = None, (), None
    if args.tag or spec.default_tag:
        tag, wspec = spec.resolve_tag(args.tag)
        if wspec.num_classes == model.pretrained_cfg["num_classes"]:
            model.pretrained_cfg.update(cfg_from_weights_spec(tag, wspec))
            metrics, license = dict(wspec.metrics) or None, wspec.license
            datasets = (wspec.dataset,) if wspec.dataset else ()
    folder = save_pretrained(model, args.out, metrics=metrics, datasets=datasets,
                             license=license, repo_id=args.repo_id)
    weights = folder / "model.safetensors"
    print(f"wrote {folder}: config.json, model.safetensors, README.md")
    print(f"model.safetensors sha256 {sha256_file(weights)} ({weights.stat().st_size:,} bytes)")
    if args.repo_id:
        print(f"publish with: cnnzoo push {folder} {args.repo_id}")
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    from cnnzoo.hub import push_folder

    url = push_folder(args.folder, args.repo_id, private=args.private, revision=args.revision,
                      commit_message=args.message)
    print(f"pushed {args.folder} to {args.repo_id}: {url}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from cnnzoo.demo import run

    result = run(epochs=args.epochs, train=not args.no_train)
    return 0 if result.test_accuracy > 0.9 else 1


def build_parser() -> argparse.ArgumentParser:
    from cnnzoo import __version__

    parser = argparse.ArgumentParser(
        prog="cnnzoo", description="A plugin-based zoo of convolutional networks."
    )
    parser.add_argument("--version", action="version", version=f"cnnzoo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("list", help="list registered models",
                       description="List registered models (built-ins and plugins).")
    p.add_argument("pattern", nargs="?", help="fnmatch pattern, e.g. 'resnet*'")
    p.add_argument("--task", choices=("classification", "segmentation"))
    p.add_argument("--family", help="only this family, e.g. resnet")
    p.add_argument("--pretrained", action="store_true", help="only models with weights")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="show a model's spec",
                       description="Show a model's spec; --layers adds a per-layer summary.")
    p.add_argument("name", help="model name or alias")
    p.add_argument("--layers", action="store_true",
                   help="build the model and print output shape, params, MACs and "
                        "receptive field per layer")
    p.add_argument("--input-size", type=int, nargs=3, metavar=("C", "H", "W"),
                   help="input size for --layers (default: the model's)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("fetch", help="download weights into a bundle and pin them in a lock",
                       description="Download weights (and configs) into a portable "
                                   "huggingface_hub cache folder and record the resolved "
                                   "commits and sha256 in a lock file.")
    p.add_argument("refs", nargs="+", metavar="NAME[.TAG]|hf-hub:ORG/REPO")
    p.add_argument("--to", help="bundle folder (default: the huggingface_hub cache)")
    p.add_argument("--lock", help="lock file to create or update, e.g. cnnzoo.lock")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("convert", help="turn a torchvision/timm checkpoint into a Hub folder",
                       description="Load a local checkpoint (safetensors or weights-only "
                                   ".pth, any layout the model converts) and write a cnnzoo "
                                   "Hub folder: config.json, model.safetensors, README.md.")
    p.add_argument("name", help="model name or alias")
    p.add_argument("checkpoint", help="the checkpoint file")
    p.add_argument("--out", required=True, help="folder to write")
    p.add_argument("--tag", help="registered tag whose labels/preprocessing/metrics to record")
    p.add_argument("--repo-id", help="the Hub repository the folder is meant for")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("push", help="publish a saved model folder to the Hub",
                       description="Publish a folder written by save_pretrained/convert to "
                                   "the Hugging Face Hub in one commit (an existing README "
                                   "in the repository is kept).")
    p.add_argument("folder")
    p.add_argument("repo_id")
    p.add_argument("--private", action="store_true")
    p.add_argument("--revision", help="branch to commit to (created if missing)")
    p.add_argument("--message", help="commit message")
    p.set_defaults(func=cmd_push)

    p = sub.add_parser("demo", help="offline demo: LeNet-5 on real handwritten digits",
                       description="Train LeNet-5 on scikit-learn's digits, print accuracy "
                                   "and its per-layer summary. No network needed.")
    p.add_argument("--epochs", type=int, default=15, help="epochs of the from-scratch run")
    p.add_argument("--no-train", action="store_true",
                   help="only evaluate the embedded pretrained weights")
    p.set_defaults(func=cmd_demo)

    import importlib

    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cnnzoo`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except CnnzooError as exc:
        print(f"cnnzoo {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
