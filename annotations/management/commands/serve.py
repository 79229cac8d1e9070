"""`make run`'s last step: the web server and one Celery worker, stopped together by one Ctrl-C.

A terminal's Ctrl-C signals every process of its foreground process group. Left there,
make, the shell, the worker and the server would each get it: the worker starts a warm
shutdown, make dies of the signal (and reports an error), and a shell trap that signals
its own group signals itself again. So this command takes the terminal's foreground for
itself alone, starts both children in process groups of their own (the terminal's signals
never reach them), and on Ctrl-C or SIGTERM asks each child once to stop, waits for both,
gives the terminal back and exits 0.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

GRACE_SECONDS = 10  # a child that has not stopped by then is killed


@contextlib.contextmanager
def terminal_foreground():
    """Make this process's own group the terminal's foreground one, and restore it after."""
    try:
        tty = os.open("/dev/tty", os.O_RDWR)
    except OSError:
        yield  # no terminal (CI, a service manager): nothing to take
        return
    previous = None
    old_ttou = signal.signal(signal.SIGTTOU, signal.SIG_IGN)
    try:
        previous = os.tcgetpgrp(tty)
        if os.getpgrp() != os.getpid():
            os.setpgid(0, 0)
        os.tcsetpgrp(tty, os.getpgrp())
    except OSError:
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            with contextlib.suppress(OSError):
                os.tcsetpgrp(tty, previous)
        signal.signal(signal.SIGTTOU, old_ttou)
        os.close(tty)


def run_together(commands: dict[str, list[str]], *, cwd: Path, stderr=sys.stderr) -> int:
    """Run the commands at once until Ctrl-C (or SIGTERM, SIGHUP): 0. If one of them ends
    by itself, stop the others and answer its exit status (1 if it was 0)."""
    stop = {"asked": False}

    def ask_to_stop(signum, frame):
        stop["asked"] = True

    with terminal_foreground():
        previous = {
            sig: signal.signal(sig, ask_to_stop)
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        }
        children = {
            name: subprocess.Popen(command, cwd=cwd, process_group=0)  # noqa: S603
            for name, command in commands.items()
        }
        try:
            status = 0
            while not stop["asked"] and not status:
                for name, child in children.items():
                    code = child.poll()
                    if code is not None:
                        stderr.write(f"The {name} stopped (exit status {code}); stopping.\n")
                        status = code or 1
                        break
                else:
                    time.sleep(0.1)
        finally:
            _stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return status


def _stop(children: dict) -> None:
    for child in children.values():
        if child.poll() is None:
            child.terminate()  # once: a second signal would make Celery stop cold
    deadline = time.monotonic() + GRACE_SECONDS
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


class Command(BaseCommand):
    help = "Run the development web server and one Celery worker; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, host: str, port: str, **options):
        base = Path(settings.BASE_DIR)
        commands = {
            "worker": [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "framing",
                "worker",
                "--beat",
                "--pool=solo",
                "--queues=celery,agreement",
                "--loglevel=warning",
            ],
            "web server": [
                sys.executable,
                str(base / "manage.py"),
                "runserver",
                f"{host}:{port}",
                "--noreload",
            ],
        }
        status = run_together(commands, cwd=base, stderr=self.stderr)
        if status:
            raise SystemExit(status)
        self.stdout.write("Stopped the web server and the worker.")
