"""Settings come from the environment, and with nothing set give a server-free, safe service.

Each test loads registry.settings in a fresh interpreter with a clean environment: the test
process's own settings are already loaded (and in the server pass point at PostgreSQL).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]

# Everything settings.py reads that could leak in from the machine or from the server pass.
_READ = (
    "DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "CACHE_URL", "SECRET_KEY", "DEBUG",
    "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS", "EMAIL_URL", "HTTPS", "STATIC_ROOT", "REGISTRY_VAR_DIR",
    "ACCOUNT_EMAIL_VERIFICATION", "DEFAULT_FROM_EMAIL",
)  # fmt: skip


def load_settings(tmp_path: Path, **environment: str) -> dict:
    """The named settings as the service would see them with only `environment` set."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in _READ and not key.endswith("_FILE") and key != "DJANGO_SETTINGS_MODULE"
    }
    clean.update({"REGISTRY_VAR_DIR": str(tmp_path / "var"), **environment})
    script = (
        "import json, registry.settings as s;"
        "print(json.dumps({k: getattr(s, k, None) for k in ("
        "'SECRET_KEY', 'DEBUG', 'CELERY_TASK_ALWAYS_EAGER', 'CELERY_BROKER_URL', 'EMAIL_BACKEND',"
        "'SESSION_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'ALLOWED_HOSTS')}"
        " | {'DATABASE': s.DATABASES['default'], 'CACHE': s.CACHES['default']['BACKEND']}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_with_nothing_set_it_runs_on_sqlite_with_eager_tasks_and_debug_off(tmp_path):
    settings = load_settings(tmp_path)

    assert settings["DATABASE"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["DATABASE"]["NAME"] == str(tmp_path / "var" / "registry.sqlite3")
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is True
    assert settings["CELERY_BROKER_URL"] is None
    assert settings["DEBUG"] is False
    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert not settings["SESSION_COOKIE_SECURE"]  # Django's default, so http://127.0.0.1 works


def test_with_nothing_set_the_secret_key_is_generated_once_into_the_var_folder(tmp_path):
    first = load_settings(tmp_path)["SECRET_KEY"]
    second = load_settings(tmp_path)["SECRET_KEY"]

    key_file = tmp_path / "var" / "secret_key"
    assert first == second == key_file.read_text().strip()
    assert len(first) >= 50
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the owner only


def test_the_secret_key_is_not_committed():
    # var/ (where the generated key lives) is ignored, and no settings file spells out a key.
    assert "/var/" in (BASE_DIR / ".gitignore").read_text().splitlines()
    source = (BASE_DIR / "registry" / "settings.py").read_text()
    assert 'SECRET_KEY = "' not in source and "SECRET_KEY = '" not in source


def test_secret_key_file_is_read_when_set(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("a-key-from-a-file-" + "x" * 40 + "\n")

    settings = load_settings(tmp_path, SECRET_KEY_FILE=str(key_file))

    assert settings["SECRET_KEY"] == "a-key-from-a-file-" + "x" * 40
    assert not (tmp_path / "var" / "secret_key").exists()


def test_an_unreadable_secret_file_stops_the_start_with_its_name(tmp_path):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in _READ and key != "DJANGO_SETTINGS_MODULE"
    }
    environment["SECRET_KEY_FILE"] = str(tmp_path / "missing")
    result = subprocess.run(
        [sys.executable, "-c", "import registry.settings"], cwd=BASE_DIR, env=environment,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip

    assert result.returncode != 0
    assert "SECRET_KEY_FILE=" in result.stderr and "cannot be read" in result.stderr


def test_database_url_and_broker_url_switch_to_postgresql_and_a_real_worker(tmp_path):
    settings = load_settings(
        tmp_path,
        DATABASE_URL="postgres://registry:pw@db.internal:5433/registry",
        CELERY_BROKER_URL="redis://cache.internal:6379/0",
    )

    assert settings["DATABASE"]["ENGINE"] == "django.db.backends.postgresql"
    assert (settings["DATABASE"]["HOST"], settings["DATABASE"]["PORT"]) == ("db.internal", 5433)
    assert settings["DATABASE"]["NAME"] == "registry"
    assert settings["CELERY_BROKER_URL"] == "redis://cache.internal:6379/0"
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is False


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("true", True), ("0", False), ("", False)])
def test_debug_is_on_only_when_asked_for(tmp_path, value, expected):
    assert load_settings(tmp_path, DEBUG=value)["DEBUG"] is expected


def test_https_turns_on_secure_cookies_and_the_redirect(tmp_path):
    settings = load_settings(tmp_path, HTTPS="1")

    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SECURE_SSL_REDIRECT"] is True


def test_email_url_switches_mail_to_smtp(tmp_path):
    settings = load_settings(tmp_path, EMAIL_URL="smtp+tls://user:pw@mail.example.org:587")

    assert settings["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"


def test_static_files_are_served_with_debug_off_before_collectstatic(client, db, settings):
    # WhiteNoise serves from the app folders too (WHITENOISE_USE_FINDERS), so `runserver` with
    # the default DEBUG=False still has its stylesheet.
    assert settings.DEBUG is False
    response = client.get("/static/registry/site.css")

    assert response.status_code == 200
    assert b".card" in b"".join(response.streaming_content)
