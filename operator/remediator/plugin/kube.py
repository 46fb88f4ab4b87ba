"""The plugin's only door to the cluster: the user's own kubeconfig, context and (optional) impersonation.

Every request carries the user's credentials, so the API server's RBAC and the admission policies judge the
user. Errors become a `PluginError`: one sentence saying what to do, and the exit code scripts can test.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import urllib3
from kubernetes import client
from kubernetes import config as kube_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from remediator import api
from remediator.domain import clock
from remediator.plugin.errors import EXIT_CLUSTER, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, Connection, PluginError
from remediator.plugin.render import Preview

if TYPE_CHECKING:
    from remediator.domain.policy import Policy

__all__ = ["EXIT_CLUSTER", "EXIT_OK", "EXIT_REFUSED", "EXIT_USAGE", "TIMEOUT", "Cluster", "Connection", "PluginError"]

TIMEOUT = 20.0  # seconds per request: a hung API server must not hang a script


def _kubeconfig_paths(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return [p for p in env.split(os.pathsep) if p]
    return [str(Path.home() / ".kube" / "config")]


WORKLOAD_READERS = {
    "Pod": ("core", "read_namespaced_pod"),
    "Deployment": ("apps", "read_namespaced_deployment"),
    "StatefulSet": ("apps", "read_namespaced_stateful_set"),
    "DaemonSet": ("apps", "read_namespaced_daemon_set"),
    "ConfigMap": ("core", "read_namespaced_config_map"),
}
WORKLOAD_PATCHERS = {
    "Pod": ("core", "patch_namespaced_pod"),
    "Deployment": ("apps", "patch_namespaced_deployment"),
    "StatefulSet": ("apps", "patch_namespaced_stateful_set"),
    "DaemonSet": ("apps", "patch_namespaced_daemon_set"),
}
PLURALS = {"Pod": "pods", "Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}


class Cluster:
    """The API server as the user sees it."""

    def __init__(self, conn: Connection) -> None:
        paths = _kubeconfig_paths(conn.kubeconfig)
        existing = [p for p in paths if Path(p).is_file()]
        if not existing:
            where = ", ".join(paths)
            raise PluginError(
                f"no kubeconfig at {where}: pass --kubeconfig FILE or set KUBECONFIG to the file kubectl uses",
                EXIT_CLUSTER,
            )
        config_file = os.pathsep.join(existing) if len(existing) > 1 else existing[0]
        configuration = client.Configuration()
        try:
            contexts, active = kube_config.list_kube_config_contexts(config_file)
            chosen = next((c for c in contexts if c.get("name") == conn.context), None) if conn.context else active
            if conn.context and chosen is None:
                names = ", ".join(sorted(str(c.get("name")) for c in contexts)) or "none"
                raise PluginError(
                    f"context {conn.context!r} is not in {config_file} (it has: {names}): "
                    "pick one that `kubectl config get-contexts` lists",
                    EXIT_CLUSTER,
                )
            kube_config.load_kube_config(config_file, conn.context, client_configuration=configuration)
        except ConfigException as err:
            raise PluginError(
                f"cannot use the kubeconfig {config_file} ({err}): check it with `kubectl config view`", EXIT_CLUSTER
            ) from err
        configuration.retries = 1
        self.server = str(configuration.host)
        self.default_namespace = str(((chosen or {}).get("context") or {}).get("namespace") or "default")
        self.api = client.ApiClient(configuration)
        if conn.as_user:
            self.api.set_default_header("Impersonate-User", conn.as_user)
        if conn.as_group:
            self.api.set_default_header("Impersonate-Group", conn.as_group)
        self.core = client.CoreV1Api(self.api)
        self.apps = client.AppsV1Api(self.api)
        self.custom = client.CustomObjectsApi(self.api)
        self.auth = client.AuthenticationV1Api(self.api)
        self.autoscaling = client.AutoscalingV2Api(self.api)
        self._me: str | None = None

    def close(self) -> None:
        self.api.close()

    # -- plumbing -------------------------------------------------------------------------------------------
    def _call(self, what: str, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one API call and return its JSON; every failure becomes a PluginError about `what`."""
        try:
            resp = call(*args, _preload_content=False, _request_timeout=TIMEOUT, **kwargs)
        except ApiException as err:
            raise self.translate(err, what) from err
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise PluginError(
                f"cannot reach the API server at {self.server} ({type(err).__name__}): check that the cluster is "
                "up and that your context points at it (`kubectl cluster-info`)",
                EXIT_CLUSTER,
            ) from err
        return json.loads(resp.data or b"{}")

    def translate(self, err: ApiException, what: str) -> PluginError:
        try:
            body = json.loads(err.body or "{}")
        except (TypeError, ValueError):
            body = {}
        message = str(body.get("message") or err.reason or "").strip()
        status = int(err.status or 0)
        if "ValidatingAdmissionPolicy" in message:
            refusal = message.split("denied request:", 1)[-1].strip()
            return PluginError(f"the cluster refused to {what}: {refusal}", EXIT_REFUSED)
        if status == 401:
            return PluginError(
                f"the API server at {self.server} did not accept your credentials (401): log in again or refresh "
                "the token in your kubeconfig",
                EXIT_CLUSTER,
            )
        if status == 403:
            return PluginError(
                f"you may not {what}: {message or 'forbidden'} (ask your cluster administrator for the role; "
                "`kubectl auth can-i --list -n NAMESPACE` shows yours)",
                EXIT_REFUSED,
            )
        if status == 404:
            if not self.crds_installed():
                return PluginError(
                    f"the API server at {self.server} does not serve {api.API_VERSION}: install the CRDs "
                    "(`kubectl apply --server-side -f crds/`, or the kube-remediator chart)",
                    EXIT_CLUSTER,
                )
            return PluginError(f"cannot {what}: {message or 'not found'}", EXIT_REFUSED)
        if status == 409:
            return PluginError(
                f"cannot {what}: it changed since it was read ({message}); review it again "
                "(`kubectl remediator explain NAME`) and retry",
                EXIT_REFUSED,
                kind="conflict",
            )
        if status == 422:
            return PluginError(f"the API server refused to {what}: {message}", EXIT_REFUSED)
        return PluginError(
            f"the API server failed to {what} ({status} {err.reason}): {message}; retry when it is healthy",
            EXIT_CLUSTER,
        )

    def crds_installed(self) -> bool:
        """Whether the API server serves remediator.dev/v1alpha1 (True when that cannot be told)."""
        try:
            resp = client.ApisApi(self.api).get_api_versions(_preload_content=False, _request_timeout=TIMEOUT)
            groups = json.loads(resp.data or b"{}").get("groups") or []
        except (ApiException, urllib3.exceptions.HTTPError, OSError, ValueError):
            return True  # unknown: do not claim they are missing
        return any(
            g.get("name") == api.GROUP and any(v.get("version") == api.VERSION for v in g.get("versions") or [])
            for g in groups
        )

    # -- who am I ----------------------------------------------------------------------------------------
    def whoami(self) -> str:
        """The user name the API server authenticates these credentials as (a SelfSubjectReview, i.e. what
        `kubectl auth whoami` shows): the only name the admission policies accept as approver or judge."""
        if self._me is None:
            body = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
            review = self._call("ask who you are (SelfSubjectReview)", self.auth.create_self_subject_review, body)
            name = str(((review.get("status") or {}).get("userInfo") or {}).get("username") or "")
            if not name:
                raise PluginError(
                    "the API server did not say who you are (SelfSubjectReview has no user name): "
                    "check `kubectl auth whoami`",
                    EXIT_CLUSTER,
                )
            self._me = name
        return self._me

    # -- remediations ------------------------------------------------------------------------------------
    def remediations(self, namespace: str | None) -> list[dict[str, Any]]:
        if namespace is None:
            out = self._call(
                "list remediations in all namespaces",
                self.custom.list_cluster_custom_object,
                api.GROUP,
                api.VERSION,
                api.REMEDIATIONS,
            )
        else:
            out = self._call(
                f"list remediations in namespace {namespace}",
                self.custom.list_namespaced_custom_object,
                api.GROUP,
                api.VERSION,
                namespace,
                api.REMEDIATIONS,
            )
        return list(out.get("items") or [])

    def remediation(self, namespace: str, name: str) -> dict[str, Any]:
        return dict(
            self._call(
                f"get remediation {name} in namespace {namespace}",
                self.custom.get_namespaced_custom_object,
                api.GROUP,
                api.VERSION,
                namespace,
                api.REMEDIATIONS,
                name,
            )
        )

    def errorevent(self, namespace: str, name: str) -> dict[str, Any]:
        return dict(
            self._call(
                f"get errorevent {name} in namespace {namespace}",
                self.custom.get_namespaced_custom_object,
                api.GROUP,
                api.VERSION,
                namespace,
                api.ERROREVENTS,
                name,
            )
        )

    def patch_remediation(self, namespace: str, name: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        """A JSON merge patch of one Remediation (null removes an annotation)."""
        return dict(
            self._call(
                what,
                self.custom.patch_namespaced_custom_object,
                api.GROUP,
                api.VERSION,
                namespace,
                api.REMEDIATIONS,
                name,
                body,
            )
        )

    # -- opt-out -----------------------------------------------------------------------------------------
    def read_target(self, kind: str, namespace: str, name: str) -> dict[str, Any]:
        if kind == "Namespace":
            return dict(self._call(f"get namespace {name}", self.core.read_namespace, name))
        group, method = WORKLOAD_READERS[kind]
        return dict(
            self._call(
                f"get {PLURALS[kind]} {name} in namespace {namespace}",
                getattr(getattr(self, group), method),
                name,
                namespace,
            )
        )

    def patch_target(self, kind: str, namespace: str, name: str, body: dict[str, Any], what: str) -> dict[str, Any]:
        if kind == "Namespace":
            return dict(self._call(what, self.core.patch_namespace, name, body))
        group, method = WORKLOAD_PATCHERS[kind]
        return dict(self._call(what, getattr(getattr(self, group), method), name, namespace, body))

    # -- what the operator would change --------------------------------------------------------------------
    def preview(self, rem: Mapping[str, Any]) -> Preview:
        """Plan the Remediation's action now with the operator's own (pure) planners, from the workload as the
        user can read it. Read-only; when something cannot be read, say what instead of guessing."""
        # Imported on use: the planners and the policy model (pydantic) cost a third of a second to load.
        from remediator.domain import actions
        from remediator.domain.actions.base import PlanContext, Refusal

        spec, ns = rem.get("spec") or {}, str((rem.get("metadata") or {}).get("namespace", ""))
        target = spec.get("target") or {}
        kind, name, action = str(target.get("kind", "")), str(target.get("name", "")), str(spec.get("action", ""))
        if kind not in WORKLOAD_READERS:
            return Preview(unavailable=f"no preview for a {kind or 'missing'} target")
        try:
            workload = self.read_target(kind, ns, name)
            workload.setdefault("kind", kind)
            pods = self._pods(workload)
            replicasets = self._replicasets(workload) if kind == "Deployment" else []
            params = spec.get("parameters") or {}
            configmap = None
            if params.get("configMapName"):
                configmap = self.read_target("ConfigMap", ns, str(params["configMapName"]))
            ctx = PlanContext(
                workload=workload,
                pods=pods,
                replicasets=replicasets,
                pod_name=target.get("podName"),
                container_name=target.get("containerName"),
                parameters=params,
                policy=self._policy(ns),
                has_hpa=kind in ("Deployment", "StatefulSet") and self._has_hpa(ns, kind, name),
                configmap=configmap,
                now=clock.now(),
            )
        except PluginError as err:
            return Preview(unavailable=f"no preview: {err.message}")
        planned = actions.plan(action, ctx)
        if isinstance(planned, Refusal):
            return Preview(unavailable=f"the planner refuses it now: {planned.code}: {planned.message}")
        return Preview(
            description=planned.description,
            before=planned.before,
            after=planned.after,
            patches=tuple(
                {"kind": p.target.kind, "name": p.target.name, "patchType": p.patch_type, "body": p.body}
                for p in planned.patches
            ),
            evict=tuple(planned.evict),
        )

    def _pods(self, workload: Mapping[str, Any]) -> list[dict[str, Any]]:
        if workload.get("kind") == "Pod":
            return [dict(workload)]
        selector = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        if not selector:
            return []
        meta = workload.get("metadata") or {}
        labels = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        out = self._call(
            f"list pods in namespace {meta.get('namespace')}",
            self.core.list_namespaced_pod,
            meta.get("namespace"),
            label_selector=labels,
        )
        return list(out.get("items") or [])

    def _replicasets(self, deployment: Mapping[str, Any]) -> list[dict[str, Any]]:
        meta = deployment.get("metadata") or {}
        out = self._call(
            f"list replicasets in namespace {meta.get('namespace')}",
            self.apps.list_namespaced_replica_set,
            meta.get("namespace"),
        )
        return [
            rs
            for rs in out.get("items") or []
            if any(o.get("uid") == meta.get("uid") for o in (rs.get("metadata") or {}).get("ownerReferences") or [])
        ]

    def _has_hpa(self, namespace: str, kind: str, name: str) -> bool:
        try:
            out = self._call(
                "list horizontalpodautoscalers", self.autoscaling.list_namespaced_horizontal_pod_autoscaler, namespace
            )
        except PluginError:
            return False
        return any(
            (h.get("spec") or {}).get("scaleTargetRef", {}).get("kind") == kind
            and h["spec"]["scaleTargetRef"].get("name") == name
            for h in out.get("items") or []
        )

    def _policy(self, namespace: str) -> Policy:
        from remediator.domain.policy import Policy, merge

        """The built-in defaults tightened by the namespace's RemediationPolicy, when the user may read it (the
        operator's cluster default lives in its own namespace; the operator applies it when it plans)."""
        try:
            out = self._call(
                "list remediationpolicies",
                self.custom.list_namespaced_custom_object,
                api.GROUP,
                api.VERSION,
                namespace,
                api.POLICIES,
            )
        except PluginError:
            return Policy()
        items = sorted(out.get("items") or [], key=lambda o: str(o["metadata"]["name"]))
        try:
            return merge(Policy(), items[0].get("spec")) if items else Policy()
        except ValueError:
            return Policy()
