"""``python -m liveness users|purge|db``: the operator's commands, in a child process as run for real."""

from __future__ import annotations

import subprocess
import sys

import pytest

import liveness  # noqa: F401
from liveness.store import auth, open_store
from liveness.store.testing import child_env, new_key


@pytest.fixture
def env(tmp_path):
    return {**child_env(), "LIVENESS_VAR_DIR": str(tmp_path), "LIVENESS_EVIDENCE_KEY": new_key(),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "LIVENESS_MODE": "demo"}


def cli(env, *args, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "liveness", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=120)


def test_users_create_list_disable(env, tmp_path):
    created = cli(env, "users", "create", "rita", "--role", "reviewer", "--password-stdin",
                  stdin="correct horse battery\n")
    assert created.returncode == 0, created.stderr
    again = cli(env, "users", "create", "rita", "--role", "admin", "--password-stdin", stdin="another long password\n")
    assert again.returncode == 1 and again.stderr.strip() == "error: user 'rita' already exists"
    weak = cli(env, "users", "create", "rui", "--role", "admin", "--password-stdin", stdin="short\n")
    assert weak.returncode == 1 and "at least 12" in weak.stderr and "Traceback" not in weak.stderr
    assert cli(env, "users", "disable", "rita").returncode == 0
    listing = cli(env, "users", "list").stdout.split("\t")
    assert listing[:3] == ["rita", "reviewer", "disabled"]
    store = open_store(env["DATABASE_URL"], evidence_key=env["LIVENESS_EVIDENCE_KEY"], evidence_dir=tmp_path / "ev")
    try:
        assert auth.get_user(store, "rita").disabled
    finally:
        store.close()


def test_purge_and_check(env):
    dry = cli(env, "purge", "--older-than", "30", "--dry-run")
    assert dry.returncode == 0 and "would delete the evidence of 0 case(s)" in dry.stdout
    assert cli(env, "purge").returncode == 0
    check = cli(env, "db", "check")
    assert check.returncode == 0 and "audit chain: intact" in check.stdout


def test_production_without_a_key_is_refused_in_one_line(env):
    env = {**env, "LIVENESS_MODE": "production"}
    del env["LIVENESS_EVIDENCE_KEY"]
    result = cli(env, "db", "upgrade")
    assert result.returncode == 1
    assert result.stderr.startswith("error: production mode needs an evidence key") and "Traceback" not in result.stderr


def test_an_unreachable_database_is_one_line(env):
    env = {**env, "DATABASE_URL": "postgresql://nobody:secret@127.0.0.1:9/none"}
    result = cli(env, "users", "list")
    assert result.returncode == 1
    assert result.stderr.startswith("error: the database is unreachable") and "secret" not in result.stderr
