"""The documentation builds in strict mode, is complete, has no broken links; benchmarks run.

The site is built once per test session, by the ``docs_build`` fixture
(``tests/docs/conftest.py``), and shared with ``tests/docs/test_site_browser.py``.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

import pytest
import yaml

import cnnzoo
from tests.docs.helpers import Build, docs_env
from tests.helpers import ROOT

BUILD_BUDGET_S = 300  # ~190 s on 2 cores shared with 3 other jobs (20 executed pages, two
# languages); this only catches blow-ups


@pytest.fixture(scope="module")
def site(docs_build: Build) -> Path:
    docs_build.check()
    return docs_build.site


def _page(site: Path, uri: str) -> str:
    return (site / uri / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_mkdocs_build_strict(docs_build: Build) -> None:
    build = docs_build
    build.check()
    assert build.seconds < BUILD_BUDGET_S, f"the docs build took {build.seconds:.0f} s"
    print(f"docs build: {build.seconds:.1f} s")


@pytest.mark.slow
def test_gallery_lists_every_model(site: Path) -> None:
    html = _page(site, "models")
    names = cnnzoo.list_models()
    assert names
    missing = [name for name in names if f">{name}<" not in html]
    assert not missing, f"models missing from the gallery: {missing}"
    for family in {cnnzoo.model_info(name).family for name in names}:
        page = site / "models" / family / "index.html"
        assert page.is_file(), f"no gallery page for the family {family!r}"
        # the family page is reachable from the navigation, not only from the gallery
        assert f'href="{family}/"' in html or f'href="./{family}/"' in html, family


@pytest.mark.slow
def test_api_reference_documents_the_public_api(site: Path) -> None:
    html = _page(site, "reference/api")
    ids = set(re.findall(r'id="([^"]+)"', html))
    missing = []
    for name in cnnzoo.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(cnnzoo, name)
        if isinstance(obj, type(cnnzoo)):  # a module: documented under its own name
            path = obj.__name__
        else:
            path = f"{obj.__module__}.{obj.__qualname__}"
        if path not in ids:
            missing.append(f"cnnzoo.{name} (expected the id {path!r})")
    assert not missing, "public API missing from docs/reference/api.md:\n" + "\n".join(missing)


def _commands(parser: argparse.ArgumentParser, path: str) -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{path} {name}")
                found += _commands(sub, f"{path} {name}")
    return found


@pytest.mark.slow
def test_cli_reference_covers_every_command(site: Path) -> None:
    from cnnzoo.cli import build_parser

    html = _page(site, "reference/cli")
    commands = _commands(build_parser(), "cnnzoo")
    assert len(commands) >= 6
    missing = [c for c in commands if f'id="{c.replace(" ", "-")}"' not in html]
    assert not missing, f"commands missing from the CLI reference: {missing}"
    assert "usage: cnnzoo list" in html


@pytest.mark.slow
def test_executed_pages_show_their_results(site: Path) -> None:
    """Pages computed at build time carry their outputs and figures, no raw markers."""
    for page, figure in [
        ("concepts/receptive-fields", "rf-growth.png"),
        ("concepts/pooling", "checkerboard.png"),
        ("concepts/timeline", "timeline.png"),
        ("concepts/feature-maps", "lenet5-feature-maps.png"),
        ("guides/benchmarks", "benchmarks.png"),
    ]:
        html = _page(site, page)
        assert figure in html, (page, figure)
        assert "<!-- bench:" not in html, page
    assert (site / "concepts" / "rf-growth.png").stat().st_size < 100_000
    rf = _page(site, "concepts/receptive-fields")
    # ResNet-50's last block: jump 32, receptive field 427 (computed at build time)
    assert re.search(r"<td><code>layer4\.2</code></td>\s*<td[^>]*>32</td>\s*<td[^>]*>427</td>", rf)
    home = _page(site, "")
    assert "concepts/lenet5-feature-maps.png" in home


def test_every_guide_is_in_the_nav() -> None:
    """A page that is not in the navigation can only be found by search."""

    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml may use python/name tags (e.g. for extensions): accept any tag
    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)

    def pages(node: object) -> list[str]:
        if isinstance(node, str):
            return [node]
        if isinstance(node, list):
            return [p for item in node for p in pages(item)]
        if isinstance(node, dict):
            return [p for value in node.values() for p in pages(value)]
        return []

    in_nav = set(pages(config["nav"]))
    docs = ROOT / "docs"
    written = [
        p.relative_to(docs).as_posix()
        for pattern in ("*.md", "guides/*.md", "concepts/*.md", "reference/*.md")
        for p in docs.glob(pattern)
        if not re.search(r"\.[a-z]{2}\.md$", p.name)  # translations: see test_i18n.py
    ]
    missing = sorted(set(written) - in_nav)
    assert not missing, f"pages missing from the nav of mkdocs.yml: {missing}"


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"])
        if tag == "a" and values.get("name"):
            self.ids.add(values["name"])
        for key in ("href", "src"):
            if values.get(key) and tag in ("a", "img", "link", "script", "source"):
                self.links.append(values[key])


@pytest.mark.slow
def test_no_broken_internal_links(site: Path) -> None:
    """Every relative link and image of every page resolves, anchors included."""
    parsed: dict[Path, _Links] = {}

    def parse(path: Path) -> _Links:
        if path not in parsed:
            parser = _Links()
            parser.feed(path.read_text(encoding="utf-8"))
            parsed[path] = parser
        return parsed[path]

    broken = []
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 20
    for page in pages:
        for link in parse(page).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "data:")):
                continue
            url, fragment = urldefrag(link)
            if url.startswith("/"):  # root-relative (404.html): the site is served at /
                target = (site / unquote(url).lstrip("/")).resolve()
            else:
                target = (page.parent / unquote(url)).resolve() if url else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file() or not target.is_relative_to(site.resolve()):
                broken.append(f"{page.relative_to(site)}: {link}")
            elif fragment and target.suffix == ".html" and unquote(fragment) not in parse(
                target
            ).ids:
                broken.append(f"{page.relative_to(site)}: {link} (no such anchor)")
    assert not broken, f"{len(broken)} broken link(s):\n" + "\n".join(sorted(broken)[:50])


def test_import_time_bench_json() -> None:
    """The benchmark's JSON (one repeat: the schema is under test, not the speed)."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "import_time.py"), "--json", "--repeat", "1"],
        cwd=ROOT,
        env=docs_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["repeat"] == 1
    assert set(result["results"]) == {"torch", "cnnzoo", "timm"}
    for entry in result["results"].values():
        assert len(entry["stmt_s"]) == 1
        assert entry["stmt_median_s"] > 0
    assert result["results"]["cnnzoo"]["models"] == len(cnnzoo.list_models())
    assert isinstance(result["ratios"]["cnnzoo_over_torch"], float)
    assert isinstance(result["meets_goal"], bool)


def test_ci_runs_the_readme_test_command() -> None:
    """``.ci/run`` runs the README's test command, read from README.md, never a copy."""
    proc = subprocess.run(
        ["bash", str(ROOT / ".ci" / "run"), "--print"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```bash\n(.*?)^```$", readme, flags=re.DOTALL | re.MULTILINE)
    commands = [line for block in blocks for line in block.splitlines() if " -m pytest" in line]
    assert len(commands) == 1, commands
    assert proc.stdout.strip() == commands[0]
