"""Realistic API dicts (camelCase, as the API server returns them) for the domain tests."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
TS = "2024-05-01T12:00:00Z"
NS = "shop"
DEPLOY_UID = "0b7c6f7e-5a0e-4d5e-9a44-8f6a2b1e0c01"


def container_spec(
    name: str = "app",
    image: str = "registry.example.com/shop/web:1.4.2",
    memory_limit: str | None = "256Mi",
    memory_request: str | None = "128Mi",
) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    if memory_limit:
        resources["limits"] = {"cpu": "500m", "memory": memory_limit}
    if memory_request:
        resources["requests"] = {"cpu": "100m", "memory": memory_request}
    return {
        "name": name,
        "image": image,
        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
        "resources": resources,
        "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }


def template(
    containers: list[dict[str, Any]] | None = None, hash_: str | None = None, app: str = "web"
) -> dict[str, Any]:
    labels = {"app": app}
    if hash_:
        labels["pod-template-hash"] = hash_
    return {
        "metadata": {"labels": labels},
        "spec": {
            "containers": containers or [container_spec()],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
        },
    }


def deployment(
    name: str = "web",
    replicas: int = 4,
    revision: int = 3,
    ready: int | None = None,
    containers: list[dict[str, Any]] | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    ann = {"deployment.kubernetes.io/revision": str(revision), **(annotations or {})}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": NS,
            "uid": DEPLOY_UID,
            "generation": revision,
            "resourceVersion": "48211",
            "creationTimestamp": "2024-04-01T08:00:00Z",
            "labels": {"app": name, **(labels or {})},
            "annotations": ann,
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "template": template(containers, app=name),
        },
        "status": {
            "observedGeneration": revision,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": replicas if ready is None else ready,
            "availableReplicas": ready,
        },
    }


def statefulset(name: str = "db", replicas: int = 3) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": NS, "uid": "5c1d", "generation": 1},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": template([container_spec("postgres", "postgres:16.2")], app=name),
        },
        "status": {"replicas": replicas, "readyReplicas": replicas},
    }


def replicaset(
    revision: int,
    hash_: str,
    image: str,
    deploy: str = "web",
    replicas: int = 0,
    containers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{deploy}-{hash_}",
            "namespace": NS,
            "uid": f"rs-{hash_}",
            "labels": {"app": deploy, "pod-template-hash": hash_},
            "annotations": {
                "deployment.kubernetes.io/revision": str(revision),
                "deployment.kubernetes.io/desired-replicas": "4",
            },
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": deploy,
                    "uid": DEPLOY_UID,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": deploy, "pod-template-hash": hash_}},
            "template": template(containers or [container_spec(image=image)], hash_=hash_, app=deploy),
        },
    }


def running_status(name: str = "app", restarts: int = 0, ready: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "image": "registry.example.com/shop/web:1.4.2",
        "imageID": "",
        "containerID": "",
        "ready": ready,
        "started": True,
        "restartCount": restarts,
        "state": {"running": {"startedAt": TS}},
    }


def crashloop_status(
    name: str = "app",
    restarts: int = 5,
    exit_code: int = 1,
    reason: str = "Error",
    message: str | None = None,
) -> dict[str, Any]:
    terminated: dict[str, Any] = {
        "exitCode": exit_code,
        "reason": reason,
        "startedAt": "2024-05-01T11:59:20Z",
        "finishedAt": "2024-05-01T11:59:40Z",
        "containerID": "containerd://abc",
    }
    if message:
        terminated["message"] = message
    return {
        "name": name,
        "image": "registry.example.com/shop/web:1.4.2",
        "imageID": "",
        "ready": False,
        "started": False,
        "restartCount": restarts,
        "lastState": {"terminated": terminated},
        "state": {
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off 1m20s restarting failed container={name} pod=x",
            }
        },
    }


def waiting_status(reason: str, message: str, name: str = "app") -> dict[str, Any]:
    return {
        "name": name,
        "image": "registry.example.com/shop/web:1.4.3",
        "imageID": "",
        "ready": False,
        "started": False,
        "restartCount": 0,
        "lastState": {},
        "state": {"waiting": {"reason": reason, "message": message}},
    }


def pod(
    name: str,
    statuses: list[dict[str, Any]] | None = None,
    ready: bool = True,
    owner: tuple[str, str] | None = ("ReplicaSet", "web-7d9f8c6b5"),
    phase: str = "Running",
    hash_: str = "7d9f8c6b5",
    init_statuses: list[dict[str, Any]] | None = None,
    extra_status: dict[str, Any] | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    statuses = statuses if statuses is not None else [running_status(ready=ready)]
    meta: dict[str, Any] = {
        "name": name,
        "namespace": NS,
        "uid": f"uid-{name}",
        "creationTimestamp": "2024-05-01T11:00:00Z",
        "labels": {"app": "web", "pod-template-hash": hash_},
    }
    if owner:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": owner[0],
                "name": owner[1],
                "uid": "owner-uid",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    if deleting:
        meta["deletionTimestamp"] = TS
    conditions = [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2024-05-01T11:00:00Z"},
        {"type": "Initialized", "status": "True", "lastTransitionTime": "2024-05-01T11:00:01Z"},
        {
            "type": "ContainersReady",
            "status": "True" if ready else "False",
            "lastTransitionTime": "2024-05-01T11:00:05Z",
        },
        {
            "type": "Ready",
            "status": "True" if ready else "False",
            "lastTransitionTime": "2024-05-01T11:00:05Z",
        },
    ]
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": conditions,
        "hostIP": "10.0.0.12",
        "podIP": "10.244.1.17",
        "startTime": "2024-05-01T11:00:00Z",
        "qosClass": "Burstable",
        "containerStatuses": statuses,
    }
    if init_statuses is not None:
        status["initContainerStatuses"] = init_statuses
    status.update(extra_status or {})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {"containers": [container_spec()], "nodeName": "node-1", "restartPolicy": "Always"},
        "status": status,
    }


def event(
    reason: str,
    message: str,
    type_: str = "Warning",
    kind: str = "Pod",
    name: str = "web-7d9f8c6b5-x2k4q",
    field_path: str | None = "spec.containers{app}",
) -> dict[str, Any]:
    involved: dict[str, Any] = {
        "kind": kind,
        "namespace": NS,
        "name": name,
        "uid": "uid-x",
        "apiVersion": "v1",
        "resourceVersion": "4711",
    }
    if field_path:
        involved["fieldPath"] = field_path
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{name}.17c8a3e5f1a2b3c4", "namespace": NS, "creationTimestamp": TS},
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": type_,
        "source": {"component": "kubelet", "host": "node-1"},
        "firstTimestamp": "2024-05-01T11:58:00Z",
        "lastTimestamp": TS,
        "count": 7,
        "reportingComponent": "kubelet",
        "reportingInstance": "node-1",
    }


def copy_of(obj: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(obj)
