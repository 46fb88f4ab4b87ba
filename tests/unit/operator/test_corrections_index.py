"""learning/corrections.py: the bounded, incremental view of stored human judgments that triage consults."""

from __future__ import annotations

import datetime as dt
from typing import Any

from remediator.learning.corrections import CorrectionIndex, judgment_of
from remediator_model.template import template_of

T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
TPL = template_of("CrashLoopBackOff", "dial tcp 10.0.0.1:5432: i/o timeout")


def doc(i: int, **extra: Any) -> dict[str, Any]:
    base = {
        "_id": f"ns/r{i}/u{i}/human",
        "remediation": f"ns/r{i}/u{i}",
        "namespace": "ns",
        "source": "human",
        "label": "incorrect",
        "predicted_action": "restart_pod",
        "correct_action": "notify",
        "template": TPL.key,
        "created_at": T0 + dt.timedelta(seconds=i),
    }
    return {**base, **extra}


class Store:
    def __init__(self, docs: list[dict[str, Any]]) -> None:
        self.docs, self.asked = docs, []

    def judgments_since(self, since: dt.datetime | None) -> list[dict[str, Any]]:
        self.asked.append(since)
        return [d for d in self.docs if since is None or d["created_at"] >= since or d.get("updated_at", T0) >= since]


def test_refresh_reads_incrementally_and_an_update_replaces_the_judgment() -> None:
    store = Store([doc(1), doc(2)])
    index = CorrectionIndex()
    assert not index.ready
    assert index.refresh(store, now=T0) == 2 and index.ready
    assert [j.correct_action for j in index.family("ns", TPL.key)] == ["notify", "notify"]
    store.docs[0] = doc(1, correct_action="scale_up", updated_at=T0 + dt.timedelta(minutes=5))
    assert index.refresh(store, now=T0) == 1  # doc 2, re-read at the watermark, changed nothing
    assert store.asked[1] == T0 + dt.timedelta(seconds=2)  # only what changed since the newest seen
    assert sorted(str(j.correct_action) for j in index.family("ns", TPL.key)) == ["notify", "scale_up"]
    assert len(index) == 2


def test_families_are_per_namespace_and_template() -> None:
    index = CorrectionIndex()
    index.refresh(Store([doc(1), doc(2, namespace="other"), doc(3, template="tother")]), now=T0)
    assert len(index.family("ns", TPL.key)) == 1 and len(index.family("other", TPL.key)) == 1
    assert index.family("ns", "tnone") == []


def test_the_index_is_bounded_and_drops_the_oldest() -> None:
    index = CorrectionIndex(max_judgments=3)
    index.refresh(Store([doc(i) for i in range(5)]), now=T0)
    assert len(index) == 3 and [j.remediation for j in index.family("ns", TPL.key)] == [
        "ns/r2/u2",
        "ns/r3/u3",
        "ns/r4/u4",
    ]


def test_only_human_verdicts_with_a_family_count() -> None:
    assert judgment_of(doc(1, source="verification")) is None  # automatic outcomes are not judgments
    assert judgment_of(doc(1, predicted_action="explode")) is None
    assert judgment_of(doc(1, template="", reason="", message="", logs="")) is None
    found = judgment_of(doc(1, template=None, reason="CrashLoopBackOff", message="dial tcp db:5432: i/o timeout"))
    assert found is not None and found[1] == TPL.key  # older documents: the template from their text
    rejection = judgment_of(doc(1, source="rejection", correct_action=None))
    assert rejection is not None and rejection[2].wrong_action == "restart_pod" and rejection[2].right_action is None
