"""The ``cnnzoo`` command line: ``cnnzoo VERB MODEL [INPUTS…] [--options]``."""

from __future__ import annotations

from cnnzoo.cli.main import build_parser, main, render_table

__all__ = ["build_parser", "main", "render_table"]
