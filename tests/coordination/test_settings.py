"""Settings come from the environment, fail loudly when wrong, and are production-safe by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from coordination.env import database_from_url, env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "SKYDDSNAT_SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
    "SKYDDSNAT_ALLOWED_HOSTS": "skyddsnat.example.se",
    "DATABASE_URL": "postgres://skyddsnat@127.0.0.1:5432/skyddsnat",
    "SKYDDSNAT_BEHIND_PROXY": "true",
    "SKYDDSNAT_KEKS": "p1:" + "cHJvZHVjdGlvbi1rZWstdjEtZm9yLXRoZS10ZXN0cy0=",
    "SKYDDSNAT_BLIND_INDEX_KEY": "cHJvZHVjdGlvbi1ibGluZC1pbmRleC1mb3ItdGVzdHM=",
    "SKYDDSNAT_PSEUDONYM_KEY": "cHJvZHVjdGlvbi1wc2V1ZG9ueW0ta2V5LWZvci10ZXM=",
    "SKYDDSNAT_AUDIT_SIGNING_KEYS": "a1:" + "cHJvZHVjdGlvbi1hdWRpdC1zaWduaW5nLWtleS10ZXM=",
}
KEY_VARIABLES = ("SKYDDSNAT_KEKS", "SKYDDSNAT_BLIND_INDEX_KEY", "SKYDDSNAT_PSEUDONYM_KEY")


def clean_environment() -> dict[str, str]:
    """This process's environment without the test run's Skyddsnät and Django settings."""
    clean = {
        key: value for key, value in os.environ.items() if not key.startswith(("SKYDDSNAT_", "DATABASE_URL"))
    }
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    return clean


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = clean_environment()
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SKYDDSNAT_SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SKYDDSNAT_SECRET_KEY is not set" in result.stderr


def test_production_refuses_to_run_without_encryption_keys() -> None:
    env = {key: value for key, value in PRODUCTION_ENV.items() if key not in KEY_VARIABLES}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "cases.E001" in result.stderr
    assert "No encryption keys are configured" in result.stderr


def test_check_deploy_fails_without_an_audit_signing_key() -> None:
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SKYDDSNAT_AUDIT_SIGNING_KEYS"}
    result = run_manage("check", "--deploy", env=env)
    assert result.returncode != 0
    assert "cases.E002" in result.stderr
    assert "No audit signing key is configured" in result.stderr


def test_the_wsgi_application_refuses_to_load_without_keys() -> None:
    env = {key: value for key, value in PRODUCTION_ENV.items() if key not in KEY_VARIABLES}
    clean = {
        key: value for key, value in os.environ.items() if not key.startswith(("SKYDDSNAT_", "DATABASE_URL"))
    }
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "-c", "import coordination.wsgi"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "No encryption keys are configured" in result.stderr


def test_a_malformed_boolean_names_the_variable() -> None:
    result = run_manage("check", env={**PRODUCTION_ENV, "SKYDDSNAT_DEBUG": "kanske"})
    assert result.returncode != 0
    assert "SKYDDSNAT_DEBUG must be true or false" in result.stderr


def test_debug_is_off_unless_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SKYDDSNAT_DEBUG", raising=False)
    assert env_bool("SKYDDSNAT_DEBUG", default=False) is False
    result = run_manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        env=PRODUCTION_ENV,
    )
    assert result.stdout.strip() == "False", result.stderr


def test_production_uses_persistent_postgres_connections_and_https() -> None:
    code = (
        "from django.conf import settings as s; d = s.DATABASES['default'];"
        "print(d['ENGINE'], d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)"
    )
    result = run_manage("shell", "-v", "0", "-c", code, env=PRODUCTION_ENV)
    assert result.stdout.split() == [
        "django.db.backends.postgresql",
        "600",
        "True",
        "True",
        "True",
        "True",
        "31536000",
    ], result.stderr


def test_argon2_is_the_password_hasher() -> None:
    from coordination import settings as real_settings

    assert real_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_env_readers_reject_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_INT", "femton")
    with pytest.raises(ImproperlyConfigured, match="X_INT must be a whole number"):
        env_int("X_INT", 1)
    monkeypatch.setenv("X_INT", "-3")
    with pytest.raises(ImproperlyConfigured, match="X_INT must be at least 0"):
        env_int("X_INT", 1)
    monkeypatch.setenv("X_LIST", " a.se, ,b.se ")
    assert env_list("X_LIST") == ["a.se", "b.se"]
    monkeypatch.setenv("X_BOOL", "Yes")
    assert env_bool("X_BOOL", default=False) is True


def test_database_urls_are_parsed(tmp_path: Path) -> None:
    postgres = database_from_url(
        "postgres://app:p%40ss@db.internal:6432/skyddsnat?sslmode=require", base_dir=tmp_path, conn_max_age=60
    )
    assert postgres["ENGINE"] == "django.db.backends.postgresql"
    assert (postgres["USER"], postgres["PASSWORD"], postgres["HOST"], postgres["PORT"]) == (
        "app",
        "p@ss",
        "db.internal",
        "6432",
    )
    assert postgres["NAME"] == "skyddsnat"
    assert postgres["OPTIONS"] == {"sslmode": "require", "options": "-c jit=off"}
    own = database_from_url(
        "postgres://app@db/skyddsnat?options=-c%20work_mem%3D64MB", base_dir=tmp_path, conn_max_age=0
    )
    assert own["OPTIONS"] == {"options": "-c work_mem=64MB"}
    assert postgres["CONN_MAX_AGE"] == 60

    relative = database_from_url("sqlite:///var/demo.sqlite3", base_dir=tmp_path, conn_max_age=60)
    assert relative["NAME"] == str(tmp_path / "var" / "demo.sqlite3")
    absolute = database_from_url("sqlite:////srv/skyddsnat.sqlite3", base_dir=tmp_path, conn_max_age=60)
    assert absolute["NAME"] == "/srv/skyddsnat.sqlite3"


@pytest.mark.parametrize("url", ["mysql://x@y/z", "postgres://x@y/", "sqlite://"])
def test_unusable_database_urls_are_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured):
        database_from_url(url, base_dir=tmp_path, conn_max_age=0)


@pytest.mark.django_db(databases=["default", "keys"])
def test_postgresql_connections_run_without_jit() -> None:
    if connections["default"].vendor != "postgresql":
        pytest.skip("runs in the PostgreSQL suite (make test-postgres)")
    for alias in ("default", "keys"):
        with connections[alias].cursor() as cursor:
            cursor.execute("SHOW jit")
            assert cursor.fetchone() == ("off",), alias
