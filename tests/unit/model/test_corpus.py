from collections import Counter

from remediator_model.corpus import generate
from remediator_model.corpus.generator import template_names
from remediator_model.taxonomy import ACTIONS, DEFAULT_ACTIONS, ERROR_TYPES


def test_seed_corpus_is_reproducible_for_a_seed() -> None:
    assert generate(300, seed=7) == generate(300, seed=7)
    assert generate(300, seed=7) != generate(300, seed=8)


def test_seed_corpus_is_balanced_and_labels_are_valid() -> None:
    ex = generate(900, seed=1)
    counts = Counter(e.error_type for e in ex)
    assert set(counts) == set(ERROR_TYPES)
    assert max(counts.values()) - min(counts.values()) <= 1
    for e in ex:
        assert e.actions and all(a in ACTIONS for a in e.actions)
        assert e.action == e.actions[0]
        assert e.message or e.logs or e.reason or e.exit_code is not None


def test_seed_corpus_varies_names_and_uses_every_template() -> None:
    ex = generate(3000, seed=2)
    used = Counter(e.template for e in ex)
    for names in template_names().values():
        for n in names:
            assert used[n] > 0, n
    texts = {e.message + e.logs for e in ex}
    assert len(texts) > 0.95 * len(ex)  # names, numbers and noise vary


def test_every_type_has_a_default_action() -> None:
    assert set(DEFAULT_ACTIONS) == set(ERROR_TYPES)
