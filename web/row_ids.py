"""Ids in URLs: every route's `<int:…>`, web and API, is a row id."""
from __future__ import annotations

from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from models.base import INTEGER_MAX

# INTEGER columns end there on PostgreSQL (SQLite cannot even bind a number past 2**63 - 1)
MAX_ID = INTEGER_MAX


class NoSuchRow(NotFound):
    """An id past MAX_ID in an address: the API answers it with its not-found message."""


class RowId(IntegerConverter):
    """`<int:…>` at most MAX_ID: a bigger number is no row, so the request is answered 404 like any
    id that does not exist, not with a database error (500). Raised, not a ValidationError: that
    one let werkzeug try the address's other methods and answer 405 with their Allow, wrongly."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            raise NoSuchRow()
        return number
