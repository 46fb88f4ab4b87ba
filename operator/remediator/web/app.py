"""The HTTP API's routes. Every call is authenticated by the API server (TokenReview of the bearer token),
authorized by it (a SubjectAccessReview for the equivalent Kubernetes verb in the target namespace), and
every write is made *as the caller* (impersonation), so RBAC and the admission policies judge the caller
exactly as they would judge the same change made with kubectl. See docs/api.md for the matrix.
"""

import hashlib
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from remediator import api
from remediator.adapters.apiserver import ApiError, ApiServer, Identity, Unavailable
from remediator.domain import alertmanager, clock, incident_trace, trace_context
from remediator.web import metrics
from remediator.web.auth import RateLimiter, TokenCache
from remediator.web.models import (
    AlertmanagerIn,
    AlertmanagerOut,
    AlertOutcome,
    Classification,
    DecisionIn,
    ErrorIn,
    ErrorOut,
    FeedbackIn,
    FeedbackOut,
    PredictIn,
    Prediction,
    PredictOut,
    Problem,
    RemediationList,
    RemediationOut,
    RemediationSummary,
)
from remediator_model.predict import ErrorInput

log = logging.getLogger(__name__)
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]
]
NAME_OK = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


class Model(Protocol):
    version: str

    def predict_batch(self, events: list[ErrorInput]) -> list[Any]: ...


@dataclass
class Config:
    max_body_bytes: int = 512 * 1024
    wait_seconds: float = 2.0  # how long POST /errors and /feedback wait for the operator, at most
    poll_seconds: float = 0.2
    rate: float = 20.0
    burst: int = 40
    token_ttl: float = 10.0
    token_cache_size: int = 4096
    denied_groups: tuple[str, ...] = ("system:masters",)


@dataclass
class Deps:
    kube: ApiServer
    model: Model | None
    config: Config = field(default_factory=Config)
    tokens: TokenCache = field(init=False)
    limiter: RateLimiter = field(init=False)
    _ready: tuple[float, bool] = (0.0, False)
    _ready_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.tokens = TokenCache(self.config.token_ttl, self.config.token_cache_size)
        self.limiter = RateLimiter(self.config.rate, self.config.burst)


class HTTPProblem(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": text}
    for code, text in {
        401: "no bearer token, or one the API server does not authenticate",
        403: "the caller may not do this in Kubernetes (RBAC or an admission policy)",
        413: "request body too large",
        422: "invalid request: the fields at fault are named",
        429: "rate limit of this caller exceeded (see Retry-After)",
        503: "the Kubernetes API server is unreachable, slow or failing; nothing was written",
    }.items()
}


def _errors(*extra: int) -> dict[int | str, dict[str, Any]]:
    out = dict(ERRORS)
    for code in extra:
        out[code] = {
            "model": Problem,
            "description": {404: "not found", 409: "conflict", 400: "bad request"}.get(code, "error"),
        }
    return out


# -- middleware (pure ASGI) -----------------------------------------------------------------------------------
class BodyLimit:
    """Refuse a request body over `limit` bytes with 413 before any of it reaches a route."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        too_big = False
        if declared is not None:
            try:
                too_big = int(declared) > self.limit
            except ValueError:
                too_big = False
        chunks: list[bytes] = []
        size = 0
        if not too_big:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.limit:
                    too_big = True
                    break
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
        if too_big:
            response = JSONResponse(
                {"message": f"request body larger than {self.limit} bytes"},
                status_code=413,
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return dict(await receive())

        await self.app(scope, replay, send)


class Metrics:
    """Count every answer and time it, by route template (bounded labels), method and status."""

    def __init__(self, app: ASGIApp, routes: dict[Any, str]) -> None:
        self.app, self.routes = app, routes

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def capture(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            route = self.routes.get(scope.get("endpoint"), "unmatched")
            method = str(scope.get("method", ""))
            metrics.REQUESTS.labels(route, method, str(status)).inc()
            metrics.LATENCY.labels(route, method).observe(time.perf_counter() - start)


# -- the application ------------------------------------------------------------------------------------------
def create_app(deps: Deps) -> FastAPI:
    app = FastAPI(
        title="kube-remediator API",
        version="v1",
        description=(
            "Report errors, classify them, judge and approve Remediations. Authenticated with a Kubernetes bearer "
            "token; authorized by the cluster's RBAC and admission policies as the caller. See docs/api.md."
        ),
    )
    bearer = HTTPBearer(auto_error=False, description="a Kubernetes bearer token (e.g. `kubectl create token`)")
    kube, cfg = deps.kube, deps.config

    # ---- errors ----
    @app.exception_handler(HTTPProblem)
    async def _problem(_: Request, exc: HTTPProblem) -> JSONResponse:
        return JSONResponse({"message": exc.message}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
            for e in exc.errors()
        ][:20]
        first = detail[0] if detail else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"]) or "body"
        return JSONResponse({"message": f"{where}: {first['msg']}", "detail": detail}, status_code=422)

    @app.exception_handler(Unavailable)
    async def _unavailable(_: Request, exc: Unavailable) -> JSONResponse:
        log.warning("API server unavailable: %s", exc)
        return JSONResponse({"message": str(exc)}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        if exc.status == 403 and "cannot impersonate" in exc.message:
            log.error("this service may not impersonate the caller: %s", exc.message)
            return JSONResponse(
                {"message": "the API service is not allowed to act as you (impersonate): see docs/api.md"},
                status_code=503,
                headers={"Retry-After": "30"},
            )
        if exc.status == 401:  # our own credentials, not the caller's
            log.error("the API server refused this service's credentials: %s", exc.message)
            return JSONResponse(
                {"message": "the API service's own credentials were refused"},
                status_code=503,
                headers={"Retry-After": "30"},
            )
        status = exc.status if exc.status in (400, 403, 404, 409, 422) else 400
        return JSONResponse({"message": exc.message or exc.reason}, status_code=status)

    # ---- who calls ----
    def caller(request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Identity:
        challenge = {"WWW-Authenticate": 'Bearer realm="kube-remediator"'}
        if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
            raise HTTPProblem(401, "a bearer token is required (Authorization: Bearer <token>)", challenge)
        token = creds.credentials
        if len(token) > 16384:
            raise HTTPProblem(401, "the bearer token is not valid", challenge)
        found, who = deps.tokens.get(token)
        metrics.TOKEN_CACHE.labels("hit" if found else "miss").inc()
        if not found:
            # A TokenReview per unknown token: bounded per client address too, so a flood of made-up tokens
            # costs the API server at most the same rate as one caller's requests.
            source = request.client.host if request.client else "unknown"
            allowed, wait = deps.limiter.allow(f"tokenreview:{source}")
            if not allowed:
                metrics.RATE_LIMITED.inc()
                raise HTTPProblem(
                    429, "too many new tokens from this address", {"Retry-After": str(max(1, round(wait)))}
                )
            with metrics.AUTH_SECONDS.labels("tokenreview").time():
                who = _ours(lambda: kube.token_review(token), "review tokens (create tokenreviews)")
            deps.tokens.put(token, who)
        if who is None:
            raise HTTPProblem(401, "the bearer token is not valid for this cluster", challenge)
        denied = set(who.groups) & set(cfg.denied_groups)
        if denied:
            raise HTTPProblem(403, f"members of {sorted(denied)} may not use the API; use kubectl")
        allowed, wait = deps.limiter.allow(f"user:{who.username}")
        if not allowed:
            metrics.RATE_LIMITED.inc()
            raise HTTPProblem(429, "too many requests from this caller", {"Retry-After": str(max(1, round(wait)))})
        request.state.user = who.username
        return who

    Caller = Annotated[Identity, Depends(caller)]

    def authorize(who: Identity, verb: str, plural: str, namespace: str = "", name: str = "") -> None:
        with metrics.AUTH_SECONDS.labels("subjectaccessreview").time():
            access = _ours(
                lambda: kube.access_review(who, verb, plural, namespace, name),
                "review access (create subjectaccessreviews)",
            )
        if not access.allowed:
            where = f"in namespace {namespace}" if namespace else "cluster-wide"
            obj = f"{plural}.{api.GROUP}" + (f" {name!r}" if name else "")
            raise HTTPProblem(403, f"{who.username} may not {verb} {obj} {where}")

    def wait_for(
        get: Callable[[], dict[str, Any] | None], ready: Callable[[dict[str, Any]], bool], seconds: float
    ) -> dict[str, Any] | None:
        deadline = time.monotonic() + max(0.0, seconds)
        last = None
        while True:
            try:
                last = get()
            except (ApiError, Unavailable):  # the object exists; reading it back is a courtesy
                return last
            if last is not None and ready(last):
                return last
            if time.monotonic() >= deadline:
                return last
            time.sleep(cfg.poll_seconds)

    # ---- probes and metrics ----
    @app.get("/healthz", tags=["probes"], response_class=PlainTextResponse)
    def healthz() -> str:
        return "ok"

    @app.get(
        "/readyz", tags=["probes"], response_class=PlainTextResponse, responses={503: {"description": "not ready"}}
    )
    def readyz() -> Response:
        if deps.model is None:
            return PlainTextResponse("model not loaded", status_code=503)
        with deps._ready_lock:
            at, ok = deps._ready
            if time.monotonic() - at > 2.0:
                try:
                    kube.version()
                    ok = True
                except (Unavailable, ApiError) as err:
                    log.warning("not ready: %s", err)
                    ok = False
                deps._ready = (time.monotonic(), ok)
        return PlainTextResponse("ok" if ok else "API server unreachable", status_code=200 if ok else 503)

    @app.get("/metrics", tags=["probes"], response_class=PlainTextResponse)
    def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    # ---- classification only ----
    @app.post(
        "/predict", response_model=PredictOut, response_model_exclude_none=True, responses=_errors(), tags=["classify"]
    )
    def predict(body: PredictIn, who: Caller) -> PredictOut:
        """Classify one error (its fields inline) or a batch (`events`, at most 32); creates nothing.
        Needs `create errorevents` in `namespace`: whoever may report errors there may ask what they are."""
        authorize(who, "create", api.ERROREVENTS, body.namespace)
        if deps.model is None:
            raise HTTPProblem(503, "the model is not loaded", {"Retry-After": "5"})
        inputs = [
            ErrorInput(
                reason=e.reason,
                exit_code=e.exitCode,
                message=e.message,
                logs="\n".join(p for p in (e.stackTrace, e.logs) if p),
                source="api",
            )
            for e in body.items()
        ]
        out = [_prediction(p) for p in deps.model.predict_batch(inputs)]
        return PredictOut(predictions=out) if body.events is not None else PredictOut(prediction=out[0])

    # ---- errors in ----
    @app.post(
        "/errors",
        status_code=201,
        response_model=ErrorOut,
        response_model_exclude_none=True,
        responses={
            **_errors(409),
            202: {"model": ErrorOut, "description": "created, not classified yet: poll Location"},
        },
        tags=["errors"],
    )
    def report_error(
        body: ErrorIn,
        response: Response,
        who: Caller,
        wait: Annotated[
            float | None, Query(ge=0, le=10, description="seconds to wait for the classification (default 2)")
        ] = None,
        traceparent: Annotated[
            str | None,
            Header(description="W3C traceparent: the incident's trace joins it (an invalid one is ignored)"),
        ] = None,
    ) -> ErrorOut:
        """Report an error of a workload: creates an ErrorEvent (source `api`, requested-by the caller).
        201 with its classification (and Remediation) when the operator classified it within the wait; 202 with a
        Location to poll otherwise. The same report twice names the same ErrorEvent (idempotent). A valid
        `traceparent` header becomes the ErrorEvent's remediator.dev/traceparent annotation: the incident's trace
        continues the caller's (an invalid one is ignored, as W3C Trace Context asks, and a new trace begins)."""
        authorize(who, "create", api.ERROREVENTS, body.namespace)
        seen = clock.format_time(body.timestamp if body.timestamp is not None else clock.now())
        spec: dict[str, Any] = {
            "target": body.target.model_dump(exclude_none=True),
            "message": body.message,
            "source": "api",
            "firstSeen": seen,
            "lastSeen": seen,
        }
        for key, value in (("reason", body.reason), ("exitCode", body.exitCode), ("logs", body.joined_logs() or None)):
            if value is not None:
                spec[key] = value
        if body.context:
            spec["context"] = dict(body.context)
        # With a timestamp the same report names the same object (a retry is idempotent); without one every
        # call is a new occurrence.
        name = _errorevent_name(body.namespace, spec, "" if body.timestamp is not None else uuid.uuid4().hex)
        obj = {
            "apiVersion": api.API_VERSION,
            "kind": "ErrorEvent",
            "metadata": {
                "name": name,
                "namespace": body.namespace,
                "labels": {api.LABEL_TARGET_KIND: body.target.kind, api.LABEL_TARGET_NAME: _label(body.target.name)},
                "annotations": {api.REQUESTED_BY: who.username, **_trace_annotation(traceparent)},
            },
            "spec": spec,
        }
        created: dict[str, Any] | None = None
        try:
            created = kube.create(who, api.ERROREVENTS, body.namespace, obj)
        except ApiError as err:
            if err.status != 409:
                raise
            existing = kube.get(who, api.ERROREVENTS, body.namespace, name)
            mine = (existing.get("metadata", {}).get("annotations") or {}).get(api.REQUESTED_BY) == who.username
            if not mine or existing.get("spec", {}).get("message") != body.message:
                raise HTTPProblem(
                    409, f"ErrorEvent {body.namespace}/{name} exists and was reported by someone else"
                ) from err
        seconds = cfg.wait_seconds if wait is None else wait
        ee = (
            created  # just created: nothing to read back when the caller does not wait
            if created is not None and seconds <= 0
            else wait_for(
                lambda: kube.get(who, api.ERROREVENTS, body.namespace, name),
                lambda o: bool(o.get("status", {}).get("classification")),
                seconds,
            )
        )
        out = _error_out(body.namespace, name, ee)
        if out.classification is None:
            response.status_code = 202
        response.headers["Location"] = out.location
        return out

    @app.get(
        "/errorevents/{namespace}/{name}",
        response_model=ErrorOut,
        response_model_exclude_none=True,
        responses=_errors(404),
        tags=["errors"],
    )
    def get_error(namespace: str, name: str, who: Caller) -> ErrorOut:
        """An ErrorEvent's classification and Remediation (what POST /errors' Location points at)."""
        _check_names(namespace, name)
        authorize(who, "get", api.ERROREVENTS, namespace, name)
        return _error_out(namespace, name, kube.get(who, api.ERROREVENTS, namespace, name))

    # ---- alerts in ----
    @app.post("/alertmanager", response_model=AlertmanagerOut, responses=_errors(), tags=["errors"])
    def alertmanager_webhook(body: AlertmanagerIn, who: Caller) -> AlertmanagerOut:
        """Alertmanager's webhook (version 4). Firing alerts naming a workload become ErrorEvents (source `alert`);
        a repeat of one firing is deduplicated; resolved alerts are counted; the rest are ignored with a reason.
        Needs `create errorevents` in every namespace the alerts name, checked before anything is created."""
        result = alertmanager.map_webhook([a.model_dump() for a in body.alerts])
        for namespace in sorted({e.namespace for e in result.events}):
            authorize(who, "create", api.ERROREVENTS, namespace)
        out = AlertmanagerOut(created=[], deduplicated=[], resolved=[], ignored=[])
        for ev in result.events:
            obj = {
                "apiVersion": api.API_VERSION,
                "kind": "ErrorEvent",
                "metadata": {
                    "name": ev.name,
                    "namespace": ev.namespace,
                    "labels": {
                        api.LABEL_TARGET_KIND: ev.spec["target"]["kind"],
                        api.LABEL_TARGET_NAME: _label(ev.spec["target"]["name"]),
                    },
                    "annotations": {api.REQUESTED_BY: who.username},
                },
                "spec": ev.spec,
            }
            item = AlertOutcome(alertname=ev.alertname, namespace=ev.namespace, name=ev.name)
            try:
                kube.create(who, api.ERROREVENTS, ev.namespace, obj)
                out.created.append(item)
                metrics.ALERTS.labels("created").inc()
            except ApiError as err:
                if err.status != 409:
                    raise
                out.deduplicated.append(item)
                metrics.ALERTS.labels("deduplicated").inc()
        for r in result.resolved:
            out.resolved.append(AlertOutcome(alertname=r.alertname, namespace=r.namespace))
            metrics.ALERTS.labels("resolved").inc()
            log.info("alert %s (%s) resolved in %s", r.alertname, r.fingerprint, r.namespace or "-")
        for i in result.ignored:
            out.ignored.append(AlertOutcome(alertname=i.alertname, reason=i.reason))
            metrics.ALERTS.labels(f"ignored_{i.reason}").inc()
        return out

    # ---- remediations ----
    @app.get("/remediations", response_model=RemediationList, responses=_errors(), tags=["remediations"])
    def list_remediations(
        who: Caller,
        namespace: Annotated[
            str | None, Query(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
        ] = None,
    ) -> RemediationList:
        """Remediations of a namespace (or of every namespace, for those who may list them cluster-wide),
        pending approval first, then newest first; at most 500."""
        authorize(who, "list", api.REMEDIATIONS, namespace or "")
        items = [_summary(o) for o in kube.list(who, api.REMEDIATIONS, namespace).get("items", [])]
        items.sort(key=lambda s: s.createdAt or "", reverse=True)
        items.sort(key=lambda s: s.phase != api.Phase.PENDING_APPROVAL)
        return RemediationList(items=items)

    @app.get(
        "/remediations/{namespace}/{name}", response_model=RemediationOut, responses=_errors(404), tags=["remediations"]
    )
    def get_remediation(namespace: str, name: str, who: Caller) -> RemediationOut:
        _check_names(namespace, name)
        authorize(who, "get", api.REMEDIATIONS, namespace, name)
        return _full(kube.get(who, api.REMEDIATIONS, namespace, name))

    def decide(namespace: str, name: str, body: DecisionIn | None, who: Identity, key: str) -> RemediationOut:
        _check_names(namespace, name)
        authorize(who, "approve", api.REMEDIATIONS, namespace, name)
        annotations: dict[str, str | None] = {key: "true", api.APPROVER: who.username}
        if body is not None and body.generation is not None:
            annotations[api.APPROVED_GENERATION] = str(body.generation)
        patched = kube.merge_patch(who, api.REMEDIATIONS, namespace, name, {"metadata": {"annotations": annotations}})
        return _full(patched)

    @app.post(
        "/remediations/{namespace}/{name}/approve",
        response_model=RemediationOut,
        responses=_errors(404, 409),
        tags=["remediations"],
    )
    def approve(who: Caller, namespace: str, name: str, body: DecisionIn | None = None) -> RemediationOut:
        """Approve as the caller (remediator.dev/approve=true, approver = your user name). Needs the `approve` verb
        on this Remediation; the admission policy checks the same as for kubectl."""
        return decide(namespace, name, body, who, api.APPROVE)

    @app.post(
        "/remediations/{namespace}/{name}/reject",
        response_model=RemediationOut,
        responses=_errors(404, 409),
        tags=["remediations"],
    )
    def reject(who: Caller, namespace: str, name: str, body: DecisionIn | None = None) -> RemediationOut:
        """Reject as the caller (remediator.dev/reject=true, approver = your user name); needs `approve`."""
        return decide(namespace, name, body, who, api.REJECT)

    # ---- feedback ----
    @app.post(
        "/feedback",
        response_model=FeedbackOut,
        responses={**_errors(404, 409), 202: {"model": FeedbackOut}},
        tags=["remediations"],
    )
    def feedback(body: FeedbackIn, response: Response, who: Caller) -> FeedbackOut:
        """A person's verdict on a Remediation, through the feedback annotations set as the caller (feedback,
        correct-action, correct-type, feedback-by = your user name): the operator records it in status first,
        then in MongoDB, exactly once. 200 when status.judgments shows it within the wait, 202 otherwise."""
        authorize(who, "patch", api.REMEDIATIONS, body.namespace, body.name)
        annotations: dict[str, str | None] = {
            api.FEEDBACK: body.verdict,
            api.CORRECT_ACTION: body.correctAction,
            api.CORRECT_TYPE: body.correctType,
            api.FEEDBACK_BY: who.username,
            api.FEEDBACK_COMMENT: body.comment,
        }
        kube.merge_patch(who, api.REMEDIATIONS, body.namespace, body.name, {"metadata": {"annotations": annotations}})

        # status.judgments[].by is the user name, or sha256:<hex> of a long one (learning.feedback.judge_name)
        names = {who.username, "sha256:" + hashlib.sha256(who.username.encode()).hexdigest()}

        def judged(o: dict[str, Any]) -> bool:
            for j in o.get("status", {}).get("judgments") or []:
                if j.get("by") in names and j.get("label") == body.verdict:
                    return True
            return False

        rem = wait_for(lambda: kube.get(who, api.REMEDIATIONS, body.namespace, body.name), judged, cfg.wait_seconds)
        recorded = rem is not None and judged(rem)
        if not recorded:
            response.status_code = 202
        return FeedbackOut(namespace=body.namespace, name=body.name, by=who.username, recorded=recorded)

    routes = {getattr(r, "endpoint", None): getattr(r, "path", "") for r in app.routes}
    app.add_middleware(BodyLimit, limit=cfg.max_body_bytes)
    app.add_middleware(Metrics, routes=routes)
    return app


T = TypeVar("T")


def _ours(call: Callable[[], T], what: str) -> T:
    """A review is this service's own request: its refusal is our misconfiguration (503), not the caller's."""
    try:
        return call()
    except ApiError as err:
        log.error("this service may not %s: %s", what, err.message)
        raise HTTPProblem(503, f"the API service may not {what}: see docs/api.md", {"Retry-After": "30"}) from err


# -- helpers ----------------------------------------------------------------------------------------------------
def _check_names(namespace: str, name: str) -> None:
    if len(namespace) > 63 or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", namespace):
        raise HTTPProblem(422, "path.namespace: not a Kubernetes namespace name")
    if len(name) > 253 or not NAME_OK.fullmatch(name):
        raise HTTPProblem(422, "path.name: not a Kubernetes object name")


def _label(value: str) -> str:
    """A label value (<= 63 characters) for a name that may be longer: cut, with a hash to keep it unique."""
    if len(value) <= 63:
        return value
    return value[:52].rstrip("-.") + "-" + hashlib.sha256(value.encode()).hexdigest()[:10]


def _trace_annotation(traceparent: str | None) -> dict[str, str]:
    """The traceparent header as the ErrorEvent's annotation, only when it is a valid one (re-formatted)."""
    parsed = trace_context.parse_or_none(traceparent)
    return {incident_trace.ANNOTATION: parsed.format()} if parsed is not None else {}


def _errorevent_name(namespace: str, spec: dict[str, Any], nonce: str = "") -> str:
    """api-<kind>-<name>-<hash>: the same report (target, text, time) names the same object."""
    digest = hashlib.sha256(json.dumps([namespace, spec, nonce], sort_keys=True).encode()).hexdigest()[:10]
    target = spec["target"]
    stem = re.sub(r"[^a-z0-9-]+", "-", f"{target['kind']}-{target['name']}".lower())
    stem = re.sub("-{2,}", "-", stem).strip("-")[: 63 - len("api--") - len(digest)].rstrip("-") or "workload"
    return f"api-{stem}-{digest}"


def _prediction(p: Any) -> Prediction:
    return Prediction(
        errorType=p.error_type,
        action=p.action,
        confidence=round(float(p.confidence), 4),
        actionProbabilities={a: round(float(v), 4) for a, v in p.action_probabilities},
        runnerUp=p.runner_up,
        runnerUpConfidence=round(float(p.runner_up_confidence), 4),
        explanation=p.explanation,
        evidence=list(p.evidence),
        novelty=round(float(p.novelty), 4),
        modelVersion=p.model_version,
    )


def _error_out(namespace: str, name: str, ee: dict[str, Any] | None) -> ErrorOut:
    status = (ee or {}).get("status") or {}
    cls = status.get("classification")
    return ErrorOut(
        namespace=namespace,
        name=name,
        phase=status.get("phase"),
        message=status.get("message"),
        classification=Classification.model_validate(jsonable_encoder(cls)) if cls else None,
        remediation=(status.get("remediationRef") or {}).get("name"),
        traceId=(status.get("trace") or {}).get("traceId"),
        location=f"/errorevents/{namespace}/{name}",
    )


def _summary(o: dict[str, Any]) -> RemediationSummary:
    meta, spec, status = o.get("metadata", {}), o.get("spec") or {}, o.get("status") or {}
    return RemediationSummary(
        namespace=str(meta.get("namespace", "")),
        name=str(meta.get("name", "")),
        phase=status.get("phase"),
        action=spec.get("action"),
        errorType=spec.get("errorType"),
        confidence=spec.get("confidence"),
        target=spec.get("target"),
        generation=meta.get("generation"),
        approver=status.get("approvedBy") or None,
        createdAt=meta.get("creationTimestamp"),
        message=status.get("message"),
    )


def _full(o: dict[str, Any]) -> RemediationOut:
    s = _summary(o)
    return RemediationOut(
        **s.model_dump(),
        spec=dict(o.get("spec") or {}),
        status=dict(o.get("status") or {}),
        annotations={str(k): str(v) for k, v in (o.get("metadata", {}).get("annotations") or {}).items()},
    )
