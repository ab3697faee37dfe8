"""A real headless Chromium for tests, driven over the DevTools protocol.

`open_page(path)` starts Debian's `chromium` with a fresh profile, loads a local file, and
returns what the page did: console messages, uncaught exceptions and log entries (a
resource that failed to load is one), the charts it rendered with their sizes, and a PNG
screenshot of the whole page. `png_pixels` decodes a screenshot with the standard library,
so a test can tell a blank page from a drawn one.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--remote-allow-origins=*", "--hide-scrollbars")
CHARTS = """JSON.stringify({
  charts: [...document.querySelectorAll('svg[data-chart]')].map(s => {
    const r = s.getBoundingClientRect();
    return {id: s.dataset.chart, width: r.width, height: r.height,
            shapes: s.querySelectorAll('rect,circle,line,path').length};
  }),
  sections: [...document.querySelectorAll('section[id]')].map(s => {
    const r = s.getBoundingClientRect();
    return {id: s.id, y: r.top + window.scrollY, height: r.height};
  }),
  height: document.documentElement.scrollHeight,
  width: document.documentElement.scrollWidth,
  external: [...document.querySelectorAll('[src],link[href]')].map(e => e.src || e.href)
})"""


def chromium() -> str | None:
    """Return the path of the chromium binary, or None when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class PageRun:
    """What a page did in the browser."""

    console: list[dict[str, Any]]      # Runtime.consoleAPICalled params
    exceptions: list[dict[str, Any]]   # Runtime.exceptionThrown params
    log: list[dict[str, Any]]          # Log.entryAdded entries
    layout: dict[str, Any]             # the CHARTS expression's result
    screenshot: bytes                  # PNG of the whole page
    thumbnail: bytes                   # the same at a fifth of the size, to count pixels
    section_shots: dict[str, bytes]    # PNG of each <section id=…>

    @property
    def errors(self) -> list[str]:
        """Return every console error, uncaught exception and error log entry, as text."""
        found = [f"console.{c['type']}: {c.get('args')}" for c in self.console
                 if c.get("type") in ("error", "assert")]
        found += [f"exception: {e.get('exceptionDetails')}" for e in self.exceptions]
        found += [f"log {e.get('source')}: {e.get('text')} {e.get('url', '')}" for e in self.log
                  if e.get("level") == "error"]
        return found


class _DevTools:
    """One page target's DevTools connection: commands answered by id, events collected."""

    def __init__(self, url: str) -> None:
        import websocket  # websocket-client, a test dependency

        self.socket = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.events: list[dict[str, Any]] = []
        self.next_id = 0

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command and return its result, collecting the events that come first."""
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self.events.append(message)

    def wait_for(self, method: str, seconds: float = 30) -> None:
        """Wait until an event of `method` has arrived."""
        deadline = time.monotonic() + seconds
        while not any(e.get("method") == method for e in self.events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {method} within {seconds} s")
            self.events.append(json.loads(self.socket.recv()))

    def close(self) -> None:
        """Close the connection."""
        self.socket.close()


@contextmanager
def _browser(binary: str) -> Iterator[str]:
    """Start chromium with a fresh profile; yield its DevTools HTTP endpoint.

    Chromium picks a free port and writes it to DevToolsActivePort in the profile folder.
    """
    profile = Path(tempfile.mkdtemp(prefix="spotcheck-chromium-"))
    process = subprocess.Popen(
        [binary, *FLAGS, "--remote-debugging-port=0", f"--user-data-dir={profile}",
         "--window-size=1280,1000", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        port_file = profile / "DevToolsActivePort"
        while not (port_file.exists() and port_file.read_text().strip()):
            if process.poll() is not None:
                raise RuntimeError(f"chromium exited ({process.returncode}) before it "
                                   "opened its DevTools port")
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not open its DevTools port in 60 s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port_file.read_text().split()[0]}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(path: Path, binary: str | None = None) -> PageRun:
    """Load a local file in headless Chromium; return its messages, charts and screenshots."""
    binary = binary or chromium()
    if binary is None:
        raise FileNotFoundError("chromium is not installed (Debian: apt-get install chromium)")
    with _browser(binary) as endpoint:
        with urllib.request.urlopen(f"{endpoint}/json/list") as answer:
            targets = json.load(answer)
        page = next(t for t in targets if t.get("type") == "page")
        tools = _DevTools(page["webSocketDebuggerUrl"])
        try:
            for domain in ("Page", "Runtime", "Log"):
                tools.call(f"{domain}.enable")
            tools.call("Page.navigate", url=path.resolve().as_uri())
            tools.wait_for("Page.loadEventFired")
            layout = json.loads(tools.call("Runtime.evaluate", expression=CHARTS,
                                           returnByValue=True)["result"]["value"])
            whole = {"x": 0, "y": 0, "width": layout["width"], "height": layout["height"],
                     "scale": 1}
            shot = tools.call("Page.captureScreenshot", format="png", clip=whole,
                              captureBeyondViewport=True)
            small = tools.call("Page.captureScreenshot", format="png",
                               clip={**whole, "scale": 0.2}, captureBeyondViewport=True)
            sections = {s["id"]: base64.b64decode(tools.call(
                "Page.captureScreenshot", format="png", captureBeyondViewport=True,
                clip={"x": 0, "y": s["y"], "width": layout["width"], "height": s["height"],
                      "scale": 1})["data"]) for s in layout["sections"]}
        finally:
            tools.close()
    events = tools.events
    return PageRun([e["params"] for e in events if e.get("method") == "Runtime.consoleAPICalled"],
                   [e["params"] for e in events if e.get("method") == "Runtime.exceptionThrown"],
                   [e["params"]["entry"] for e in events if e.get("method") == "Log.entryAdded"],
                   layout, base64.b64decode(shot["data"]), base64.b64decode(small["data"]),
                   sections)


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Return the width, height and rows (RGB(A) bytes) of an 8-bit, non-interlaced PNG."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    at, chunks, header = 8, [], b""
    while at < len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        at += 12 + length
    width, height = int.from_bytes(header[:4], "big"), int.from_bytes(header[4:8], "big")
    depth, colour, interlace = header[8], header[9], header[12]
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour})")
    size = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b"".join(chunks)), width * size
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        method = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - size] if x >= size else 0
            b = previous[x]
            c = previous[x - size] if x >= size else 0
            if method == 1:
                line[x] = (line[x] + a) & 0xFF
            elif method == 2:
                line[x] = (line[x] + b) & 0xFF
            elif method == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif method == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def keep_artefact(name: str, data: bytes, folder: Path) -> Path:
    """Write a test artefact (a screenshot) where CI keeps it: $SPOTCHECK_ARTEFACTS or folder."""
    target = Path(os.environ.get("SPOTCHECK_ARTEFACTS") or folder)
    target.mkdir(parents=True, exist_ok=True)
    (target / name).write_bytes(data)
    return target / name
