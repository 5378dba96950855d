"""Ids in URLs: every route's `<int:…>`, web and API, is a row id."""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

from models.base import INTEGER_MAX

# INTEGER columns end there on PostgreSQL (SQLite cannot even bind a number past 2**63 - 1)
MAX_ID = INTEGER_MAX


class RowId(IntegerConverter):
    """`<int:…>` at most MAX_ID: a bigger number is no row, so the route does not match and the
    request is answered 404 like any id that does not exist, not with a database error (500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)
