"""rollback: return a Deployment to an earlier revision's Pod template, as `kubectl rollout undo` does."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from remediator.domain.actions.base import (
    Change,
    Patch,
    Plan,
    PlanContext,
    Refusal,
    drift_refusal,
    number_parameter,
)
from remediator.domain.patch_guard import privileges

ACTION = "rollback"
REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"


def revision_of(obj: Mapping[str, Any]) -> int | None:
    """The deployment.kubernetes.io/revision annotation of a Deployment or ReplicaSet, when it is a number."""
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _owned(
    deployment: Mapping[str, Any], replicasets: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    meta = deployment.get("metadata") or {}
    uid, name = meta.get("uid"), meta.get("name")
    owned = []
    for rs in replicasets:
        for ref in (rs.get("metadata") or {}).get("ownerReferences") or []:
            if ref.get("kind") == "Deployment" and (ref.get("uid") == uid if uid and ref.get("uid")
                                                    else ref.get("name") == name):
                owned.append(rs)
                break
    return owned


def clean_template(template: Mapping[str, Any]) -> dict[str, Any]:
    """A Pod template without the pod-template-hash label the ReplicaSet controller adds."""
    out = copy.deepcopy(dict(template))
    labels = (out.get("metadata") or {}).get("labels")
    if isinstance(labels, dict):
        labels.pop(HASH_LABEL, None)
    return out


def images(template: Mapping[str, Any]) -> dict[str, str]:
    """Container name -> image of a Pod template (init containers included)."""
    spec = template.get("spec") or {}
    return {str(c.get("name")): str(c.get("image")) for key in ("initContainers", "containers")
            for c in spec.get(key) or []}


def _hash(rs: Mapping[str, Any] | None) -> str | None:
    if rs is None:
        return None
    value = ((rs.get("metadata") or {}).get("labels") or {}).get(HASH_LABEL)
    return str(value) if value is not None else None


def _to(ctx: PlanContext, source: Mapping[str, Any], current_rev: int, current_rs: Mapping[str, Any] | None,
        description: str) -> Plan | Refusal:
    ref = ctx.ref
    template = clean_template((source.get("spec") or {}).get("template") or {})
    current = clean_template((ctx.workload.get("spec") or {}).get("template") or {})
    if template == current:
        return Refusal("AlreadyAtRevision", f"{ref.name} already runs the Pod template of revision "
                                            f"{revision_of(source)}")
    was, becomes = privileges(current), privileges(template)
    if was != becomes:
        # An older template may run privileged, mount host paths or read other Secrets: a human decides.
        changed = sorted(k for k in set(was) | set(becomes) if was.get(k) != becomes.get(k))
        return Refusal("RollbackChangesPrivileges", f"revision {revision_of(source)} of {ref.name} differs from the "
                                                    f"current template in {', '.join(changed)[:300]}; roll back "
                                                    "by hand if that is intended")
    ops: list[dict[str, Any]] = [
        # Guard: fail the patch if the Deployment moved to another revision since we read it.
        {"op": "test", "path": "/metadata/annotations/" + REVISION.replace("~", "~0").replace("/", "~1"),
         "value": str(current_rev)},
        {"op": "replace", "path": "/spec/template", "value": template},
    ]
    return Plan(
        action=ACTION,
        target=ref,
        description=description,
        before={"revision": current_rev, "podTemplateHash": _hash(current_rs), "images": images(current)},
        after={"revision": revision_of(source), "podTemplateHash": _hash(source), "images": images(template)},
        patches=(Patch(ref, ops, "json"),),
    )


def plan(ctx: PlanContext) -> Plan | Refusal:
    """Replace the template with that of parameters.toRevision, or of the newest revision below the current.

    Refuses when the target is not a Deployment, has no revision annotation, or no such ReplicaSet exists.
    """
    ref = ctx.ref
    if ref.kind != "Deployment":
        return Refusal("ActionNotSupported", f"rollback needs a Deployment, not a {ref.kind}")
    current_rev = revision_of(ctx.workload)
    if current_rev is None:
        return Refusal("NoRevision", f"Deployment {ref.name} has no {REVISION} annotation yet")
    owned = [rs for rs in _owned(ctx.workload, ctx.replicasets) if revision_of(rs) is not None]
    current_rs = next((rs for rs in owned if revision_of(rs) == current_rev), None)
    requested = number_parameter(ctx.parameters, "toRevision", 0, 2**63 - 1, integer=True)
    if isinstance(requested, Refusal):
        return requested
    wanted = int(requested or 0)
    if wanted:
        if wanted == current_rev:
            return Refusal("AlreadyAtRevision", f"Deployment {ref.name} is already at revision {wanted}")
        source = next((rs for rs in owned if revision_of(rs) == wanted), None)
        if source is None:
            return Refusal("RevisionNotFound",
                           f"Deployment {ref.name} has no ReplicaSet for revision {wanted}")
    else:
        older = [rs for rs in owned if (revision_of(rs) or 0) < current_rev]
        if not older:
            return Refusal("NoPreviousRevision",
                           f"Deployment {ref.name} has no revision before {current_rev}")
        source = max(older, key=lambda rs: revision_of(rs) or 0)
    return _to(ctx, source, current_rev, current_rs,
               f"roll back Deployment {ref.name} from revision {current_rev} to revision {revision_of(source)}")


def undo(change: Change, ctx: PlanContext | None = None) -> Plan | Refusal:
    """Roll forward to the template the rollback replaced (ctx: the Deployment and its ReplicaSets)."""
    if ctx is None:
        return Refusal("NeedsContext", "undoing a rollback needs the Deployment and its ReplicaSets")
    wanted_hash = change.before.get("podTemplateHash")
    if not wanted_hash:
        return Refusal("NothingToUndo", "the change records no pod-template-hash to return to")
    now_images = images((ctx.workload.get("spec") or {}).get("template") or {})
    if now_images != change.after.get("images"):
        return drift_refusal(change, now_images)
    current_rev = revision_of(ctx.workload)
    owned = _owned(ctx.workload, ctx.replicasets)
    source = next((rs for rs in owned if _hash(rs) == wanted_hash), None)
    if source is None or current_rev is None:
        return Refusal("RevisionNotFound", f"the ReplicaSet with pod-template-hash {wanted_hash} is gone")
    current_rs = next((rs for rs in owned if revision_of(rs) == current_rev), None)
    return _to(ctx, source, current_rev, current_rs,
               f"undo rollback: Deployment {change.name} back to the template of revision "
               f"{change.before.get('revision')}")
