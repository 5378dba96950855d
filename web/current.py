"""The engine of the application serving this request (create_app puts it in app.extensions)."""
from __future__ import annotations

from flask import current_app

KEY = "reformflow"


def engine():
    return current_app.extensions[KEY]
