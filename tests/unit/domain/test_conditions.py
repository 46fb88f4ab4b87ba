"""conditions.py: kubebuilder-style conditions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from remediator.domain.conditions import (
    get_condition,
    is_true,
    make_condition,
    remove_condition,
    set_condition,
)
from tests.unit.domain.builders import T0


def test_transition_time_changes_only_when_status_changes() -> None:
    first = set_condition(None, make_condition("Applied", False, "Waiting", "pending approval", T0, 1))
    later = T0 + timedelta(minutes=5)
    same = set_condition(first, make_condition("Applied", False, "StillWaiting", "still pending", later, 2))
    [c] = same
    assert c["lastTransitionTime"] == "2024-05-01T12:00:00Z"
    assert (c["reason"], c["message"], c["observedGeneration"]) == ("StillWaiting", "still pending", 2)
    flipped = set_condition(same, make_condition("Applied", True, "Applied", "patched", later))
    assert flipped[0]["lastTransitionTime"] == "2024-05-01T12:05:00Z" and is_true(flipped, "Applied")


def test_set_condition_keeps_order_and_does_not_mutate_input() -> None:
    conds = set_condition(None, make_condition("Classified", True, "Classified", "oom", T0))
    conds2 = set_condition(conds, make_condition("Remediated", "Unknown", "Pending", "", T0))
    assert [c["type"] for c in conds2] == ["Classified", "Remediated"]
    assert len(conds) == 1
    assert get_condition(conds2, "Remediated")["status"] == "Unknown"
    assert remove_condition(conds2, "Classified")[0]["type"] == "Remediated"


def test_bad_reason_or_status_is_rejected() -> None:
    with pytest.raises(ValueError, match="reason"):
        make_condition("Applied", True, "not camel case", "x", T0)
    with pytest.raises(ValueError, match="status"):
        make_condition("Applied", "Maybe", "Applied", "x", T0)


def test_message_is_truncated_to_the_crd_limit() -> None:
    assert len(make_condition("Applied", True, "Applied", "x" * 5000, T0)["message"]) == 1024
