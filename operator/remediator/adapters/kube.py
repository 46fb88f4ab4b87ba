"""The Kubernetes edge: reads workloads and history, writes ErrorEvents, Remediations, patches and Events.

Everything here returns and takes plain API dicts (camelCase, as `kubectl get -o json` shows them), so the
domain code never sees the client library's types.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from urllib3.exceptions import HTTPError

from remediator import api, metrics
from remediator.adapters import connection
from remediator.adapters.kubeapi import ApiException, KubeApi, path_of
from remediator.adapters.usage import PodUsage, PodUsageMap
from remediator.api import GROUP, VERSION
from remediator.domain import clock
from remediator.domain.actions.base import CONTENT_TYPES
from remediator.domain.types import WorkloadRef

log = logging.getLogger(__name__)
T = TypeVar("T")
MERGE_PATCH = CONTENT_TYPES["merge"]  # what the client library sent for a dict body


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


class NoCluster(RuntimeError):
    """No cluster to talk to, or not one prepared for kube-remediator; the message says what to do."""


def api_client() -> KubeApi:
    """A client for the cluster the operator runs in, else the current kubeconfig's ($KUBECONFIG as it is now)."""
    try:
        return KubeApi(connection.load())
    except connection.ConfigError as err:
        raise NoCluster(
            f"{err}: set KUBECONFIG to your cluster's kubeconfig (the local one: `remediator-dev cluster up`, then "
            "`export KUBECONFIG=~/.kube-remediator/dev-cluster/kubeconfig`)"
        ) from None


# What kube-remediator reads and writes; without them there is nothing to watch.
OWN_RESOURCES = (api.ERROREVENTS, api.REMEDIATIONS, api.POLICIES)


def cluster_problem(kube_api: KubeApi) -> str | None:
    """None when the API server answers and serves the CRDs; else one sentence saying what to do."""
    host = kube_api.host
    try:
        found = kube_api.json("GET", f"/apis/{GROUP}/{VERSION}", timeout=10)
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
    except connection.ConfigError as err:
        return f"cannot authenticate to the API server at {host}: {err}"
    except (HTTPError, OSError) as err:
        return (
            f"cannot reach the API server at {host} ({type(err).__name__}): is the cluster running? "
            "(the local one: `remediator-dev cluster status`)"
        )
    names = {r.get("name") for r in found.get("resources") or ()}
    missing = [r for r in OWN_RESOURCES if r not in names]
    if missing:
        return (
            f"the cluster at {host} lacks the CRDs for {', '.join(missing)}: install them with `kubectl apply -f crds/`"
        )
    return None


_KINDS = {  # kind -> (group, version, plural) of what the operator reads or patches by kind
    "Pod": ("", "v1", "pods"),
    "ConfigMap": ("", "v1", "configmaps"),
    "Deployment": ("apps", "v1", "deployments"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
    "ReplicaSet": ("apps", "v1", "replicasets"),
}


def _cr_path(plural: str, namespace: str | None = None, name: str | None = None, sub: str = "") -> str:
    return path_of(GROUP, VERSION, plural, namespace, name, sub)


class Kube:
    """A thin, synchronous facade over the API calls the operator makes."""

    def __init__(self, kube_api: KubeApi) -> None:
        self.api = kube_api
        self.usage = PodUsage(kube_api)
        self._target_selectable = True  # until the API server refuses a field selector on spec.target

    def _json(self, operation: str, method: str, path: str, **kwargs: Any) -> Any:
        with _api_errors(operation):
            return self.api.json(method, path, **kwargs)

    def get(self, ref: WorkloadRef) -> dict[str, Any]:
        kind = _KINDS.get(ref.kind)
        if kind is None:
            raise NotFound(f"unsupported kind {ref.kind}")
        try:
            return dict(self._json("read", "GET", path_of(*kind, ref.namespace, ref.name)))
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
            ns = self._json("read", "GET", path_of("", "v1", "namespaces", name=namespace))
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
        pods = self._json(
            "list", "GET", path_of("", "v1", "pods", meta["namespace"]), query=[("labelSelector", label_selector)]
        )
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
        except (ApiException, HTTPError, OSError) as err:
            log.warning("no usage from metrics.k8s.io for %s: %s", workload["metadata"].get("name"), err)
            return None

    def replicasets_of(self, deployment: dict[str, Any]) -> list[dict[str, Any]]:
        meta = deployment["metadata"]
        items = self._json("list", "GET", path_of("apps", "v1", "replicasets", meta["namespace"])).get("items", [])
        return [
            rs
            for rs in items
            if any(o.get("uid") == meta.get("uid") for o in rs["metadata"].get("ownerReferences") or [])
        ]

    def has_hpa(self, ref: WorkloadRef) -> bool:
        try:
            hpas = self._json("list", "GET", path_of("autoscaling", "v2", "horizontalpodautoscalers", ref.namespace))
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
        query: list[tuple[str, Any]] = [("previous", True), ("tailLines", lines), ("limitBytes", max_bytes)]
        if container:
            query.insert(0, ("container", container))
        try:
            # 400: the container has not terminated yet, so there is no previous log; an answer, not an error.
            with _api_errors("logs", expected=frozenset({400})):
                resp = self.api.request("GET", path_of("", "v1", "pods", namespace, pod, "log"), query=query, timeout=5)
        except (ApiException, HTTPError, OSError) as err:
            log.debug("no previous log for %s/%s: %s", namespace, pod, err)
            return ""
        return resp.data.decode(errors="replace")[-max_bytes:]

    # -- patches and evictions ----------------------------------------------------------------------------
    def patch(self, ref: WorkloadRef, body: dict[str, Any], patch_type: str, *, dry_run: bool) -> dict[str, Any]:
        """Patch a workload (or ConfigMap); with dry_run the API server validates and admits but stores nothing."""
        kind = _KINDS.get(ref.kind)
        if kind is None or ref.kind == "ReplicaSet":
            raise NotFound(f"cannot patch kind {ref.kind}")
        query = [("dryRun", "All")] if dry_run else []
        with _api_errors("patch"):
            return dict(
                self.api.json(
                    "PATCH",
                    path_of(*kind, ref.namespace, ref.name),
                    query=query,
                    body=body,
                    content_type=CONTENT_TYPES[patch_type],
                )
            )

    def evict(self, namespace: str, pod: str, *, dry_run: bool) -> bool:
        """Evict through the Eviction API, so PodDisruptionBudgets are honoured. False when the Pod is gone."""
        body: dict[str, Any] = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": pod, "namespace": namespace},
        }
        if dry_run:
            body["deleteOptions"] = {"dryRun": ["All"]}
        try:
            with _api_errors("evict"):
                self.api.request(
                    "POST",
                    path_of("", "v1", "pods", namespace, pod, "eviction"),
                    query=[("dryRun", "All")] if dry_run else [],
                    body=body,
                )
        except ApiException as err:
            if err.status == 404:
                return False
            raise
        return True

    # -- custom resources ---------------------------------------------------------------------------------
    def get_cr(self, plural: str, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return dict(self._json("read", "GET", _cr_path(plural, namespace, name)))
        except ApiException as err:
            if err.status == 404:
                return None
            raise

    def list_cr(self, plural: str, namespace: str | None = None, label_selector: str = "") -> list[dict[str, Any]]:
        query = [("labelSelector", label_selector)] if label_selector else []
        result = self._json("list", "GET", _cr_path(plural, namespace), query=query)
        return list(result.get("items", []))

    def create_cr(self, plural: str, namespace: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """Create; None when an object of that name already exists (the caller decides what that means)."""
        try:
            with _api_errors("create", expected=frozenset({409})):
                return dict(self.api.json("POST", _cr_path(plural, namespace), body=body))
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
            return dict(self.api.json("PATCH", _cr_path(plural, namespace, name), body=body, content_type=MERGE_PATCH))

    def delete_cr(self, plural: str, namespace: str, name: str, uid: str) -> None:
        """Delete only the object with this uid (a precondition), never a newer one of the same name."""
        body = {"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": {"uid": uid}}
        try:
            with _api_errors("delete", expected=frozenset({409})):
                self.api.request("DELETE", _cr_path(plural, namespace, name), body=body)
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
                self.api.json("PATCH", _cr_path(plural, namespace, name, "status"), body=body, content_type=MERGE_PATCH)
            )

    def remediations_for(self, ref: WorkloadRef) -> list[dict[str, Any]]:
        """Every Remediation of the workload, matched by spec.target. Not by the target labels: only the
        operator's own Remediations carry them, so one a human (or the API) wrote would escape the rate
        limit, the cooldown and the one-active-per-workload rule, and deleting a label would too.

        The CRD makes spec.target.kind and .name selectable fields, so the API server answers with the
        workload's Remediations only: the read costs the same with ten or ten thousand others in the
        namespace. A server that refuses the selector (a CRD applied before it had them, or a cluster older
        than 1.31) is answered by the whole namespace, filtered here; the match is checked here either way."""
        items: list[dict[str, Any]] | None = None
        if self._target_selectable:
            selector = f"spec.target.kind={field_value(ref.kind)},spec.target.name={field_value(ref.name)}"
            try:
                with _api_errors("list", expected=frozenset({400})):
                    found = self.api.json(
                        "GET", _cr_path("remediations", ref.namespace), query=[("fieldSelector", selector)]
                    )
                items = list(found.get("items", []))
            except ApiException as err:
                if err.status != 400:
                    raise
                self._target_selectable = False
                log.warning(
                    "the API server refused to select Remediations by spec.target (%s): reading whole namespaces "
                    "instead; apply the chart's CRDs (Kubernetes >= 1.31) to make the read independent of history",
                    err.message,
                )
        if items is None:
            items = self.list_cr("remediations", ref.namespace)
        return [r for r in items if r["spec"]["target"]["name"] == ref.name and r["spec"]["target"]["kind"] == ref.kind]

    def ensure_peering(self, name: str, namespaces: list[str]) -> None:
        """kopf's peering object must exist before replicas can see each other (409: it already does)."""
        body: dict[str, Any] = {"apiVersion": "kopf.dev/v1", "metadata": {"name": name}}
        try:
            with _api_errors("create", expected=frozenset({409})):
                if not namespaces:
                    self.api.request(
                        "POST",
                        path_of("kopf.dev", "v1", "clusterkopfpeerings"),
                        body={**body, "kind": "ClusterKopfPeering"},
                    )
                for ns in namespaces:
                    self.api.request(
                        "POST", path_of("kopf.dev", "v1", "kopfpeerings", ns), body={**body, "kind": "KopfPeering"}
                    )
        except ApiException as err:
            if err.status != 409:
                raise

    def peering_status(self, name: str, namespaces: list[str]) -> dict[str, Any] | None:
        """The peers kopf records in the peering object (``status``: id -> priority, lastseen, lifetime); None
        when it cannot be read. With several namespaces every object lists the same replicas: the first is read."""
        if namespaces:
            path = path_of("kopf.dev", "v1", "kopfpeerings", namespaces[0], name)
        else:
            path = path_of("kopf.dev", "v1", "clusterkopfpeerings", name=name)
        try:
            obj = self._json("read", "GET", path)
        except (ApiException, HTTPError, OSError, connection.ConfigError):
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
        path = path_of("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings")
        try:
            found = self._json("list", "GET", path, query=[("labelSelector", selector)])
        except ApiException as err:
            log.warning("cannot check the %s admission policy: %s %s", guard, err.status, err.reason)
            return False
        return bool(found.get("items"))

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
        now = clock.now().isoformat().replace("+00:00", "Z")
        namespace = meta.get("namespace") or "default"
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{meta.get('name', 'object')}.", "namespace": namespace},
            "involvedObject": {
                "apiVersion": obj.get("apiVersion"),
                "kind": obj.get("kind"),
                "name": meta.get("name"),
                "namespace": meta.get("namespace"),
                "uid": meta.get("uid"),
            },
            "reason": reason,
            "message": message[:1024],
            "type": "Warning" if warning else "Normal",
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "source": {"component": "kube-remediator"},
        }
        try:
            with _api_errors("event"):
                self.api.request("POST", path_of("", "v1", "events", namespace), body=body)
        except (ApiException, HTTPError, OSError) as err:
            log.warning("could not post event %s on %s/%s: %s", reason, meta.get("namespace"), meta.get("name"), err)


def field_value(value: str) -> str:
    """A value for a field selector, escaped as the API server parses it (a name with a comma or an equals
    sign cannot add a term)."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


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
