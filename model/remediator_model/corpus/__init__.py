"""Reproducible seed corpus: labelled error events in the shapes the operator sees."""

from remediator_model.corpus.generator import Example, generate, generate_records

__all__ = ["Example", "generate", "generate_records"]
