#!/bin/sh
# Redraws docs/images: every diagram in bpmn/ as Camunda Modeler draws it, and the demo's
# ledger as a terminal shows it. Needs Debian's chromium and fonts-wqy-microhei (README.md here).
set -e
cd "$(dirname "$0")/../.."
npm ci --prefix tools/diagrams --no-audit --no-fund --loglevel=error
node tools/diagrams/render.mjs docs/images bpmn/*.bpmn
demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
.venv/bin/reformflow --db "sqlite:///$demo/demo.sqlite3" init --demo > /dev/null
# click colours only a terminal: ask for the colours explicitly, as a terminal would get them
.venv/bin/python - "$demo/demo.sqlite3" > "$demo/ledger.txt" <<'PY'
import sys
from click.testing import CliRunner
from engine.cli import main
print("$ reformflow ledger")
print(CliRunner().invoke(main, ["--db", f"sqlite:///{sys.argv[1]}", "ledger"], color=True).stdout, end="")
PY
node tools/diagrams/terminal.mjs docs/images/ledger.png < "$demo/ledger.txt"
# the web inbox's pages, as README.md shows them
.venv/bin/python tools/web_screenshots.py
