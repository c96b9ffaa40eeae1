"""The HTTP API through the real uvicorn server on loopback, on SQLite and PostgreSQL.

Clients are created in-process on the server's database; the customer page's
part (claiming the capture link, recording the verdict) is played by the
store functions it calls, so that statuses move without a browser
(tests/test_api_browser.py drives the real page).
"""

from __future__ import annotations

import base64
import http.client
import re
import subprocess
import sys
from datetime import timedelta

import httpx
import pytest

from api_harness import api_server, bearer, blank_png, document_jpeg, two_faces_jpeg
from liveness.config import PROJECT_ROOT
from liveness.store import api_clients, api_sessions, audit, auth, cases, reviews, sessions
from liveness.store.api_sessions import CaptureRefused
from liveness.store.testing import evidence_for, fresh_pg_database, verdict_for


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp(f"api-{request.param}")
    if request.param == "sqlite":
        urls = iter([f"sqlite:///{var_dir / 'api.db'}"])
    else:
        urls = fresh_pg_database()
    url = next(urls)
    # 1 MB body limit, so that the 413 is cheap to provoke.
    with api_server(url, var_dir, LIVENESS_API_MAX_BODY_MB="1",
                    LIVENESS_PUBLIC_URL="http://capture.example") as running:
        yield running
    for _ in urls:  # drops the PostgreSQL database
        pass


@pytest.fixture(scope="module")
def store(server):
    store = server.store()
    yield store
    store.close()


@pytest.fixture(scope="module")
def key(store):
    return api_clients.create_client(store, "bank", list(api_clients.SCOPES)).api_key


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    folder = tmp_path_factory.mktemp("documents")
    return {"face": document_jpeg(folder), "two": two_faces_jpeg(folder), "blank": blank_png(folder)}


def _open(server, key, document, customer="cust-1", **fields) -> httpx.Response:
    with document.open("rb") as f:
        return httpx.post(server.url + "/v1/sessions", headers=bearer(key), timeout=30,
                          data={"customer_ref": customer, **fields}, files={"document": f})


def _token(capture_url: str) -> str:
    return capture_url.split("?session=", 1)[1]


def test_health_ready_and_schema(server):
    assert httpx.get(server.url + "/v1/health").json() == {"status": "ok"}
    assert httpx.get(server.url + "/v1/ready").json() == {"ready": True, "database": True, "models": True,
                                                           "detail": None}
    schema = httpx.get(server.url + "/openapi.json").json()
    assert {"/v1/sessions", "/v1/sessions/{session_id}", "/v1/health", "/v1/ready"} <= set(schema["paths"])
    assert set(schema["paths"]["/v1/sessions"]["post"]["requestBody"]["content"]) == {
        "application/json", "multipart/form-data"}
    docs = httpx.get(server.url + "/docs").text
    assets = re.findall(r"""(?:src|href)=['"]([^'"]+\.(?:js|css|png))['"]""", docs)
    assert "swagger" in docs.lower() and len(assets) >= 3, docs
    # Served by the API itself: a bank's network reaches no CDN.
    for asset in assets:
        assert asset.startswith("/"), asset
        assert httpx.get(server.url + asset).status_code == 200, asset


def test_session_lifecycle_multipart_then_get(server, store, key, documents):
    created = _open(server, key, documents["face"], operation="personal_loan", locale="en")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "created"
    assert body["capture_url"].startswith("http://capture.example/Verifica%C3%A7%C3%A3o?session=")
    session_id = body["session_id"]

    def status() -> dict:
        answer = httpx.get(f"{server.url}/v1/sessions/{session_id}", headers=bearer(key))
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert status()["status"] == "created" and status()["operation"] == "personal_loan"
    capture = api_sessions.claim_capture(store, _token(body["capture_url"]))
    assert capture.lang == "en" and capture.document_jpeg == documents["face"].read_bytes()
    assert status()["status"] == "in_progress"
    ticket = sessions.consume_session(store, capture.session_id, capture.nonce)
    case = cases.record_case(store, ticket, verdict_for(session_id, "review"), evidence_for(7))
    seen = status()
    assert (seen["status"], seen["case_id"], seen["verdict"]) == ("review", case.id, "review")
    assert seen["reasons"] == ["passive score below threshold"] and seen["scores"]["match"] == 0.5
    assert seen["policy_version"] == "2026.11.0" and seen["model_versions"]["sface"] == "2021dec"
    assert seen["decision"] is None
    reviewer = auth.create_user(store, "rita", "correct horse battery staple", "reviewer")
    reviews.decide(store, reviewer, case.id, "approve", "same person, poor light")
    decided = status()
    assert decided["status"] == "approved"
    assert decided["decision"]["outcome"] == "approve" and decided["decision"]["note"] == "same person, poor light"


def test_json_base64_document_and_document_checks(server, key, documents):
    encoded = base64.b64encode(documents["face"].read_bytes()).decode()
    answer = httpx.post(server.url + "/v1/sessions", headers=bearer(key), timeout=30,
                        json={"customer_ref": "cust-json", "document": encoded})
    assert answer.status_code == 201, answer.text
    for name, reason in (("blank", "document_no_face"), ("two", "document_multiple_faces")):
        refused = _open(server, key, documents[name], customer=f"cust-{name}")
        assert refused.status_code == 422 and refused.json()["reason"] == reason, refused.text
    bad = httpx.post(server.url + "/v1/sessions", headers=bearer(key),
                     json={"customer_ref": "cust-json", "document": "not base64!"})
    assert bad.status_code == 422 and "base64" in bad.json()["detail"]
    text = httpx.post(server.url + "/v1/sessions", headers=bearer(key),
                      json={"customer_ref": "cust-json", "document": base64.b64encode(b"hello").decode()})
    assert text.status_code == 422 and "JPEG or PNG" in text.json()["detail"]
    wrong_type = httpx.post(server.url + "/v1/sessions", headers={**bearer(key), "Content-Type": "text/plain"},
                            content=b"hello")
    assert wrong_type.status_code == 415 and wrong_type.json()["detail"]
    bad_ref = _open(server, key, documents["face"], customer="José da Silva")
    assert bad_ref.status_code == 422 and "customer_ref" in bad_ref.json()["detail"]


def test_keys_scopes_revocation_and_other_clients(server, store, key, documents):
    created = _open(server, key, documents["face"], customer="cust-scope").json()
    path = f"{server.url}/v1/sessions/{created['session_id']}"
    assert httpx.get(path).status_code == 401
    assert httpx.get(path, headers=bearer("lv_" + "0" * 32 + "_nope")).status_code == 401
    reader = api_clients.create_client(store, "reader", ["sessions:read"])
    refused = _open(server, reader.api_key, documents["face"])
    assert refused.status_code == 403 and "sessions:write" in refused.json()["detail"]
    # Another client's session does not exist for it.
    assert httpx.get(path, headers=bearer(reader.api_key)).status_code == 404
    api_clients.revoke_client(store, "reader")
    assert httpx.get(path, headers=bearer(reader.api_key)).status_code == 401


def test_idempotency_key(server, key, documents):
    headers = {"Idempotency-Key": "loan-42"}
    with documents["face"].open("rb") as f:
        data = f.read()

    def post(customer):
        return httpx.post(server.url + "/v1/sessions", headers={**bearer(key), **headers}, timeout=30,
                          data={"customer_ref": customer}, files={"document": ("d.jpg", data)})

    first, again = post("cust-idem"), post("cust-idem")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers["idempotent-replayed"] == "true"
    changed = post("cust-other")
    assert changed.status_code == 409 and "different request" in changed.json()["detail"]


def test_body_limits(server, key):
    big = httpx.post(server.url + "/v1/sessions", headers=bearer(key),
                     json={"customer_ref": "c", "document": "A" * (2 * 1024 * 1024)})
    assert big.status_code == 413 and "limit" in big.json()["detail"]

    def chunks():
        yield b'{"customer_ref": "c", "document": "'

    chunked = httpx.post(server.url + "/v1/sessions", headers={**bearer(key), "Content-Type": "application/json"},
                         content=chunks())
    assert chunked.status_code == 411 and chunked.json()["detail"]
    # No body at all (curl -X POST): no length to ask for; the missing key is what is wrong.
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/v1/sessions")  # putrequest adds no Content-Length
    connection.endheaders()
    bare = connection.getresponse()
    assert bare.status == 401 and b"API key" in bare.read()


def test_rate_limit_per_key(server, store):
    limited = api_clients.create_client(store, "limited", ["sessions:read"], rate_limit_per_minute=3)
    path = f"{server.url}/v1/sessions/{'0' * 32}"
    answers = [httpx.get(path, headers=bearer(limited.api_key)).status_code for _ in range(4)]
    assert answers == [404, 404, 404, 429]


def test_lockout_per_customer(server, key, documents):
    """Five failed attempts (documents without a face) lock the customer, as on the app's page."""
    answers = [_open(server, key, documents["blank"], customer="cust-locked").status_code for _ in range(5)]
    assert answers == [422] * 5
    locked = _open(server, key, documents["face"], customer="cust-locked")
    assert locked.status_code == 429 and "too many failed attempts" in locked.json()["detail"]
    assert int(locked.headers["retry-after"]) > 0
    assert _open(server, key, documents["face"], customer="cust-free").status_code == 201


def test_capture_tokens_forged_reused_expired(server, store, key, documents):
    token = _token(_open(server, key, documents["face"], customer="cust-token").json()["capture_url"])
    payload, signature = token.split(".")
    for forged in (f"{payload}.{signature[:-2]}xx", "garbage", f"{payload[:-2]}AA.{signature}"):
        with pytest.raises(CaptureRefused) as refused:
            api_sessions.claim_capture(store, forged)
        assert refused.value.reason == "forged"
    api_sessions.claim_capture(store, token)
    with pytest.raises(CaptureRefused) as reused:
        api_sessions.claim_capture(store, token)
    assert reused.value.reason == "used"

    late_token = _token(_open(server, key, documents["face"], customer="cust-late").json()["capture_url"])
    later = server.store(clock=lambda: store.now() + timedelta(minutes=6))
    with pytest.raises(CaptureRefused) as expired:
        api_sessions.claim_capture(later, late_token)
    assert expired.value.reason == "expired"
    session_id = api_sessions._token_session(store, late_token)[0]
    assert api_sessions.session_view(later, session_id, api_clients.authenticate_key(store, key).id).status \
        == "expired"
    later.close()


def test_calls_audited_without_bodies(server, store, key, documents):
    _open(server, key, documents["face"], customer="cust-audit")
    events = [e for e in audit.entries(store, limit=500) if e.action.startswith("api.")]
    assert any(e.actor == "client:bank" and e.details["route"] == "/v1/sessions" and e.details["status"] == 201
               for e in events)
    assert any(e.actor == "api:anonymous" and e.details["status"] == 401 for e in events)
    document_b64 = base64.b64encode(documents["face"].read_bytes()).decode()[:40]
    assert all(document_b64 not in str(e.details) and "cust-audit" not in str(e.details) for e in events)
    assert audit.verify_chain(store).ok


def test_clients_cli_prints_the_key_once(server):
    env = server.env

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "liveness", "clients", *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    created = cli("create", "cli-bank", "--scopes", "sessions:read")
    assert created.returncode == 0, created.stderr
    key = next(line.split()[-1] for line in created.stdout.splitlines() if line.startswith("API key"))
    assert httpx.get(f"{server.url}/v1/sessions/{'0' * 32}", headers=bearer(key)).status_code == 404
    listed = cli("list")
    assert "cli-bank" in listed.stdout and key not in listed.stdout and "active" in listed.stdout
    assert cli("revoke", "cli-bank").returncode == 0
    assert httpx.get(f"{server.url}/v1/sessions/{'0' * 32}", headers=bearer(key)).status_code == 401
    bad = cli("create", "x", "--scopes", "sessions:read")
    assert bad.returncode == 1 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


def test_callback_must_be_https_in_production(monkeypatch):
    from pydantic import ValidationError

    from api.models import SessionFields

    assert SessionFields(customer_ref="c", callback_url="http://127.0.0.1/hook").callback_url  # demo: loopback ok
    monkeypatch.setenv("LIVENESS_MODE", "production")
    with pytest.raises(ValidationError, match="must be https"):
        SessionFields(customer_ref="c", callback_url="http://bank.example/hook")
    with pytest.raises(ValidationError, match="LIVENESS_WEBHOOK_HOSTS"):  # production: only to the hosts named
        SessionFields(customer_ref="c", callback_url="https://bank.example/hook")
    monkeypatch.setenv("LIVENESS_WEBHOOK_HOSTS", "bank.example")
    assert SessionFields(customer_ref="c", callback_url="https://bank.example/hook").callback_url
