"""Every text of the web inbox has its English, and the compiled catalogue Flask-Babel reads is
the one the .po file says (tools/translations.py)."""
from __future__ import annotations

import importlib.util

from .conftest import ROOT


def test_every_web_text_has_english_and_the_mo_is_current():
    spec = importlib.util.spec_from_file_location("translations", ROOT / "tools" / "translations.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.check() == []
