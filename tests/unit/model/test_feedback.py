import json
from pathlib import Path

from remediator_model.predict import Classifier, ErrorInput
from remediator_model.train import TrainConfig, load_examples, train

from .conftest import SMALL

NEW_SIGNATURE = "quasarq broker handshake rejected: zentropy lease token revoked for tenant {n}"


def test_feedback_examples_change_the_predicted_action(small_model, tmp_path: Path) -> None:
    """A new error signature the shipped model maps to one action, corrected by feedback ten times,
    maps to the corrected action after one retrain."""
    before = Classifier.from_trained(small_model).predict(ErrorInput(logs=NEW_SIGNATURE.format(n=999)))
    corrected = "restart_pod" if before.action != "restart_pod" else "update_config"
    fb = tmp_path / "feedback.jsonl"
    with open(fb, "w") as f:
        for i in range(10):
            f.write(
                json.dumps(
                    {
                        "logs": NEW_SIGNATURE.format(n=i),
                        "reason": "",
                        "exit_code": None,
                        "message": "",
                        "action": corrected,
                        "feedback": True,
                    }
                )
                + "\n"
            )
    cfg = TrainConfig(**{**SMALL.to_dict(), "feedback_weight": 20.0})
    examples = load_examples("builtin", cfg) + load_examples(str(fb), cfg)
    assert sum(e.weight > 1 for e in examples) == 10
    retrained = Classifier.from_trained(train(examples, cfg))
    after = retrained.predict(ErrorInput(logs=NEW_SIGNATURE.format(n=12345)))
    assert after.action == corrected
    # the rest of the behaviour is intact
    assert retrained.predict(ErrorInput(reason="OOMKilled", exit_code=137)).action == "increase_memory"
