"""Run a console script of this checkout's venv (reformflow, gunicorn) in a process whose engine
clock is moved as the test run's is (REFORMFLOW_TEST_TODAY, tests/conftest.py): a server or
command a test starts as its own process then reads the same day as the test, and writes the
audit trail's recorded_at on the same clock (else its events would seem to go back in time).

    python tests/shifted_process.py OFFSET_SECONDS SCRIPT [ARG ...]

`shifted(argv)` builds that command line, and leaves argv as it is on an unshifted run."""
from __future__ import annotations

import runpy
import sys
from datetime import timedelta


def shifted(argv: list[str]) -> list[str]:
    from engine import clock
    offset = clock.get_offset()
    if not offset:
        return argv
    # by its path: the process may run in any folder (the package is installed in the venv)
    return [sys.executable, __file__, str(offset.total_seconds()), *argv]


if __name__ == "__main__":
    from engine import clock
    clock.set_offset(timedelta(seconds=float(sys.argv[1])))
    sys.argv = sys.argv[2:]
    # a forked worker (gunicorn's) keeps the offset: it is a module global of engine.clock
    runpy.run_path(sys.argv[0], run_name="__main__")
