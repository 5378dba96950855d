"""A whole number as a person or a setting writes it, for the pages, the API and the settings:
ASCII digits only. str.isdigit() is true for "²" and "①", which int() refuses (a 500), and for
"٣", which int() reads as 3."""
from __future__ import annotations


def whole_number(text: str) -> int | None:
    """`text` as a whole number, or None when it is not one (empty, a sign, a space, other digits)."""
    return int(text) if text.isascii() and text.isdigit() else None
