import numpy as np

from remediator_model.corpus import generate
from remediator_model.features import FeatureConfig, Featurizer, focus_logs, normalize
from remediator_model.predict import ErrorInput


def test_normalisation_masks_ids_numbers_and_pod_hashes() -> None:
    a = normalize("pod checkout-7d9f8b6c5d-x2k4n 10.0.3.17:5432 id 3f2a9c1e-1b2c-4d5e-8f90-123456789abc took 123456ms")
    b = normalize("pod checkout-5c4b3a2f1e-qq9zz 10.9.9.9:6379 id 00000000-1111-2222-3333-444444444444 took 987654ms")
    assert a == b
    assert "out of memory" in normalize("java.lang.OutOfMemoryError")


def test_focus_logs_keeps_error_lines_and_drops_noise() -> None:
    logs = "\n".join([f"INFO GET /healthz 200 {i}ms" for i in range(50)] + ["ERROR connection refused"])
    out = focus_logs(logs, 1500)
    assert "connection refused" in out
    assert out.count("healthz") <= 3


def test_single_event_features_equal_batch_features() -> None:
    f = Featurizer(FeatureConfig())
    ex = generate(60, seed=4)
    x = f.transform(ex)
    for i, e in enumerate(ex):
        idx, val, _ = f.transform_one(e)
        assert x[i].nnz == len(idx)
        assert np.allclose(np.asarray(x[i, idx].todense()).ravel(), val, atol=1e-6)


def test_structured_fields_change_the_features() -> None:
    f = Featurizer()
    a, _, _ = f.transform_one(ErrorInput(reason="OOMKilled", exit_code=137))
    b, _, _ = f.transform_one(ErrorInput(reason="Error", exit_code=1))
    assert set(a.tolist()) != set(b.tolist())
