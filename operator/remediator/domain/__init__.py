"""Pure domain logic of the operator: plain dicts in, dataclasses and pydantic models out, no I/O."""
