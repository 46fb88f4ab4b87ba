"""The README's tested commands are found as marked, and the demo prints the same next steps the README lists."""

from __future__ import annotations

import pytest

from remediator_dev.demo import NEXT_STEPS
from tests.fixtures.readme import commands, marked_blocks, readme_commands

MARKED = """\
intro
<!-- readme-test:begin -->
```sh
make demo   # the demo
# a comment line
kubectl annotate rem x \\
  a=b
```
<!-- readme-test:end -->
```sh
not marked
```
"""


def test_commands_come_only_from_marked_blocks_with_continuations_joined() -> None:
    found = commands(MARKED)
    assert [c.command for c in found] == ["make demo", "kubectl annotate rem x a=b"]
    assert found[0].line == "make demo   # the demo"


def test_an_unclosed_marker_or_a_marker_without_a_sh_block_is_an_error() -> None:
    with pytest.raises(ValueError, match="without"):
        marked_blocks("<!-- readme-test:begin -->\n```sh\nls\n```\n")
    with pytest.raises(ValueError, match="exactly one"):
        marked_blocks("<!-- readme-test:begin -->\ntext\n<!-- readme-test:end -->\n")


def test_the_readme_lists_the_next_steps_the_demo_prints_in_the_same_order() -> None:
    readme = [c.command for c in readme_commands()]
    printed = NEXT_STEPS.splitlines()
    start = readme.index(printed[0])
    assert readme[start : start + len(printed)] == printed


def test_the_readme_marks_the_quick_start_the_demo_and_the_control_plane() -> None:
    readme = [c.command for c in readme_commands()]
    for expected in ("make demo", "make demo-down", "remediator-dev cluster up", "remediator-dev cluster down"):
        assert expected in readme
