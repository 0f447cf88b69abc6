"""Reading ids from request data without a 500 on a tampered value."""

from __future__ import annotations


def int_param(value: str | None) -> int | None:
    """The value as a positive integer id, or None when it is missing or not a plain number."""
    if value is None or not value.isdigit() or len(value) > 18:
        return None
    return int(value)
