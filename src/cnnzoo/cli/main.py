"""The ``cnnzoo`` command line: the parser, the entry point and how failures are reported.

Every command reads ``cnnzoo VERB MODEL [INPUTS…] [--options]`` (the shared options are
in :mod:`cnnzoo.cli.options`). The commands live in the modules of
:data:`COMMAND_MODULES`, each offering ``register(subparsers)`` and importing nothing
heavy at module level, so ``cnnzoo --help`` and ``cnnzoo list`` need no torch.

A failure is one line on stderr, ``cnnzoo VERB: error: …``, and a non-zero exit status:

- 2: bad input — a cnnzoo error, a missing or unreadable file, a bad value
  (``ValueError``/``KeyError``/``TypeError``) or a usage error found by argparse;
- 1: a run that failed (``RuntimeError`` from a library, anything unexpected), or a
  command whose result is negative (``list`` with no match, ``demo`` below 90 %);
- 130: interrupted (Ctrl-C).

Notes (a deprecated spelling, random weights where pretrained ones were expected) are
printed on stderr after a command succeeds. Set ``CNNZOO_DEBUG=1`` to get the full
traceback of a failure instead of its one line.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from cnnzoo._utils import text_table
from cnnzoo._version import __version__
from cnnzoo.cli.options import DEBUG_ENV, CommandParser, debug_enabled, deferred_notes
from cnnzoo.errors import CnnzooError

#: the modules that register subcommands, in the order ``cnnzoo --help`` lists them
COMMAND_MODULES: tuple[str, ...] = (
    "cnnzoo.cli.zoo",
    "cnnzoo.cli.explain",
    "cnnzoo.cli.train",
    "cnnzoo.cli.deploy",
    "cnnzoo.cli.evaluate",
)

#: the old name of :func:`cnnzoo._utils.text_table`, kept for compatibility
render_table = text_table

EPILOG = f"""\
Every command reads: cnnzoo VERB MODEL [INPUTS...] [--options]. MODEL is a
registered name (NAME.TAG picks weights), a saved model folder, hf-hub:ORG/REPO or,
where it applies, an .onnx file. --pretrained [TAG|hf-hub:ORG/REPO|DIR] means the
same in every command. A failure prints one line and exits non-zero (2 for bad
input, 1 for a failed run, 130 when interrupted); {DEBUG_ENV}=1 shows the traceback.
"""

_MAX_FOREIGN_MESSAGE = 800  # characters of a library's (not cnnzoo's) error message


def build_parser() -> argparse.ArgumentParser:
    """The ``cnnzoo`` parser with every subcommand of :data:`COMMAND_MODULES`.

    Returns:
        an ``ArgumentParser`` whose parsed namespace has ``command`` and ``func``.

    Example:
        >>> from cnnzoo.cli import build_parser
        >>> build_parser().parse_args(["export", "lenet5", "--out", "m.onnx"]).model
        'lenet5'
    """
    parser = CommandParser(prog="cnnzoo",
                           description="A plugin-based zoo of convolutional networks.",
                           epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"cnnzoo {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(sub)
    return parser


def _one_line(text: str, limit: int | None = None) -> str:
    line = " ".join(part.strip() for part in text.splitlines() if part.strip())
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line


def describe_failure(exc: BaseException) -> tuple[str, int]:
    """The one-line message and the exit status for a failed command.

    Args:
        exc: what the command raised.

    Returns:
        ``(message, status)``: 2 for bad input, 1 for a failed run, 130 when interrupted.

    Example:
        >>> describe_failure(FileNotFoundError(2, "No such file or directory", "x.png"))
        ("No such file or directory: 'x.png'", 2)
    """
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted", 130
    if isinstance(exc, CnnzooError):
        return _one_line(str(exc)) or type(exc).__name__, 2
    if isinstance(exc, OSError):
        if exc.strerror and exc.filename is not None:
            return f"{exc.strerror}: {os.fspath(exc.filename)!r}", 2
        return _one_line(str(exc), _MAX_FOREIGN_MESSAGE) or type(exc).__name__, 2
    if isinstance(exc, KeyError):
        key = exc.args[0] if exc.args else ""
        if isinstance(key, str) and " " in key:  # a message, not a bare key
            return _one_line(key, _MAX_FOREIGN_MESSAGE), 2
        return f"unknown key {key!r}", 2
    if isinstance(exc, ValueError | TypeError):
        return _one_line(str(exc), _MAX_FOREIGN_MESSAGE) or type(exc).__name__, 2
    message = _one_line(str(exc), _MAX_FOREIGN_MESSAGE)
    if isinstance(exc, RuntimeError):
        return message or "RuntimeError", 1
    return (f"unexpected {type(exc).__name__}{': ' + message if message else ''} "
            f"(rerun with {DEBUG_ENV}=1 for the traceback and please report it)"), 1


def _print_report(exc: BaseException) -> None:
    """The report a :class:`~cnnzoo.errors.ReportedError` carries, on stdout."""
    table = getattr(getattr(exc, "report", None), "table", None)
    if callable(table):
        print(table())


@contextmanager
def _one_line_warnings(prog: str) -> Iterator[None]:
    """Warnings printed while a command runs read ``cnnzoo VERB: warning: …``."""
    original = warnings.formatwarning

    def formatwarning(message: Warning | str, category: type[Warning], filename: str,
                      lineno: int, line: str | None = None) -> str:
        return f"{prog}: warning: {_one_line(str(message))}\n"

    warnings.formatwarning = formatwarning
    try:
        yield
    finally:
        warnings.formatwarning = original


def _silence_broken_pipe() -> None:
    """After ``cnnzoo list | head``: no second error when Python flushes stdout at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def run_command(args: argparse.Namespace, prog: str) -> int:
    """Run the parsed command; report a failure as one line on stderr.

    Args:
        args: the namespace :func:`build_parser` parsed (its ``func`` runs).
        prog: ``"cnnzoo VERB"``, the prefix of every message.

    Returns:
        the exit status (see the module's docstring).
    """
    try:
        with _one_line_warnings(prog):
            return int(args.func(args) or 0)
    except BrokenPipeError:
        _silence_broken_pipe()
        return 1
    except (Exception, KeyboardInterrupt) as exc:
        if debug_enabled():
            raise
        message, status = describe_failure(exc)
        _print_report(exc)
        print(f"{prog}: error: {message}", file=sys.stderr)
        return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cnnzoo`` console script (and of ``python -m cnnzoo.cli``).

    Args:
        argv: the arguments after ``cnnzoo`` (default: ``sys.argv[1:]``).

    Returns:
        the exit status: 0 on success, 1 for a failed run, 2 for bad input, 130 when
        interrupted. Usage errors exit 2 through ``SystemExit``, as argparse does.

    Example:
        >>> from cnnzoo.cli import main
        >>> main(["info", "resnet51"])  # doctest: +SKIP
        cnnzoo info: error: unknown model 'resnet51'. Did you mean: resnet50, …
        2
    """
    parser = build_parser()
    with deferred_notes() as notes:
        args: Any = parser.parse_args(argv)
        status = run_command(args, f"{parser.prog} {args.command}")
    if status == 0:  # a failure stays one line: its notes (deprecations…) are dropped
        for line in notes:
            print(line, file=sys.stderr)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
