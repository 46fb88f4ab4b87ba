"""Drive a running Pod's containers into the failure states a kubelet reports, for tests and the demo.

New Pods get their failure from kwok stages (annotation sim.remediator.dev/fail on the template); this module
changes a Pod that is already running, by writing the status a kubelet would write and the Event it emits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from kubernetes import client

FAILURES = ("crashloop", "oom", "imagepull", "config", "probe")


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _container_status(
    container: client.V1Container, pod_name: str, failure: str, restarts: int, exit_code: int, message: str | None
) -> dict[str, Any]:
    now = _now()
    base: dict[str, Any] = {
        "name": container.name,
        "image": container.image,
        "ready": False,
        "started": False,
        "restartCount": 0,
    }
    if failure in ("crashloop", "oom"):
        terminated = {
            "exitCode": 137 if failure == "oom" else exit_code,
            "reason": "OOMKilled" if failure == "oom" else "Error",
            "startedAt": now,
            "finishedAt": now,
        }
        base.update(
            restartCount=restarts,
            lastState={"terminated": terminated},
            state={
                "waiting": {
                    "reason": "CrashLoopBackOff",
                    "message": f"back-off 40s restarting failed container={container.name} pod={pod_name}",
                }
            },
        )
    elif failure == "imagepull":
        base["state"] = {
            "waiting": {
                "reason": "ImagePullBackOff",
                "message": message or f'Back-off pulling image "{container.image}"',
            }
        }
    elif failure == "config":
        base["state"] = {
            "waiting": {
                "reason": "CreateContainerConfigError",
                "message": message or "couldn't find key DATABASE_URL in ConfigMap app-config",
            }
        }
    elif failure == "probe":
        base.update(started=True, state={"running": {"startedAt": now}})
    else:
        raise ValueError(f"unknown failure {failure!r}; one of {', '.join(FAILURES)}")
    return base


_EVENTS = {
    "crashloop": ("BackOff", "Back-off restarting failed container {c} in pod {p}"),
    "oom": ("BackOff", "Back-off restarting failed container {c} in pod {p}"),
    "imagepull": ("Failed", "Error: ImagePullBackOff"),
    "config": ("Failed", "Error: CreateContainerConfigError"),
    "probe": ("Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503"),
}


def fail_pod(
    api: client.ApiClient,
    namespace: str,
    pod_name: str,
    failure: str,
    *,
    restarts: int = 4,
    exit_code: int = 1,
    message: str | None = None,
    container: str | None = None,
    pod: client.V1Pod | None = None,
) -> None:
    """Put one container of a Pod into `failure` (see FAILURES), as its kubelet would, and emit the Event.
    `pod`: the Pod as already read, so that the status write is the first request (benchmarks time from it)."""
    core = client.CoreV1Api(api)
    pod = pod or core.read_namespaced_pod(pod_name, namespace)
    target = container or pod.spec.containers[0].name
    statuses = []
    for c in pod.spec.containers:
        if c.name == target:
            statuses.append(_container_status(c, pod_name, failure, restarts, exit_code, message))
        else:
            statuses.append(
                {
                    "name": c.name,
                    "image": c.image,
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": _now()}},
                }
            )
    now = _now()
    conditions = [
        {"type": t, "status": "False", "reason": "ContainersNotReady", "lastTransitionTime": now}
        for t in ("Ready", "ContainersReady")
    ]
    body = {
        "status": {
            "containerStatuses": statuses,
            "conditions": conditions,
            **({"phase": "Pending"} if failure in ("imagepull", "config") else {}),
        }
    }
    core.patch_namespaced_pod_status(pod_name, namespace, body)
    reason, template = _EVENTS[failure]
    core.create_namespaced_event(
        namespace,
        client.CoreV1Event(
            metadata=client.V1ObjectMeta(generate_name=f"{pod_name}."),
            involved_object=client.V1ObjectReference(
                kind="Pod",
                name=pod_name,
                namespace=namespace,
                uid=pod.metadata.uid,
                api_version="v1",
                field_path=f"spec.containers{{{target}}}",
            ),
            reason=reason,
            message=template.format(c=target, p=pod_name),
            type="Warning",
            count=1,
            first_timestamp=dt.datetime.now(dt.UTC),
            last_timestamp=dt.datetime.now(dt.UTC),
            source=client.V1EventSource(component="kubelet", host=pod.spec.node_name),
        ),
    )
