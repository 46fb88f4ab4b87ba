"""Several people judge one Remediation: feedback-by, status.judgments (one per person), one document each."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from remediator.adapters.store import StoreUnavailable
from remediator.learning import feedback as fb
from remediator.learning.feedback import FeedbackLabel, feedback_from_annotations, merge_judgment
from remediator.learning.recorder import CachedGuard, FeedbackFlusher, FeedbackRecorder
from remediator.locks import KeyedLocks
from tests.unit.operator.helpers import FakeKube, errorevent, remediation

KEY = ("remediations", "shop", "web-oom")


def _says(by: str, label: str, action: str | None = None, etype: str | None = None) -> dict[str, str]:
    out = {fb.FEEDBACK_ANNOTATION: label, fb.FEEDBACK_BY_ANNOTATION: by}
    if action:
        out[fb.CORRECT_ACTION_ANNOTATION] = action
    if etype:
        out[fb.CORRECT_TYPE_ANNOTATION] = etype
    return out


def _judgment(by: str, label: str, action: str | None = None, etype: str | None = None) -> dict[str, Any]:
    return FeedbackLabel(label, "human", action, etype, by).to_judgment(by, "2026-01-02T03:04:05Z")


# -- parsing -------------------------------------------------------------------------------------------------
def test_feedback_by_is_parsed_as_written_and_long_names_hashed() -> None:
    got = feedback_from_annotations(_says("alice", "incorrect", "notify"))
    assert got == FeedbackLabel("incorrect", "human", "notify", None, "alice")
    spaced = feedback_from_annotations(_says(" alice", "correct"))
    assert isinstance(spaced, FeedbackLabel) and spaced.by == " alice", "not stripped into alice's identity"
    assert feedback_from_annotations({fb.FEEDBACK_ANNOTATION: "correct"}) == FeedbackLabel("correct", by="")
    long = "https://issuer.example.com#" + "x" * 300
    parsed = feedback_from_annotations(_says(long, "correct"))
    assert isinstance(parsed, FeedbackLabel)
    assert parsed.by.startswith("sha256:") and len(parsed.by) <= fb.BY_MAX
    assert parsed.by != fb.judge_name(long + "y"), "distinct long names stay distinct people"
    impostor = fb.judge_name(parsed.by)  # a user literally called "sha256:<hash of the long name>"
    assert impostor.startswith("sha256:") and impostor != parsed.by, "cannot take over the long name's entry"
    assert fb.judge_name("alice") == "alice"
    # feedback-by alone is no verdict
    assert feedback_from_annotations({fb.FEEDBACK_BY_ANNOTATION: "alice"}) is None


def test_to_judgment_is_the_status_entry() -> None:
    assert _judgment("alice", "incorrect", "notify") == {
        "by": "alice",
        "verified": True,
        "label": "incorrect",
        "correctAction": "notify",
        "at": "2026-01-02T03:04:05Z",
        "recorded": False,
    }
    assert _judgment("", "correct")["verified"] is False


# -- merging into status.judgments ------------------------------------------------------------------------------
def test_a_new_person_is_appended_and_the_first_stays() -> None:
    alice = {**_judgment("alice", "correct"), "recorded": True, "id": "x"}
    merged, what = merge_judgment([alice], _judgment("bob", "incorrect", "notify"))
    assert what == "added"
    assert [j["by"] for j in merged] == ["alice", "bob"]
    assert merged[0] == alice, "the first person's judgment is kept as it was (recorded)"


def test_the_same_person_replaces_their_own_entry() -> None:
    start = [_judgment("alice", "correct"), _judgment("bob", "correct")]
    merged, what = merge_judgment(start, _judgment("alice", "incorrect", "rollback"))
    assert what == "replaced"
    assert [(j["by"], j["label"]) for j in merged] == [("alice", "incorrect"), ("bob", "correct")]
    assert merged[0]["recorded"] is False, "a changed mind is recorded again"
    again, what = merge_judgment(merged, _judgment("alice", "incorrect", "rollback"))
    assert what == "same" and again == merged


def test_unverified_verdicts_share_one_entry() -> None:
    merged, _ = merge_judgment([_judgment("alice", "correct")], _judgment("", "incorrect"))
    merged, what = merge_judgment(merged, _judgment("", "correct"))
    assert what == "replaced" and [j["by"] for j in merged] == ["alice", ""]


def test_judgments_are_bounded() -> None:
    full = [_judgment(f"user-{i}", "correct") for i in range(fb.JUDGMENTS_MAX)]
    merged, what = merge_judgment(full, _judgment("one-too-many", "correct"))
    assert what == "full" and merged == full
    merged, what = merge_judgment(full, _judgment("user-3", "incorrect"))
    assert what == "replaced", "who already judged may still change their mind"


# -- agreement -------------------------------------------------------------------------------------------------
def test_disagreement_names_every_verdict() -> None:
    judgments = [_judgment("alice", "incorrect", "notify"), _judgment("bob", "correct")]
    assert fb.disagreement(judgments) == (
        "2 people disagree: alice says incorrect->notify, bob says correct; "
        "training uses none of these until they agree"
    )
    assert fb.judgments_condition(judgments) == (False, "JudgmentsDisagree", fb.disagreement(judgments))
    two_corrections = [_judgment("alice", "incorrect", "notify"), _judgment("bob", "incorrect", "rollback")]
    assert fb.disagreement(two_corrections) is not None
    types = [_judgment("alice", "incorrect", None, "oom"), _judgment("", "incorrect", "notify")]
    assert "(unverified) says incorrect->notify" in (fb.disagreement(types) or "")


def test_agreement_and_an_uncorrected_incorrect_are_not_disagreement() -> None:
    assert fb.disagreement([_judgment("alice", "correct"), _judgment("bob", "correct")]) is None
    compatible = [_judgment("alice", "incorrect", "notify"), _judgment("bob", "incorrect")]
    assert fb.disagreement(compatible) is None
    assert fb.judgments_condition(compatible) == (
        True,
        "JudgmentsAgree",
        "2 people agree: alice says incorrect->notify, bob says incorrect",
    )
    assert fb.judgments_condition([_judgment("alice", "correct")]) is None


def test_agreement_factor() -> None:
    assert [fb.agreement_factor(n) for n in range(5)] == [1.0, 1.0, 1.5, 2.0, 2.0]


# -- documents ----------------------------------------------------------------------------------------------------
def test_judgment_documents_are_one_per_person() -> None:
    rem = remediation()
    alice = fb.judgment_document(rem, _judgment("alice", "incorrect", "notify"), errorevent())
    bob = fb.judgment_document(rem, _judgment("bob", "correct"), errorevent())
    assert alice["_id"] == "shop/web-oom/rem-uid-1/human/alice" and bob["_id"] == "shop/web-oom/rem-uid-1/human/bob"
    assert (alice["judge"], alice["verified"], alice["source"], alice["weight"]) == (
        "alice",
        True,
        "human",
        fb.WEIGHTS["human"],
    )
    assert (alice["label"], alice["correct_action"], alice["judged_at"]) == (
        "incorrect",
        "notify",
        "2026-01-02T03:04:05Z",
    )
    assert alice["remediation"] == bob["remediation"] == "shop/web-oom/rem-uid-1"
    unverified = fb.judgment_document(rem, _judgment("", "correct"), None)
    assert unverified["_id"] == "shop/web-oom/rem-uid-1/human" and unverified["verified"] is False
    legacy = fb.feedback_document(remediation(feedback={"label": "correct", "source": "human"}), None)
    assert legacy["_id"] == unverified["_id"], "an upgraded operator rewrites the pre-judges document"
    # Another Remediation of the same error is a separate judgment.
    other = fb.judgment_document(remediation(uid="rem-uid-2"), _judgment("alice", "incorrect", "notify"), None)
    assert other["_id"] != alice["_id"]


def test_judgment_ids_are_bounded() -> None:
    rem = remediation(name="n" * 120)
    a = fb.judgment_id(rem, "alice")
    b = fb.judgment_id(rem, "bob")
    assert a.startswith("sha256:") and len(a) <= fb.ID_MAX and a != b and a == fb.judgment_id(rem, "alice")


def test_pending_feedback_sees_unrecorded_judgments() -> None:
    rem = remediation(feedback={"label": "correct", "source": "verification", "recorded": True})
    assert not fb.pending_feedback(rem)
    rem["status"]["judgments"] = [{**_judgment("alice", "correct"), "recorded": True}, _judgment("bob", "correct")]
    assert fb.pending_feedback(rem) and fb.pending_judgments(rem) == [1]


# -- flusher and recorder with fakes -----------------------------------------------------------------------------
class Kube(FakeKube):
    def __init__(self, objects: dict[tuple[str, str, str], dict[str, Any]]) -> None:
        super().__init__(objects)
        self.events: list[tuple[str, str, bool]] = []

    def event(self, obj: dict[str, Any], reason: str, message: str, *, warning: bool = False) -> None:
        self.events.append((reason, message, warning))


class Store:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.down = False
        self.fail_after: int | None = None

    def record_feedback(self, doc: dict[str, Any]) -> bool:
        if self.down or (self.fail_after is not None and len(self.docs) >= self.fail_after):
            raise StoreUnavailable("down")
        new = doc["_id"] not in self.docs
        self.docs[doc["_id"]] = copy.deepcopy(doc)
        return new


def _world(guard: bool = True) -> tuple[Store, Kube, FeedbackRecorder]:
    rem = remediation(feedback={"label": "correct", "source": "verification", "recorded": True})
    kube = Kube({KEY: rem, ("errorevents", "shop", "web-oom"): errorevent()})
    store = Store()
    recorder = FeedbackRecorder(kube, KeyedLocks(), FeedbackFlusher(store, kube), guard_installed=lambda: guard)
    return store, kube, recorder


def _judge(kube: Kube, recorder: FeedbackRecorder, annotations: dict[str, str]) -> dict[str, Any]:
    kube.objects[KEY]["metadata"]["annotations"] = annotations
    recorder.human_feedback(copy.deepcopy(kube.objects[KEY]))
    return kube.objects[KEY]["status"]


def _condition(status: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(c for c in status.get("conditions") or [] if c["type"] == kind)


def test_two_people_two_judgments_two_documents() -> None:
    store, kube, recorder = _world()
    _judge(kube, recorder, _says("alice", "incorrect", "notify"))
    status = _judge(kube, recorder, _says("bob", "correct"))
    assert [(j["by"], j["label"], j["recorded"]) for j in status["judgments"]] == [
        ("alice", "incorrect", True),
        ("bob", "correct", True),
    ]
    assert sorted(store.docs) == ["shop/web-oom/rem-uid-1/human/alice", "shop/web-oom/rem-uid-1/human/bob"]
    assert status["judgments"][0]["id"] == "shop/web-oom/rem-uid-1/human/alice"
    assert status["feedback"]["source"] == "verification", "the operator's own feedback is left alone"
    cond = _condition(status, "JudgmentsAgree")
    assert cond["status"] == "False" and cond["reason"] == "JudgmentsDisagree"
    assert cond["message"].startswith("2 people disagree: alice says incorrect->notify, bob says correct")
    assert ("JudgmentsDisagree", cond["message"], True) in kube.events


def test_the_same_verdict_again_writes_nothing_and_a_changed_mind_rewrites_one_document() -> None:
    store, kube, recorder = _world()
    _judge(kube, recorder, _says("alice", "correct"))
    patches = len(kube.patches)
    _judge(kube, recorder, _says("alice", "correct"))
    assert len(kube.patches) == patches, "nothing new to write"
    status = _judge(kube, recorder, _says("alice", "incorrect", "rollback"))
    assert len(status["judgments"]) == 1 and status["judgments"][0]["correctAction"] == "rollback"
    assert list(store.docs) == ["shop/web-oom/rem-uid-1/human/alice"]
    assert store.docs["shop/web-oom/rem-uid-1/human/alice"]["correct_action"] == "rollback"


def test_renaming_feedback_by_without_the_guard_cannot_count_twice() -> None:
    store, kube, recorder = _world(guard=False)
    _judge(kube, recorder, _says("alice", "correct"))
    status = _judge(kube, recorder, _says("bob", "correct"))
    assert [(j["by"], j["verified"]) for j in status["judgments"]] == [("", False)]
    assert list(store.docs) == ["shop/web-oom/rem-uid-1/human"]
    assert "not trusted" in _condition(status, "FeedbackValid")["message"]


def test_without_feedback_by_the_judgment_is_the_unverified_one() -> None:
    store, kube, recorder = _world()
    status = _judge(kube, recorder, {fb.FEEDBACK_ANNOTATION: "correct"})
    assert status["judgments"][0]["by"] == "" and status["judgments"][0]["verified"] is False
    assert "unverified" in _condition(status, "FeedbackValid")["message"]
    assert store.docs["shop/web-oom/rem-uid-1/human"]["judge"] == ""


def test_a_seventeenth_person_is_refused_with_a_condition() -> None:
    store, kube, recorder = _world()
    kube.objects[KEY]["status"]["judgments"] = [
        {**_judgment(f"user-{i}", "correct"), "recorded": True} for i in range(fb.JUDGMENTS_MAX)
    ]
    status = _judge(kube, recorder, _says("late", "correct"))
    assert len(status["judgments"]) == fb.JUDGMENTS_MAX and "late" not in {j["by"] for j in status["judgments"]}
    cond = _condition(status, "FeedbackValid")
    assert cond["status"] == "False" and cond["reason"] == "TooManyJudgments"
    assert store.docs == {}, "nothing recorded"


def test_judgments_wait_while_the_store_is_down_and_each_is_stored_once() -> None:
    store, kube, recorder = _world()
    store.down = True
    _judge(kube, recorder, _says("alice", "correct"))
    status = _judge(kube, recorder, _says("bob", "correct"))
    assert [j["recorded"] for j in status["judgments"]] == [False, False] and store.docs == {}
    assert fb.pending_feedback(kube.objects[KEY])
    store.down = False
    store.fail_after = 1  # the store fails again after one write: the first is marked, the second waits
    assert recorder.flush(kube.objects[KEY]) is False
    assert [j["recorded"] for j in kube.objects[KEY]["status"]["judgments"]] == [True, False]
    store.fail_after = None
    assert recorder.flush(kube.objects[KEY]) is True
    assert [j["recorded"] for j in kube.objects[KEY]["status"]["judgments"]] == [True, True]
    assert len(store.docs) == 2 and not fb.pending_feedback(kube.objects[KEY])


def test_a_failed_status_patch_repeats_only_an_idempotent_upsert() -> None:
    store, kube, recorder = _world()
    kube.objects[KEY]["status"]["judgments"] = [_judgment("alice", "correct")]
    kube.fail_patches = 1
    assert recorder.flush(kube.objects[KEY]) is False
    assert len(store.docs) == 1 and kube.objects[KEY]["status"]["judgments"][0]["recorded"] is False
    assert recorder.flush(kube.objects[KEY]) is True
    assert len(store.docs) == 1 and kube.objects[KEY]["status"]["judgments"][0]["recorded"] is True


def test_cached_guard_asks_at_most_once_per_interval() -> None:
    answers = iter([True, False])
    calls: list[int] = []

    def check() -> bool:
        calls.append(1)
        return next(answers)

    guard = CachedGuard(check, every=3600)
    assert guard() is True and guard() is True and len(calls) == 1
    assert CachedGuard(lambda: False)() is False


@pytest.mark.parametrize("label", ["correct", "incorrect"])
def test_report_shows_the_peoples_verdict(label: str) -> None:
    from remediator.report import _human

    assert _human({"judgments": [_judgment("alice", label), _judgment("bob", label)]}) == label
    assert _human({"judgments": [_judgment("alice", "correct"), _judgment("bob", "incorrect")]}) == "disputed"
    assert _human({"feedback": {"label": label, "source": "human"}}) == label
    assert _human({"feedback": {"label": label, "source": "verification"}}) == ""


def test_each_persons_first_verdict_is_counted_once_by_action_and_verdict() -> None:
    from prometheus_client.registry import REGISTRY

    def judged(verdict: str) -> float:
        action = "increase_memory"
        return REGISTRY.get_sample_value("remediator_judgments_total", {"action": action, "verdict": verdict}) or 0.0

    before = judged("correct"), judged("incorrect")
    _, kube, recorder = _world()
    _judge(kube, recorder, _says("alice", "correct"))
    _judge(kube, recorder, _says("alice", "correct"))  # the same again: not a judgment
    _judge(kube, recorder, _says("bob", "incorrect", "notify"))
    _judge(kube, recorder, _says("alice", "incorrect", "rollback"))  # a change of mind: not a second one
    assert (judged("correct") - before[0], judged("incorrect") - before[1]) == (1, 1)
