"""Every ```python block of the docs runs, so the docs cannot rot.

Collected automatically: ``docs/index.md``, ``docs/getting-started.md`` and every page
under ``docs/guides/`` and ``docs/concepts/`` — a new guide is tested as soon as it
exists. Pages with ``execute: true`` in their front matter (the concept pages) are run by
the strict docs build itself (``docs/hooks.py``: a failing block fails the build, and
``tests/docs/test_docs.py::test_mkdocs_build_strict`` with it), so they are not run a
second time here; Japanese editions (``*.ja.md``) hold no code of their own (their blocks
are the English page's). The blocks of one page run in order in one namespace, in a
process of their own (``python docs/hooks.py PAGE`` does the same by hand), in an empty
temporary working directory, offline (``HF_HUB_OFFLINE=1``). To save importing torch and
timm once per page, each page's process is forked from one warmed-up interpreter where
``os.fork`` exists. A block opts out only with a ``<!-- skip: REASON -->`` comment right
before it; the reason is mandatory and shown in the test report.
"""

from __future__ import annotations

import importlib.util
import json
import os
import selectors
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT

DOCS = ROOT / "docs"
HOOKS = DOCS / "hooks.py"
PATTERNS = ("index.md", "getting-started.md", "guides/*.md", "concepts/*.md")
MAX_SKIPPED_SHARE = 0.1  # opt-outs stay rare
PAGE_TIMEOUT_S = 900
ENV = dict(os.environ, HF_HUB_OFFLINE="1", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")


def _hooks():
    spec = importlib.util.spec_from_file_location("cnnzoo_docs_hooks", HOOKS)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


hooks = _hooks()


def pages() -> list[Path]:
    """The English pages (a translation's blocks are its English page's)."""
    found = {p for pattern in PATTERNS for p in DOCS.glob(pattern)
             if not p.name.endswith(".ja.md")}
    return sorted(found)


def executed_at_build(page: Path) -> bool:
    """Whether the docs build runs the page's blocks (``execute: true``)."""
    return bool(hooks.front_matter(page.read_text(encoding="utf-8")).get("execute"))


def pages_to_run() -> list[Path]:
    return [p for p in pages() if not executed_at_build(p)]


def _blocks(page: Path):
    return hooks.code_blocks(page.read_text(encoding="utf-8"), str(page.relative_to(ROOT)))


def test_pages_are_collected() -> None:
    names = {p.relative_to(DOCS).as_posix() for p in pages()}
    assert {"index.md", "getting-started.md", "guides/create.md",
            "concepts/receptive-fields.md"} <= names


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen | None]:
    """``python docs/hooks.py --serve``: forks a fresh process per page (POSIX only)."""
    if not hasattr(os, "fork"):
        yield None
        return
    home = tmp_path_factory.mktemp("snippet-runner")
    with open(home / "runner.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, str(HOOKS), "--serve"],
            cwd=home, env=ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
            text=True,
        )
    try:
        yield proc
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _run_page(runner: subprocess.Popen | None, page: Path, tmp_path: Path) -> tuple[int, str]:
    workdir, log = tmp_path / "work", tmp_path / "output.log"
    workdir.mkdir()
    if runner is None:
        proc = subprocess.run(
            [sys.executable, str(HOOKS), str(page), "--workdir", str(workdir)],
            cwd=workdir, env=ENV, capture_output=True, text=True, timeout=PAGE_TIMEOUT_S,
            check=False,
        )
        return proc.returncode, proc.stdout + proc.stderr
    assert runner.poll() is None, "the snippet runner died (see its runner.log)"
    request = {"page": str(page), "workdir": str(workdir), "log": str(log)}
    runner.stdin.write(json.dumps(request) + "\n")
    runner.stdin.flush()
    with selectors.DefaultSelector() as selector:
        selector.register(runner.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=PAGE_TIMEOUT_S):
            runner.kill()
            pytest.fail(f"docs/{page.relative_to(DOCS)} ran for over {PAGE_TIMEOUT_S} s")
    answer = runner.stdout.readline()
    assert answer, "the snippet runner died (see its runner.log)"
    return json.loads(answer)["returncode"], log.read_text(encoding="utf-8", errors="replace")


def test_executed_and_run_pages_are_split_as_expected() -> None:
    executed = {p.relative_to(DOCS).as_posix() for p in pages() if executed_at_build(p)}
    run = {p.relative_to(DOCS).as_posix() for p in pages_to_run()}
    assert "concepts/receptive-fields.md" in executed and "guides/deploy.md" in run
    assert not executed & run and executed | run == {
        p.relative_to(DOCS).as_posix() for p in pages()}


@pytest.mark.parametrize("page", pages_to_run(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_snippets_run(page: Path, runner: subprocess.Popen | None, tmp_path: Path) -> None:
    blocks = _blocks(page)
    runnable = [b for b in blocks if b.runnable]
    skipped = [b for b in blocks if b.lang in hooks.RUNNABLE and not b.runnable]
    for block in skipped:
        print(f"{page.name}:{block.line}: skipped ({block.markers['skip']})")
    if not runnable:
        pytest.skip(f"{page.relative_to(DOCS)} has no Python block to run")
    returncode, output = _run_page(runner, page, tmp_path)
    assert returncode == 0, (
        f"a code block of docs/{page.relative_to(DOCS)} failed "
        f"(run it with `python docs/hooks.py docs/{page.relative_to(DOCS)}`):\n"
        f"{output[-6000:]}"
    )


def test_opt_outs_are_rare_and_explained() -> None:
    total, skipped = 0, []
    for page in pages():
        for block in _blocks(page):  # a skip marker without a reason fails to parse
            if block.lang in hooks.RUNNABLE:
                total += 1
                if not block.runnable:
                    skipped.append(f"{page.relative_to(DOCS)}:{block.line}: "
                                   f"{block.markers['skip']}")
    assert total > 20
    assert len(skipped) <= MAX_SKIPPED_SHARE * total, "too many skipped blocks:\n" + "\n".join(
        skipped
    )


def test_python_blocks_are_python() -> None:
    """An interactive session belongs in a ``pycon`` block, not a ``python`` one."""
    wrong = [
        f"{page.relative_to(DOCS)}:{block.line}"
        for page in pages()
        for block in _blocks(page)
        if block.lang in hooks.RUNNABLE and block.code.lstrip().startswith(">>>")
    ]
    assert not wrong, f"use ```pycon for these interactive sessions: {wrong}"


# --------------------------------------------------------------------------- the parser


def test_parser_markers_and_indentation() -> None:
    text = "\n".join([
        "# Title",
        "<!-- skip: needs a Hub token -->",
        "```python",
        "push()",
        "```",
        "!!! tip",
        "",
        "    <!-- output: markdown -->",
        "    ```python",
        "    print('| a |')",
        "    ```",
        "```text",
        "not python",
        "```",
    ])
    blocks = hooks.code_blocks(text)
    assert [(b.lang, b.runnable) for b in blocks] == [
        ("python", False), ("python", True), ("text", False)
    ]
    assert blocks[0].markers == {"skip": "needs a Hub token"}
    assert blocks[1].markers == {"output": "markdown"}
    assert blocks[1].code == "print('| a |')\n"
    assert blocks[1].line == 10


@pytest.mark.parametrize("text, message", [
    ("<!-- skip: -->\n```python\nx\n```", "needs a reason"),
    ("<!-- output: html -->\n```python\nx\n```", "output must be one of"),
    ("<!-- run: yes -->\n```python\nx\n```", "unknown marker"),
    ("```python\nx = 1\n", "never closed"),
])
def test_parser_rejects_bad_markers(text: str, message: str) -> None:
    with pytest.raises(hooks.SnippetError, match=message):
        hooks.code_blocks(text)


def test_rendering_inserts_outputs_and_folds_code(tmp_path: Path) -> None:
    text = "\n".join([
        "```python",
        "print('hello')",
        "```",
        "<!-- output: markdown -->",
        "<!-- code: collapsed -->",
        "```python",
        "with open('plot.png', 'wb') as fh:",
        "    fh.write(b'png')",
        "print('![a plot](plot.png)')",
        "```",
        "",
    ])
    rendered, written = hooks.execute_page(text, "page.md", tmp_path)
    assert written == {"plot.png": b"png"}
    assert '```` { .text .no-copy title="Output" }'.replace("````", "```") in rendered
    assert "hello" in rendered
    assert '??? example "The code"' in rendered
    assert "    print('![a plot](plot.png)')" in rendered
    assert "\n![a plot](plot.png)\n" in rendered


def test_a_failing_block_names_its_line(tmp_path: Path) -> None:
    text = "intro\n\n```python\nx = 1\n```\n\n```python\n1 / 0\n```\n"
    with pytest.raises(hooks.SnippetError, match=r"page\.md:8") as info:
        hooks.execute_page(text, "page.md", tmp_path)
    assert "ZeroDivisionError" in str(info.value)
