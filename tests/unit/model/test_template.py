"""remediator_model.template: errors of one family share a key; different errors do not."""

from __future__ import annotations

import time

import pytest

from remediator_model.features import FeatureConfig, Featurizer, meta_tokens
from remediator_model.predict import ErrorInput
from remediator_model.template import template_of

LOWERCASE = "repository name must be lowercase"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (
            "dial tcp 10.0.3.7:5432: connect: connection refused",
            "dial tcp db.prod.svc.cluster.local:6379: connect: connection refused",
        ),
        ("dial tcp [::1]:6379: connect: connection refused", "dial tcp redis:6379: connect: connection refused"),
        (
            'couldn\'t parse image reference "MyOrg/App:1.2": invalid reference format: ' + LOWERCASE,
            'couldn\'t parse image reference "Other/Thing:latest": invalid reference format: ' + LOWERCASE,
        ),
        (
            "Container app in pod web-7d4f8b9c6d-x2k9p was OOMKilled, limit 512Mi",
            "Container app in pod api-5c9d7f6b8-abcde was OOMKilled, limit 2Gi",
        ),
        ("GET https://api.example.com/v1/x failed after 30000 ms", "GET http://10.1.1.1:8080/health failed after 5 ms"),
        ("open /etc/app/config.yaml: permission denied", "open /var/run/secrets/token: permission denied"),
        (
            "request 3f2a9c1e-1b2c-4d5e-8f90-123456789abc timed out",
            "request 0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d timed out",
        ),
    ],
)
def test_values_that_vary_between_occurrences_are_masked(a: str, b: str) -> None:
    assert template_of("CrashLoopBackOff", a) == template_of("CrashLoopBackOff", b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("dial tcp 10.0.3.7:5432: connect: connection refused", "dial tcp 10.0.3.7:5432: i/o timeout"),
        ("java.net.SocketTimeoutException: Read timed out", "java.net.ConnectException: Connection refused"),
        ("open /etc/app/config.yaml: permission denied", "open /etc/app/config.yaml: no such file or directory"),
    ],
)
def test_different_errors_are_different_families(a: str, b: str) -> None:
    assert template_of("", a).key != template_of("", b).key


def test_the_reason_is_part_of_the_family() -> None:
    assert template_of("OOMKilled", "exit 137").key != template_of("Error", "exit 137").key


def test_without_a_message_the_logs_last_error_line_is_the_head() -> None:
    logs = "starting\nERROR could not connect to 10.0.0.9:5432: connection refused\nshutting down"
    assert template_of("", "", logs) == template_of("", "ERROR could not connect to db:5432: connection refused")
    assert template_of("", "", "").empty and not template_of("Error", "").empty


def test_hostile_input_is_bounded() -> None:
    hostile = ("a." * 50_000) + "svc" + ("'" * 30_000) + ("/x" * 20_000)
    started = time.perf_counter()
    t = template_of("X" * 10_000, hostile, hostile)
    assert time.perf_counter() - started < 1.0 and len(t.text) <= 240 and t.key.startswith("t")


def test_the_template_is_a_feature_only_for_configs_that_ask_for_it() -> None:
    e = ErrorInput(reason="CrashLoopBackOff", message="dial tcp 10.0.3.7:5432: connect: connection refused")
    assert any(t.startswith("tpl=") for t in meta_tokens(e, True))
    assert not any(t.startswith("tpl=") for t in meta_tokens(e, False))
    old = FeatureConfig.from_dict({k: v for k, v in FeatureConfig().to_dict().items() if k != "template_token"})
    assert old.template_token is False and FeatureConfig().template_token is True
    assert Featurizer(old).transform([e]).nnz < Featurizer(FeatureConfig()).transform([e]).nnz


def test_novelty_is_high_for_text_the_model_never_saw_and_zero_without_text() -> None:
    from remediator_model.predict import Classifier

    clf = Classifier.load(None)
    familiar = clf.predict(ErrorInput(reason="OOMKilled", message="container exceeded its memory limit"))
    strange = clf.predict(ErrorInput(reason="Error", message="Zxqv blorf wuggle snazzle prankmatic"))
    other_script = clf.predict(ErrorInput(reason="Error", message="数据库连接失败,请检查配置文件"))
    assert familiar.novelty < 0.2 and strange.novelty > 0.7 and other_script.novelty == 1.0
    assert clf.predict(ErrorInput(reason="OOMKilled", exit_code=137)).novelty == 0.0
    assert clf.predict_batch([ErrorInput(reason="Error", message="Zxqv blorf wuggle")])[0].novelty > 0.7
