"""Schema fuzzing of /openapi.json with Schemathesis (its CLI, a few examples per operation).

Checks: all of Schemathesis's (no 5xx, status codes, content types, headers
and bodies matching the schema, bad input refused, auth not ignored...) plus
``error_has_message`` (tests/schemathesis_hooks.py). One is left out:
``positive_data_acceptance`` expects every schema-valid request to succeed, but
no schema can say "a photo with exactly one face": a valid random PNG is a
422 with reason ``document_no_face``, by design.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from api_harness import api_server
from liveness.store import api_clients

HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
EXAMPLES = 25


def test_schemathesis_finds_no_failure(tmp_path):
    with api_server(f"sqlite:///{tmp_path / 'api.db'}", tmp_path) as server:
        store = server.store()
        key = api_clients.create_client(store, "fuzzer", list(api_clients.SCOPES),
                                        rate_limit_per_minute=100_000).api_key
        store.close()
        report = tmp_path / "report.ndjson"
        run = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "run", f"{server.url}/openapi.json",
             "-H", f"Authorization: Bearer {key}", "--checks", "all",
             "--exclude-checks", "positive_data_acceptance", "--max-examples", str(EXAMPLES), "--seed", "12",
             "--no-color", "--generation-database", "none", "--report", "ndjson",
             "--report-ndjson-path", str(report)],
            cwd=tmp_path, env={**server.env, "SCHEMATHESIS_HOOKS": str(HOOKS)},
            capture_output=True, text=True, timeout=600)
    print(run.stdout[-2500:])
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "6 selected / 6 total" in run.stdout
    assert "error_has_message" in report.read_text()  # the custom check ran
