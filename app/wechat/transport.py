"""A ``requests`` adapter that hands HTTP calls to a WSGI app in this process.

The embedded app mounts the WeChat mock under its own URL. Calling it over a socket from
inside a request would tie up a second worker (and deadlock a single sync worker), so the
client's session routes that URL prefix straight into the mock app. Timeouts still apply:
the call runs on a helper thread and a slow answer raises ``ReadTimeout`` as on the wire.
"""

from __future__ import annotations

import threading
from io import BytesIO
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.test import EnvironBuilder, run_wsgi_app


class WSGIAdapter(BaseAdapter):
    """Serve requests under ``prefix_url`` from ``wsgi_app`` without a socket."""

    def __init__(self, wsgi_app, prefix_url: str) -> None:
        super().__init__()
        self.wsgi_app = wsgi_app
        self.prefix_path = urlsplit(prefix_url).path.rstrip("/")

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        parts = urlsplit(request.url)
        path = parts.path[len(self.prefix_path) :] if parts.path.startswith(self.prefix_path) else parts.path
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        environ = EnvironBuilder(
            path=path or "/",
            base_url=f"{parts.scheme}://{parts.netloc}{self.prefix_path}",
            query_string=parts.query,
            method=request.method,
            headers=dict(request.headers),
            data=body,
        ).get_environ()

        outcome: dict = {}

        def call() -> None:
            try:
                app_iter, status, headers = run_wsgi_app(self.wsgi_app, environ, buffered=True)
                outcome["answer"] = (b"".join(app_iter), status, headers)
            except Exception as exc:  # handed back to the caller's thread
                outcome["error"] = exc

        read_timeout = timeout[1] if isinstance(timeout, tuple) else timeout
        worker = threading.Thread(target=call, daemon=True, name="wechat-mock-call")
        worker.start()
        worker.join(read_timeout)
        if worker.is_alive():
            raise requests.exceptions.ReadTimeout(f"in-process call to {path} timed out", request=request)
        if "error" in outcome:
            raise requests.exceptions.ConnectionError(str(outcome["error"]), request=request)
        content, status, headers = outcome["answer"]

        response = requests.Response()
        response.status_code = int(status.split(" ", 1)[0])
        response.reason = status.split(" ", 1)[1] if " " in status else ""
        response.headers = CaseInsensitiveDict(headers.to_wsgi_list())
        response.raw = BytesIO(content)
        response._content = content
        response.encoding = requests.utils.get_encoding_from_headers(response.headers)
        response.url = request.url
        response.request = request
        response.connection = self
        return response

    def close(self) -> None:
        pass
