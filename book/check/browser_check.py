#!/usr/bin/env python3
"""Opens every page of the built book in a real, headless Chromium, and checks what a reader sees.

Usage: python3 book/check/browser_check.py [--book book/book] [--chromium /usr/bin/chromium]
                                            [--screenshot-dir target/book-check]

It serves the built book on 127.0.0.1 (a free port), starts Chromium from Debian's package with a
fresh profile, and drives it through the DevTools protocol over a pipe (`--remote-debugging-pipe`),
so it needs nothing but Python's standard library and Chromium: no driver to install, no browser
download, no network. Starting from the pages in SUMMARY.md, it visits every page of the book
that a link reaches, and checks on each:

- no raw `{{#include` (or `{{#rustdoc_include`) is left in the text;
- no code block is empty;
- every image loads and decodes (the SVG charts under book/src/images/ too), and every SVG chart
  under book/src/images/ is shown on some page;
- no request for the book's own files fails, and no script error is thrown;
- every internal link leads to a page that exists, and to an element with its #fragment;
- the search index loads: a search for a word finds results.

It keeps a screenshot of the concurrency chapter (its chart, when it has one) as evidence, and
exits with 1 and a list of problems if anything is wrong.
"""

import argparse
import base64
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--window-size=1280,1000",
    "--remote-debugging-pipe",
]
SEARCH_WORD = "customers"
SCREENSHOT_PAGE = "04-concurrency.html"

# Runs in each page once it has loaded; returns what the page shows.
PAGE_CHECK_JS = r"""
(async () => {
  const problems = [];
  const main = document.querySelector('main') || document.body;
  const text = document.body.innerText;
  for (const raw of ['{{#include', '{{#rustdoc_include', '{{#playground']) {
    if (text.includes(raw)) problems.push(`a raw ${raw} is left in the page`);
  }
  let codeBlocks = 0;
  for (const pre of main.querySelectorAll('pre')) {
    codeBlocks += 1;
    if (pre.innerText.trim() === '') {
      let heading = pre.previousElementSibling;
      while (heading && !/^H[1-6]$/.test(heading.tagName)) heading = heading.previousElementSibling;
      problems.push(`an empty code block (after "${heading ? heading.innerText : 'the top'}")`);
    }
  }
  const images = [];
  for (const img of document.querySelectorAll('img')) {
    const decoded = await Promise.race([
      img.decode().then(() => true, () => false),
      new Promise(resolve => setTimeout(() => resolve(false), 10000)),
    ]);
    const ok = decoded && img.complete && (img.naturalWidth > 0 || /\.svg$/i.test(img.src));
    images.push({src: img.src, ok, width: img.naturalWidth, height: img.naturalHeight});
    if (!ok) problems.push(`an image does not load: ${img.getAttribute('src')}`);
  }
  for (const obj of document.querySelectorAll('object[data], embed[src], iframe[src]')) {
    const src = obj.getAttribute('data') || obj.getAttribute('src');
    images.push({src: new URL(src, location.href).href, ok: true, embedded: true});
  }
  const links = [...document.querySelectorAll('a[href]')].map(a => a.href);
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
  const names = [...document.querySelectorAll('a[name]')].map(e => e.getAttribute('name'));
  return {title: document.title, problems, codeBlocks, images, links, ids: ids.concat(names)};
})()
"""


class Chromium:
    """A headless Chromium driven through the DevTools protocol on fds 3 and 4."""

    def __init__(self, binary, profile_dir, log_path):
        to_chrome_r, self._to_chrome_w = os.pipe()
        self._from_chrome_r, from_chrome_w = os.pipe()

        def child_fds():
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(a, 3)
            os.dup2(b, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=child_fds,
            close_fds=False,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._lock = threading.Condition()
        self._responses = {}
        self._events = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        buffer = b""
        while True:
            chunk = os.read(self._from_chrome_r, 65536)
            if not chunk:
                break
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                with self._lock:
                    if "id" in message:
                        self._responses[message["id"]] = message
                    else:
                        self._events.append(message)
                    self._lock.notify_all()
        with self._lock:
            self._closed = True
            self._lock.notify_all()

    def send(self, method, params=None, session=None, timeout=60):
        with self._lock:
            self._next_id += 1
            message_id = self._next_id
        message = {"id": message_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome_w, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        with self._lock:
            while message_id not in self._responses:
                left = deadline - time.monotonic()
                if left <= 0 or getattr(self, "_closed", False):
                    raise RuntimeError(f"Chromium did not answer {method} within {timeout} s")
                self._lock.wait(left)
            response = self._responses.pop(message_id)
        if "error" in response:
            raise RuntimeError(f"{method}: {response['error']}")
        return response.get("result", {})

    def take_events(self):
        with self._lock:
            events, self._events = self._events, []
        return events

    def wait_for_event(self, method, session, timeout=30):
        """Waits for `method` on `session`; returns every event seen until then."""
        seen = []
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                while self._events:
                    event = self._events.pop(0)
                    seen.append(event)
                    if event.get("method") == method and event.get("sessionId") == session:
                        return seen
                left = deadline - time.monotonic()
                if left <= 0:
                    raise RuntimeError(f"no {method} within {timeout} s")
                self._lock.wait(left)

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except Exception:  # noqa: BLE001 - it may already be gone
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


class Page:
    """One tab, attached with a flat session."""

    def __init__(self, browser):
        self.browser = browser
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.send(f"{domain}.enable")
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
        )
        browser.take_events()

    def send(self, method, params=None, timeout=60):
        return self.browser.send(method, params, session=self.session, timeout=timeout)

    def open(self, url):
        """Navigates and waits for the load event; returns the page's failures on the way."""
        self.browser.take_events()
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            return [f"navigation failed: {result['errorText']}"], []
        events = self.browser.wait_for_event("Page.loadEventFired", self.session)
        return self._failures(events), events

    def _failures(self, events):
        failures = []
        requests = {}
        for event in events:
            if event.get("sessionId") != self.session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                requests[params["requestId"]] = params["request"]["url"]
            elif method == "Network.responseReceived":
                status = params["response"]["status"]
                if status >= 400:
                    failures.append(f"HTTP {status} for {params['response']['url']}")
            elif method == "Network.loadingFailed" and not params.get("canceled"):
                url = requests.get(params["requestId"], "?")
                failures.append(f"failed to load {url}: {params.get('errorText')}")
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                text = details.get("exception", {}).get("description") or details.get("text")
                failures.append(f"script error: {text}")
        return failures

    def evaluate(self, expression, timeout=60):
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluation failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))


def serve(directory):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            # A browser that drops a connection it no longer needs is no problem of the book.
            if not isinstance(sys.exc_info()[1], ConnectionError):
                super().handle_error(request, client_address)

    handler = functools.partial(Quiet, directory=str(directory))
    server = Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def summary_pages(src):
    """The .html pages that SUMMARY.md lists, in order."""
    text = (src / "SUMMARY.md").read_text()
    pages = []
    for target in re.findall(r"\]\(([^)\s]+\.md)\)", text):
        pages.append(target[: -len(".md")] + ".html")
    return pages


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--book", default=str(ROOT / "book" / "book"))
    parser.add_argument("--src", default=str(ROOT / "book" / "src"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    parser.add_argument("--screenshot-dir", default=str(ROOT / "target" / "book-check"))
    args = parser.parse_args()

    book, src = Path(args.book), Path(args.src)
    if not (book / "index.html").is_file():
        sys.exit(f"{book}/index.html does not exist: build the book first (mdbook build book)")
    if not Path(args.chromium).exists():
        sys.exit(f"no Chromium at {args.chromium}: apt-get install chromium")
    shots = Path(args.screenshot_dir)
    shots.mkdir(parents=True, exist_ok=True)

    server = serve(book)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    profile = tempfile.mkdtemp(prefix="book-check-chromium-")
    browser = Chromium(args.chromium, profile, shots / "chromium.log")
    problems = []
    visited = {}
    external = set()
    other_files = set()
    try:
        page = Page(browser)
        chapters = summary_pages(src)
        queue = ["index.html", *chapters]
        while queue:
            name = queue.pop(0)
            if name in visited:
                continue
            failures, _ = page.open(base + name)
            info = page.evaluate(PAGE_CHECK_JS)
            info["failures"] = failures
            visited[name] = info
            for problem in failures + info["problems"]:
                problems.append(f"{name}: {problem}")
            for link in info["links"]:
                if not link.startswith(base):
                    if link.startswith(("http://", "https://")):
                        external.add(link)
                    continue
                path = urllib.parse.urlsplit(link).path[1:] or "index.html"
                if path.endswith(".html"):
                    queue.append(path)
                else:
                    other_files.add(path)

        # Every internal link: the page exists, and so does the element its #fragment names.
        links_checked = 0
        for name, info in visited.items():
            for link in info["links"]:
                if not link.startswith(base):
                    continue
                links_checked += 1
                parts = urllib.parse.urlsplit(link)
                path = parts.path[1:] or "index.html"
                if path.endswith(".html"):
                    target = visited.get(path)
                    if target is None:
                        problems.append(f"{name}: a link to a page that was not visited: {link}")
                    elif parts.fragment and urllib.parse.unquote(parts.fragment) not in target["ids"]:
                        problems.append(f"{name}: a link to a missing #{parts.fragment} in {path}")
        for path in sorted(other_files):
            try:
                urllib.request.urlopen(base + urllib.parse.quote(path), timeout=10).close()
            except urllib.error.URLError as e:
                problems.append(f"a link to a file that does not load: {path} ({e})")
        for chapter in chapters:
            if chapter not in visited:
                problems.append(f"{chapter} is in SUMMARY.md but was never reached")

        # Every chart under book/src/images/ is on some page, and loaded there.
        shown = {
            urllib.parse.urlsplit(img["src"]).path[1:]
            for info in visited.values()
            for img in info["images"]
            if img["ok"]
        }
        charts = sorted(p.relative_to(src).as_posix() for p in (src / "images").glob("**/*.svg")) \
            if (src / "images").is_dir() else []
        for chart in charts:
            if chart not in shown:
                problems.append(f"the chart {chart} is on no page (or did not load)")

        # The search index loads, and a search finds something.
        failures, _ = page.open(base + "index.html?search=" + SEARCH_WORD)
        problems.extend(f"search: {f}" for f in failures)
        hits = page.evaluate(
            """
            (async () => {
              for (let i = 0; i < 100; i++) {
                const n = document.querySelectorAll('#mdbook-searchresults li').length;
                if (n > 0 && document.getElementById('mdbook-search-index')) return n;
                await new Promise(r => setTimeout(r, 100));
              }
              return 0;
            })()
            """
        )
        if not hits:
            problems.append(f"search: the index did not load, or '{SEARCH_WORD}' found nothing")

        # Evidence: the concurrency chapter, scrolled to its chart when it has one.
        screenshot = shots / SCREENSHOT_PAGE.replace(".html", ".png")
        page.open(base + SCREENSHOT_PAGE)
        chart = page.evaluate(
            """
            (() => {
              const img = document.querySelector('main img[src$=".svg"], main img');
              if (!img) return null;
              img.scrollIntoView({block: 'center'});
              return img.getAttribute('src');
            })()
            """
        )
        time.sleep(0.3)
        page.screenshot(screenshot)
    finally:
        browser.close()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)

    code_blocks = sum(i["codeBlocks"] for i in visited.values())
    images = sum(len(i["images"]) for i in visited.values())
    print(f"browser check: {browser_version(args.chromium)}, book served at {base}")
    print(f"  pages visited: {len(visited)} ({len(chapters)} in SUMMARY.md)")
    print(f"  code blocks: {code_blocks}, images: {images}, charts under images/: {len(charts)}")
    print(f"  internal links checked: {links_checked}; external links not followed: {len(external)}")
    print(f"  search for '{SEARCH_WORD}': {hits} results")
    print(f"  screenshot: {screenshot.relative_to(ROOT) if screenshot.is_relative_to(ROOT) else screenshot}"
          + (f" (scrolled to {chart})" if chart else f" ({SCREENSHOT_PAGE} has no image yet)"))
    problems = list(dict.fromkeys(problems))
    if problems:
        print(f"\n{len(problems)} problem(s):")
        for problem in problems:
            print(f"  - {problem}")
        sys.exit(1)
    print("browser check: OK")


def browser_version(binary):
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=20)
        return out.stdout.strip() or "chromium"
    except Exception:  # noqa: BLE001
        return "chromium"


if __name__ == "__main__":
    main()
