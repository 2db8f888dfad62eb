"""`make run` (scripts/run.sh) end to end: it serves the app's own error pages, never Django's
technical ones, and Ctrl+C stops the web server and the task worker within 5 s.

Slow (a fresh SQLite database is migrated and seeded with a small demo company), so one test
covers both; it runs in `make test` like any other."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _marked(marker: str) -> set[int]:
    """Processes whose environment carries the marker: run.sh and everything it started."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":
                    found.add(int(entry.name))
        except OSError:
            continue
    return found


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.slow
def test_make_run_serves_own_error_pages_and_ctrl_c_stops_everything_within_5_s(tmp_path):
    port = _free_port()
    marker = f"SALESOS_RUN_TEST={os.getpid()}-{port}"
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "DEBUG", "DEVELOPMENT", "SECRET_KEY", "SALESOS_TESTING"}}
    env.update({"SQLITE_PATH": str(tmp_path / "run.sqlite3"), "PORT": str(port), "DEMO_ACCOUNTS": "200",
                marker.split("=")[0]: marker.split("=")[1]})
    log = (tmp_path / "run.log").open("w")
    proc = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            assert proc.poll() is None, (tmp_path / "run.log").read_text()
            try:
                if _get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "run.sh did not serve in time"
            time.sleep(0.5)
        # The worker is up too (its children carry the marker).
        deadline = time.monotonic() + 60
        while not any("qcluster" in Path(f"/proc/{pid}/cmdline").read_text(errors="ignore")
                      for pid in _marked(marker) if Path(f"/proc/{pid}").exists()):
            assert time.monotonic() < deadline, "the task worker did not start"
            time.sleep(0.5)

        status, body = _get(f"{base}/no-such-page/")
        assert status == 404
        assert "Page not found · SalesOS" in body
        assert "URLconf" not in body and "Using the URLconf" not in body and "technical_404" not in body
        # Static files are served under make run (DEVELOPMENT), with DEBUG off.
        assert _get(f"{base}/static/css/salesos.css")[0] == 200

        children = _marked(marker)
        assert len(children) >= 3  # run.sh, runserver, qcluster and its workers
        os.kill(proc.pid, signal.SIGINT)
        start = time.monotonic()
        while _marked(marker) and time.monotonic() - start < 10:
            time.sleep(0.1)
        elapsed = time.monotonic() - start
        assert not _marked(marker), f"still running after {elapsed:.1f} s: {_marked(marker)}"
        print(f"make run stopped in {elapsed:.2f} s")
        assert elapsed < 5, f"took {elapsed:.1f} s"
        proc.wait(timeout=5)
    finally:
        for pid in _marked(marker):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        log.close()
