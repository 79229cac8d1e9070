"""`make run`: one Ctrl-C stops the web server and the worker once each and exits 0, and
it installs only what the app needs to run.

Was: the recipe's `trap 'kill 0'` signalled its own process group again from inside the
trap (about 2,700 "Warm shutdown" lines, then `make: *** Segmentation fault`), and it
installed the test extras (Playwright, scikit-learn, statsmodels, pandas).
"""

from __future__ import annotations

import os
import pty
import re
import select
import sys
import time
from pathlib import Path

from django.conf import settings

BASE = Path(settings.BASE_DIR)

# A stand-in for the server and the worker: says when it is ready, and which signals it
# got once it is asked to stop.
CHILD = """
import signal, sys, time
name, got = sys.argv[1], []
def on(sig, frame):
    got.append(signal.Signals(sig).name)
    if sig == signal.SIGTERM:
        print(name + ": " + " ".join(got), flush=True)
        sys.exit(0)
signal.signal(signal.SIGINT, on)
signal.signal(signal.SIGTERM, on)
print(name + " ready", flush=True)
while True:
    time.sleep(0.05)
"""

RUNNER = """
import sys
from pathlib import Path
from annotations.management.commands.serve import run_together
child = [sys.executable, "-c", sys.argv[1]]
sys.exit(run_together({"server": child + ["server"], "worker": child + ["worker"]}, cwd=Path(".")))
"""


def read_until(fd: int, pattern: str, output: bytearray, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if re.search(pattern, output.decode(errors="replace")):
            return True
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                data = os.read(fd, 4096)
            except OSError:
                return bool(re.search(pattern, output.decode(errors="replace")))
            if not data:
                break
            output.extend(data)
    return bool(re.search(pattern, output.decode(errors="replace")))


def test_one_ctrl_c_in_a_terminal_stops_both_processes_once_each_and_exits_0():
    pid, fd = pty.fork()
    if pid == 0:  # the child: the supervisor, in the terminal's foreground like make's recipe
        os.chdir(BASE)
        os.execv(sys.executable, [sys.executable, "-c", RUNNER, CHILD])  # noqa: S606
    output = bytearray()
    try:
        assert read_until(fd, r"(server|worker) ready[\s\S]*(server|worker) ready", output)
        os.write(fd, b"\x03")  # Ctrl-C, as typed
        read_until(fd, r"server: .*\n[\s\S]*worker: |worker: .*\n[\s\S]*server: ", output)
        _, status = os.waitpid(pid, 0)
        read_until(fd, r"$^", output, timeout=0.3)
    finally:
        os.close(fd)
    text = output.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    # Each process was asked once, by SIGTERM; the terminal's SIGINT never reached them.
    # (the two children write at once, so their lines may run together)
    assert "server: SIGTERM" in text and "worker: SIGTERM" in text, text
    assert "SIGINT" not in text


def test_make_run_installs_only_the_runtime_dependencies_and_readme_says_how_to_move_it():
    makefile = (BASE / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\n$(STAMP):", 1)[1].split("\n\n", 1)[0]
    assert "-e .\n" in recipe + "\n" and "[dev]" not in recipe
    assert re.search(r"^run: \$\(STAMP\)$", makefile, re.M)
    assert re.search(r"^test: \$\(DEV_STAMP\)", makefile, re.M)
    assert "serve --host $(HOST) --port $(PORT)" in makefile
    assert "kill 0" not in makefile
    pyproject = (BASE / "pyproject.toml").read_text(encoding="utf-8")
    runtime = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    for test_tool in ("playwright", "pytest", "scikit-learn", "statsmodels", "pandas"):
        assert test_tool not in runtime
    readme = (BASE / "README.md").read_text(encoding="utf-8")
    assert "make run HOST=" in readme and "PORT=" in readme
