"""The grammar of the ``cnnzoo`` command line and the options its commands share.

Every command reads ``cnnzoo VERB MODEL [INPUTS…] [--options]``: the model comes first
and is positional wherever a command takes one. Options that several commands use are
defined here once, so they are spelled, parsed and explained the same everywhere:

- ``MODEL``: a registered name or alias (``NAME.TAG`` picks weights), a saved model
  folder, ``hf-hub:ORG/REPO`` or, where it applies, an ``.onnx`` file;
- ``--pretrained [TAG|hf-hub:ORG/REPO|DIR]``: alone, the model's default weights; with a
  value, the weights of that tag, Hub repository or folder;
- ``--random-weights``: run a command that loads weights by default (``predict``,
  ``explain``) on a randomly initialised model;
- ``--input-size C H W`` (or ``H W``, or one side ``PX``), ``--batch``, ``--threads``,
  ``--top-k``, ``-o/--out``, ``--json``.

Deprecated spellings keep working for one release and print a one-line note on
stderr: ``--model X`` (write the model first instead), ``--top``, ``--batch-size``
and ``--latency-batch``.

This module imports nothing heavy: building the parser must not import torch.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

from cnnzoo._utils import did_you_mean
from cnnzoo.errors import CommandError, WeightsError
from cnnzoo.spec import REGISTRY, model_info

if TYPE_CHECKING:
    from torch import nn

    Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]

HUB_PREFIX = "hf-hub:"
#: suffixes of files that hold weights (a value of ``--pretrained``, never an input)
WEIGHTS_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin", ".ckpt")
#: suffixes of files that are a model in themselves (``MODEL`` may be such a file)
MODEL_FILE_SUFFIXES = (".onnx", ".pt2", *WEIGHTS_SUFFIXES)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
PRETRAINED_METAVAR = "TAG|hf-hub:ORG/REPO|DIR"
DEBUG_ENV = "CNNZOO_DEBUG"
_INVALID_CHOICE = re.compile(r"invalid choice: '(?P<value>[^']*)' \(choose from (?P<choices>.*)\)")


_deferred_notes: list[str] | None = None


def note(prog: str, message: str) -> None:
    """``PROG: note: MESSAGE`` on stderr; inside :func:`deferred_notes`, kept for later."""
    line = f"{prog}: note: {message}"
    if _deferred_notes is None:
        print(line, file=sys.stderr)
    else:
        _deferred_notes.append(line)


@contextmanager
def deferred_notes() -> Iterator[list[str]]:
    """Collect the notes of a command run (``main`` prints them only if it succeeds, so a
    failure stays one line on stderr)."""
    global _deferred_notes
    outer, _deferred_notes = _deferred_notes, []
    try:
        yield _deferred_notes
    finally:
        _deferred_notes = outer


# -- the parser ----------------------------------------------------------------------------


class CommandParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` with one-line errors and the grammar's deprecated spellings.

    Subcommand parsers are of the same class (argparse makes them so). Before parsing,
    a command that takes ``MODEL`` first moves a deprecated ``--model X`` into place,
    and ``--pretrained`` directly followed by something that is not a weights reference
    (an input image, a pattern…) is read as the bare flag.
    """

    model_first: bool = False
    pretrained_value: Callable[[str], bool] | None = None

    def error(self, message: str) -> NoReturn:
        """Exit 2 with one line: ``PROG: error: MESSAGE (see 'PROG --help')``."""
        hint = ""
        invalid = _INVALID_CHOICE.search(message)
        if invalid:
            hint = did_you_mean(invalid["value"], re.findall(r"'([^']*)'", invalid["choices"]))
        self.exit(2, f"{self.prog}: error: {message}{hint} (see '{self.prog} --help')\n")

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        """Parse; arguments no command takes are an error of that command (one line)."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            command = getattr(parsed, "command", None)
            prog = f"{self.prog} {command}" if command else self.prog
            self.exit(2, f"{prog}: error: unrecognized arguments: {' '.join(extras)} "
                         f"(see '{prog} --help')\n")
        return parsed

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        """Parse after rewriting the deprecated and ambiguous spellings (see the class)."""
        tokens = list(sys.argv[1:] if args is None else args)
        if self.model_first:
            tokens = self._model_flag_to_positional(tokens)
        if self.pretrained_value is not None:
            tokens = _bare_pretrained(tokens, self.pretrained_value)
        return super().parse_known_args(tokens, namespace)

    def _model_flag_to_positional(self, tokens: list[str]) -> list[str]:
        out: list[str] = []
        model: str | None = None
        i = 0
        while i < len(tokens):
            token = tokens[i]
            if token == "--":
                out += tokens[i:]
                break
            if token == "--model" or token.startswith("--model="):
                if token == "--model":
                    if i + 1 >= len(tokens):
                        self.error("--model needs a value; better, write the model first: "
                                   f"{self.prog} MODEL …")
                    value, i = tokens[i + 1], i + 2
                else:
                    value, i = token.partition("=")[2], i + 1
                if model is not None:
                    self.error("--model given twice")
                model = value
                continue
            out.append(token)
            i += 1
        if model is None:
            return tokens
        note(self.prog, f"--model is deprecated and will be removed; write the model first: "
                        f"{self.prog} {model} …")
        return [model, *out]


def _bare_pretrained(tokens: list[str], is_value: Callable[[str], bool]) -> list[str]:
    """``--pretrained X`` where ``X`` is not a weights reference → the bare flag, then ``X``."""
    out = list(tokens)
    for i, token in enumerate(out[:-1]):
        if token == "--":
            break
        if token == "--pretrained" and not out[i + 1].startswith("-") and not is_value(
                out[i + 1]):
            out[i] = "--pretrained="  # an empty value is the bare flag (the default weights)
    return out


def looks_like_path(text: str) -> bool:
    """Whether ``text`` is meant as a file or folder rather than a name or tag.

    Written as a path (a separator, a leading ``.`` or ``~``, a model file's suffix),
    or an existing file or folder that is not also a registered name.
    """
    return (os.sep in text or "/" in text or text.startswith((".", "~"))
            or text.lower().endswith(MODEL_FILE_SUFFIXES)
            or (Path(text).exists() and text not in REGISTRY))


def not_an_input_file(text: str) -> bool:
    """A ``--pretrained`` value for commands with input files: not an image, not a file
    other than weights."""
    lowered = text.lower()
    if lowered.endswith(IMAGE_SUFFIXES):
        return False
    path = Path(text)
    return not path.is_file() or lowered.endswith(WEIGHTS_SUFFIXES)


def is_known_tag(text: str) -> bool:
    """A ``--pretrained`` value for ``list``: a tag some registered model has."""
    return any(text in spec.weights for spec in REGISTRY)


# -- value types ---------------------------------------------------------------------------


def positive_int(text: str) -> int:
    """An argparse type: an integer ≥ 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: an integer ≥ 0."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer ≥ 0, got {text!r}")
    return value


def positive_int_list(text: str) -> list[int]:
    """An argparse type: comma-separated integers ≥ 1 (``1,8``)."""
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 1,8, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(
            f"expected comma-separated positive integers such as 1,8, got {text!r}")
    return values


def name_list(text: str) -> list[str]:
    """An argparse type: comma-separated names (``eager,onnx``)."""
    names = [v.strip() for v in text.split(",") if v.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"expected comma-separated names, got {text!r}")
    return names


def _pretrained_ref(text: str) -> bool | str:
    return text or True  # "--pretrained=" is the bare flag


class _InputSize(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        sizes = list(values)
        if len(sizes) not in (1, 2, 3):
            parser.error(f"argument {option_string}: expected C H W, H W or one side PX, "
                         f"got {len(sizes)} numbers")
        setattr(namespace, self.dest, tuple(sizes) if len(sizes) > 1 else (sizes[0],) * 2)


class _Deprecated(argparse.Action):
    """A hidden old spelling of an option: stores like it, with a one-line note."""

    def __init__(self, option_strings: Sequence[str], dest: str, *, replacement: str,
                 **kwargs: Any) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.replacement = replacement

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        note(parser.prog, f"{option_string} is deprecated and will be removed; use "
                          f"{self.replacement}")
        setattr(namespace, self.dest, values)


def _deprecated_alias(parser: argparse.ArgumentParser, old: str, new: str, dest: str,
                      type: Callable[[str], Any]) -> None:
    parser.add_argument(old, dest=dest, type=type, action=_Deprecated, replacement=new,
                        default=argparse.SUPPRESS, help=argparse.SUPPRESS)


# -- the shared options --------------------------------------------------------------------


def add_model(parser: argparse.ArgumentParser, help: str) -> None:
    """The positional ``MODEL`` (first); a deprecated ``--model X`` still reaches it."""
    parser.add_argument("model", metavar="MODEL", help=help)
    if isinstance(parser, CommandParser):
        parser.model_first = True


def add_images(parser: argparse.ArgumentParser) -> None:
    """The positional ``IMAGE [IMAGE …]`` after ``MODEL``."""
    parser.add_argument("images", nargs="+", metavar="IMAGE",
                        help="image files (PNG, JPEG…)")
    if isinstance(parser, CommandParser):
        parser.pretrained_value = not_an_input_file


def add_pretrained(parser: argparse.ArgumentParser, *, help: str | None = None,
                   random_weights: bool = False, is_value: Callable[[str], bool] | None = None,
                   metavar: str = PRETRAINED_METAVAR) -> None:
    """``--pretrained [TAG|hf-hub:ORG/REPO|DIR]`` (``None`` when not given, ``True`` alone).

    Args:
        parser: the command's parser.
        help: the command's own wording (default: the common one).
        random_weights: the command loads the default weights unless told otherwise;
            adds ``--random-weights`` (exclusive with ``--pretrained``).
        is_value: which words after ``--pretrained`` are its value (default: all).
        metavar: the value's name in the help (``list`` takes a TAG only).
    """
    group: Any = parser.add_mutually_exclusive_group() if random_weights else parser
    default_help = ("load pretrained weights: alone, the model's default tag; or the "
                    "weights of TAG, of a Hub repository or of a saved folder "
                    "(NAME.TAG as MODEL picks a tag too)")
    group.add_argument("--pretrained", nargs="?", const=True, default=None,
                       type=_pretrained_ref, metavar=metavar,
                       help=help or default_help)
    if random_weights:
        group.add_argument("--random-weights", action="store_true",
                           help="use a randomly initialised model instead of the default "
                                "pretrained weights (outputs are meaningless)")
    if is_value is not None and isinstance(parser, CommandParser):
        parser.pretrained_value = is_value


def add_input_size(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    """``--input-size C H W`` (or ``H W``, or one side ``PX``) → a tuple of 2 or 3 ints."""
    parser.add_argument("--input-size", type=positive_int, nargs="+", action=_InputSize,
                        metavar="N", default=None,
                        help=help or "input size: C H W, H W or one side PX (default: the "
                                     "model's)")


def add_json(parser: argparse.ArgumentParser) -> None:
    """``--json``: machine-readable output on stdout."""
    parser.add_argument("--json", action="store_true",
                        help="machine-readable output (JSON on stdout)")


def add_out(parser: argparse.ArgumentParser, help: str, *, required: bool = False,
            default: str | None = None) -> None:
    """``-o/--out PATH``: where the command writes its result."""
    parser.add_argument("-o", "--out", required=required, default=default, metavar="PATH",
                        help=help)


def add_threads(parser: argparse.ArgumentParser) -> None:
    """``--threads N``: torch's (and onnxruntime's) intra-op threads."""
    parser.add_argument("--threads", type=positive_int, default=None, metavar="N",
                        help="CPU threads for torch and onnxruntime (default: torch's)")


def add_batch(parser: argparse.ArgumentParser, help: str, *, many: bool,
              default: int | list[int], deprecated: str | None = None) -> None:
    """``--batch N`` (one batch size) or ``--batch B1,B2`` (``many``: several).

    Args:
        parser: the command's parser.
        help: what the batch size is for.
        many: comma-separated batch sizes instead of one.
        default: the batch size(s) when not given.
        deprecated: an old spelling kept as a hidden alias (``--batch-size``).
    """
    kind = positive_int_list if many else positive_int
    parser.add_argument("--batch", type=kind, default=default,
                        metavar="B1,B2" if many else "N", help=help)
    if deprecated:
        _deprecated_alias(parser, deprecated, "--batch", "batch", kind)


def add_top_k(parser: argparse.ArgumentParser, *, deprecated: str | None = None) -> None:
    """``--top-k K``: how many classes to show per image."""
    parser.add_argument("--top-k", type=positive_int, default=5, metavar="K",
                        help="how many classes to show per image (default 5)")
    if deprecated:
        _deprecated_alias(parser, deprecated, "--top-k", "top_k", positive_int)


# -- reading them --------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSource:
    """What ``MODEL`` and the weights options resolve to.

    Attributes:
        ref: what to hand to the library (a name without its tag, a folder, a file…).
        pretrained: the library's ``pretrained=`` (``False``, ``True`` or a reference).
        implicit: ``pretrained`` is the command's default, not the user's choice.
    """

    ref: str
    pretrained: bool | str = False
    implicit: bool = False


def model_source(model: str, pretrained: bool | str | None = None, *,
                 random_weights: bool = False, default_pretrained: bool = False,
                 prog: str = "cnnzoo") -> ModelSource:
    """Check ``MODEL`` and ``--pretrained`` before anything heavy loads.

    Args:
        model: the ``MODEL`` argument.
        pretrained: ``--pretrained`` (``None`` when not given).
        random_weights: ``--random-weights``.
        default_pretrained: a registered name without weights options gets its default
            tag (a name without registered weights gets random ones and a note).
        prog: the command, for the note.

    Returns:
        a :class:`ModelSource`.

    Raises:
        UnknownModelError: ``model`` is not registered (with a did-you-mean).
        CommandError: a missing file, or options that do not apply to ``model``.
        CnnzooError: a tag the model does not have (with a did-you-mean).
    """
    if model.startswith(HUB_PREFIX) or looks_like_path(model):
        if model.startswith(HUB_PREFIX) or Path(model).exists():
            if isinstance(pretrained, str) or random_weights:
                option = "--random-weights" if random_weights else f"--pretrained {pretrained}"
                raise CommandError(f"{option} does not apply: {model!r} already holds its "
                                   "weights (options for weights need a registered name)")
            return ModelSource(model)
        raise CommandError(f"{model!r}: no such file or directory (MODEL is a registered "
                           "name, a saved model folder, hf-hub:ORG/REPO or a model file)")
    spec = model_info(model)
    name, _, tag = model.partition(".")
    if tag:
        if isinstance(pretrained, str) or random_weights:
            option = "--random-weights" if random_weights else f"--pretrained {pretrained}"
            raise CommandError(f"{option} does not apply: {model!r} already selects the "
                               f"weights tagged {tag!r}")
        spec.resolve_tag(tag)
        return ModelSource(name, tag)
    if pretrained is True:
        if spec.default_tag is None:
            raise CommandError(f"{spec.name!r} has no registered weights; pass --pretrained "
                               "DIR or --pretrained hf-hub:ORG/REPO (or leave it out)")
        return ModelSource(model, True)
    if isinstance(pretrained, str):
        if looks_like_path(pretrained) and not Path(pretrained).exists():
            raise CommandError(f"--pretrained {pretrained!r}: no such file or directory")
        if not pretrained.startswith(HUB_PREFIX) and not looks_like_path(pretrained):
            spec.resolve_tag(pretrained)
        return ModelSource(model, pretrained)
    if random_weights or not default_pretrained:
        return ModelSource(model)
    if spec.default_tag is None:
        note(prog, f"{spec.name!r} has no registered weights; using random weights "
                   "(pass --pretrained DIR or hf-hub:ORG/REPO to load some)")
        return ModelSource(model)
    return ModelSource(model, True, implicit=True)


@contextmanager
def default_weights_hint(source: ModelSource) -> Iterator[None]:
    """Add "pass --random-weights" to a failure to load weights the user did not ask for."""
    try:
        yield
    except WeightsError as exc:
        if not source.implicit:
            raise
        raise WeightsError(f"{exc} (or pass --random-weights to run without them)") from exc


def check_files(paths: Sequence[str], what: str) -> None:
    """Raise one :class:`CommandError` naming every path in ``paths`` that is not a file."""
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise CommandError(f"{what} not found (no such file): {', '.join(missing)}")


def full_input_size(size: Sequence[int] | None, channels: int) -> tuple[int, int, int] | None:
    """``--input-size`` as ``(C, H, W)``: ``(H, W)`` gets the model's ``channels``."""
    if size is None:
        return None
    if len(size) == 3:
        return int(size[0]), int(size[1]), int(size[2])
    return int(channels), int(size[0]), int(size[1])


def set_threads(threads: int | None) -> None:
    """Apply ``--threads`` (torch's intra-op threads, which onnxruntime sessions follow)."""
    if threads:
        import torch

        torch.set_num_threads(threads)


def model_config(model: nn.Module) -> MutableMapping[str, Any]:
    """The model's ``pretrained_cfg`` (a ``ModelConfig`` or a plain dict) as a mapping."""
    cfg = getattr(model, "pretrained_cfg", None)
    if cfg is None:
        raise CommandError(f"{type(model).__name__} has no pretrained_cfg; build it with "
                           "cnnzoo.create")
    return cast("MutableMapping[str, Any]", cfg)


def debug_enabled() -> bool:
    """Whether ``CNNZOO_DEBUG`` asks for tracebacks instead of one-line errors."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")
