"""The built book as a reader's browser shows it: headless Chromium, driven by Selenium.

``make browser`` (part of ``make test``) builds the book, installs Debian's ``chromium`` and
``chromium-driver`` when it can (root and apt-get), then runs this file. Every page named in
``_toc.yml`` (the front page, every chapter, the reference pages, a scorecard if the table of
contents lists one) is served from ``_build/html`` on 127.0.0.1 and opened with every other
host unresolvable, as on a machine without internet. On each page:

- every image has loaded (``naturalWidth > 0``);
- MathJax has typeset every equation: each ``.math`` element holds an ``mjx-container``, no
  ``mjx-merror``, and no raw ``\\(`` or ``\\[`` is left in the text outside code;
- a chapter page has its "Paper vs this book" table with the columns that
  ``advkeras.book.reporting.claims_table`` writes, a Colab launch link, and download links to
  its ``.ipynb`` and its jupytext ``.py``, and the "Run this chapter" box
  (``book/_ext/run_this_chapter.py``);
- every image of a chapter's text (its cell outputs) has alt text of its own (not Sphinx's
  stand-in, the image's file name) and sits in a ``figure`` with a non-empty ``figcaption``
  (the cell's ``mystnb.figure``/``mystnb.image`` metadata, checked in the notebooks by
  ``tests/test_figures.py``);
- the console has no error, and the page requested nothing from another host;
- every link to the book itself resolves: the file exists and so does the ``#anchor``.

A screenshot of each whole page is written to ``_build/screenshots/<page>.png`` for a person
to look at. Without Chromium and its driver the whole file is skipped with a one-line reason;
without a built book it fails (run ``make book``).
"""

from __future__ import annotations

import base64
import functools
import html.parser
import http.server
import shutil
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
TABLE_HEADING = "Paper vs this book"
COLAB = "https://colab.research.google.com/github/"
MAX_SCREENSHOT_HEIGHT = 16000  # Chromium's limit for one capture is 16384 pixels

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "browser test skipped: Debian's chromium and chromium-driver are not installed "
        "(make browser installs them as root: apt-get install -y chromium chromium-driver)",
        allow_module_level=True,
    )
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")


def toc_pages() -> list[str]:
    """Every file of ``_toc.yml`` (without suffix), root first: the pages a reader can open."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries: list[dict]) -> None:
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return pages


def table_columns() -> list[str]:
    """The header of the "Paper vs this book" table, as ``claims_table`` writes it."""
    from advkeras.book.profiles import get_profile
    from advkeras.book.reporting import claims_table

    header = claims_table([], get_profile("book")).splitlines()[0]
    return [cell.strip() for cell in header.strip("|").split("|")]


PAGES = toc_pages()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The built book on http://127.0.0.1:<free port>/."""
    if not (HTML / "index.html").is_file():
        pytest.fail(f"No built book in {HTML}: run `make book` first.")
    handler = functools.partial(_Quiet, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def driver() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
        # The network is off for everything but the book's own server.
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--no-proxy-server",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    drv = webdriver.Chrome(options=options, service=service)
    drv.set_page_load_timeout(60)
    drv.set_script_timeout(60)
    yield drv
    drv.quit()


# Resolves when MathJax has finished typesetting; "none" on a page without equations. MathJax's
# script is deferred, so its startup object may appear a moment after the page's load event.
WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
const start = Date.now();
(function poll() {
  if (document.readyState !== 'complete') { setTimeout(poll, 50); return; }
  if (!document.querySelector('script[src*="mathjax"]')) {
    done(document.querySelectorAll('.math').length ? 'no MathJax script' : 'none');
    return;
  }
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    mj.startup.promise.then(() => done('typeset'), (e) => done('error: ' + e));
  } else if (Date.now() - start > 30000) {
    done('no MathJax after 30 s');
  } else {
    setTimeout(poll, 50);
  }
})();
"""

# Loads every image (lazy ones too) and reports those that did not load.
WAIT_FOR_IMAGES = """
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.images);
imgs.forEach((img) => { img.loading = 'eager'; });
Promise.all(imgs.map((img) => img.complete ? null : new Promise((r) => { img.onload = img.onerror = r; })))
  .then(() => done({count: imgs.length,
                    broken: imgs.filter((img) => !(img.naturalWidth > 0)).map((img) => img.src)}));
"""

# Text outside code that still holds a TeX delimiter, and the math elements left untypeset.
MATH_STATE = """
const skip = (node) => node.parentElement && node.parentElement.closest(
  'pre, code, script, style, textarea, mjx-container, .highlight');
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const raw = [];
for (let n = walker.nextNode(); n; n = walker.nextNode()) {
  if (!skip(n) && /\\\\[(\\[]/.test(n.textContent)) raw.push(n.textContent.trim().slice(0, 80));
}
const maths = Array.from(document.querySelectorAll('.math'));
return {math: maths.length,
        untypeset: maths.filter((m) => !m.querySelector('mjx-container')).map((m) => m.textContent.slice(0, 80)),
        containers: document.querySelectorAll('mjx-container').length,
        errors: Array.from(document.querySelectorAll('mjx-merror')).map((m) => m.textContent.slice(0, 80)),
        raw: raw};
"""

# The header cells of the table that follows the "Paper vs this book" heading, if any.
TABLE_STATE = """
const heading = Array.from(document.querySelectorAll('h1, h2, h3'))
  .find((h) => h.textContent.replace(/#$/, '').replace(/^[\\d.]+\\s*/, '').trim() === arguments[0]);
if (!heading) return null;
const section = heading.closest('section') || document.body;
const table = section.querySelector('table');
if (!table) return [];
return Array.from(table.querySelectorAll('thead th, tr:first-child th')).map((th) => th.textContent.trim());
"""

LINKS = "return Array.from(document.querySelectorAll('a[href]')).map((a) => a.href);"

# Every image of the page's text (not the header's logos): its alt text, and the caption of the
# figure it sits in (null when it is in none). Without alt metadata Sphinx writes the image's
# own path as its alt text, so that counts as none.
FIGURE_STATE = """
return Array.from(document.querySelectorAll('article img')).map((img) => {
  const src = img.getAttribute('src') || '';
  let alt = (img.getAttribute('alt') || '').trim();
  if (alt === src || /\\.(png|jpe?g|gif|svg)$/i.test(alt)) alt = '';
  const figure = img.closest('figure');
  const caption = figure && figure.querySelector('figcaption');
  const text = caption && (caption.querySelector('.caption-text') || caption);
  return {src: src.split('/').pop().slice(0, 24), alt: alt,
          caption: text ? text.textContent.trim() : null};
});
"""


def _external_requests(drv: webdriver.Chrome, base: str) -> list[str]:
    import json

    urls = []
    for entry in drv.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if not url.startswith((base, "data:", "blob:", "about:")):
                urls.append(url)
    return sorted(set(urls))


def _screenshot(drv: webdriver.Chrome, path: Path) -> None:
    """The whole page (up to 16,000 pixels high), not only the window."""
    metrics = drv.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    clip = {
        "x": 0,
        "y": 0,
        "width": size["width"],
        "height": min(size["height"], MAX_SCREENSHOT_HEIGHT),
        "scale": 1,
    }
    shot = drv.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


LINKS_SEEN: dict[str, list[str]] = {}


@pytest.mark.parametrize("page", PAGES)
def test_page(page: str, server: str, driver: webdriver.Chrome) -> None:
    url = urllib.parse.urljoin(server, page + ".html")
    driver.get_log("browser")  # drop what earlier pages left
    driver.get_log("performance")
    driver.get(url)
    assert driver.current_url.split("#")[0] == url, (
        f"{page}: the browser is at {driver.current_url}"
    )
    problems = []

    typeset = driver.execute_async_script(WAIT_FOR_MATHJAX)
    images = driver.execute_async_script(WAIT_FOR_IMAGES)
    math = driver.execute_script(MATH_STATE)
    _screenshot(driver, SCREENSHOTS / f"{page}.png")

    if images["broken"]:
        problems.append(
            f"{len(images['broken'])} of {images['count']} images did not load: "
            f"{images['broken'][:5]}"
        )
    if math["math"] and typeset != "typeset":
        problems.append(f"{math['math']} equations but MathJax did not finish: {typeset}")
    if math["untypeset"]:
        problems.append(f"{len(math['untypeset'])} equations not typeset: {math['untypeset'][:3]}")
    if math["math"] and not math["containers"]:
        problems.append("no MathJax output element (mjx-container) on a page with equations")
    if math["errors"]:
        problems.append(f"MathJax errors: {math['errors'][:3]}")
    if math["raw"]:
        problems.append(f"raw TeX left in the text: {math['raw'][:3]}")

    if page.startswith("chapters/"):
        columns = driver.execute_script(TABLE_STATE, TABLE_HEADING)
        if columns is None:
            problems.append(f"no '{TABLE_HEADING}' heading")
        elif columns != table_columns():
            problems.append(f"'{TABLE_HEADING}' table columns {columns}, not {table_columns()}")
        hrefs = driver.execute_script(LINKS)
        if not any(href.startswith(COLAB) for href in hrefs):
            problems.append(f"no Colab launch link ({COLAB}...)")
        for suffix in (".ipynb", ".py"):
            wanted = urllib.parse.urljoin(server, f"_sources/{page}{suffix}")
            if wanted not in hrefs:
                problems.append(f"no download link to {wanted}")
        box = driver.execute_script(
            "const b = document.querySelector('.run-this-chapter');return b ? b.innerText : null;"
        )
        if not box or "profile" not in box or "Colab" not in box:
            problems.append("no 'Run this chapter' box naming the profile and Colab")
        shown = driver.execute_script(FIGURE_STATE)
        no_alt = [f["src"] for f in shown if not f["alt"]]
        no_figure = [f["src"] for f in shown if f["caption"] is None]
        no_caption = [f["src"] for f in shown if f["caption"] == ""]
        if no_alt:
            problems.append(f"{len(no_alt)} of {len(shown)} images without alt text: {no_alt[:5]}")
        if no_figure:
            problems.append(f"{len(no_figure)} images outside a figure: {no_figure[:5]}")
        if no_caption:
            problems.append(f"{len(no_caption)} figures with an empty caption: {no_caption[:5]}")

    # The browser asks every server for /favicon.ico on its own; the book declares none.
    errors = [
        e["message"]
        for e in driver.get_log("browser")
        if e["level"] == "SEVERE" and "/favicon.ico " not in e["message"]
    ]
    if errors:
        problems.append(f"console errors: {errors[:5]}")
    external = _external_requests(driver, server)
    if external:
        problems.append(f"requests to other hosts (the book must read offline): {external}")

    LINKS_SEEN[page] = [link for link in driver.execute_script(LINKS) if link.startswith(server)]
    assert not problems, f"{page}: " + "; ".join(problems)


class _Ids(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)


@functools.cache
def _ids(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8"))
    return frozenset(parser.ids)


def test_internal_links_resolve(server: str) -> None:
    """Every link from a visited page to the book: the file is there, and so is the anchor."""
    if len(LINKS_SEEN) != len(PAGES):
        pytest.fail("the page tests did not all run, so their links were not collected")
    broken = set()
    for page, links in LINKS_SEEN.items():
        for link in links:
            parts = urllib.parse.urlsplit(link)
            rel = urllib.parse.unquote(parts.path).lstrip("/")
            target = HTML / rel
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.add(f"{page} -> {rel} (no such file)")
            elif parts.fragment and target.suffix == ".html":
                anchor = urllib.parse.unquote(parts.fragment)
                if anchor not in _ids(target):
                    broken.add(f"{page} -> {rel}#{anchor} (no such anchor)")
    assert not broken, f"{len(broken)} broken internal links: {sorted(broken)[:20]}"
