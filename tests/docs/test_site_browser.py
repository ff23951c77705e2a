"""The built site, served on 127.0.0.1 and opened in headless Chromium.

Checks what only a browser can: every key page loads with its title, its images decode
(``naturalWidth > 0``), nothing is logged to the console at error level and no request
leaves 127.0.0.1; the tabs and sidebar navigate; the search box finds pages; the
light/dark toggle works. The page-by-page checks take full-page screenshots into
``artifacts/screenshots/`` when ``CNNZOO_SCREENSHOTS=1`` (half these tests' time, so off
by default; the checks themselves run either way); the interaction tests always save
their viewport.

Needs Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y chromium
chromium-driver``) and ``selenium`` (the ``dev`` extra). selenium is pointed at those
two binaries, so it never downloads a browser or a driver. Without them the test
**fails**; set ``CNNZOO_SKIP_BROWSER=1`` to skip it deliberately on a machine that
cannot have a browser (never in CI).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.server
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.docs.helpers import Build
from tests.helpers import ROOT

SCREENSHOTS = ROOT / "artifacts" / "screenshots"
SITE_NAME = "cnnzoo"
# (path under the site, expected <title>, images the page must show)
PAGES = [
    ("", SITE_NAME, ["lenet5-feature-maps.png"]),
    ("getting-started/", f"Getting started - {SITE_NAME}", []),
    ("guides/create/", f"Creating models - {SITE_NAME}", []),
    ("guides/benchmarks/", f"Benchmarks - {SITE_NAME}", ["benchmarks.png"]),
    ("models/", f"Model gallery - {SITE_NAME}", []),
    ("models/lenet/", f"lenet - {SITE_NAME}", []),
    ("concepts/", f"Concepts - {SITE_NAME}", []),
    ("concepts/convolution/", f"Convolution and output size - {SITE_NAME}", []),
    ("concepts/weight-sharing/", f"Weight sharing and equivariance - {SITE_NAME}", []),
    ("concepts/receptive-fields/", f"Receptive fields - {SITE_NAME}", ["rf-growth.png"]),
    ("concepts/pooling/", f"Pooling and upsampling - {SITE_NAME}", ["checkerboard.png"]),
    ("concepts/timeline/", f"From LeNet to ConvNeXt - {SITE_NAME}", ["timeline.png"]),
    ("concepts/normalisation/", f"Normalisation layers - {SITE_NAME}", []),
    ("concepts/feature-maps/", f"Feature maps - {SITE_NAME}",
     ["lenet5-feature-maps.png", "lenet5-filters.png"]),
    ("concepts/residual-connections/", f"Residual connections - {SITE_NAME}",
     ["residual-gradients.png"]),
    ("concepts/depthwise-separable/", f"Depthwise-separable convolutions - {SITE_NAME}", []),
    ("concepts/compound-scaling/", f"Compound scaling - {SITE_NAME}", ["compound-scaling.png"]),
    ("concepts/multi-branch/", f"Inception and DenseNet - {SITE_NAME}", ["densenet-widths.png"]),
    ("concepts/convnext/", f"ConvNeXt - {SITE_NAME}", []),
    ("concepts/encoder-decoder/", f"Encoder–decoder: UNet - {SITE_NAME}", []),
    ("concepts/anti-patterns/", f"Anti-patterns - {SITE_NAME}", []),
    ("concepts/forgetting-eval/", f"Forgetting model.eval() - {SITE_NAME}", []),
    ("concepts/wrong-normalisation/", f"The wrong normalisation - {SITE_NAME}", []),
    ("concepts/label-breaking-augmentation/", f"Label-breaking augmentation - {SITE_NAME}",
     ["label-breaking-confusion.png"]),
    ("concepts/fine-tuning-too-fast/", f"Fine-tuning too fast - {SITE_NAME}",
     ["fine-tuning-strategies.png"]),
    ("concepts/no-augmentation/", f"No augmentation - {SITE_NAME}", ["augmentation-gap.png"]),
    ("reference/cli/", f"CLI - {SITE_NAME}", []),
    ("reference/api/", f"API - {SITE_NAME}", []),
]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
]
INSTALL = (
    "install the browser check's requirements: `apt-get install -y chromium chromium-driver` "
    "and `pip install -e '.[dev]'` (selenium); or set CNNZOO_SKIP_BROWSER=1 to skip it"
)


def _missing(reason: str) -> None:
    if os.environ.get("CNNZOO_SKIP_BROWSER") and not os.environ.get("CI"):
        pytest.skip(f"CNNZOO_SKIP_BROWSER is set ({reason})")
    pytest.fail(f"{reason}: {INSTALL}", pytrace=False)


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name) or (
            f"/usr/lib/chromium/{name}" if Path(f"/usr/lib/chromium/{name}").is_file() else None
        )
        if found:
            return found
    _missing(f"none of {', '.join(names)} is installed")
    raise AssertionError  # unreachable


# --------------------------------------------------------------------------- fixtures


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _serve(directory: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def base_url(docs_build: Build) -> Iterator[str]:
    build = docs_build
    build.check()
    with _serve(build.site) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _missing("selenium is not installed")
    chromium = _binary("chromium", "chromium-browser")
    driver_path = _binary("chromedriver", "chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="cnnzoo-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=driver_path))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


# --------------------------------------------------------------------------- helpers


def _open(driver: Any, url: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && "
            "Array.from(document.images).every(i => i.complete)"
        )
    )


def _console_errors(driver: Any) -> list[str]:
    return [
        f"{entry['level']}: {entry['message']}"
        for entry in driver.get_log("browser")
        if entry["level"] in ("SEVERE", "ERROR")
    ]


def _broken_images(driver: Any) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.images)"
        ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )


def _foreign_requests(driver: Any, base_url: str) -> list[str]:
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return [n for n in names if not n.startswith((base_url, "data:", "blob:"))]


def _screenshot(driver: Any, name: str, full_page: bool = True) -> Path | None:
    """Save a PNG of the page (the whole page up to 6,000 px tall, with
    ``CNNZOO_SCREENSHOTS=1``; or the viewport)."""
    if full_page and os.environ.get("CNNZOO_SCREENSHOTS") != "1":
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    if not full_page:
        driver.save_screenshot(str(path))
        return path
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000),
            "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def _name(path: str) -> str:
    return path.strip("/").replace("/", "-") or "home"


# --------------------------------------------------------------------------- tests


@pytest.mark.slow
def test_key_pages_render(browser: Any, base_url: str) -> None:
    problems: list[str] = []
    _console_errors(browser)  # drop anything logged before the first page
    for path, title, images in PAGES:
        _open(browser, base_url + path)
        _screenshot(browser, _name(path))
        if browser.title != title:
            problems.append(f"/{path}: title {browser.title!r}, expected {title!r}")
        sources = browser.execute_script("return Array.from(document.images).map(i => i.src)")
        for image in images:
            if not any(src.endswith("/" + image) for src in sources):
                problems.append(f"/{path}: no <img> showing {image}")
        problems += [f"/{path}: broken image {src}" for src in _broken_images(browser)]
        problems += [f"/{path}: console {msg}" for msg in _console_errors(browser)]
        problems += [f"/{path}: request to {u}" for u in _foreign_requests(browser, base_url)]
        has_nav = browser.execute_script(
            "return document.querySelectorAll('.md-tabs__link').length"
        )
        if has_nav < 5:
            problems.append(f"/{path}: only {has_nav} navigation tabs")
    assert not problems, "\n".join(problems)


def _japanese_pages(site: Path) -> list[tuple[str, list[str]]]:
    """(path under the site, images) of every page translated into Japanese.

    The images are the English page's: both editions show the same pictures.
    """
    import re

    docs = ROOT / "docs"
    found = []
    for source in sorted(docs.rglob("*.ja.md")):
        url = source.relative_to(docs).as_posix().removesuffix(".ja.md")
        url = "" if url == "index" else url.removesuffix("/index") + "/"
        english = (site / url / "index.html").read_text(encoding="utf-8")
        images = re.findall(r'<img[^>]* src="(?:[^"]*/)?([^"/]+\.(?:png|svg|jpg))"', english)
        found.append((f"ja/{url}", images))
    return found


@pytest.mark.slow
def test_japanese_pages_render(browser: Any, base_url: str, docs_build: Build) -> None:
    """Every Japanese page: a Japanese title, lang="ja", the English page's images, clean."""
    import re

    pages = _japanese_pages(docs_build.site)
    assert len(pages) >= 20
    problems: list[str] = []
    _console_errors(browser)
    for path, images in pages:
        _open(browser, base_url + path)
        _screenshot(browser, _name(path))
        title = browser.title
        if not (re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", title)
                and title.endswith(f" - {SITE_NAME}")):
            problems.append(f"/{path}: title {title!r} is not a Japanese page title")
        if browser.execute_script("return document.documentElement.lang") != "ja":
            problems.append(f"/{path}: <html lang> is not ja")
        sources = browser.execute_script("return Array.from(document.images).map(i => i.src)")
        for image in images:
            if not any(src.endswith("/" + image) for src in sources):
                problems.append(f"/{path}: no <img> showing {image}")
        problems += [f"/{path}: broken image {src}" for src in _broken_images(browser)]
        problems += [f"/{path}: console {msg}" for msg in _console_errors(browser)]
        problems += [f"/{path}: request to {u}" for u in _foreign_requests(browser, base_url)]
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_language_switch(browser: Any, base_url: str) -> None:
    """The header's language selector leads to the same page in the other language."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    for page, english_title in (("concepts/receptive-fields/", "Receptive fields"),
                                ("concepts/residual-connections/", "Residual connections")):
        _open(browser, base_url + page)
        link = browser.find_element(By.CSS_SELECTOR, "a.md-select__link[hreflang='ja']")
        browser.execute_script("arguments[0].click()", link)  # the selector opens on hover
        japanese = base_url + "ja/" + page
        WebDriverWait(browser, 20).until(lambda d, url=japanese: d.current_url == url)
        assert browser.execute_script("return document.documentElement.lang") == "ja"
        assert browser.title != f"{english_title} - {SITE_NAME}"
        _screenshot(browser, "language-switch-" + _name(page), full_page=False)
        back = browser.find_element(By.CSS_SELECTOR, "a.md-select__link[hreflang='en']")
        browser.execute_script("arguments[0].click()", back)
        english = base_url + page
        WebDriverWait(browser, 20).until(lambda d, url=english: d.current_url == url)
        assert browser.title == f"{english_title} - {SITE_NAME}"
    assert not _console_errors(browser)


@pytest.mark.slow
def test_japanese_search(browser: Any, base_url: str) -> None:
    """Search on a Japanese page finds a Japanese term on a Japanese page."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, base_url + "ja/")
    browser.find_element(By.CSS_SELECTOR, "label.md-search__icon, .md-search__input").click()
    box = browser.find_element(By.CSS_SELECTOR, "input.md-search__input")
    WebDriverWait(browser, 10).until(lambda d: box.is_displayed())
    box.send_keys("受容野")
    results = WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".md-search-result__item a") or None
    )
    hrefs = [r.get_attribute("href") for r in results]
    target = base_url + "ja/concepts/receptive-fields/"
    assert any(h.startswith(target) for h in hrefs), hrefs
    _screenshot(browser, "search-ja", full_page=False)
    next(r for r in results if r.get_attribute("href").startswith(target)).click()
    WebDriverWait(browser, 20).until(lambda d: d.current_url.startswith(target))
    assert browser.title == f"受容野 - {SITE_NAME}"
    assert not _console_errors(browser)


@pytest.mark.slow
def test_navigation(browser: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, base_url)
    tab = browser.find_element(By.XPATH, "//a[contains(@class,'md-tabs__link')]"
                                         "[normalize-space()='Concepts']")
    tab.click()
    WebDriverWait(browser, 20).until(lambda d: d.title == f"Concepts - {SITE_NAME}")
    assert browser.current_url == base_url + "concepts/"
    link = browser.find_element(
        By.CSS_SELECTOR, "nav.md-nav--primary a.md-nav__link[href$='receptive-fields/']"
    )
    browser.execute_script("arguments[0].click()", link)  # the sidebar may be collapsed
    WebDriverWait(browser, 20).until(lambda d: d.title == f"Receptive fields - {SITE_NAME}")
    # the gallery's family pages are in the navigation too
    _open(browser, base_url + "models/")
    assert browser.find_elements(By.CSS_SELECTOR, "nav.md-nav--primary a[href$='resnet/']")
    _screenshot(browser, "navigation", full_page=False)
    assert not _console_errors(browser)


@pytest.mark.slow
def test_search(browser: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, base_url)
    browser.find_element(By.CSS_SELECTOR, "label.md-search__icon, .md-search__input").click()
    box = browser.find_element(By.CSS_SELECTOR, "input.md-search__input")
    WebDriverWait(browser, 10).until(lambda d: box.is_displayed())
    box.send_keys("receptive field")
    results = WebDriverWait(browser, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".md-search-result__item a") or None
    )
    hrefs = [r.get_attribute("href") for r in results]
    assert any("concepts/receptive-fields/" in h for h in hrefs), hrefs
    _screenshot(browser, "search", full_page=False)
    target = next(r for r in results if "concepts/receptive-fields/" in r.get_attribute("href"))
    target.click()
    WebDriverWait(browser, 20).until(lambda d: d.title == f"Receptive fields - {SITE_NAME}")
    assert not _console_errors(browser)


@pytest.mark.slow
def test_dark_mode_toggle(browser: Any, base_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _open(browser, base_url + "concepts/receptive-fields/")

    def scheme(d: Any) -> str:
        return d.execute_script("return document.body.getAttribute('data-md-color-scheme')")

    before = scheme(browser)
    toggles = browser.find_elements(By.CSS_SELECTOR, "label.md-header__button[for^='__palette']")
    toggle = next(t for t in toggles if t.is_displayed())
    toggle.click()
    WebDriverWait(browser, 10).until(lambda d: scheme(d) != before)
    assert {before, scheme(browser)} == {"default", "slate"}
    _screenshot(browser, "dark-mode", full_page=False)
    assert not _console_errors(browser)
