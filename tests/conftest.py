"""Shared fixtures: real servers for integration tests live in tests/fixtures/."""

pytest_plugins = [
    "tests.fixtures.cluster",
    "tests.fixtures.mongo",
    "tests.fixtures.operator",
    "tests.fixtures.s3",
    "tests.fixtures.alertmanager",
    "tests.fixtures.prometheus",
    "tests.fixtures.otelcol",
]
