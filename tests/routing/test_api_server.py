"""The API behind a real server (gunicorn, as in production): a chunked request body
(Transfer-Encoding: chunked, no Content-Length) is read, not taken as empty.

Runs against its own SQLite file so the server process sees the token whatever database the
test run uses."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chunked_post(port: int, path: str, body: bytes, key: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    # http.client sends an iterable body with Transfer-Encoding: chunked and no Content-Length.
    conn.request("POST", path, body=iter([body[:5], body[5:]]), encode_chunked=True,
                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    response = conn.getresponse()
    return response.status, json.loads(response.read())


@pytest.mark.slow
def test_gunicorn_reads_a_chunked_api_body(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "SALESOS_TESTING"}}
    env.update({"SQLITE_PATH": str(tmp_path / "api.sqlite3"), "DEVELOPMENT": "1"})
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    made = subprocess.run(
        [*manage, "shell", "-c",
         "from routing.models import IntegrationToken as T; t = T(name='chunked'); k = t.issue_key(); t.save(); "
         "print('KEY=' + k)"],
        cwd=ROOT, env=env, check=True, timeout=120, capture_output=True, text=True,
    )
    key = next(line[4:] for line in made.stdout.splitlines() if line.startswith("KEY="))
    port = _free_port()
    server = subprocess.Popen([str(GUNICORN), "salesos.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        status, answer = _chunked_post(port, "/api/v1/route", json.dumps({"colour": "red"}).encode(), key)
        assert status == 400 and "colour" in answer["errors"], answer  # the body was read
        status, answer = _chunked_post(port, "/api/v1/route", json.dumps({"country": "US"}).encode(), key)
        assert status == 200 and answer["unassigned"] is True, answer
    finally:
        server.terminate()
        server.wait(timeout=10)
