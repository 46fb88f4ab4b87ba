"""The approval admission policy (manifests/admission/remediator-approval.yaml) on the real API server.

Users are impersonated (Impersonate-User); the fixture's kubeconfig is cluster-admin, which holds
remediations/status patch and is therefore exempt. `alice` is bound to kube-remediator-approver and
kube-remediator-requester, `mallory` to kube-remediator-requester only. No operator runs: the API server alone
accepts or refuses each request.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from remediator import api
from tests.fixtures.cluster import Cluster

pytestmark = pytest.mark.integration

APPROVAL_POLICY = "remediator-approval.remediator.dev"
AT_CREATION_POLICY = "remediator-approval-at-creation.remediator.dev"
REQUESTED_BY_POLICY = "remediator-requested-by.remediator.dev"
RBAC_GROUP = "rbac.authorization.k8s.io"

REM_SPEC = {
    "target": {"kind": "Deployment", "name": "web"},
    "action": "scale_up",
    "errorType": "app_crash",
    "confidence": 0.8,
    "parameters": {"replicas": 2},
}
EE_SPEC = {"target": {"kind": "Deployment", "name": "web"}, "message": "web keeps crashing", "source": "user"}


@dataclass
class Denial:
    status: int
    reason: str
    message: str


class As:
    """The custom-objects API of one impersonated user (or of the cluster-admin when user is None)."""

    def __init__(self, cluster: Cluster, namespace: str, user: str | None) -> None:
        self.namespace = namespace
        self.api_client = config.new_client_from_config(str(cluster.kubeconfig))
        if user is not None:
            self.api_client.set_default_header("Impersonate-User", user)
            self.api_client.set_default_header("Impersonate-Group", "system:authenticated")
        self.custom = client.CustomObjectsApi(self.api_client)

    def create(
        self, plural: str, name: str, annotations: dict[str, str] | None = None, *, dry_run: bool = False
    ) -> dict[str, Any]:
        kind, spec = ("Remediation", REM_SPEC) if plural == api.REMEDIATIONS else ("ErrorEvent", EE_SPEC)
        body = {
            "apiVersion": api.API_VERSION,
            "kind": kind,
            "metadata": {"name": name, "annotations": annotations or {}},
            "spec": spec,
        }
        extra = {"dry_run": "All"} if dry_run else {}
        return dict(
            self.custom.create_namespaced_custom_object(api.GROUP, api.VERSION, self.namespace, plural, body, **extra)
        )

    def patch(self, plural: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(
            self.custom.patch_namespaced_custom_object(api.GROUP, api.VERSION, self.namespace, plural, name, body)
        )

    def annotate(self, plural: str, name: str, annotations: Mapping[str, str | None]) -> dict[str, Any]:
        return self.patch(plural, name, {"metadata": {"annotations": annotations}})

    def get(self, plural: str, name: str) -> dict[str, Any]:
        return dict(self.custom.get_namespaced_custom_object(api.GROUP, api.VERSION, self.namespace, plural, name))


@dataclass
class Users:
    admin: As
    alice: As
    mallory: As


def denied(call: Callable[[], object]) -> Denial:
    """Run a request that the admission policy must refuse; return the refusal's status, reason and message."""
    try:
        call()
    except ApiException as err:
        body = json.loads(err.body)
        return Denial(int(err.status), str(body.get("reason")), str(body.get("message")))
    raise AssertionError("the request was admitted, but the policy should have denied it")


def assert_denied(denial: Denial, policy: str, status: int, *phrases: str) -> None:
    assert denial.status == status, denial
    assert denial.reason == {403: "Forbidden", 422: "Invalid"}[status], denial
    assert f"ValidatingAdmissionPolicy '{policy}' with binding '{policy}' denied request" in denial.message, denial
    for phrase in phrases:
        assert phrase in denial.message, denial


@pytest.fixture
def users(cluster: Cluster, namespace: str) -> Iterator[Users]:
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    for user, role in (
        ("alice", "kube-remediator-approver"),
        ("alice", "kube-remediator-requester"),
        ("mallory", "kube-remediator-requester"),
    ):
        rbac.create_namespaced_role_binding(
            namespace,
            {
                "metadata": {"name": f"{user}-{role}"},
                "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
                "subjects": [{"apiGroup": RBAC_GROUP, "kind": "User", "name": user}],
            },
        )
    handles = Users(As(cluster, namespace, None), As(cluster, namespace, "alice"), As(cluster, namespace, "mallory"))
    _wait_until_enforced(handles.mallory)
    try:
        yield handles
    finally:
        for handle in (handles.admin, handles.alice, handles.mallory):
            handle.api_client.close()


def _wait_until_enforced(mallory: As, timeout: float = 30.0) -> None:
    """RoleBindings and a new policy reach the API server's caches asynchronously: wait until mallory may
    create (RBAC) and an unattributed create is refused (the policy), with a server-side dry run."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            mallory.create(api.ERROREVENTS, f"probe-{uuid.uuid4().hex[:8]}", dry_run=True)
            last = "admitted"
        except ApiException as err:
            last = err.body
            if REQUESTED_BY_POLICY in str(err.body):
                return
        time.sleep(0.2)
    raise AssertionError(f"the admission policy is not enforced after {timeout:.0f}s (last answer: {last})")


def _pending(users: Users, name: str = "grow") -> str:
    users.mallory.create(api.REMEDIATIONS, name, {api.REQUESTED_BY: "mallory"})
    return name


# -- rule 3: requested-by -----------------------------------------------------------------------------------
@pytest.mark.parametrize("plural", [api.ERROREVENTS, api.REMEDIATIONS])
def test_create_with_own_requested_by_is_admitted(users: Users, plural: str) -> None:
    obj = users.mallory.create(plural, "mine", {api.REQUESTED_BY: "mallory"})
    assert obj["metadata"]["annotations"][api.REQUESTED_BY] == "mallory"


@pytest.mark.parametrize("plural", [api.ERROREVENTS, api.REMEDIATIONS])
@pytest.mark.parametrize("annotations", [{api.REQUESTED_BY: "alice"}, {}], ids=["someone-else", "absent"])
def test_create_without_own_requested_by_is_denied(users: Users, plural: str, annotations: dict[str, str]) -> None:
    denial = denied(lambda: users.mallory.create(plural, "forged", annotations))
    assert_denied(denial, REQUESTED_BY_POLICY, 403, api.REQUESTED_BY, "kubectl auth whoami", "('mallory')")


@pytest.mark.parametrize("plural", [api.ERROREVENTS, api.REMEDIATIONS])
@pytest.mark.parametrize("new", ["alice", None], ids=["changed", "removed"])
def test_requested_by_is_immutable(users: Users, plural: str, new: str | None) -> None:
    users.mallory.create(plural, "mine", {api.REQUESTED_BY: "mallory"})
    denial = denied(lambda: users.mallory.annotate(plural, "mine", {api.REQUESTED_BY: new}))
    assert_denied(denial, REQUESTED_BY_POLICY, 422, f"{api.REQUESTED_BY} is immutable", "('mallory')")


def test_requested_by_cannot_be_added_to_the_operators_objects(users: Users) -> None:
    users.admin.create(api.ERROREVENTS, "from-operator")
    denial = denied(lambda: users.mallory.annotate(api.ERROREVENTS, "from-operator", {api.REQUESTED_BY: "mallory"}))
    assert_denied(denial, REQUESTED_BY_POLICY, 422, "immutable", "('<absent>')")


# -- rule 2: no approval at creation ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "extra",
    [
        {api.APPROVE: "true", api.APPROVER: "alice"},
        {api.REJECT: "true"},
        {api.APPROVED_GENERATION: "1"},
        {api.REJECT_REASON: "pre-written"},
    ],
    ids=["approve", "reject", "generation", "reject-reason"],
)
@pytest.mark.parametrize("who", ["mallory", "alice"])
def test_an_approval_present_at_creation_is_denied(users: Users, who: str, extra: dict[str, str]) -> None:
    creator: As = getattr(users, who)
    denial = denied(lambda: creator.create(api.REMEDIATIONS, "preapproved", {api.REQUESTED_BY: who, **extra}))
    assert_denied(denial, AT_CREATION_POLICY, 422, "an approval present at creation is not an approval")


# -- rule 1: approving an existing Remediation -------------------------------------------------------------
def test_approval_needs_the_approve_verb(users: Users) -> None:
    name = _pending(users)
    # Any approval annotation counts, not only approve=true: nor may mallory plant an approver or a rejection.
    for change in (
        {api.APPROVE: "true", api.APPROVER: "mallory"},
        {api.APPROVER: "mallory"},
        {api.REJECT: "true", api.APPROVER: "mallory"},
        {api.REJECT_REASON: "approved by the CTO"},  # nor put words in a later rejection
    ):
        denial = denied(partial(users.mallory.annotate, api.REMEDIATIONS, name, change))
        assert_denied(denial, APPROVAL_POLICY, 403, "'approve' remediations.remediator.dev", "'mallory' is not")


def test_approver_must_be_the_requester(users: Users) -> None:
    name = _pending(users)
    for change in ({api.APPROVE: "true", api.APPROVER: "bob"}, {api.APPROVE: "true"}, {api.REJECT: "true"}):
        denial = denied(partial(users.alice.annotate, api.REMEDIATIONS, name, change))
        assert_denied(denial, APPROVAL_POLICY, 403, f"set {api.APPROVER} to your user name", "('alice')")


def test_approver_approves_in_her_own_name(users: Users) -> None:
    name = _pending(users)
    rem = users.alice.annotate(api.REMEDIATIONS, name, {api.APPROVE: "true", api.APPROVER: "alice"})
    assert rem["metadata"]["annotations"][api.APPROVE] == "true"
    assert rem["metadata"]["annotations"][api.APPROVER] == "alice"
    # ... and may withdraw it again (removal is a change of the approval annotations, and she may make it).
    rem = users.alice.annotate(api.REMEDIATIONS, name, {api.APPROVE: None, api.APPROVER: None})
    assert api.APPROVE not in (rem["metadata"].get("annotations") or {})


def test_rejection_in_her_own_name_with_the_reviewed_generation(users: Users) -> None:
    name = _pending(users)
    generation = str(users.alice.get(api.REMEDIATIONS, name)["metadata"]["generation"])
    rem = users.alice.annotate(
        api.REMEDIATIONS, name, {api.REJECT: "true", api.APPROVER: "alice", api.APPROVED_GENERATION: generation}
    )
    assert rem["metadata"]["annotations"][api.APPROVED_GENERATION] == generation


def test_approval_and_spec_change_cannot_travel_together(users: Users) -> None:
    name = _pending(users)
    body = {
        "metadata": {"annotations": {api.APPROVE: "true", api.APPROVER: "alice"}},
        "spec": {"parameters": {"replicas": 5}},
    }
    denial = denied(lambda: users.alice.patch(api.REMEDIATIONS, name, body))
    assert_denied(denial, APPROVAL_POLICY, 422, "cannot carry a change of spec")
    assert users.alice.get(api.REMEDIATIONS, name)["spec"]["parameters"] == {"replicas": 2}


def test_approved_generation_must_be_current(users: Users) -> None:
    name = _pending(users)
    users.mallory.patch(api.REMEDIATIONS, name, {"spec": {"parameters": {"replicas": 3}}})  # generation 2 now
    stale = {api.APPROVE: "true", api.APPROVER: "alice", api.APPROVED_GENERATION: "1"}
    denial = denied(lambda: users.alice.annotate(api.REMEDIATIONS, name, stale))
    assert_denied(denial, APPROVAL_POLICY, 422, f"{api.APPROVED_GENERATION} is '1'", "at generation 2")
    rem = users.alice.annotate(api.REMEDIATIONS, name, {**stale, api.APPROVED_GENERATION: "2"})
    assert rem["metadata"]["annotations"][api.APPROVED_GENERATION] == "2"


def test_the_approve_verb_is_per_namespace(cluster: Cluster, users: Users) -> None:
    """alice approves in the test namespace only: in another namespace, where she is a mere requester, she may not."""
    other = f"t-{uuid.uuid4().hex[:10]}"
    core = client.CoreV1Api(cluster.api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other)))
    try:
        client.RbacAuthorizationV1Api(cluster.api).create_namespaced_role_binding(
            other,
            {
                "metadata": {"name": "alice-requester"},
                "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "kube-remediator-requester"},
                "subjects": [{"apiGroup": RBAC_GROUP, "kind": "User", "name": "alice"}],
            },
        )
        alice_there = As(cluster, other, "alice")
        deadline = time.monotonic() + 20
        while True:  # the RoleBinding reaches the authorizer's cache asynchronously
            try:
                alice_there.create(api.REMEDIATIONS, "there", {api.REQUESTED_BY: "alice"})
                break
            except ApiException as err:
                if err.status != 403 or REQUESTED_BY_POLICY in str(err.body) or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        approval = {api.APPROVE: "true", api.APPROVER: "alice"}
        denial = denied(lambda: alice_there.annotate(api.REMEDIATIONS, "there", approval))
        assert_denied(denial, APPROVAL_POLICY, 403, f"in namespace {other}", "'alice' is not")
        alice_there.api_client.close()
    finally:
        core.delete_namespace(other)


# -- what the policy leaves alone ---------------------------------------------------------------------------
def test_editing_parameters_without_approval_annotations_is_admitted(users: Users) -> None:
    """The operator voids an approval when the spec changes; the policy does not forbid the edit."""
    name = _pending(users)
    users.alice.annotate(api.REMEDIATIONS, name, {api.APPROVE: "true", api.APPROVER: "alice"})
    rem = users.mallory.patch(api.REMEDIATIONS, name, {"spec": {"parameters": {"replicas": 4}}})
    assert rem["spec"]["parameters"] == {"replicas": 4}
    # Other annotations (feedback, in her own name: rule 4) do not involve the approval rule either.
    rem = users.mallory.annotate(api.REMEDIATIONS, name, {api.FEEDBACK: "correct", api.FEEDBACK_BY: "mallory"})
    assert rem["metadata"]["annotations"][api.FEEDBACK] == "correct"


def test_exempt_requester_passes_everything(users: Users) -> None:
    """cluster-admin holds remediations/status patch, as the operator does: no rule applies to it."""
    admin = users.admin
    preapproved = {api.APPROVE: "true", api.APPROVER: "whoever", api.APPROVED_GENERATION: "7"}
    admin.create(api.REMEDIATIONS, "by-admin", preapproved)
    admin.create(api.ERROREVENTS, "by-admin")
    admin.patch(
        api.REMEDIATIONS,
        "by-admin",
        {"metadata": {"annotations": {api.REJECT: "true", api.REQUESTED_BY: "someone"}}, "spec": {"confidence": 0.5}},
    )
    admin.annotate(api.ERROREVENTS, "by-admin", {api.REQUESTED_BY: "someone"})
    rem = admin.get(api.REMEDIATIONS, "by-admin")
    assert rem["metadata"]["annotations"][api.REQUESTED_BY] == "someone"
    assert rem["metadata"]["annotations"][api.REJECT] == "true"
