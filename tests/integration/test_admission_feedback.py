"""Rule 4 of the admission policy (manifests/admission/remediator-approval.yaml) on the real API server: feedback
names its judge, so nobody judges in someone else's name and nobody counts twice.

Users are impersonated; alice and bob are requesters (they may patch Remediations, feedback annotations
included). No operator runs: the API server alone accepts or refuses each request.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from remediator import api
from tests.fixtures.cluster import Cluster
from tests.integration.test_admission_approval import RBAC_GROUP, As, assert_denied, denied

pytestmark = pytest.mark.integration

FEEDBACK_POLICY = "remediator-feedback.remediator.dev"


@dataclass
class Judges:
    admin: As
    alice: As
    bob: As


@pytest.fixture
def judges(cluster: Cluster, namespace: str) -> Iterator[Judges]:
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    for user in ("alice", "bob"):
        rbac.create_namespaced_role_binding(
            namespace,
            {
                "metadata": {"name": f"{user}-requester"},
                "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": "kube-remediator-requester"},
                "subjects": [{"apiGroup": RBAC_GROUP, "kind": "User", "name": user}],
            },
        )
    handles = Judges(As(cluster, namespace, None), As(cluster, namespace, "alice"), As(cluster, namespace, "bob"))
    _wait_until_enforced(handles.bob)
    try:
        yield handles
    finally:
        for handle in (handles.admin, handles.alice, handles.bob):
            handle.api_client.close()


def _wait_until_enforced(bob: As, timeout: float = 30.0) -> None:
    """Wait until bob may create (RBAC) and a pre-judged create is refused by rule 4 (server-side dry run)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            bob.create(
                api.REMEDIATIONS,
                f"probe-{uuid.uuid4().hex[:8]}",
                {api.REQUESTED_BY: "bob", api.FEEDBACK: "correct", api.FEEDBACK_BY: "bob"},
                dry_run=True,
            )
            last = "admitted"
        except ApiException as err:
            last = err.body
            if FEEDBACK_POLICY in str(err.body):
                return
        time.sleep(0.2)
    raise AssertionError(f"rule 4 is not enforced after {timeout:.0f}s (last answer: {last})")


def _remediation(judges: Judges, name: str = "grow") -> str:
    judges.admin.create(api.REMEDIATIONS, name)  # as the operator would: no requested-by, exempt
    return name


def _annotations(judges: Judges, name: str) -> dict[str, str]:
    return dict(judges.admin.get(api.REMEDIATIONS, name)["metadata"].get("annotations") or {})


def _take_up(judges: Judges, name: str, by: str, label: str) -> None:
    """What the operator does with a verdict: its judge's entry in status.judgments (admin writes status)."""
    judges.admin.custom.patch_namespaced_custom_object_status(
        api.GROUP,
        api.VERSION,
        judges.admin.namespace,
        api.REMEDIATIONS,
        name,
        {"status": {"judgments": [{"by": by, "verified": True, "label": label, "recorded": False}]}},
    )


def test_two_people_judge_in_their_own_names(judges: Judges) -> None:
    name = _remediation(judges)
    rem = judges.alice.annotate(api.REMEDIATIONS, name, {api.FEEDBACK: "correct", api.FEEDBACK_BY: "alice"})
    assert rem["metadata"]["annotations"][api.FEEDBACK_BY] == "alice"
    _take_up(judges, name, "alice", "correct")
    rem = judges.bob.annotate(
        api.REMEDIATIONS,
        name,
        {api.FEEDBACK: "incorrect", api.CORRECT_ACTION: "notify", api.FEEDBACK_BY: "bob"},
    )
    assert rem["metadata"]["annotations"][api.FEEDBACK_BY] == "bob"
    # ... and bob may withdraw the annotations altogether (that records nothing).
    cleared = dict.fromkeys((api.FEEDBACK, api.CORRECT_ACTION, api.CORRECT_TYPE, api.FEEDBACK_BY))
    rem = judges.bob.annotate(api.REMEDIATIONS, name, cleared)
    assert api.FEEDBACK not in (rem["metadata"].get("annotations") or {})


@pytest.mark.parametrize(
    "change",
    [
        {api.FEEDBACK: "correct", api.FEEDBACK_BY: "bob"},  # in someone else's name
        {api.FEEDBACK: "correct"},  # in nobody's name
        {api.FEEDBACK: "incorrect", api.CORRECT_TYPE: "oom", api.FEEDBACK_BY: ""},
        {api.CORRECT_ACTION: "notify"},  # a correction alone
    ],
    ids=["someone-else", "absent", "empty", "correction-only"],
)
def test_feedback_in_another_name_is_refused_and_changes_nothing(judges: Judges, change: dict[str, str]) -> None:
    name = _remediation(judges)
    before = _annotations(judges, name)
    denial = denied(partial(judges.alice.annotate, api.REMEDIATIONS, name, change))
    assert_denied(denial, FEEDBACK_POLICY, 403, f"set {api.FEEDBACK_BY} to your user name", "('alice')")
    assert _annotations(judges, name) == before


def test_one_person_cannot_count_twice_by_renaming_feedback_by(judges: Judges) -> None:
    """alice judged; now she tries to pass her verdict off as another person's, or to drop her name from it."""
    name = _remediation(judges)
    judges.alice.annotate(api.REMEDIATIONS, name, {api.FEEDBACK: "incorrect", api.FEEDBACK_BY: "alice"})
    judged = _annotations(judges, name)
    for change in (
        {api.FEEDBACK_BY: "alice2"},  # only the name, the verdict kept
        {api.FEEDBACK_BY: "bob"},
        {api.FEEDBACK_BY: None},  # the verdict left without a name
        {api.FEEDBACK: "correct", api.FEEDBACK_BY: "carol"},
    ):
        denial = denied(partial(judges.alice.annotate, api.REMEDIATIONS, name, change))
        assert_denied(denial, FEEDBACK_POLICY, 403, api.FEEDBACK_BY, "('alice')")
    assert _annotations(judges, name) == judged
    # Nor can bob re-sign alice's verdict as hers (or anyone's but his own).
    denial = denied(partial(judges.bob.annotate, api.REMEDIATIONS, name, {api.FEEDBACK: "correct"}))
    assert_denied(denial, FEEDBACK_POLICY, 403, "('bob')")


def test_a_verdict_not_taken_up_yet_cannot_be_overwritten_by_another_person(judges: Judges) -> None:
    """The annotations hold one verdict: bob may replace alice's only once the operator has taken hers up."""
    name = _remediation(judges)
    judges.alice.annotate(api.REMEDIATIONS, name, {api.FEEDBACK: "incorrect", api.FEEDBACK_BY: "alice"})
    # alice herself may still change her mind (her entry will be replaced anyway)
    judges.alice.annotate(api.REMEDIATIONS, name, {api.CORRECT_ACTION: "notify", api.FEEDBACK_BY: "alice"})
    bobs = {api.FEEDBACK: "correct", api.CORRECT_ACTION: None, api.FEEDBACK_BY: "bob"}
    denial = denied(partial(judges.bob.annotate, api.REMEDIATIONS, name, bobs))
    assert_denied(denial, FEEDBACK_POLICY, 422, "the verdict of 'alice' is not in status.judgments yet")
    assert _annotations(judges, name)[api.FEEDBACK_BY] == "alice"
    _take_up(judges, name, "alice", "incorrect")
    rem = judges.bob.annotate(api.REMEDIATIONS, name, bobs)
    assert rem["metadata"]["annotations"][api.FEEDBACK_BY] == "bob"


def test_a_verdict_that_cannot_be_taken_up_may_be_cleared(judges: Judges) -> None:
    name = _remediation(judges)
    judges.alice.annotate(api.REMEDIATIONS, name, {api.FEEDBACK: "maybe", api.FEEDBACK_BY: "alice"})
    cleared = dict.fromkeys((api.FEEDBACK, api.CORRECT_ACTION, api.CORRECT_TYPE, api.FEEDBACK_BY))
    judges.bob.annotate(api.REMEDIATIONS, name, cleared)
    rem = judges.bob.annotate(api.REMEDIATIONS, name, {api.FEEDBACK: "correct", api.FEEDBACK_BY: "bob"})
    assert rem["metadata"]["annotations"][api.FEEDBACK_BY] == "bob"


@pytest.mark.parametrize(
    "extra",
    [
        {api.FEEDBACK: "correct", api.FEEDBACK_BY: "alice"},
        {api.FEEDBACK_BY: "alice"},
        {api.FEEDBACK: "incorrect", api.CORRECT_ACTION: "notify", api.FEEDBACK_BY: "alice"},
    ],
    ids=["verdict", "name-only", "correction"],
)
def test_feedback_at_creation_is_refused(judges: Judges, extra: dict[str, str]) -> None:
    denial = denied(lambda: judges.alice.create(api.REMEDIATIONS, "prejudged", {api.REQUESTED_BY: "alice", **extra}))
    assert_denied(denial, FEEDBACK_POLICY, 422, "feedback present at creation is not a judgment")


def test_other_annotations_beside_a_judgment_are_not_checked(judges: Judges) -> None:
    """Rule 4 matches only changes of the feedback annotations: bob may annotate after alice judged."""
    name = _remediation(judges)
    judges.alice.annotate(api.REMEDIATIONS, name, {api.FEEDBACK: "correct", api.FEEDBACK_BY: "alice"})
    rem = judges.bob.annotate(api.REMEDIATIONS, name, {"example.com/ticket": "OPS-1"})
    assert rem["metadata"]["annotations"][api.FEEDBACK_BY] == "alice"


def test_the_exempt_pass_rule_4(judges: Judges) -> None:
    """cluster-admin (like the operator) holds remediations/status patch: rule 4 does not apply to it."""
    judges.admin.create(api.REMEDIATIONS, "by-admin", {api.FEEDBACK: "correct", api.FEEDBACK_BY: "someone"})
    rem = judges.admin.annotate(api.REMEDIATIONS, "by-admin", {api.FEEDBACK: "incorrect", api.FEEDBACK_BY: None})
    assert rem["metadata"]["annotations"][api.FEEDBACK] == "incorrect"


def test_the_feedback_guard_binding_is_labelled(cluster: Cluster) -> None:
    """The operator trusts feedback-by only while it finds this binding by its label."""
    out = cluster.kubectl(
        "get",
        "validatingadmissionpolicybindings",
        "-l",
        f"{api.LABEL_GUARD}={api.GUARD_FEEDBACK}",
        "-o",
        "jsonpath={.items[*].metadata.name}",
    )
    assert out.stdout.split() == [FEEDBACK_POLICY]
