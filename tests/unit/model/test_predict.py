import threading

from remediator_model.predict import Classifier, ErrorInput, Prediction
from remediator_model.taxonomy import ACTIONS, ERROR_TYPES

OOM = ErrorInput(
    reason="OOMKilled",
    exit_code=137,
    message="back-off 5m0s restarting failed container=api",
    logs='Exception in thread "main" java.lang.OutOfMemoryError: Java heap space',
)


def test_predict_returns_calibrated_confidence_and_evidence(clf: Classifier) -> None:
    p = clf.predict(OOM)
    assert isinstance(p, Prediction)
    assert p.error_type == "oom" and p.action == "increase_memory"
    assert 0.0 <= p.confidence <= 1.0 and 0.0 <= p.runner_up_confidence <= 1.0
    assert p.runner_up != p.error_type and p.runner_up in ERROR_TYPES
    assert p.confidence + p.runner_up_confidence <= 1.0 + 1e-9
    assert "reason OOMKilled" in p.evidence and "exit code 137" in p.evidence
    assert "OOMKilled" in p.explanation
    assert p.model_version == clf.version == "test-1"


def test_predict_recognises_errors_in_unseen_wording(clf: Classifier) -> None:
    cases = {
        "image_pull": ErrorInput(reason="ErrImagePull", message='Failed to pull image "acme/zz:9.9": manifest unknown'),
        "resource_exhaustion": ErrorInput(
            reason="FailedScheduling", message="0/4 nodes are available: 4 Insufficient cpu."
        ),
        "permission_denied": ErrorInput(
            logs='secrets is forbidden: User "system:serviceaccount:x:y" cannot get resource "secrets"'
        ),
        "dependency_error": ErrorInput(
            logs="redis.exceptions.ConnectionError: Error 111 connecting to cache:6379. Connection refused."
        ),
    }
    for want, e in cases.items():
        assert clf.predict(e).error_type == want


def test_predict_batch_matches_single_predictions(clf: Classifier) -> None:
    events = [
        OOM,
        ErrorInput(message="Liveness probe failed: HTTP probe failed with statuscode: 500", reason="Unhealthy"),
        ErrorInput(exit_code=139),
        ErrorInput(logs="KeyError: 'DATABASE_URL'"),
    ]
    assert clf.predict_batch(events) == [clf.predict(e) for e in events]
    assert clf.predict_batch([]) == []


def test_predictions_are_thread_safe(clf: Classifier) -> None:
    events = [OOM, ErrorInput(logs="panic: runtime error: index out of range [3] with length 0", exit_code=2)] * 20
    expected = [clf.predict(e) for e in events]
    results: list[list[Prediction]] = []

    def run() -> None:
        results.append([clf.predict(e) for e in events])

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r == expected for r in results)


def test_empty_event_still_gets_a_low_confidence_answer(clf: Classifier) -> None:
    p = clf.predict(ErrorInput())
    assert p.error_type in ERROR_TYPES and p.action in ACTIONS
    assert p.confidence < 0.9


def test_missing_fields_from_the_operator_are_tolerated(clf: Classifier) -> None:
    p = clf.predict(ErrorInput(reason=None, exit_code=None, message=None, logs=None, source=None))  # type: ignore[arg-type]
    assert p.error_type in ERROR_TYPES
    long_logs = "\n".join(f"INFO line {i}" for i in range(20000)) + "\nERROR connect ECONNREFUSED 10.0.0.1:5432"
    assert clf.predict(ErrorInput(logs=long_logs)).error_type == "dependency_error"
