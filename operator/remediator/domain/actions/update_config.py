"""update_config: apply parameters.configPatch to a ConfigMap or the workload, then restart the rollout."""

from __future__ import annotations

import re
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
from remediator.domain.patch_guard import is_dns1123_subdomain, patch_refusal, referenced_names
from remediator.domain.types import WorkloadRef

ACTION = "update_config"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


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
    bad = [str(k)[:64] for k in data if not _CONFIG_KEY.match(str(k)) or len(str(k)) > 253]
    if bad:  # the API server would refuse them on every retry
        return Refusal("InvalidConfigPatch", f"invalid ConfigMap keys: {', '.join(bad)}")
    return dict(data)


def plan(ctx: PlanContext) -> Plan | Refusal:
    """Patch the ConfigMap parameters.configMapName (a data patch) or the workload (a strategic-merge patch).

    Either way the rollout is restarted by stamping the template's kubectl.kubernetes.io/restartedAt
    annotation with ctx.now (required), so Pods pick the new configuration up.
    """
    ref = ctx.ref
    config_patch = ctx.parameters.get("configPatch")
    cm_name = ctx.parameters.get("configMapName")
    if isinstance(config_patch, list) and config_patch:  # JSON Patch: never accepted; refused naming its paths
        return patch_refusal(config_patch, ctx.workload) or Refusal("InvalidConfigPatch", "JSON Patch is refused")
    if not config_patch or not isinstance(config_patch, Mapping):
        return Refusal("NoConfigPatch", "update_config needs parameters.configPatch")
    if cm_name is None:
        # Before anything else: a workload patch is sent with the operator's rights, not the author's.
        forbidden = patch_refusal(config_patch, ctx.workload, memory_ceiling_bytes=ctx.policy.memory_ceiling_bytes)
        if forbidden is not None:
            return forbidden
    elif not is_dns1123_subdomain(cm_name):
        # Refused here, for good: an invalid name would fail the API call on every retry.
        return Refusal("InvalidParameter", f"configMapName {str(cm_name)[:80]!r} is not a valid ConfigMap name "
                                           "(DNS-1123 subdomain, at most 253 characters)")
    if ref.kind not in TEMPLATE_KINDS:
        return Refusal("ActionNotSupported", f"update_config cannot restart a {ref.kind}")
    if ctx.now is None:
        raise ValueError("update_config needs PlanContext.now for the restartedAt annotation")
    restart = restart_patch(ctx.now)
    stamp = format_time(ctx.now)
    if cm_name is not None:
        if cm_name not in referenced_names(ctx.workload)[0]:
            # Otherwise any ConfigMap of the namespace could be rewritten through the operator.
            return Refusal("ConfigMapNotReferenced", f"{ref.kind} {ref.name} does not use ConfigMap {cm_name}; "
                                                     "update_config only edits a ConfigMap the workload reads")
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
