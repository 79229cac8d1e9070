"""Plumbing for the peers benchmark: virtual environments under var/peers/, server
processes, a keep-alive HTTP client with cookies, and the memory of a process tree.

Nothing here knows about a particular tool (see ``peers_doccano``, ``peers_labelstudio``
and ``peers_framing``).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS_DIR = ROOT / "var" / "peers"


# --- Virtual environments ----------------------------------------------------------------


def venv(name: str, requirements: list[str], *, timeout: float = 1800) -> Path:
    """var/peers/<name>/ with ``requirements`` installed by pip, made with the machine's
    python3; reused while its stamp lists the same requirements. Returns its bin/."""
    home = PEERS_DIR / name
    stamp = home / ".installed"
    wanted = "\n".join(requirements) + "\n"
    if stamp.exists() and stamp.read_text() == wanted:
        return home / "bin"
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    log = PEERS_DIR / f"{name}-install.log"
    with open(log, "w") as out:
        if not (home / "bin" / "python").exists():
            subprocess.run(["python3", "-m", "venv", str(home)], check=True, stdout=out, stderr=out)
        done = subprocess.run(
            [str(home / "bin" / "pip"), "install", "--disable-pip-version-check", *requirements],
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    if done.returncode:
        lines = [
            line
            for line in log.read_text().splitlines()
            if line.strip() and not line.startswith("WARNING: Location")
        ]
        raise RuntimeError(
            f"pip install {' '.join(requirements)} failed (exit {done.returncode}); "
            f"see {log.relative_to(ROOT)}:\n" + "\n".join(lines[-12:])
        )
    stamp.write_text(wanted)
    return home / "bin"


def pip_version(bin_dir: Path, package: str) -> str:
    done = subprocess.run(
        [
            str(bin_dir / "python"),
            "-c",
            f"import importlib.metadata as m; print(m.version({package!r}))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "?"


# --- Server processes ----------------------------------------------------------------------


@contextlib.contextmanager
def process(args: list[str], *, env: dict, cwd: Path, log: Path) -> Iterator[subprocess.Popen]:
    """A child process in its own process group, stopped (the whole group) on the way out."""
    out = open(log, "w")  # noqa: SIM115 - closed below
    child = subprocess.Popen(
        args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield child
    finally:
        if child.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        out.close()


def run_logged(args: list[str], *, env: dict, cwd: Path, log: Path, timeout: float = 600) -> None:
    with open(log, "a") as out:
        done = subprocess.run(
            args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout
        )
    if done.returncode:
        tail = log.read_text().splitlines()[-15:]
        raise RuntimeError(f"{' '.join(args[:3])} … failed:\n" + "\n".join(tail))


def wait_for(url: str, child: subprocess.Popen, log: Path, *, timeout: float = 180) -> None:
    """Until ``url`` answers anything below 500; fails early if the server died."""
    deadline = time.monotonic() + timeout
    parts = urllib.parse.urlsplit(url)
    while True:
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
            conn.request("GET", parts.path or "/")
            status = conn.getresponse().status
            conn.close()
            if status < 500:
                return
        except OSError:
            pass
        if child.poll() is not None:
            tail = "\n".join(log.read_text().splitlines()[-20:])
            raise RuntimeError(f"{args_of(child)} exited {child.returncode}:\n{tail}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer in {timeout:.0f} s; see {log}")
        time.sleep(0.5)


def args_of(child: subprocess.Popen) -> str:
    args = child.args if isinstance(child.args, list) else [str(child.args)]
    return " ".join(Path(str(a)).name if i == 0 else str(a) for i, a in enumerate(args[:3]))


# --- Memory of a process tree ----------------------------------------------------------------


def tree_pids(root: int) -> list[int]:
    pids, queue = [], [root]
    while queue:
        pid = queue.pop()
        pids.append(pid)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as f:
                    queue.extend(int(c) for c in f.read().split())
    return pids


def rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class MemoryWatch:
    """Samples the resident memory of process trees every 50 ms while in the ``with``: the
    peak of their summed RSS, and of the largest single process. With ``cap_mb``, when the
    sum passes it the largest process is killed (the machine is shared: 2 cores, 24 GB) and
    ``capped`` is set."""

    def __init__(self, roots: list[int], *, cap_mb: float | None = None):
        self.roots, self.cap_mb = roots, cap_mb
        self.peak_mb = self.largest_mb = self.start_mb = 0.0
        self.capped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sizes(self) -> dict[int, float]:
        return {pid: rss_mb(pid) for root in self.roots for pid in tree_pids(root)}

    def _sample(self) -> None:
        while not self._stop.is_set():
            sizes = self._sizes()
            total = sum(sizes.values())
            self.peak_mb = max(self.peak_mb, total)
            self.largest_mb = max(self.largest_mb, *sizes.values(), 0.0)
            if self.cap_mb and total > self.cap_mb and not self.capped:
                self.capped = True
                with contextlib.suppress(ProcessLookupError):
                    os.kill(max(sizes, key=sizes.get), signal.SIGKILL)
            self._stop.wait(0.05)

    def __enter__(self) -> MemoryWatch:
        self.start_mb = sum(self._sizes().values())
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# --- HTTP ----------------------------------------------------------------------------------------


class Client:
    """One keep-alive connection with a cookie jar; ``csrf_header`` names the header that
    echoes the ``csrftoken`` cookie on writes (Django's CSRF check)."""

    def __init__(self, base: str, *, headers: dict | None = None):
        parts = urllib.parse.urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        self.base = base
        self.cookies: dict[str, str] = {}
        self.headers = dict(headers or {})
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        json_body=None,
        form: dict | None = None,
        body: bytes | None = None,
        headers: dict | None = None,
        timeout: float = 600,
        expect: tuple[int, ...] = (200, 201, 204),
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        sent = {**self.headers, **(headers or {}), "Referer": self.base + "/"}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent["Content-Type"] = "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method not in ("GET", "HEAD") and "csrftoken" in self.cookies:
            sent["X-CSRFToken"] = self.cookies["csrftoken"]
        for attempt in (1, 2):  # a server may close an idle keep-alive connection
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
            try:
                self.conn.request(method, path, body=body, headers=sent)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.will_close:
            self.conn.close()
            self.conn = None
        if expect and response.status not in expect:
            raise RuntimeError(f"{method} {path} answered {response.status}: {data[:300]!r}")
        return response.status, data, response

    def json(self, method: str, path: str, **kwargs):
        _, data, _ = self.request(method, path, **kwargs)
        return json.loads(data) if data else None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def multipart(field: str, filename: str, content: bytes, content_type: str) -> tuple[bytes, str]:
    """A multipart/form-data body with one file, and its Content-Type header."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
        f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
    ).encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"
