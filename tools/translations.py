"""Keep the web inbox's English catalogue in step with its Chinese texts.

    .venv/bin/python tools/translations.py          # extract, update web/translations/en, compile
    .venv/bin/python tools/translations.py --check  # exit 1 if a text has no English or the .mo is stale

Texts are written in Chinese in web/ (`_("…")` in Python, `{{ _("…") }}` in templates); the
English is in web/translations/en/LC_MESSAGES/messages.po, edited by hand. A new text shows up
there with an empty msgstr: fill it in and run this again. tests/test_web_translations.py runs
--check.
"""
from __future__ import annotations

import io
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "web" / "translations"
PO = FOLDER / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
POT = FOLDER / "messages.pot"


def extract(target: Path = POT) -> None:
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "--quiet", "extract",
                    "-F", "web/babel.cfg", "-k", "_l", "--no-location", "--sort-output",
                    "--omit-header", "-o", str(target), "."], cwd=ROOT, check=True)


def _catalog(path: Path):
    with open(path, "rb") as f:
        return read_po(f, locale="en")


def untranslated(catalog) -> list[str]:
    out = []
    for m in catalog:
        if not m.id:
            continue
        strings = m.string if isinstance(m.string, (tuple, list)) else (m.string,)
        if not all(strings) or m.fuzzy:
            out.append(m.id[0] if isinstance(m.id, (tuple, list)) else m.id)
    return out


def compiled(catalog) -> bytes:
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


def update() -> list[str]:
    extract()
    catalog = _catalog(PO)
    with open(POT, "rb") as f:
        template = read_po(f)
    catalog.update(template, no_fuzzy_matching=True)
    catalog.obsolete.clear()
    with open(PO, "wb") as f:
        write_po(f, catalog, width=100, no_location=True, omit_header=False)
    catalog = _catalog(PO)
    MO.write_bytes(compiled(catalog))
    return untranslated(catalog)


def check() -> list[str]:
    """Problems: texts in web/ missing from the catalogue or without English, or a stale .mo."""
    with tempfile.TemporaryDirectory() as tmp:  # a check writes nothing in the tree
        extract(Path(tmp) / "messages.pot")
        with open(Path(tmp) / "messages.pot", "rb") as f:
            template = read_po(f)
    wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
    catalog = _catalog(PO)
    have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
    problems = [f"not in the catalogue: {t}" for t in sorted(wanted - have)]
    problems += [f"no English: {t}" for t in untranslated(catalog) if t in wanted]
    # an English text may stand in an HTML attribute: names are quoted “ ” as elsewhere, not "
    problems += [f"straight quote in the English: {m.id}" for m in catalog
                 if m.id and any('"' in t for t in (m.string if isinstance(m.string, (tuple, list)) else (m.string,)))]
    if not MO.exists() or MO.read_bytes() != compiled(catalog):
        problems.append(f"{MO.relative_to(ROOT)} is stale: run tools/translations.py")
    return problems


if __name__ == "__main__":
    if "--check" in sys.argv:
        found = check()
        print("\n".join(found) or "catalogue complete")
        sys.exit(1 if found else 0)
    missing = update()
    print("\n".join(f"no English yet: {t}" for t in missing) or "catalogue complete")
