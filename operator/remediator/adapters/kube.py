"""The Kubernetes edge: reads workloads and history, writes ErrorEvents, Remediations, patches and Events.

Everything here returns and takes plain API dicts (camelCase, as `kubectl get -o json` shows them), so the
domain code never sees the client library's types.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from urllib.parse import urlsplit

from kubernetes import client
from kubernetes import config as kube_config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from remediator import api, metrics
from remediator.adapters.usage import PodUsage, PodUsageMap
from remediator.api import GROUP, VERSION
from remediator.domain import clock
from remediator.domain.actions.base import CONTENT_TYPES
from remediator.domain.types import WorkloadRef

log = logging.getLogger(__name__)
T = TypeVar("T")


class NotFound(LookupError):
    pass


@contextmanager
def _api_errors(operation: str, expected: frozenset[int] = frozenset()) -> Iterator[None]:
    """Count every API error by operation, so /metrics shows when the API server is the problem. A 404, and
    the codes the caller names as an answer it expects (409 on a create-if-absent), are answers, not errors."""
    try:
        yield
    except ApiException as err:
        if err.status != 404 and err.status not in expected:
            metrics.API_ERRORS.labels(operation=operation, code=str(err.status)).inc()
        raise


_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def request_labels(method: str, url: str, query: Any = None) -> tuple[str, str]:
    """(verb, resource) of a request as the API server's audit log names them: a GET of a collection is a
    list (a watch with watch=true), of one object a get; a subresource is "<resource>/<sub>" (pods/log)."""
    path = urlsplit(url).path.strip("/").split("/")
    # /api/v1/... or /apis/<group>/<version>/...
    rest = path[2:] if path[:1] == ["api"] else path[3:] if path[:1] == ["apis"] else path
    if len(rest) >= 3 and rest[0] == "namespaces":
        rest = rest[2:]  # a namespaced resource: drop namespaces/<ns>
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


def count_requests(api: client.ApiClient) -> client.ApiClient:
    """Count every request sent through `api` in remediator_kube_requests_total (once per client)."""
    if getattr(api, "_remediator_counted", False):
        return api
    send = api.request

    def request(method: str, url: str, query_params: Any = None, *args: Any, **kwargs: Any) -> Any:
        verb, resource = request_labels(method, url, query_params)
        metrics.KUBE_REQUESTS.labels(verb=verb, resource=resource).inc()
        return send(method, url, query_params, *args, **kwargs)

    api.request = request
    api._remediator_counted = True
    return api


class NoCluster(RuntimeError):
    """No cluster to talk to, or not one prepared for kube-remediator; the message says what to do."""


def api_client() -> client.ApiClient:
    """A client for the cluster the operator runs in, else the current kubeconfig's."""
    try:
        kube_config.load_incluster_config()
    except kube_config.ConfigException:
        try:
            # KUBECONFIG as it is now (the library reads it once, at import).
            kube_config.load_kube_config(config_file=os.environ.get("KUBECONFIG") or None)
        except (kube_config.ConfigException, OSError) as err:
            where = os.environ.get("KUBECONFIG") or "~/.kube/config"
            raise NoCluster(
                f"no kubeconfig to use ({where}: {err}) and not running in a cluster: set KUBECONFIG to your "
                "cluster's kubeconfig (the local one: `remediator-dev cluster up`, then "
                "`export KUBECONFIG=~/.kube-remediator/dev-cluster/kubeconfig`)"
            ) from None
    return client.ApiClient()


# What kube-remediator reads and writes; without them there is nothing to watch.
OWN_RESOURCES = (api.ERROREVENTS, api.REMEDIATIONS, api.POLICIES)


def cluster_problem(kube_api: client.ApiClient) -> str | None:
    """None when the API server answers and serves the CRDs; else one sentence saying what to do."""
    host = kube_api.configuration.host
    try:
        found = client.CustomObjectsApi(kube_api).get_api_resources(GROUP, VERSION, _request_timeout=10)
    except ApiException as err:
        if err.status == 404:
            return (
                f"the kube-remediator CRDs ({GROUP}/{VERSION}) are not installed in the cluster at {host}: "
                "install them with `kubectl apply -f crds/` (the Helm chart installs them too)"
            )
        if err.status in (401, 403):
            return (
                f"the API server at {host} refused these credentials ({err.status} {err.reason}): "
                "check the kubeconfig's user, or the operator's ServiceAccount"
            )
        return f"the API server at {host} answered {err.status} {err.reason} when asked for {GROUP}/{VERSION}"
    except (HTTPError, OSError) as err:
        return (
            f"cannot reach the API server at {host} ({type(err).__name__}): is the cluster running? "
            "(the local one: `remediator-dev cluster status`)"
        )
    names = {r.name for r in found.resources or ()}
    missing = [r for r in OWN_RESOURCES if r not in names]
    if missing:
        return (
            f"the cluster at {host} lacks the CRDs for {', '.join(missing)}: install them with `kubectl apply -f crds/`"
        )
    return None


class Kube:
    """A thin, synchronous facade over the API calls the operator makes."""

    def __init__(self, api: client.ApiClient) -> None:
        self.api = count_requests(api)
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.autoscaling = client.AutoscalingV2Api(api)
        self.usage = PodUsage(api)

    # -- raw JSON access --------------------------------------------------------------------------------
    def _json(self, operation: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with _api_errors(operation):
            resp = call(*args, _preload_content=False, **kwargs)
        return json.loads(resp.data)

    def get(self, ref: WorkloadRef) -> dict[str, Any]:
        readers: dict[str, Callable[..., Any]] = {
            "Pod": self.core.read_namespaced_pod,
            "Deployment": self.apps.read_namespaced_deployment,
            "StatefulSet": self.apps.read_namespaced_stateful_set,
            "DaemonSet": self.apps.read_namespaced_daemon_set,
            "ReplicaSet": self.apps.read_namespaced_replica_set,
            "ConfigMap": self.core.read_namespaced_config_map,
        }
        reader = readers.get(ref.kind)
        if reader is None:
            raise NotFound(f"unsupported kind {ref.kind}")
        try:
            return dict(self._json("read", reader, ref.name, ref.namespace))
        except ApiException as err:
            if err.status == 404:
                raise NotFound(f"{ref.kind} {ref.namespace}/{ref.name} not found") from err
            raise

    def exists(self, ref: WorkloadRef) -> bool:
        try:
            self.get(ref)
        except NotFound:
            return False
        return True

    def namespace_annotations(self, namespace: str) -> tuple[dict[str, str], dict[str, str]]:
        try:
            ns = self._json("read", self.core.read_namespace, namespace)
        except ApiException as err:
            if err.status in (403, 404):
                return {}, {}
            raise
        meta = ns.get("metadata", {})
        return dict(meta.get("labels") or {}), dict(meta.get("annotations") or {})

    # -- workloads ---------------------------------------------------------------------------------------
    def pods_of(self, workload: dict[str, Any]) -> list[dict[str, Any]]:
        meta = workload["metadata"]
        if workload.get("kind") == "Pod":
            return [workload]
        selector = workload.get("spec", {}).get("selector", {}).get("matchLabels") or {}
        if not selector:
            return []
        label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        pods = self._json("list", self.core.list_namespaced_pod, meta["namespace"], label_selector=label_selector)
        return list(pods.get("items", []))

    def pod_usage(self, workload: dict[str, Any]) -> PodUsageMap | None:
        """CPU/memory per Pod and container of a workload from metrics.k8s.io; None when it is not served,
        not permitted, or failing: usage is evidence for scale_up, never a reason to stop deciding."""
        selector = workload.get("spec", {}).get("selector", {}).get("matchLabels") or {}
        if workload.get("kind") == "Pod" or not selector:
            return None
        try:
            return self.usage.read(
                workload["metadata"]["namespace"], ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
            )
        except (ApiException, OSError) as err:
            log.warning("no usage from metrics.k8s.io for %s: %s", workload["metadata"].get("name"), err)
            return None

    def replicasets_of(self, deployment: dict[str, Any]) -> list[dict[str, Any]]:
        meta = deployment["metadata"]
        items = self._json("list", self.apps.list_namespaced_replica_set, meta["namespace"]).get("items", [])
        return [
            rs
            for rs in items
            if any(o.get("uid") == meta.get("uid") for o in rs["metadata"].get("ownerReferences") or [])
        ]

    def has_hpa(self, ref: WorkloadRef) -> bool:
        try:
            hpas = self._json("list", self.autoscaling.list_namespaced_horizontal_pod_autoscaler, ref.namespace)
        except ApiException as err:
            if err.status == 403:
                return False
            raise
        return any(
            h.get("spec", {}).get("scaleTargetRef", {}).get("kind") == ref.kind
            and h["spec"]["scaleTargetRef"].get("name") == ref.name
            for h in hpas.get("items", [])
        )

    def previous_logs(self, namespace: str, pod: str, container: str | None, lines: int, max_bytes: int) -> str:
        """The last lines of the previous container's log, bounded; empty when the node cannot serve them."""
        if lines <= 0 or max_bytes <= 0:
            return ""
        try:
            # 400: the container has not terminated yet, so there is no previous log; an answer, not an error.
            with _api_errors("logs", expected=frozenset({400})):
                text = self.core.read_namespaced_pod_log(
                    pod,
                    namespace,
                    container=container,
                    previous=True,
                    tail_lines=lines,
                    limit_bytes=max_bytes,
                    _request_timeout=5,
                )
        except (ApiException, OSError) as err:
            log.debug("no previous log for %s/%s: %s", namespace, pod, err)
            return ""
        return str(text)[-max_bytes:]

    # -- patches and evictions ----------------------------------------------------------------------------
    def patch(self, ref: WorkloadRef, body: dict[str, Any], patch_type: str, *, dry_run: bool) -> dict[str, Any]:
        """Patch a workload (or ConfigMap); with dry_run the API server validates and admits but stores nothing."""
        paths = {
            "Deployment": f"/apis/apps/v1/namespaces/{ref.namespace}/deployments/{ref.name}",
            "StatefulSet": f"/apis/apps/v1/namespaces/{ref.namespace}/statefulsets/{ref.name}",
            "DaemonSet": f"/apis/apps/v1/namespaces/{ref.namespace}/daemonsets/{ref.name}",
            "ConfigMap": f"/api/v1/namespaces/{ref.namespace}/configmaps/{ref.name}",
            "Pod": f"/api/v1/namespaces/{ref.namespace}/pods/{ref.name}",
        }
        content_type = CONTENT_TYPES[patch_type]
        query = [("dryRun", "All")] if dry_run else []
        with _api_errors("patch"):
            resp = self.api.call_api(
                paths[ref.kind],
                "PATCH",
                query_params=query,
                body=body,
                header_params={"Content-Type": content_type, "Accept": "application/json"},
                auth_settings=["BearerToken"],
                _preload_content=False,
                _return_http_data_only=True,
            )
        return dict(json.loads(resp.data))

    def evict(self, namespace: str, pod: str, *, dry_run: bool) -> bool:
        """Evict through the Eviction API, so PodDisruptionBudgets are honoured. False when the Pod is gone."""
        body = client.V1Eviction(
            metadata=client.V1ObjectMeta(name=pod, namespace=namespace),
            delete_options=client.V1DeleteOptions(dry_run=["All"] if dry_run else None),
        )
        try:
            with _api_errors("evict"):
                self.core.create_namespaced_pod_eviction(pod, namespace, body, dry_run="All" if dry_run else None)
        except ApiException as err:
            if err.status == 404:
                return False
            raise
        return True

    # -- custom resources ---------------------------------------------------------------------------------
    def get_cr(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            with _api_errors("read"):
                return dict(self.custom.get_namespaced_custom_object(GROUP, VERSION, namespace, plural, name))
        except ApiException as err:
            if err.status == 404:
                return None
            raise

    def list_cr(self, plural: str, namespace: str | None = None, label_selector: str = "") -> list[dict[str, Any]]:
        with _api_errors("list"):
            if namespace is None:
                result = self.custom.list_cluster_custom_object(GROUP, VERSION, plural, label_selector=label_selector)
            else:
                result = self.custom.list_namespaced_custom_object(
                    GROUP, VERSION, namespace, plural, label_selector=label_selector
                )
        return list(result.get("items", []))

    def create_cr(self, plural: str, namespace: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """Create; None when an object of that name already exists (the caller decides what that means)."""
        try:
            with _api_errors("create", expected=frozenset({409})):
                return dict(self.custom.create_namespaced_custom_object(GROUP, VERSION, namespace, plural, body))
        except ApiException as err:
            if err.status == 409:
                return None
            raise

    def patch_cr(
        self, plural: str, namespace: str, name: str, body: dict[str, Any], *, expect_conflict: bool = False
    ) -> dict[str, Any]:
        """Merge `body` into the object. `expect_conflict`: the body names a resourceVersion and the caller
        re-reads and retries on 409, so a conflict is an answer, not an error."""
        with _api_errors("patch", expected=frozenset({409}) if expect_conflict else frozenset()):
            return dict(self.custom.patch_namespaced_custom_object(GROUP, VERSION, namespace, plural, name, body))

    def delete_cr(self, plural: str, namespace: str, name: str, uid: str) -> None:
        """Delete only the object with this uid (a precondition), never a newer one of the same name."""
        body = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=uid))
        try:
            with _api_errors("delete", expected=frozenset({409})):
                self.custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, plural, name, body=body)
        except ApiException as err:
            if err.status not in (404, 409):
                raise

    def patch_status(
        self, plural: str, namespace: str, name: str, status: dict[str, Any], *, resource_version: str | None = None
    ) -> dict[str, Any]:
        """Merge `status` into the object's status. With `resource_version`, only if the object is still at
        that version (409 Conflict otherwise): a decision taken on a stale read is never written."""
        body: dict[str, Any] = {"status": status}
        if resource_version:
            body["metadata"] = {"resourceVersion": resource_version}
        with _api_errors("patch_status"):
            return dict(
                self.custom.patch_namespaced_custom_object_status(GROUP, VERSION, namespace, plural, name, body)
            )

    def remediations_for(self, ref: WorkloadRef) -> list[dict[str, Any]]:
        """Every Remediation of the workload, matched by spec.target. Not by the target labels: only the
        operator's own Remediations carry them, so one a human (or the API) wrote would escape the rate
        limit, the cooldown and the one-active-per-workload rule, and deleting a label would too."""
        return [
            r
            for r in self.list_cr("remediations", ref.namespace)
            if r["spec"]["target"]["name"] == ref.name and r["spec"]["target"]["kind"] == ref.kind
        ]

    def ensure_peering(self, name: str, namespaces: list[str]) -> None:
        """kopf's peering object must exist before replicas can see each other (409: it already does)."""
        body: dict[str, Any] = {"apiVersion": "kopf.dev/v1", "metadata": {"name": name}}
        try:
            with _api_errors("create", expected=frozenset({409})):
                if not namespaces:
                    self.custom.create_cluster_custom_object(
                        "kopf.dev", "v1", "clusterkopfpeerings", {**body, "kind": "ClusterKopfPeering"}
                    )
                for ns in namespaces:
                    self.custom.create_namespaced_custom_object(
                        "kopf.dev", "v1", ns, "kopfpeerings", {**body, "kind": "KopfPeering"}
                    )
        except ApiException as err:
            if err.status != 409:
                raise

    def peering_status(self, name: str, namespaces: list[str]) -> dict[str, Any] | None:
        """The peers kopf records in the peering object (``status``: id -> priority, lastseen, lifetime); None
        when it cannot be read. With several namespaces every object lists the same replicas: the first is read."""
        try:
            with _api_errors("read"):
                if not namespaces:
                    obj = self.custom.get_cluster_custom_object("kopf.dev", "v1", "clusterkopfpeerings", name)
                else:
                    obj = self.custom.get_namespaced_custom_object(
                        "kopf.dev", "v1", namespaces[0], "kopfpeerings", name
                    )
        except (ApiException, HTTPError, OSError):
            return None
        return dict(obj.get("status") or {})

    def approval_guard_installed(self) -> bool:
        """Whether a ValidatingAdmissionPolicyBinding labelled as the approval guard exists (read right needed;
        without it, or on any error, the answer is no: approvals are then refused, never trusted blindly)."""
        return self.admission_guard_installed(api.GUARD_APPROVAL)

    def feedback_guard_installed(self) -> bool:
        """Whether the binding of the policy that checks remediator.dev/feedback-by exists (as above; without
        it the operator records judgments as unverified, never under a name nobody checked)."""
        return self.admission_guard_installed(api.GUARD_FEEDBACK)

    def admission_guard_installed(self, guard: str) -> bool:
        """Whether a ValidatingAdmissionPolicyBinding labelled ``remediator.dev/guard=<guard>`` exists."""
        selector = f"{api.LABEL_GUARD}={guard}"
        try:
            with _api_errors("list"):
                resp = self.api.call_api(
                    "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings",
                    "GET",
                    query_params=[("labelSelector", selector)],
                    header_params={"Accept": "application/json"},
                    auth_settings=["BearerToken"],
                    _preload_content=False,
                    _return_http_data_only=True,
                )
        except ApiException as err:
            log.warning("cannot check the %s admission policy: %s %s", guard, err.status, err.reason)
            return False
        return bool(json.loads(resp.data).get("items"))

    def set_finalizers(
        self, plural: str, namespace: str, name: str, finalizers: list[str], *, resource_version: str
    ) -> None:
        """Replace the object's finalizers, only if it is still at `resource_version` (409 Conflict otherwise),
        so a finalizer another controller added in between is never dropped."""
        body = {"metadata": {"finalizers": finalizers, "resourceVersion": resource_version}}
        self.patch_cr(plural, namespace, name, body)

    def remove_annotations(self, plural: str, namespace: str, name: str, keys: list[str]) -> None:
        """Drop annotations (a JSON merge patch with nulls), e.g. an approval that a spec change voided."""
        self.patch_cr(plural, namespace, name, {"metadata": {"annotations": dict.fromkeys(keys)}})

    # -- events -------------------------------------------------------------------------------------------
    def event(self, obj: dict[str, Any], reason: str, message: str, *, warning: bool = False) -> None:
        """A Kubernetes Event on `obj` (best effort: an Event that cannot be posted never blocks a decision)."""
        meta = obj.get("metadata", {})
        now = clock.now()
        body = client.CoreV1Event(
            metadata=client.V1ObjectMeta(
                generate_name=f"{meta.get('name', 'object')}.", namespace=meta.get("namespace")
            ),
            involved_object=client.V1ObjectReference(
                api_version=obj.get("apiVersion"),
                kind=obj.get("kind"),
                name=meta.get("name"),
                namespace=meta.get("namespace"),
                uid=meta.get("uid"),
            ),
            reason=reason,
            message=message[:1024],
            type="Warning" if warning else "Normal",
            first_timestamp=now,
            last_timestamp=now,
            count=1,
            source=client.V1EventSource(component="kube-remediator"),
        )
        try:
            with _api_errors("event"):
                self.core.create_namespaced_event(meta.get("namespace") or "default", body)
        except ApiException as err:
            log.warning(
                "could not post event %s on %s/%s: %s", reason, meta.get("namespace"), meta.get("name"), err.reason
            )


def label_value(value: str) -> str:
    """A label value is at most 63 characters; names are up to 253, so long ones are cut (and re-checked)."""
    return value[:63].rstrip("-.")


def owner_reference(obj: dict[str, Any]) -> dict[str, Any]:
    """An ownerReference to `obj`, so what the operator creates for it is garbage-collected with it."""
    meta = obj["metadata"]
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "blockOwnerDeletion": False,
        "controller": False,
    }
