"""A local HTTP server answering fixed JSON per (method, path), recording what each request sent: enough to
test the operator's own API client (adapters/kubeapi.py) without a control plane."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

Answer = tuple[int, Any]
Route = Answer | Callable[[dict[str, str]], Answer]


class FakeApiServer:
    def __init__(self, routes: dict[tuple[str, str], Route]) -> None:
        self.routes = routes
        self.headers: list[dict[str, str]] = []
        self.requests: list[tuple[str, str, bytes]] = []  # method, path with query, body
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = dict(self.headers.items())
                owner.headers.append(headers)
                owner.requests.append((self.command, self.path, body))
                route = owner.routes.get((self.command, urlsplit(self.path).path))
                if route is None:
                    status, payload = 404, {"kind": "Status", "reason": "NotFound", "message": "not here"}
                else:
                    status, payload = route(headers) if callable(route) else route
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeApiServer:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
