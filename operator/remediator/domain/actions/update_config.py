"""update_config: apply parameters.configPatch to a ConfigMap or the workload, then restart the rollout."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from remediator.domain.actions.base import (
    TEMPLATE_KINDS,
    Change,
    Patch,
    Plan,
    PlanContext,
    Refusal,
    deep_merge,
    drift_refusal,
)
from remediator.domain.clock import format_time
from remediator.domain.types import WorkloadRef

ACTION = "update_config"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
_WORKLOAD_TOP = {"spec", "metadata"}
_METADATA_KEYS = {"labels", "annotations"}


def restart_patch(when: datetime) -> dict[str, Any]:
    """The strategic-merge patch `kubectl rollout restart` sends: a restartedAt template annotation."""
    return {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: format_time(when)}}}}}


def extract(obj: Any, patch: Any) -> Any:
    """The parts of `obj` a patch would touch: keys of dict patches, named items of list patches."""
    if isinstance(patch, Mapping):
        source = obj if isinstance(obj, Mapping) else {}
        return {key: extract(source.get(key), value) for key, value in patch.items()}
    if isinstance(patch, list) and all(isinstance(i, Mapping) and "name" in i for i in patch):
        items = {i.get("name"): i for i in obj or [] if isinstance(i, Mapping)}
        return [extract(items.get(i["name"]), i) if i["name"] in items else None for i in patch]
    return obj


def _configmap_data(patch: Mapping[str, Any]) -> dict[str, Any] | Refusal:
    data = patch["data"] if set(patch) == {"data"} and isinstance(patch["data"], Mapping) else patch
    bad = [k for k, v in data.items() if v is not None and not isinstance(v, str)]
    if bad:
        return Refusal("InvalidConfigPatch", f"ConfigMap values must be strings; not for {', '.join(bad)}")
    return dict(data)


def _workload_patch_refusal(patch: Mapping[str, Any]) -> Refusal | None:
    if not set(patch) <= _WORKLOAD_TOP:
        extra = ", ".join(sorted(set(patch) - _WORKLOAD_TOP))
        return Refusal("InvalidConfigPatch",
                       f"a workload configPatch may only change spec and metadata, not {extra}")
    if not set(patch.get("metadata") or {}) <= _METADATA_KEYS:
        return Refusal("InvalidConfigPatch",
                       "a workload configPatch may only change metadata labels and annotations")
    if "selector" in (patch.get("spec") or {}):
        return Refusal("InvalidConfigPatch", "spec.selector is immutable; a configPatch cannot change it")
    return None


def plan(ctx: PlanContext) -> Plan | Refusal:
    """Patch the ConfigMap parameters.configMapName (a data patch) or the workload (a strategic-merge patch).

    Either way the rollout is restarted by stamping the template's kubectl.kubernetes.io/restartedAt
    annotation with ctx.now (required), so Pods pick the new configuration up.
    """
    ref = ctx.ref
    config_patch = ctx.parameters.get("configPatch")
    if not config_patch or not isinstance(config_patch, Mapping):
        return Refusal("NoConfigPatch", "update_config needs parameters.configPatch")
    if ref.kind not in TEMPLATE_KINDS:
        return Refusal("ActionNotSupported", f"update_config cannot restart a {ref.kind}")
    if ctx.now is None:
        raise ValueError("update_config needs PlanContext.now for the restartedAt annotation")
    restart = restart_patch(ctx.now)
    stamp = format_time(ctx.now)
    cm_name = ctx.parameters.get("configMapName")
    if cm_name:
        cm = ctx.configmap
        if cm is None or (cm.get("metadata") or {}).get("name") != cm_name:
            return Refusal("ConfigMapNotFound", f"ConfigMap {cm_name} was not found in {ref.namespace}")
        if cm.get("immutable"):
            return Refusal("ConfigMapImmutable", f"ConfigMap {cm_name} is immutable; it cannot be patched")
        data = _configmap_data(config_patch)
        if isinstance(data, Refusal):
            return data
        current = cm.get("data") or {}
        cm_ref = WorkloadRef("ConfigMap", str(cm_name), ref.namespace)
        return Plan(
            action=ACTION,
            target=ref,
            description=f"set {', '.join(sorted(data))} in ConfigMap {cm_name} and restart "
                        f"{ref.kind} {ref.name}",
            before={"configMap": cm_name, "data": {k: current.get(k) for k in data}},
            after={"configMap": cm_name, "data": data, "restartedAt": stamp},
            patches=(Patch(cm_ref, {"data": data}, "merge"), Patch(ref, restart, "strategic")),
        )
    refusal = _workload_patch_refusal(config_patch)
    if refusal is not None:
        return refusal
    return Plan(
        action=ACTION,
        target=ref,
        description=f"patch {ref.kind} {ref.name} with the given configPatch and restart its rollout",
        before={"patch": extract(ctx.workload, config_patch)},
        after={"patch": dict(config_patch), "restartedAt": stamp},
        patches=(Patch(ref, deep_merge(config_patch, restart), "strategic"),),
    )


def undo(change: Change, ctx: PlanContext | None = None) -> Plan | Refusal:
    """Restore a ConfigMap's previous values (and restart); workload patches are not undone automatically."""
    cm_name = change.before.get("configMap")
    if not cm_name:
        return Refusal("NotReversible", "a strategic-merge patch of the workload is not undone "
                                        "automatically; status.change.before holds the previous values")
    if ctx is None or ctx.now is None or ctx.configmap is None:
        return Refusal("NeedsContext", "undoing update_config needs the ConfigMap and the time")
    current = ctx.configmap.get("data") or {}
    after = change.after.get("data") or {}
    now_values = {k: current.get(k) for k in after}
    if now_values != after:
        return drift_refusal(change, now_values)
    ref = WorkloadRef(change.kind, change.name, change.namespace)
    before = dict(change.before.get("data") or {})
    return Plan(
        action=ACTION,
        target=ref,
        description=f"undo update_config: restore {', '.join(sorted(before))} in ConfigMap {cm_name} "
                    f"and restart {ref.kind} {ref.name}",
        before=dict(change.after),
        after={"configMap": cm_name, "data": before, "restartedAt": format_time(ctx.now)},
        patches=(Patch(WorkloadRef("ConfigMap", str(cm_name), ref.namespace), {"data": before}, "merge"),
                 Patch(ref, restart_patch(ctx.now), "strategic")),
    )
