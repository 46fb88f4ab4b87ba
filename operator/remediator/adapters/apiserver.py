"""The API server as the HTTP API sees it: TokenReview, SubjectAccessReview, and requests made *as the caller*.

A plain urllib3 client over the kubeconfig's (or in-cluster) connection settings (adapters/connection.py):
a caller with several groups needs one ``Impersonate-Group`` header per group, which a header dict cannot
carry. Every call has a bounded timeout; a connection failure, a timeout or a 5xx of the API server
raises `Unavailable` (the HTTP API answers 503), any other error status raises `ApiError` with the API
server's own status, reason and message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import urllib3

from remediator.adapters import connection
from remediator.adapters.connection import Connection
from remediator.api import GROUP, VERSION


class Unavailable(Exception):
    """The API server could not be reached or answered 5xx / timed out: nothing is known to be written."""


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"{status} {reason}: {message}")
        self.status, self.reason, self.message = status, reason, message


@dataclass(frozen=True)
class Identity:
    """Who the API server says a bearer token belongs to (TokenReview status.user)."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Access:
    allowed: bool
    reason: str = ""


def load_configuration(kubeconfig: str | None = None, context: str | None = None) -> Connection:
    """In-cluster when no kubeconfig is named and we run in a Pod, else the (named or default) kubeconfig."""
    return connection.load(kubeconfig, context)


class ApiServer:
    def __init__(self, cfg: Connection, *, timeout: float = 5.0, connect_timeout: float = 2.0, pool: int = 32) -> None:
        self.cfg = cfg
        self.base = cfg.server.rstrip("/")
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=timeout)
        self._http = cfg.pool(maxsize=pool)

    def close(self) -> None:
        self._http.clear()

    # -- transport ------------------------------------------------------------------------------------------
    def _own_auth(self) -> str | None:
        try:
            return self.cfg.authorization()  # a rotated in-cluster token is re-read, an exec credential renewed
        except connection.ConfigError as err:
            raise Unavailable(f"no credentials for the Kubernetes API server: {err}") from err

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        as_user: Identity | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        headers = urllib3.HTTPHeaderDict({"Accept": "application/json"})
        auth = self._own_auth()
        if auth:
            headers["Authorization"] = auth
        if as_user is not None:
            # Impersonation: the API server authorizes and admits this request as the caller, never as us.
            headers["Impersonate-User"] = as_user.username
            for group in as_user.groups:
                headers.add("Impersonate-Group", group)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        url = self.base + path
        try:
            resp = self._http.request(method, url, body=data, headers=headers, timeout=self.timeout, redirect=False)
        except urllib3.exceptions.HTTPError as err:  # connection refused, TLS, timeouts
            raise Unavailable(f"the Kubernetes API server did not answer: {type(err).__name__}") from err
        try:
            payload = json.loads(resp.data) if resp.data else {}
        except ValueError:
            payload = {}
        if resp.status >= 500 or resp.status == 429:
            raise Unavailable(f"the Kubernetes API server answered {resp.status}: {payload.get('message', '')}")
        if resp.status >= 400:
            raise ApiError(resp.status, str(payload.get("reason") or ""), str(payload.get("message") or ""))
        return dict(payload) if isinstance(payload, dict) else {}

    # -- authentication and authorization ------------------------------------------------------------------
    def version(self) -> dict[str, Any]:
        return self.request("GET", "/version")

    def token_review(self, token: str) -> Identity | None:
        """The token's user, or None when the API server does not authenticate it."""
        body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": {"token": token}}
        status = self.request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", body=body).get("status", {})
        if not status.get("authenticated"):
            return None
        user = status.get("user") or {}
        name = str(user.get("username") or "")
        if not name:
            return None
        extra = {str(k): tuple(str(x) for x in (v or ())) for k, v in (user.get("extra") or {}).items()}
        return Identity(name, str(user.get("uid") or ""), tuple(str(g) for g in user.get("groups") or ()), extra)

    def access_review(
        self,
        who: Identity,
        verb: str,
        resource: str,
        namespace: str = "",
        name: str = "",
        group: str = GROUP,
        subresource: str = "",
    ) -> Access:
        attrs: dict[str, str] = {"verb": verb, "group": group, "resource": resource}
        if namespace:
            attrs["namespace"] = namespace
        if name:
            attrs["name"] = name
        if subresource:
            attrs["subresource"] = subresource
        spec: dict[str, Any] = {"user": who.username, "groups": list(who.groups), "resourceAttributes": attrs}
        if who.uid:
            spec["uid"] = who.uid
        if who.extra:
            spec["extra"] = {k: list(v) for k, v in who.extra.items()}
        body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}
        status = self.request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body=body)["status"]
        return Access(bool(status.get("allowed")) and not status.get("denied"), str(status.get("reason") or ""))

    # -- our custom resources, as the caller ---------------------------------------------------------------
    @staticmethod
    def cr_path(plural: str, namespace: str | None = None, name: str | None = None) -> str:
        path = f"/apis/{GROUP}/{VERSION}"
        if namespace:
            path += f"/namespaces/{quote(namespace, safe='')}"
        path += f"/{plural}"
        if name:
            path += f"/{quote(name, safe='')}"
        return path

    def create(self, who: Identity, plural: str, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", self.cr_path(plural, namespace), body=body, as_user=who)

    def get(self, who: Identity, plural: str, namespace: str, name: str) -> dict[str, Any]:
        return self.request("GET", self.cr_path(plural, namespace, name), as_user=who)

    def list(self, who: Identity, plural: str, namespace: str | None, limit: int = 500) -> dict[str, Any]:
        return self.request("GET", self.cr_path(plural, namespace) + f"?limit={int(limit)}", as_user=who)

    def merge_patch(
        self, who: Identity, plural: str, namespace: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        return self.request(
            "PATCH",
            self.cr_path(plural, namespace, name),
            body=body,
            as_user=who,
            content_type="application/merge-patch+json",
        )
