"""`python -m engine.cli` runs the command line, as it did when the command line was one module."""
from . import run

run()
