"""Generate the CLI reference at docs build time (a mkdocs-gen-files script).

Walks the parser that ``cnnzoo`` itself uses — :func:`cnnzoo.cli.build_parser`,
subcommands registered through ``cnnzoo.cli.COMMAND_MODULES`` included — and writes
``reference/cli.md``: a table of commands, then each command's ``--help`` exactly as
argparse prints it (nested subcommands too). Nothing is written by hand, so a new
option or command appears in the docs as soon as it exists.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
from collections.abc import Iterator

import mkdocs_gen_files

from cnnzoo.cli import build_parser
from cnnzoo.cli.options import DEBUG_ENV, PRETRAINED_METAVAR

log = logging.getLogger("mkdocs.gen_cli")
PAGE = "reference/cli.md"
COLUMNS = "88"  # argparse wraps help text to the terminal width


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    old = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _subcommands(
    parser: argparse.ArgumentParser,
) -> list[tuple[str, str, argparse.ArgumentParser]]:
    """``(name, one-line help, parser)`` of each subcommand, in registration order."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) in seen:  # an alias of a command already listed
                    continue
                seen.add(id(sub))
                found.append((name, helps.get(name, ""), sub))
    return found


def _help(parser: argparse.ArgumentParser) -> str:
    if hasattr(parser, "color"):  # Python ≥ 3.14 colours help on a terminal
        parser.color = False
    return parser.format_help().rstrip()


def _sections(parser: argparse.ArgumentParser, path: str, level: int) -> list[str]:
    lines: list[str] = []
    for name, summary, sub in _subcommands(parser):
        command = f"{path} {name}"
        anchor = command.replace(" ", "-")
        lines += [
            f"{'#' * level} `{command}` {{ #{anchor} }}",
            "",
            *([summary[0].upper() + summary[1:].rstrip(".") + ".", ""] if summary else []),
            "```text",
            _help(sub),
            "```",
            "",
        ]
        lines += _sections(sub, command, min(level + 1, 6))
    return lines


def _index(parser: argparse.ArgumentParser, path: str) -> list[str]:
    rows = []
    for name, summary, sub in _subcommands(parser):
        command = f"{path} {name}"
        rows.append(f"| [`{command}`](#{command.replace(' ', '-')}) | {summary} |")
        rows += _index(sub, command)[2:]
    return ["| Command | What it does |", "| --- | --- |", *rows] if rows else []


def _conventions() -> list[str]:
    """The grammar every command shares (defined once in ``cnnzoo.cli.options``)."""
    return [
        "## Conventions { #conventions }",
        "",
        "Every command reads `cnnzoo VERB MODEL [INPUTS…] [--options]`:",
        "",
        "- `MODEL` comes first wherever a command takes one: a registered name or alias "
        "(`NAME.TAG` picks weights), a saved model folder, `hf-hub:ORG/REPO` or, where it "
        "applies, an `.onnx` file.",
        f"- `--pretrained [{PRETRAINED_METAVAR}]` means the same everywhere: alone, the "
        "model's default weights; with a value, the weights of that tag, Hub repository or "
        "folder. `predict` and `explain` load the default weights of a registered name "
        "unless told otherwise; `--random-weights` opts out.",
        "- `--input-size C H W` (or `H W`, or one side `PX`), `--batch`, `--threads`, "
        "`--top-k`, `-o/--out` and `--json` are spelled and parsed the same in every "
        "command that has them.",
        "- A failure prints one line on stderr, `cnnzoo VERB: error: …`, and exits 2 for "
        "bad input (unknown name, missing file, bad value or tag, usage error), 1 for a run "
        f"that failed and 130 when interrupted. `{DEBUG_ENV}=1` shows the full traceback "
        "instead.",
        "- The deprecated `--model X` still works for one release and prints a note: write "
        "the model first instead.",
        "",
    ]


def main() -> None:
    with _environment(COLUMNS=COLUMNS, NO_COLOR="1"):
        parser = build_parser()
        top = _help(parser)
        body = _sections(parser, parser.prog, 2)
        index = _index(parser, parser.prog)
    lines = [
        "# CLI reference",
        "",
        "Installing cnnzoo installs the `cnnzoo` command. This page is generated from the "
        "command's own parser when the site is built, so it always matches the installed "
        "version, including subcommands that other modules register. Every command "
        "accepts `-h`/`--help`.",
        "",
        *index,
        "",
        *_conventions(),
        "## `cnnzoo` { #cnnzoo }",
        "",
        "```text",
        top,
        "```",
        "",
        *body,
    ]
    with mkdocs_gen_files.open(PAGE, "w") as fh:
        fh.write("\n".join(lines))
    mkdocs_gen_files.set_edit_path(PAGE, "gen_cli.py")
    log.info(f"gen_cli: {len(index) - 2} commands")


main()
