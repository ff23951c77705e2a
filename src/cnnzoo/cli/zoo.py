"""``cnnzoo list``, ``info``, ``fetch``, ``convert``, ``push`` and ``demo``: the zoo itself.

``list`` and ``info`` read specs only (fast, no torch import); ``info --layers`` builds
the model to print its per-layer summary. Everything heavy is imported when a command
runs, so ``cnnzoo --help`` and ``cnnzoo list`` stay fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cnnzoo._utils import text_table
from cnnzoo.cli import options
from cnnzoo.errors import CommandError
from cnnzoo.spec import ModelSpec, list_models, model_info

if TYPE_CHECKING:
    from cnnzoo.cli.options import Subcommands


def _fmt_params(n: int | None) -> str:
    return "-" if n is None else f"{n / 1e6:.2f}M" if n >= 1_000_000 else f"{n:,}"


def _fmt_gmacs(g: float | None) -> str:
    return "-" if g is None else f"{g:.3g}"


def cmd_list(args: argparse.Namespace) -> int:
    """``cnnzoo list [PATTERN]``: a table (or JSON) of the registered models."""
    tag = args.pretrained if isinstance(args.pretrained, str) else None
    if tag is not None and not options.is_known_tag(tag):
        raise CommandError(f"list --pretrained {tag!r}: no registered model has weights "
                           "tagged so (`cnnzoo list --pretrained` lists every model with "
                           "weights)")
    names = list_models(args.pattern or "*", pretrained=True if args.pretrained else None,
                        task=args.task, family=args.family)
    specs = [model_info(n) for n in names]
    if tag is not None:
        specs = [s for s in specs if tag in s.weights]
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
    print(text_table(("name", "family", "task", "params", "GMACs", "input", "pretrained",
                      "aliases"), rows))
    print(f"\n{len(specs)} model(s)")
    return 0


def _info_lines(spec: ModelSpec) -> list[str]:
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
    return [line for line in lines if line]


def cmd_info(args: argparse.Namespace) -> int:
    """``cnnzoo info MODEL``: the spec, and with ``--layers`` a per-layer summary."""
    spec = model_info(args.model)
    info = spec.to_dict()
    layers = None
    if args.layers:
        from cnnzoo.analysis import summary
        from cnnzoo.build.factory import create

        size = options.full_input_size(args.input_size, spec.in_chans) or spec.input_size
        layers = summary(create(spec.name).eval(), input_size=size)
        info["summary"] = layers.to_dict()
    elif args.input_size is not None:
        raise CommandError("--input-size only applies with --layers")
    if args.json:
        print(json.dumps(info, indent=2, default=str))
        return 0
    print("\n".join(_info_lines(spec)))
    if layers is not None:
        print()
        print(layers)
    return 0


def cmd_fetch(args: argparse.Namespace) -> int:
    """``cnnzoo fetch REF…``: weights into a bundle folder, pinned in a lock file."""
    from cnnzoo.build.weights import fetch

    fetched = fetch(args.refs, to=args.to, lock=args.lock)
    rows = [(f.key, f.filename, f.revision or "embedded", f.sha256[:16] + "…",
             f"{f.size / 1e6:.1f} MB") for f in fetched]
    print(text_table(("weights", "file", "commit", "sha256", "size"), rows))
    if args.lock:
        print(f"\nlock written: {args.lock}")
    if args.to:
        print(f"bundle: {args.to}  (offline use: HF_HUB_CACHE={args.to} HF_HUB_OFFLINE=1"
              + (f" CNNZOO_LOCK={args.lock}" if args.lock else "") + ")")
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    """``cnnzoo convert MODEL CHECKPOINT --out DIR``: a local checkpoint → a Hub folder."""
    spec = model_info(args.model)
    tag = args.tag or args.model.partition(".")[2] or None
    if tag is not None:
        spec.resolve_tag(tag)  # a bad tag fails before the checkpoint is read
    if not Path(args.checkpoint).is_file():
        raise CommandError(f"checkpoint {args.checkpoint!r}: no such file")

    from cnnzoo.build.factory import create
    from cnnzoo.build.weights import cfg_from_weights_spec, sha256_file
    from cnnzoo.hub import save_pretrained

    model = create(spec.name, checkpoint_path=args.checkpoint)
    cfg = options.model_config(model)
    metrics, license = None, None
    datasets: tuple[str, ...] = ()
    if tag or spec.default_tag:
        tag, wspec = spec.resolve_tag(tag)
        if wspec.num_classes == cfg["num_classes"]:
            cfg.update(cfg_from_weights_spec(tag, wspec))
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
    """``cnnzoo push FOLDER REPO_ID``: publish a saved folder to the Hub in one commit."""
    folder = Path(args.folder)
    if not folder.is_dir():
        raise CommandError(f"folder {args.folder!r}: no such directory (save one with "
                           "`cnnzoo convert` or cnnzoo.hub.save_pretrained)")
    from cnnzoo.deploy.evaluation import load_evaluation
    from cnnzoo.hub import push_folder

    evaluation = load_evaluation(args.evaluation) if args.evaluation else None
    url = push_folder(args.folder, args.repo_id, private=args.private, revision=args.revision,
                      commit_message=args.message, evaluation=evaluation)
    print(f"pushed {args.folder} to {args.repo_id}: {url}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``cnnzoo demo``: LeNet-5 on scikit-learn's digits, offline."""
    from cnnzoo.demo import run

    result = run(epochs=args.epochs, train=not args.no_train)
    return 0 if result.test_accuracy > 0.9 else 1


def register(sub: Subcommands) -> None:
    """Add ``list``, ``info``, ``fetch``, ``convert``, ``push`` and ``demo`` to ``cnnzoo``."""
    p = sub.add_parser("list", help="list registered models",
                       description="List registered models (built-ins and plugins).")
    p.add_argument("pattern", nargs="?", metavar="PATTERN", help="fnmatch pattern, e.g. 'resnet*'")
    p.add_argument("--task", choices=("classification", "segmentation"))
    p.add_argument("--family", help="only this family, e.g. resnet")
    options.add_pretrained(p, is_value=options.is_known_tag, metavar="TAG",
                           help="only models with pretrained weights (with TAG: with weights "
                                "of that tag)")
    options.add_json(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("info", help="show a model's spec",
                       description="Show a model's spec; --layers adds a per-layer summary.")
    options.add_model(p, "model name or alias")
    p.add_argument("--layers", action="store_true",
                   help="build the model and print output shape, params, MACs and "
                        "receptive field per layer")
    options.add_input_size(p, help="input size for --layers: C H W, H W or one side PX "
                                   "(default: the model's)")
    options.add_json(p)
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("fetch", help="download weights into a bundle and pin them in a lock",
                       description="Download weights (and configs) into a portable "
                                   "huggingface_hub cache folder and record the resolved "
                                   "commits and sha256 in a lock file.")
    p.add_argument("refs", nargs="+", metavar="NAME[.TAG]|hf-hub:ORG/REPO")
    p.add_argument("--to", metavar="DIR",
                   help="bundle folder (default: the huggingface_hub cache)")
    p.add_argument("--lock", metavar="FILE",
                   help="lock file to create or update, e.g. cnnzoo.lock")
    p.set_defaults(func=cmd_fetch)

    p = sub.add_parser("convert", help="turn a torchvision/timm checkpoint into a Hub folder",
                       description="Load a local checkpoint (safetensors or weights-only "
                                   ".pth, any layout the model converts) and write a cnnzoo "
                                   "Hub folder: config.json, model.safetensors, README.md.")
    options.add_model(p, "model name or alias (NAME.TAG also picks --tag)")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="the checkpoint file")
    options.add_out(p, "folder to write", required=True)
    p.add_argument("--tag", help="registered tag whose labels/preprocessing/metrics to record")
    p.add_argument("--repo-id", metavar="ORG/NAME",
                   help="the Hub repository the folder is meant for")
    p.set_defaults(func=cmd_convert)

    p = sub.add_parser("push", help="publish a saved model folder to the Hub",
                       description="Publish a folder written by save_pretrained/convert to "
                                   "the Hugging Face Hub in one commit (an existing README "
                                   "in the repository is kept).")
    p.add_argument("folder", metavar="FOLDER")
    p.add_argument("repo_id", metavar="ORG/NAME")
    p.add_argument("--private", action="store_true")
    p.add_argument("--revision", help="branch to commit to (created if missing)")
    p.add_argument("--message", help="commit message")
    p.add_argument("--evaluation", metavar="METRICS.JSON",
                   help="write these results (from `cnnzoo evaluate --report DIR`) into the "
                        "model card as model-index eval results")
    p.set_defaults(func=cmd_push)

    p = sub.add_parser("demo", help="offline demo: LeNet-5 on real handwritten digits",
                       description="Train LeNet-5 on scikit-learn's digits, print accuracy "
                                   "and its per-layer summary. No network needed.")
    p.add_argument("--epochs", type=options.positive_int, default=15,
                   help="epochs of the from-scratch run")
    p.add_argument("--no-train", action="store_true",
                   help="only evaluate the embedded pretrained weights")
    p.set_defaults(func=cmd_demo)
