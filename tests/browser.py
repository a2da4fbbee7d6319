"""A page in headless Chromium over the DevTools protocol (websocket-client): open a file, wait on
its own promise, read every console error and uncaught exception, evaluate, screenshot.

Chromium is started with ``--remote-debugging-port=0`` and says on stderr which port it took;
the test waits on that line and on protocol events, never on a sleep.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import subprocess
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import websocket


class Page:
    """One Chromium tab on ``about:blank``; ``errors`` collects what the page logged as errors."""

    def __init__(self, chromium: str, *, width: int = 1400, height: int = 1000) -> None:
        self._profile = tempfile.TemporaryDirectory()
        self._process = subprocess.Popen(
            [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             f"--user-data-dir={self._profile.name}", f"--window-size={width},{height}",
             "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self._process.stderr is not None
        port = None
        for line in self._process.stderr:  # blocks until Chromium says where it listens
            found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if found:
                port = int(found[1])
                break
        if port is None:
            raise RuntimeError(f"Chromium exited ({self._process.wait()}) before listening")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30) as answer:
            pages = [t for t in json.load(answer) if t["type"] == "page"]
        # No Origin header: Chromium (111 on) refuses a DevTools socket from an origin it was not
        # told to allow, and one without an origin is a local client like this one.
        self._socket = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], timeout=60, suppress_origin=True
        )
        self._ids = itertools.count(1)
        self.errors: list[str] = []
        self._events: list[dict[str, Any]] = []
        for method in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.call(method)
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer, noting every event met on the way."""
        ident = next(self._ids)
        self._socket.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self._note(message)

    def _note(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.errors.append(details.get("exception", {}).get("description") or details["text"])
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            self.errors.append(" ".join(str(a.get("value", a.get("description"))) for a in
                                        params["args"]))  # fmt: skip
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            self.errors.append(params["entry"]["text"])
        elif method is not None:
            self._events.append(message)

    def wait_for(self, method: str) -> dict[str, Any]:
        """The next event ``method`` (one seen already counts)."""
        for index, event in enumerate(self._events):
            if event["method"] == method:
                del self._events[index]
                return event
        while True:
            message = json.loads(self._socket.recv())
            self._note(message)
            if message.get("method") == method:
                self._events.pop()
                return message

    def open(self, path: Path) -> None:
        """Navigate to a local file and wait for its load event."""
        self.call("Page.navigate", url=path.resolve().as_uri())
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression; a promise is awaited."""
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True,
                           returnByValue=True)  # fmt: skip
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"]["text"])
        return result["result"].get("value")

    def screenshot(self, path: Path, *, full_page: bool = True) -> Path:
        """A PNG of the page (the whole scroll height with ``full_page``)."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            height = self.evaluate("document.documentElement.scrollHeight")
            width = self.evaluate("document.documentElement.scrollWidth")
            params["clip"] = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        """Close the socket and end the Chromium this page started."""
        try:
            self._socket.close()
        finally:
            self._process.terminate()
            self._process.wait(timeout=30)
            if self._process.stderr is not None:
                self._process.stderr.close()
            self._profile.cleanup()

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
