"""Settings come from the environment and hold on both databases."""

import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def _run(code_or_args, env_extra: dict, *, script: bool = False, timeout: int = 120) -> subprocess.CompletedProcess:
    ignored = {"DATABASE_URL", "DEBUG", "SECRET_KEY", "SALESOS_TESTING", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in ignored}
    env.update(env_extra)
    args = [sys.executable, "-c", code_or_args] if script else [sys.executable, "manage.py", *code_or_args]
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def test_the_configured_database_is_the_one_in_use():
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == expected


def test_deploy_check_passes_with_production_settings():
    result = _run(
        ["check", "--deploy", "--fail-level", "ERROR"],
        {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "salesos.example.com",
            "EMAIL_HOST": "smtp.example.com",
            "DATABASE_URL": "postgres://salesos@db.example.com:5432/salesos",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_deploy_check_refuses_missing_secret_key_and_sqlite():
    result = _run(["check", "--deploy"], {"ALLOWED_HOSTS": "salesos.example.com", "EMAIL_HOST": "smtp.example.com"})
    assert result.returncode != 0
    assert "salesos.E001" in result.stderr and "salesos.E002" in result.stderr


def test_serving_without_a_secret_key_is_refused():
    result = _run("import salesos.wsgi", {"DJANGO_SETTINGS_MODULE": "salesos.settings"}, script=True)
    assert result.returncode != 0 and "Set SECRET_KEY" in result.stderr


def test_production_security_settings_are_strict_unless_debug():
    result = _run(
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS > 0, s.DEBUG)",
        {"DJANGO_SETTINGS_MODULE": "salesos.settings", "SECRET_KEY": "k" * 60},
        script=True,
    )
    assert result.stdout.split() == ["True", "True", "True", "True", "False"], result.stderr


WRITER = textwrap.dedent("""
    import os, sys, django
    os.environ["DJANGO_SETTINGS_MODULE"] = "salesos.settings"
    django.setup()
    from django.db import connection, transaction
    with connection.cursor() as c:
        c.execute("CREATE TABLE IF NOT EXISTS hits (who TEXT, n INTEGER)")
        c.execute("PRAGMA journal_mode")
        print(c.fetchone()[0])
    for n in range(int(sys.argv[1])):
        with transaction.atomic():
            with connection.cursor() as c:
                c.execute("SELECT COUNT(*) FROM hits")
                c.execute("INSERT INTO hits VALUES (%s, %s)", [sys.argv[2], n])
""")


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="SQLite-specific: the embedded default database",
)
def test_sqlite_survives_two_processes_writing_at_once(tmp_path):
    """The web server and the task worker write to one SQLite file at the same time."""
    db = tmp_path / "concurrent.sqlite3"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SALESOS_TESTING"}}
    env.update({"SQLITE_PATH": str(db), "DEBUG": "1"})
    subprocess.run([sys.executable, "-c", WRITER, "0", "setup"], cwd=ROOT, env=env, check=True)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, "300", who],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("web", "worker")
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        assert out.strip() == "wal"
    import sqlite3

    with sqlite3.connect(db) as check:
        assert check.execute("SELECT COUNT(*) FROM hits").fetchone()[0] == 600


def test_forwarded_proto_is_trusted_only_behind_a_proxy():
    code = "from django.conf import settings as s; print(s.SECURE_PROXY_SSL_HEADER, s.BEHIND_PROXY)"
    base = {"DJANGO_SETTINGS_MODULE": "salesos.settings", "SECRET_KEY": "k" * 60}
    direct = _run(code, base, script=True)
    assert direct.stdout.split() == ["None", "False"], direct.stderr
    proxied = _run(code, {**base, "BEHIND_PROXY": "1"}, script=True)
    assert proxied.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https') True", proxied.stderr
