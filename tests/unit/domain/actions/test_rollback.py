"""actions/rollback.py: return a Deployment to an earlier ReplicaSet's Pod template."""

from __future__ import annotations

from remediator.domain.actions import Plan, PlanContext, Refusal, plan, undo
from tests.unit.domain.builders import deployment, replicaset, template

IMG = "registry.example.com/shop/web:"


def history() -> list[dict]:
    other = replicaset(9, "zzz999", IMG + "other", deploy="api")  # another Deployment's ReplicaSet
    other["metadata"]["ownerReferences"][0].update(name="api", uid="another-uid")
    return [
        replicaset(1, "aaa111", IMG + "1.0"),
        replicaset(2, "bbb222", IMG + "1.1"),
        replicaset(3, "ccc333", IMG + "1.2", replicas=4),
        other,
    ]


def deploy_at_rev3() -> dict:
    d = deployment(revision=3)
    d["spec"]["template"] = template(history()[2]["spec"]["template"]["spec"]["containers"])
    return d


def test_rollback_picks_previous_revision_template() -> None:
    result = plan("rollback", PlanContext(deploy_at_rev3(), replicasets=history()))
    assert isinstance(result, Plan)
    [patch] = result.patches
    assert patch.patch_type == "json"
    test_op, replace_op = patch.body
    assert test_op == {
        "op": "test",
        "path": "/metadata/annotations/deployment.kubernetes.io~1revision",
        "value": "3",
    }
    assert replace_op["op"] == "replace" and replace_op["path"] == "/spec/template"
    assert replace_op["value"]["spec"]["containers"][0]["image"] == IMG + "1.1"
    assert "pod-template-hash" not in replace_op["value"]["metadata"]["labels"]
    assert result.before == {"revision": 3, "podTemplateHash": "ccc333", "images": {"app": IMG + "1.2"}}
    assert result.after == {"revision": 2, "podTemplateHash": "bbb222", "images": {"app": IMG + "1.1"}}


def test_rollback_to_explicit_revision() -> None:
    result = plan(
        "rollback", PlanContext(deploy_at_rev3(), replicasets=history(), parameters={"toRevision": 1})
    )
    assert isinstance(result, Plan) and result.after["images"] == {"app": IMG + "1.0"}
    missing = plan(
        "rollback", PlanContext(deploy_at_rev3(), replicasets=history(), parameters={"toRevision": 7})
    )
    assert isinstance(missing, Refusal) and missing.code == "RevisionNotFound"


def test_rollback_without_previous_revision_is_refused() -> None:
    d = deployment(revision=1)
    result = plan("rollback", PlanContext(d, replicasets=[replicaset(1, "aaa111", IMG + "1.0")]))
    assert isinstance(result, Refusal) and result.code == "NoPreviousRevision"


def test_rollback_ignores_other_deployments_replicasets() -> None:
    rs = history()
    result = plan("rollback", PlanContext(deploy_at_rev3(), replicasets=[rs[2], rs[3]]))
    assert isinstance(result, Refusal) and result.code == "NoPreviousRevision"


def test_rollback_needs_a_deployment() -> None:
    sts = deployment()
    sts["kind"] = "StatefulSet"
    result = plan("rollback", PlanContext(sts, replicasets=history()))
    assert isinstance(result, Refusal) and result.code == "ActionNotSupported"


def test_undo_rollback_returns_to_the_replaced_template() -> None:
    result = plan("rollback", PlanContext(deploy_at_rev3(), replicasets=history()))
    assert isinstance(result, Plan)
    # After the rollback the controller re-numbers bbb222 as revision 4.
    rolled = deployment(revision=4)
    rolled["spec"]["template"] = template(history()[1]["spec"]["template"]["spec"]["containers"])
    rs = history()
    rs[1]["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "4"
    back = undo("rollback", result.change(), PlanContext(rolled, replicasets=rs))
    assert isinstance(back, Plan)
    assert back.patches[0].body[1]["value"]["spec"]["containers"][0]["image"] == IMG + "1.2"
    assert back.patches[0].body[0]["value"] == "4"
    assert isinstance(undo("rollback", result.change()), Refusal)


def test_unusable_to_revision_is_refused_not_raised() -> None:
    for value in ("two", -1, 1.5, True):
        result = plan("rollback", PlanContext(deploy_at_rev3(), replicasets=history(),
                                              parameters={"toRevision": value}))
        assert isinstance(result, Refusal) and result.code == "InvalidParameter", value


def test_rollback_to_a_more_privileged_template_is_refused() -> None:
    rs = history()
    old = rs[0]["spec"]["template"]["spec"]
    old["hostPID"] = True
    old["containers"][0]["securityContext"] = {"privileged": True}
    result = plan("rollback", PlanContext(deploy_at_rev3(), replicasets=rs, parameters={"toRevision": 1}))
    assert isinstance(result, Refusal) and result.code == "RollbackChangesPrivileges"
    assert "containers[app]" in result.message and "hostPID" in result.message
    # Revision 2 differs only in its image: allowed.
    assert isinstance(plan("rollback", PlanContext(deploy_at_rev3(), replicasets=rs)), Plan)
