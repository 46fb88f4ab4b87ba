"""The operator's requests to the API server: JSON over one urllib3 pool, each one counted, errors as ApiException.

Requests are paths as the API server names them (``/api/v1/namespaces/shop/pods/web-1``), so what the code
sends is what the audit log shows. Every request is counted in remediator_kube_requests_total by the verb
and resource the audit log uses. An answer of 400 or more raises `ApiException` (status, reason, body); a
connection failure or a timeout raises urllib3's HTTPError, which callers treat as "the API server is not
answering". A 401 renews the credentials once (a rotated token, an expired exec credential) and resends.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import urllib3

from remediator import metrics
from remediator.adapters.connection import Connection

JSON = "application/json"
QueryParams = Sequence[tuple[str, Any]]


class ApiException(Exception):
    """The API server answered with an error status. `body` is its Status object's JSON text, when any."""

    def __init__(self, status: int = 0, reason: str = "", body: str = "", headers: Any = None) -> None:
        self.status = status
        self.reason = reason
        self.body = body
        self.headers = headers
        super().__init__(f"({status}) {reason}" + (f": {body[:300]}" if body else ""))

    @property
    def message(self) -> str:
        """The Status object's message (what the API server says went wrong), else the reason."""
        try:
            return str(json.loads(self.body).get("message") or self.reason)
        except (ValueError, AttributeError):
            return self.reason


_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def request_labels(method: str, url: str, query: Iterable[tuple[str, Any]] | None = None) -> tuple[str, str]:
    """(verb, resource) of a request as the API server's audit log names them: a GET of a collection is a
    list (a watch with watch=true), of one object a get; a subresource is "<resource>/<sub>" (pods/log)."""
    path = urlsplit(url).path.strip("/").split("/")
    # /api/v1/... or /apis/<group>/<version>/...
    rest = path[2:] if path[:1] == ["api"] else path[3:] if path[:1] == ["apis"] else path
    if len(rest) >= 3 and rest[0] == "namespaces":
        rest = rest[2:]
    resource = rest[0] if rest else "unknown"
    if len(rest) >= 3:
        resource = f"{resource}/{rest[2]}"
    if method != "GET":
        verb = _VERBS.get(method, method.lower())
    elif len(rest) >= 2:
        verb = "get"
    else:
        watching = any(k == "watch" and str(v).lower() in ("true", "1") for k, v in (query or ()))
        verb = "watch" if watching else "list"
    return verb, resource


def path_of(
    group: str, version: str, plural: str, namespace: str | None = None, name: str | None = None, sub: str = ""
) -> str:
    """``/api/v1/...`` for the core group (""), ``/apis/<group>/<version>/...`` otherwise; names are quoted."""
    path = f"/api/{version}" if not group else f"/apis/{group}/{version}"
    if namespace:
        path += f"/namespaces/{quote(namespace, safe='')}"
    path += f"/{plural}"
    if name:
        path += f"/{quote(name, safe='')}"
    if sub:
        path += f"/{sub}"
    return path


class KubeApi:
    def __init__(self, connection: Connection, *, timeout: float = 30.0, pool: int = 16) -> None:
        self.connection = connection
        self.host = connection.server
        self.timeout = timeout
        self._maxsize = pool
        self._lock = threading.Lock()
        self._http, self._pool_cert = self._new_pool()

    def _new_pool(self) -> tuple[urllib3.PoolManager, str | None]:
        return self.connection.pool(maxsize=self._maxsize), self.connection.credentials().cert_file

    def close(self) -> None:
        self._http.clear()

    def _headers(self, content_type: str | None, renew: bool) -> dict[str, str]:
        headers = {"Accept": JSON, "User-Agent": "kube-remediator"}
        auth = self.connection.authorization(renew=renew)
        if auth:
            headers["Authorization"] = auth
        if content_type:
            headers["Content-Type"] = content_type
        with self._lock:  # an exec plugin's renewed client certificate needs a pool that presents it
            if self.connection.credentials().cert_file != self._pool_cert:
                self._http.clear()
                self._http, self._pool_cert = self._new_pool()
        return headers

    def request(
        self,
        method: str,
        path: str,
        *,
        query: QueryParams = (),
        body: Any = None,
        content_type: str = JSON,
        timeout: float | None = None,
    ) -> urllib3.BaseHTTPResponse:
        """Send one request; the answer when its status is below 400, else ApiException."""
        url = self.host + path + (f"?{urlencode([(k, _query_value(v)) for k, v in query])}" if query else "")
        verb, resource = request_labels(method, url, query)
        data = json.dumps(body).encode() if body is not None else None
        for renew in (False, True):
            metrics.KUBE_REQUESTS.labels(verb=verb, resource=resource).inc()
            resp = self._http.request(
                method,
                url,
                body=data,
                headers=self._headers(content_type if data is not None else None, renew),
                timeout=urllib3.Timeout(connect=min(5.0, timeout or self.timeout), read=timeout or self.timeout),
                redirect=False,
                preload_content=True,
            )
            if resp.status != 401 or renew:
                break
        if resp.status >= 400:
            raise ApiException(resp.status, resp.reason or "", resp.data.decode(errors="replace"), resp.headers)
        return resp

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        resp = self.request(method, path, **kwargs)
        return json.loads(resp.data) if resp.data else {}


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
