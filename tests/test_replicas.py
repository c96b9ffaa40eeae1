"""The app as two replicas behind nginx (scripts/replicas.sh), one PostgreSQL, two customers at once.

Two headless Chromium customers go through nginx at the same time, each pinned to its
replica by the sticky cookie; one replica is killed while its customer streams. That
customer's camera is a still of the clip's person, who never smiles: the one-smile check
runs to its 30 s deadline, so the kill always lands mid-check (the looped smiling clip
can end a check at its first prompt, response_before_prompt, before the kill). The other
customer's check is recorded; the killed replica's customer is told the connection was lost
and starts again on the surviving replica. Every case a page acknowledged ("Caso
registrado: <id>") is in the database exactly once, under its own customer.

Reuses tests/test_browser_app.py's harness (fake camera, Debian Chromium via Playwright).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import urllib.error
import urllib.request
import uuid

import cv2
import pytest

import liveness  # noqa: F401  (native load order)
import sqlalchemy as sa

from liveness.config import PROJECT_ROOT
from test_browser_app import (CHROMIUM, SMILING_CLIP, WINDOW, _browser, _document_from_clip, _free_port,
                              _require, _screenshot)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ADMIN_URL = os.environ.get("LIVENESS_TEST_PG_URL",
                           "postgresql+psycopg://liveness_test:liveness_test@127.0.0.1:55432/liveness_test")
SCRIPT = PROJECT_ROOT / "scripts" / "replicas.sh"
CASE_SAVED = re.compile(r"Caso registrado: (\w+)")


def _postgres_or_skip() -> sa.Engine:
    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL unreachable (CI runs scripts/ensure_postgres.sh first)")
        pytest.skip("PostgreSQL unreachable: run scripts/ensure_postgres.sh")
    return engine


@pytest.fixture(scope="module")
def replica_set(tmp_path_factory):
    """Two replicas and nginx on free loopback ports, in a fresh database of their own."""
    _require(CHROMIUM, "Chromium")
    _require(SMILING_CLIP, "fake camera clip")
    if not (shutil.which("nginx") or os.path.exists("/usr/sbin/nginx")):
        _require(PROJECT_ROOT / "nginx-missing", "nginx (scripts/ensure_nginx.sh)")
    admin = _postgres_or_skip()
    database = f"liveness_replicas_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(sa.text(f"CREATE DATABASE {database}"))
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + database
    directory = tmp_path_factory.mktemp("replicas")
    ports = [_free_port() for _ in range(5)]
    env = {**os.environ, "DATABASE_URL": url, "LIVENESS_REPLICAS_DIR": str(directory),
           "LIVENESS_LB_PORT": str(ports[0]), "LIVENESS_REPLICA_PORTS": f"{ports[1]},{ports[2]}",
           "LIVENESS_REPLICA_METRICS_PORTS": f"{ports[3]},{ports[4]}", "LIVENESS_MODE": "demo",
           "LIVENESS_EVIDENCE_KEY": "", "LIVENESS_APP_STEPS": "smile", "LIVENESS_APP_STEP_TIMEOUT_S": "30"}
    for name in ("LIVENESS_VAR_DIR", "LIVENESS_EVIDENCE_DIR"):
        env.pop(name, None)
    try:
        subprocess.run(["bash", str(SCRIPT), "start", "2"], env=env, check=True, timeout=300,
                       capture_output=True, text=True)
        yield {"url": f"http://127.0.0.1:{ports[0]}", "dir": directory, "database": url, "env": env,
               "metrics": ports[3:]}
    except subprocess.CalledProcessError as error:
        pytest.fail(f"replicas.sh start failed: {error.stderr[-2000:]}")
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, timeout=120, capture_output=True)
        for log in sorted(directory.glob("replica-*.log")):
            print(f"--- {log.name}\n{log.read_text()[-1500:]}")
        sa.create_engine(url).dispose()
        with admin.connect() as c:
            c.execute(sa.text(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
        admin.dispose()


def _still_camera(document, out, frames: int = 30):
    """The document's still as an MJPEG camera: a face that never makes a gesture."""
    jpeg = cv2.imencode(".jpg", cv2.imread(str(document)), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()
    out.write_bytes(jpeg * frames)
    return out


def _start_check(page, url: str, customer: str, document) -> None:
    """Open Verificação, upload the document, press START (as tests/test_browser_app.py)."""
    page.goto(f"{url}/Verificação?customer={customer}")
    page.get_by_text("1. Documento de identidade").wait_for(timeout=120_000)
    page.locator('input[type="file"]').first.set_input_files(str(document))
    page.get_by_text("Rosto encontrado no documento").wait_for(timeout=120_000)
    page.frame_locator('iframe[title*="webrtc_streamer"]').get_by_role("button", name="Iniciar").click(
        timeout=60_000)
    page.get_by_text("quadros/s analisados").wait_for(timeout=120_000)


def _customer(browser, url: str, replica: str):
    """A browser whose nginx cookie pins it to ``replica``, as after its first visit."""
    context = browser.new_context(viewport=WINDOW)
    context.add_cookies([{"name": "liveness_replica", "value": replica, "url": url}])
    return context, context.new_page()


def _recorded_case(page, timeout_s: float = 150) -> str:
    page.get_by_text(CASE_SAVED).wait_for(timeout=timeout_s * 1000)
    return CASE_SAVED.search(page.inner_text("body")).group(1)


def _replica_cookie(context) -> str:
    return next(c["value"] for c in context.cookies() if c["name"] == "liveness_replica")


def test_two_customers_through_nginx_and_a_replica_killed_mid_check(replica_set, tmp_path):
    from playwright.sync_api import sync_playwright

    url = replica_set["url"]
    document = _document_from_clip(SMILING_CLIP, tmp_path / "document.jpg")
    with sync_playwright() as playwright:
        browsers = [_browser(playwright, SMILING_CLIP),
                    _browser(playwright, _still_camera(document, tmp_path / "still.mjpeg"))]
        (context_a, page_a), (context_b, page_b) = _customer(browsers[0], url, "r0"), _customer(browsers[1], url, "r1")
        # Both stream at once, each on its replica (the second starts while the first streams).
        _start_check(page_a, url, "customer-a", document)
        _start_check(page_b, url, "customer-b", document)
        assert (_replica_cookie(context_a), _replica_cookie(context_b)) == ("r0", "r1")

        os.kill(int((replica_set["dir"] / "replica-1.pid").read_text()), signal.SIGKILL)  # r1 dies mid-check
        case_a = _recorded_case(page_a)
        # B's browser reconnects through nginx to r0, which tells it what happened.
        page_b.get_by_text("A conexão com o servidor caiu").wait_for(timeout=120_000)
        _screenshot(page_b, "replicas_connection_lost.png")
        _start_check(page_b, url, "customer-b", document)  # starting again, now on r0
        case_b = _recorded_case(page_b)
        assert _replica_cookie(context_b) == "r0"  # the cookie follows the replica that took over
        _screenshot(page_b, "replicas_started_again.png")
        for browser in browsers:
            browser.close()

    engine = sa.create_engine(replica_set["database"])
    with engine.connect() as c:
        rows = c.execute(sa.text("SELECT id, customer_ref FROM cases")).all()
        sessions = dict(c.execute(sa.text(
            "SELECT customer_ref, count(*) FROM verification_sessions GROUP BY customer_ref")).all())
    engine.dispose()
    # Each acknowledged case exactly once, under its own customer; the check r1 lost left no case.
    assert sorted(rows) == sorted([(case_a, "customer-a"), (case_b, "customer-b")])
    assert sessions["customer-b"] >= 2  # the lost check's grant, then the new one
    evidence = replica_set["dir"] / "shared" / "evidence"
    for case in (case_a, case_b):  # in the shared evidence directory, whichever replica wrote it
        assert (evidence / case[:2]).is_dir() and any((evidence / case[:2]).glob(f"{case}*"))

    # Operations, per replica through nginx: r0 healthy and counting both verdicts, r1 down.
    assert urllib.request.urlopen(f"{url}/_replica/0/health", timeout=10).read() == b"ok"
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{url}/_replica/1/health", timeout=10)
    body = urllib.request.urlopen(f"{url}/_replica/0/metrics", timeout=10).read().decode()
    decided = re.findall(r'^liveness_verdicts_total\{decision="(\w+)",reason="(\w+)"\} (\S+)', body, re.M)
    assert {d for d, _, _ in decided} and sum(float(n) for _, _, n in decided) >= 2
    assert re.search(r'^liveness_stage_seconds_count\{stage="frame"\} [1-9]', body, re.M)
