"""What an update_config configPatch may touch: checked before any dry run, so a patch never widens privileges.

Whoever may edit a Remediation's spec.parameters writes configPatch, and the operator (not that person) sends
it with its own, broader rights. So the patch is held to a small allow-list; everything else is refused with
the path of the field at fault.

The patch is sent as a strategic-merge patch (update_config never sends JSON Patch). Allowed, and nothing else:

    spec.template.spec.containers[NAME]       NAME must be a container the workload already has (not an init
                                              or ephemeral container): strategic merge keys containers by
                                              name, so an unknown name would add a container.
        .env[VAR].value                       a string
        .env[VAR].valueFrom.configMapKeyRef   {name, key, optional}; any ConfigMap of the namespace (ConfigMaps
                                              hold configuration, not credentials)
        .env[VAR].valueFrom.secretKeyRef      {name, key, optional}; only a Secret the workload already
                                              references (env, envFrom, volumes of any container): reading a
                                              Secret the Pod could not read before is a widening
        .env[VAR].valueFrom.fieldRef          {fieldPath, apiVersion}: the Pod's own metadata/status
        .env[VAR].valueFrom.resourceFieldRef  {containerName, resource, divisor}
        .envFrom[]                            {prefix, configMapRef | secretRef: {name, optional}}, same rules
        .args                                 a list of strings (command stays the image's/workload's)
        .resources.limits / .requests         cpu, memory, ephemeral-storage quantities; memory at most the
                                              policy's memoryCeiling; never null (removing a limit unbounds it)

Refused everywhere, with a path: any other key (workload and template metadata included: labels move Pods
into Services/NetworkPolicies and annotations carry AppArmor/seccomp/mesh switches; the operator adds the
restartedAt annotation itself), in particular securityContext, host*, volumes and volumeMounts (no volume
sources at all: keeps hostPath and friends out without a list of safe ones), serviceAccount(Name),
automountServiceAccountToken, command, image, scheduling fields; every strategic-merge directive ($patch,
$retainKeys, $setElementOrder/..., $deleteFromPrimitiveList/...), since each can delete or reorder what the
allow-list never looks at; and JSON Patch (a list of operations), which update_config does not accept.

Paths read like `spec.template.spec.containers[app].env[DB_PASSWORD].valueFrom.secretKeyRef.name`: list items
by name where they have one, else by index; JSON Patch violations give the operation's own pointer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from remediator.domain.quantity import parse_quantity

if TYPE_CHECKING:
    from remediator.domain.actions.base import Refusal

FORBIDDEN_CODE = "ForbiddenPatchField"
# DNS-1123 subdomain, as ConfigMap and Secret names must be (same pattern as the Remediation CRD).
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
RESOURCE_NAMES = ("cpu", "memory", "ephemeral-storage")
_MAX_LISTED = 8  # violations spelt out in a Refusal message (status.message is 1024 characters)

# Why the notable forbidden fields are forbidden; any other key gets the generic reason.
_WHY: dict[str, str] = {
    "securityContext": "it sets users, privilege and capabilities",
    "privileged": "privileged containers own the node",
    "capabilities": "capabilities widen what the container may do",
    "allowPrivilegeEscalation": "it lets processes gain privileges",
    "hostPID": "host namespaces reach outside the Pod",
    "hostNetwork": "host namespaces reach outside the Pod",
    "hostIPC": "host namespaces reach outside the Pod",
    "hostUsers": "host namespaces reach outside the Pod",
    "hostAliases": "it redirects the Pod's name resolution",
    "hostPath": "it mounts the node's filesystem",
    "volumes": "volume sources (hostPath and the like) are not configuration",
    "volumeMounts": "mounts can shadow paths inside the container",
    "serviceAccountName": "the service account decides the Pod's API rights",
    "serviceAccount": "the service account decides the Pod's API rights",
    "automountServiceAccountToken": "it hands the Pod an API token",
    "command": "it replaces what the container runs",
    "image": "it replaces what the container runs",
    "containers": "containers are matched by name and may not be added",
    "initContainers": "a patch may not add or change init containers",
    "ephemeralContainers": "a patch may not add ephemeral containers",
    "nodeName": "scheduling fields place Pods on chosen nodes",
    "nodeSelector": "scheduling fields place Pods on chosen nodes",
    "affinity": "scheduling fields place Pods on chosen nodes",
    "tolerations": "scheduling fields place Pods on chosen nodes",
    "priorityClassName": "priority can preempt other workloads",
    "priority": "priority can preempt other workloads",
    "runtimeClassName": "the runtime class changes the isolation",
    "metadata": "labels and annotations select Pods and switch security features",
    "selector": "spec.selector is immutable and picks the Pods",
    "claims": "resource claims hand devices to the container",
}


@dataclass(frozen=True)
class Violation:
    """One part of a configPatch update_config will not send: where it is, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path or '(the patch)'}: {self.reason}"


def is_dns1123_subdomain(name: object) -> bool:
    """Whether `name` is a valid object name (ConfigMap, Secret, Deployment): DNS-1123, at most 253 chars."""
    return isinstance(name, str) and len(name) <= 253 and DNS1123_SUBDOMAIN.match(name) is not None


def _pod_spec(workload: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = workload.get("spec") or {}
    if workload.get("kind") == "Pod":
        return spec
    return (spec.get("template") or {}).get("spec") or {}


def referenced_names(workload: Mapping[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    """(ConfigMaps, Secrets) the workload's Pod spec already names: env, envFrom and volumes of any container.

    imagePullSecrets are left out on purpose: the kubelet uses them, the containers never see them.
    """
    spec = _pod_spec(workload)
    configmaps: set[str] = set()
    secrets: set[str] = set()

    def add(target: set[str], ref: Any, key: str = "name") -> None:
        if isinstance(ref, Mapping) and isinstance(ref.get(key), str):
            target.add(ref[key])

    for list_key in ("containers", "initContainers", "ephemeralContainers"):
        for container in spec.get(list_key) or []:
            for env in container.get("env") or []:
                value_from = env.get("valueFrom") or {}
                add(configmaps, value_from.get("configMapKeyRef"))
                add(secrets, value_from.get("secretKeyRef"))
            for source in container.get("envFrom") or []:
                add(configmaps, source.get("configMapRef"))
                add(secrets, source.get("secretRef"))
    for volume in spec.get("volumes") or []:
        add(configmaps, volume.get("configMap"))
        add(secrets, volume.get("secret"), "secretName")
        for source in (volume.get("projected") or {}).get("sources") or []:
            add(configmaps, source.get("configMap"))
            add(secrets, source.get("secret"))
    return frozenset(configmaps), frozenset(secrets)


# What decides a Pod's privileges, beyond what it runs: a rollback must not change these (see privileges()).
_POD_PRIVILEGE_FIELDS = ("securityContext", "hostPID", "hostNetwork", "hostIPC", "hostUsers", "hostAliases",
                         "serviceAccountName", "serviceAccount", "automountServiceAccountToken", "volumes",
                         "runtimeClassName", "shareProcessNamespace")
_CONTAINER_PRIVILEGE_FIELDS = ("securityContext", "volumeMounts", "volumeDevices")


def privileges(pod_template: Mapping[str, Any]) -> dict[str, Any]:
    """The privilege-relevant parts of a Pod template: pod security and host fields, service account, volumes,
    per container its securityContext and mounts, and the Secrets referenced. Two templates with equal
    privileges() differ only in what they run and how they are configured, not in what they may reach."""
    spec = pod_template.get("spec") or {}
    out: dict[str, Any] = {key: spec.get(key) for key in _POD_PRIVILEGE_FIELDS if spec.get(key) is not None}
    for list_key in ("containers", "initContainers", "ephemeralContainers"):
        for container in spec.get(list_key) or []:
            fields = {k: container.get(k) for k in _CONTAINER_PRIVILEGE_FIELDS if container.get(k) is not None}
            if fields:
                out[f"{list_key}[{container.get('name')}]"] = fields
    secrets = referenced_names({"kind": "Pod", "spec": spec})[1]
    if secrets:
        out["secrets"] = sorted(secrets)
    return out


def _item_label(item: Any, index: int) -> str:
    if isinstance(item, Mapping) and isinstance(item.get("name"), str):
        return f"[{item['name']}]"
    return f"[{index}]"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _leaves(value: Any, path: str) -> Iterable[str]:
    """The paths of everything under a forbidden key, so the refusal names e.g. securityContext.privileged."""
    if isinstance(value, Mapping) and value:
        for key, sub in value.items():
            yield from _leaves(sub, _join(path, str(key)))
    elif isinstance(value, list) and any(isinstance(item, Mapping) for item in value):
        for index, item in enumerate(value):
            label = path + _item_label(item, index)
            rest = {k: v for k, v in item.items() if k != "name"} if isinstance(item, Mapping) else item
            yield from _leaves(rest, label) if rest else [label]
    else:
        yield path


Handler = Callable[[Any, str], object]


class _Checker:
    def __init__(self, workload: Mapping[str, Any], memory_ceiling_bytes: int | None) -> None:
        spec = _pod_spec(workload)
        self.containers = {c.get("name") for c in spec.get("containers") or [] if isinstance(c, Mapping)}
        self.init_containers = {c.get("name") for c in spec.get("initContainers") or [] if isinstance(c, Mapping)}
        _, self.secrets = referenced_names(workload)
        self.ceiling = memory_ceiling_bytes
        self.found: list[Violation] = []

    def bad(self, path: str, reason: str) -> None:
        self.found.append(Violation(path, reason))

    def forbidden(self, key: str, value: Any, path: str) -> None:
        why = _WHY.get(key, "update_config changes only container env, envFrom, args and resources")
        reason = f"{key} may not be changed by update_config: {why}"
        for leaf in _leaves(value, path):
            self.bad(leaf, reason)

    def fields(self, obj: Any, path: str, allowed: Mapping[str, Handler]) -> None:
        if not isinstance(obj, Mapping):
            self.bad(path, "must be an object")
            return
        for raw_key, value in obj.items():
            key = str(raw_key)
            sub = _join(path, key)
            if key.startswith("$"):
                self.bad(sub, f"the strategic-merge directive {key} is refused: it can delete or reorder fields "
                              "the allow-list does not see")
            elif key in allowed:
                allowed[key](value, sub)
            else:
                self.forbidden(key, value, sub)

    def named_list(self, value: Any, path: str, each: Callable[[Mapping[str, Any], str], None]) -> None:
        if not isinstance(value, list):
            self.bad(path, "must be a list")
            return
        seen: set[str] = set()
        for index, item in enumerate(value):
            sub = path + _item_label(item, index)
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str) or not item["name"]:
                self.bad(sub, "each item must be an object with a name")
                continue
            if item["name"] in seen:
                self.bad(sub, "the name appears twice")
                continue
            seen.add(item["name"])
            each(item, sub)

    # -- the allow-list, outside in ------------------------------------------------------------------------
    def root(self, patch: Any, kind: str) -> None:
        if kind == "Pod":
            self.fields(patch, "", {"spec": self.pod_spec})
            return
        self.fields(patch, "", {"spec": lambda v, p: self.fields(v, p, {"template": self.template})})

    def template(self, value: Any, path: str) -> None:
        self.fields(value, path, {"spec": self.pod_spec})

    def pod_spec(self, value: Any, path: str) -> None:
        self.fields(value, path, {"containers": lambda v, p: self.named_list(v, p, self.container)})

    def container(self, item: Mapping[str, Any], path: str) -> None:
        name = item["name"]
        if name not in self.containers:
            where = "an init container" if name in self.init_containers else "not a container of the workload"
            self.bad(path, f"container {name} is {where}; a patch may only change existing containers")
            return
        self.fields(item, path, {
            "name": lambda v, p: None,
            "env": self.env,
            "envFrom": self.env_from,
            "args": self.args,
            "resources": self.resources,
        })

    def env(self, value: Any, path: str) -> None:
        if value is not None:  # null empties the list: configuration, not privilege
            self.named_list(value, path, self.env_var)

    def env_var(self, item: Mapping[str, Any], path: str) -> None:
        self.fields(item, path, {"name": lambda v, p: None, "value": self.string, "valueFrom": self.value_from})
        if "value" in item and "valueFrom" in item:
            self.bad(path, "give value or valueFrom, not both")

    def value_from(self, value: Any, path: str) -> None:
        self.fields(value, path, {
            "configMapKeyRef": lambda v, p: self.key_ref(v, p, secret=False),
            "secretKeyRef": lambda v, p: self.key_ref(v, p, secret=True),
            "fieldRef": lambda v, p: self.fields(v, p, {"fieldPath": self.string, "apiVersion": self.string}),
            "resourceFieldRef": lambda v, p: self.fields(
                v, p, {"containerName": self.string, "resource": self.string, "divisor": self.quantity}),
        })
        if isinstance(value, Mapping) and len(value) != 1:
            self.bad(path, "valueFrom needs exactly one source")

    def key_ref(self, value: Any, path: str, secret: bool) -> None:
        self.fields(value, path, {
            "name": lambda v, p: self.object_name(v, p, secret),
            "key": self.config_key,
            "optional": self.boolean,
        })

    def env_from(self, value: Any, path: str) -> None:
        if value is None:
            return
        if not isinstance(value, list):
            self.bad(path, "must be a list")
            return
        for index, item in enumerate(value):
            sub = f"{path}[{index}]"
            self.fields(item, sub, {
                "prefix": self.string,
                "configMapRef": lambda v, p: self.source_ref(v, p, secret=False),
                "secretRef": lambda v, p: self.source_ref(v, p, secret=True),
            })
            if isinstance(item, Mapping) and ("configMapRef" in item) == ("secretRef" in item):
                self.bad(sub, "each envFrom item needs exactly one of configMapRef and secretRef")

    def source_ref(self, value: Any, path: str, secret: bool) -> None:
        self.fields(value, path, {"name": lambda v, p: self.object_name(v, p, secret), "optional": self.boolean})

    def object_name(self, value: Any, path: str, secret: bool) -> None:
        if not is_dns1123_subdomain(value):
            self.bad(path, f"{value!r} is not a valid object name (DNS-1123 subdomain, at most 253 characters)")
        elif secret and value not in self.secrets:
            self.bad(path, f"Secret {value} is not referenced by the workload; a patch may not give the Pod a "
                           "Secret it could not read before")

    def args(self, value: Any, path: str) -> None:
        if value is not None and (not isinstance(value, list) or not all(isinstance(a, str) for a in value)):
            self.bad(path, "args must be a list of strings")

    def resources(self, value: Any, path: str) -> None:
        quantities = lambda v, p: self.resource_map(v, p)  # noqa: E731 - a table entry, not a function
        self.fields(value, path, {"limits": quantities, "requests": quantities})

    def resource_map(self, value: Any, path: str) -> None:
        if not isinstance(value, Mapping):
            self.bad(path, "must be an object; null would remove every limit")
            return
        for raw_name, amount in value.items():
            name, sub = str(raw_name), _join(path, str(raw_name))
            if name not in RESOURCE_NAMES:
                self.bad(sub, f"only {', '.join(RESOURCE_NAMES)} may be set")
                continue
            size = self.quantity(amount, sub)
            if name == "memory" and size is not None and self.ceiling is not None and size > self.ceiling:
                self.bad(sub, f"{amount} is above the policy's memory ceiling")

    # -- leaves --------------------------------------------------------------------------------------------
    def quantity(self, value: Any, path: str) -> int | None:
        if value is None or isinstance(value, bool) or not isinstance(value, str | int | float):
            self.bad(path, "must be a quantity; null would remove it")
            return None
        try:
            return parse_quantity(value)
        except ValueError:
            self.bad(path, f"{value!r} is not a Kubernetes quantity")
            return None

    def string(self, value: Any, path: str) -> None:
        if not isinstance(value, str):
            self.bad(path, "must be a string")

    def boolean(self, value: Any, path: str) -> None:
        if not isinstance(value, bool):
            self.bad(path, "must be true or false")

    def config_key(self, value: Any, path: str) -> None:
        if not isinstance(value, str) or len(value) > 253 or not _CONFIG_KEY.match(value):
            self.bad(path, f"{value!r} is not a valid ConfigMap/Secret key")


def _json_patch(ops: Sequence[Any]) -> list[Violation]:
    found = []
    for index, op in enumerate(ops):
        pointer = op.get("path") if isinstance(op, Mapping) else None
        path = pointer if isinstance(pointer, str) and pointer else f"[{index}]"
        segments = [s.replace("~1", "/").replace("~0", "~") for s in path.split("/")]
        notable = next((s for s in segments if s in _WHY), None)
        why = f"; {notable} would be forbidden anyway: {_WHY[notable]}" if notable else ""
        found.append(Violation(path, "update_config does not accept JSON Patch (RFC 6902) operations; give "
                                     f"a strategic-merge patch object{why}"))
    return found or [Violation("", "an empty JSON Patch changes nothing")]


def check_config_patch(
    patch: Any, workload: Mapping[str, Any], *, memory_ceiling_bytes: int | None = None
) -> tuple[Violation, ...]:
    """Every part of a workload configPatch update_config refuses (empty: the patch is allowed).

    `workload` is the object as read now: its containers and the Secrets it references bound the patch.
    `memory_ceiling_bytes` (the policy's memoryCeiling) bounds memory limits and requests when given.
    """
    if isinstance(patch, list):
        return tuple(_json_patch(patch))
    if not isinstance(patch, Mapping):
        return (Violation("", "configPatch must be an object (a strategic-merge patch)"),)
    checker = _Checker(workload, memory_ceiling_bytes)
    checker.root(patch, str(workload.get("kind", "")))
    return tuple(checker.found)


def refusal(violations: Sequence[Violation]) -> Refusal | None:
    """A ForbiddenPatchField refusal naming the paths at fault, or None when there are no violations."""
    if not violations:
        return None
    # Imported here: the actions package imports this module (update_config), so a top-level import would cycle.
    from remediator.domain.actions.base import Refusal

    listed = "; ".join(str(v) for v in violations[:_MAX_LISTED])
    more = f"; and {len(violations) - _MAX_LISTED} more" if len(violations) > _MAX_LISTED else ""
    return Refusal(FORBIDDEN_CODE, f"configPatch touches fields update_config may not change: {listed}{more}")


def patch_refusal(
    patch: Any, workload: Mapping[str, Any], *, memory_ceiling_bytes: int | None = None
) -> Refusal | None:
    """check_config_patch, as the Refusal a planner returns (None: the patch may be sent)."""
    return refusal(check_config_patch(patch, workload, memory_ceiling_bytes=memory_ceiling_bytes))
