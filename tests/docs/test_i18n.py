"""The Japanese edition: every Concepts page in both languages, computed once, searchable.

English is the default language and the source (``page.md``); the Japanese edition is
``page.ja.md`` beside it (mkdocs-static-i18n's suffix layout) and is built under ``ja/``.
A translation of an executed page holds no code of its own: ``<!-- block: N -->`` slots
stand for the English page's Python blocks, so both languages show the outputs of one
run (``docs/hooks.py``). The static tests read the sources; the ``slow`` ones read the
site that ``docs_build`` builds once per session.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.docs.helpers import Build
from tests.helpers import ROOT

DOCS = ROOT / "docs"
LANG = "ja"
# Pages outside concepts/ that are translated too; everything else falls back to English.
TRANSLATED = ("index.md", "getting-started.md")
# Hiragana, katakana and the CJK ideographs: what Japanese prose is made of.
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def _hooks():
    spec = importlib.util.spec_from_file_location("cnnzoo_docs_hooks_i18n", DOCS / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


hooks = _hooks()


def english_pages() -> list[Path]:
    concepts = [p for p in sorted((DOCS / "concepts").glob("*.md")) if not _is_translation(p)]
    return [DOCS / name for name in TRANSLATED] + concepts


def _is_translation(path: Path) -> bool:
    return hooks.translation_of(path.name) is not None


def _twin(page: Path) -> Path:
    return page.with_name(f"{page.stem}.{LANG}.md")


def _prose(text: str) -> str:
    """The text outside code blocks, front matter and HTML comments."""
    lines = text.splitlines()
    for block in hooks.code_blocks(text):
        for i in range(block.first, block.last + 1):
            lines[i] = ""
    prose = "\n".join(lines)
    prose = hooks._FRONT_MATTER.sub("", prose)
    return re.sub(r"<!--.*?-->", "", prose, flags=re.DOTALL)


# --------------------------------------------------------------------------- sources


def test_every_concepts_page_exists_in_both_languages() -> None:
    """A Concepts page (or Home, or Getting started) without its twin fails here."""
    english = english_pages()
    assert len(english) >= 20
    missing = [f"{p.relative_to(DOCS)} has no {_twin(p).name}" for p in english
               if not _twin(p).is_file()]
    orphans = [f"{p.relative_to(DOCS)} translates a page that does not exist"
               for p in sorted(DOCS.rglob(f"*.{LANG}.md"))
               if not p.with_name(hooks.translation_of(p.name)[0]).is_file()]
    assert not missing + orphans, "\n".join(missing + orphans)


def test_the_check_catches_a_page_in_one_language(tmp_path: Path) -> None:
    """The pairing rule itself, on a scratch tree: one language only is an error."""
    (tmp_path / "a.md").write_text("# A\n", encoding="utf-8")
    (tmp_path / "a.ja.md").write_text("# エー\n", encoding="utf-8")
    (tmp_path / "b.md").write_text("# B\n", encoding="utf-8")
    (tmp_path / "c.ja.md").write_text("# シー\n", encoding="utf-8")
    pages = sorted(tmp_path.glob("*.md"))
    english = {p.name for p in pages if not _is_translation(p)}
    japanese = {hooks.translation_of(p.name)[0] for p in pages if _is_translation(p)}
    assert english ^ japanese == {"b.md", "c.md"}


@pytest.mark.parametrize("page", english_pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_the_translation_shows_the_english_code(page: Path) -> None:
    """Executed pages: slots 1 … N, in order, and no code of its own. Others: same code."""
    twin = _twin(page)
    if not twin.is_file():
        pytest.fail(f"{page.relative_to(DOCS)} has no {twin.name}")
    source, translation = page.read_text(encoding="utf-8"), twin.read_text(encoding="utf-8")
    if hooks.front_matter(source).get("execute"):
        expanded = hooks.expand_slots(translation, source, str(twin), str(page))  # raises
        ours = [b.code for b in hooks.code_blocks(expanded) if b.lang in hooks.RUNNABLE]
    else:  # a page that is not executed may translate its code's comments, nothing else
        ours = [_without_comments(b.code) for b in hooks.code_blocks(translation)
                if b.lang in hooks.RUNNABLE]
    theirs = [b.code if hooks.front_matter(source).get("execute") else
              _without_comments(b.code)
              for b in hooks.code_blocks(source) if b.lang in hooks.RUNNABLE]
    assert ours == theirs, f"{twin.name} does not show {page.name}'s Python blocks"


def _without_comments(code: str) -> list[tuple[int, str]]:
    """The code's tokens without its comments (and the layout they leave behind)."""
    import io
    import tokenize

    skip = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
            tokenize.DEDENT, tokenize.ENDMARKER)
    return [(tok.type, tok.string) for tok in tokenize.generate_tokens(io.StringIO(code).readline)
            if tok.type not in skip]


def test_slots_are_checked() -> None:
    source = "# A\n\n```python\nx = 1\n```\n\n```python\ny = 2\n```\n"
    assert "y = 2" in hooks.expand_slots("# エー\n\n<!-- block: 1 -->\n\n<!-- block: 2 -->\n",
                                         source)
    for bad, message in [
        ("<!-- block: 2 -->\n<!-- block: 1 -->\n", "out of order"),
        ("<!-- block: 1 -->\n", "only 1 appear"),
        ("<!-- block: 1 -->\n<!-- block: 2 -->\n<!-- block: 3 -->\n", "out of order"),
        ("<!-- block: 1 -->\n<!-- block: 2 -->\n```python\nz = 3\n```\n", "of its own"),
    ]:
        with pytest.raises(hooks.SnippetError, match=message):
            hooks.expand_slots(bad, source)


@pytest.mark.parametrize("page", english_pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_the_translation_is_japanese(page: Path) -> None:
    """Japanese prose, not a copy: most of the letters outside code are Japanese."""
    twin = _twin(page)
    if not twin.is_file():
        pytest.fail(f"{page.relative_to(DOCS)} has no {twin.name}")
    prose = _prose(twin.read_text(encoding="utf-8"))
    prose = re.sub(r"`[^`]*`|\{\{.*?\}\}|\]\([^)]*\)|\{ #[^}]*\}|https?://\S+", "", prose)
    japanese = len(JAPANESE.findall(prose))
    latin = len(re.findall(r"[A-Za-z]", prose))
    assert japanese > 200, f"{twin.name}: only {japanese} Japanese characters"
    assert japanese > latin, f"{twin.name}: {japanese} Japanese against {latin} Latin letters"


def test_values_are_evaluated_in_order() -> None:
    text = "# T\n\n```python\nx = 1\n```\n\nx is {{ x }}\n\n```python\nx = 20\n```\n\n" \
           "now {{ x * 2:,}} and {{ f'{x:03d}' }}\n"
    blocks = hooks.code_blocks(text)
    snapshots: list[dict] = []
    hooks.run_blocks(blocks, "t.md", snapshots=snapshots)
    filled = hooks.fill_values(text, blocks, snapshots)
    assert "x is 1\n" in filled and "now 40 and 020\n" in filled
    assert "```python\nx = 1\n```" in filled  # code is never touched
    with pytest.raises(hooks.SnippetError, match=r"t\.md:3"):
        hooks.fill_values("# T\n\n{{ nope }}\n", [], [{}], "t.md")


# --------------------------------------------------------------------------- the site


@pytest.fixture(scope="module")
def site(docs_build: Build) -> Path:
    docs_build.check()
    return docs_build.site


class _Page(HTMLParser):
    """Title, lang, images, tables, output blocks and language links of a built page."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.lang = ""
        self.images: list[str] = []
        self.alternates: dict[str, str] = {}
        self.tables: list[str] = []
        self.headers: list[list[str]] = []  # per table, its header cells
        self.outputs: list[str] = []
        self._stack: list[str] = []
        self._table: list[str] | None = None
        self._header: list[str] | None = None
        self._output: list[str] | None = None
        self._in_title = False
        self._depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang") or ""
        elif tag == "title":
            self._in_title = True
        elif tag == "img" and values.get("src"):
            self.images.append(values["src"].rsplit("/", 1)[-1])
        elif tag == "a" and "md-select__link" in (values.get("class") or ""):
            self.alternates[values.get("hreflang") or ""] = values.get("href") or ""
        elif tag == "table":
            self._table = []
            self.headers.append([])
        elif tag == "th":
            self._header = []
        elif tag == "div" and "no-copy" in (values.get("class") or "") and self._output is None:
            self._output, self._depth = [], 0
        if self._output is not None and tag == "div":
            self._depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "th" and self._header is not None:
            self.headers[-1].append(" ".join("".join(self._header).split()))
            self._header = None
        if tag == "title":
            self._in_title = False
        elif tag == "table" and self._table is not None:
            self.tables.append(" ".join("".join(self._table).split()))
            self._table = None
        elif tag == "div" and self._output is not None:
            self._depth -= 1
            if self._depth == 0:
                self.outputs.append("".join(self._output))
                self._output = None

    def handle_data(self, data: str) -> None:
        if self._header is not None:
            self._header.append(data)
        if self._in_title:
            self.title += data
        if self._table is not None:
            self._table.append(data + " ")
        if self._output is not None:
            self._output.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _url(page: Path) -> str:
    """The page's directory under the site (``concepts/timeline``; ``""`` for Home)."""
    relative = page.relative_to(DOCS).with_suffix("").as_posix()
    return "" if relative == "index" else relative.removesuffix("/index")


def _computed(page: _Page, source: str) -> list[str]:
    """The page's tables that its code printed (their headers are in the code), in order.

    The others are the Markdown's own tables, which the translation translates.
    """
    code = "\n".join(b.code for b in hooks.code_blocks(source))
    code += "\n" + re.sub(r"<[^>]+>", "", code)  # headers with <sub> and the like
    return [table for table, headers in zip(page.tables, page.headers, strict=True)
            if headers and all(h in code for h in headers)]


@pytest.mark.slow
@pytest.mark.parametrize("page", english_pages(), ids=lambda p: p.relative_to(DOCS).as_posix())
def test_both_editions_are_built_with_the_same_numbers(site: Path, page: Path) -> None:
    """Same images, same computed tables and outputs in English and Japanese."""
    url = _url(page)
    en = _parse(site / url / "index.html")
    ja = _parse(site / LANG / url / "index.html")
    assert (en.lang, ja.lang) == ("en", "ja")
    assert JAPANESE.search(ja.title), f"/{LANG}/{url}: title {ja.title!r} is not Japanese"
    assert en.images == ja.images, url
    source = page.read_text(encoding="utf-8")
    if hooks.front_matter(source).get("execute"):
        computed = _computed(en, source)
        assert computed or not en.tables, f"{url}: no computed table found"
        assert computed == _computed(ja, source), f"{url}: the computed tables differ"
        assert en.outputs == ja.outputs, f"{url}: the printed outputs differ"
    # the language switch links each edition to the other
    assert en.alternates.get(LANG, "").rstrip("/").endswith(f"{LANG}/{url}".rstrip("/")), \
        en.alternates
    assert ja.alternates.get("en"), ja.alternates


@pytest.mark.slow
def test_every_page_is_executed_once(docs_build: Build) -> None:
    """The English page's blocks run once; its translation reuses the run."""
    log = docs_build.stdout + docs_build.stderr
    executed = [p for p in english_pages() if hooks.front_matter(
        p.read_text(encoding="utf-8")).get("execute")]
    assert len(executed) >= 15
    for page in executed:
        uri = page.relative_to(DOCS).as_posix()
        runs = re.findall(rf"executed {re.escape(uri)} in ", log)
        assert len(runs) == 1, f"{uri} ran {len(runs)} times"
        twin = _twin(page).relative_to(DOCS).as_posix()
        assert f"{twin}: reused the run of {uri}" in log, f"{twin} did not reuse {uri}'s run"


@pytest.mark.slow
def test_untranslated_pages_fall_back_to_english(site: Path) -> None:
    for url in ("guides/create", "reference/api", "models", "models/resnet"):
        page = _parse(site / LANG / url / "index.html")
        assert page.lang == LANG, url  # the Japanese site's chrome …
        assert not JAPANESE.search(page.title), url  # … around the English page


@pytest.mark.slow
def test_search_index_has_both_languages(site: Path) -> None:
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    assert set(index["config"]["lang"]) >= {"en", LANG}
    ja = [d for d in index["docs"] if d["location"].startswith(f"{LANG}/concepts/")]
    assert ja, "no Japanese Concepts page in the search index"
    text = " ".join(d["title"] + " " + d["text"] for d in ja)
    for term in ("受容野", "畳み込み", "残差接続", "深さ方向分離可能畳み込み", "転移学習"):
        assert term in text, f"{term!r} is not in the search index"
    english = [d for d in index["docs"] if d["location"].startswith("concepts/")]
    assert english and not any(JAPANESE.search(d["title"]) for d in english)
    # every page's alternates are in the sitemap (the pages' heads do not repeat them)
    sitemap = (site / "sitemap.xml").read_text(encoding="utf-8")
    assert re.search(rf'hreflang="{LANG}" href="[^"]*/{LANG}/concepts/receptive-fields/"',
                     sitemap)
    page = (site / "concepts" / "receptive-fields" / "index.html").read_text(encoding="utf-8")
    assert '<link rel="alternate"' not in page
