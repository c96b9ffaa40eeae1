"""The bank's whole flow in headless Chromium: the API opens a session, the customer opens
``capture_url`` with the fake camera, the webhook brings the verdict and GET agrees.

The API (``python -m api``) and the app (``streamlit run``) run as real servers
on loopback, on one SQLite database and one evidence key, as ``./run app``
runs them. Timings are printed, not asserted. Screenshots: var/screenshots/.
"""

from __future__ import annotations

import time

import httpx
import pytest

from api_harness import api_server, bearer, document_jpeg, webhook_receiver
from liveness.store import api_clients
from liveness.store.testing import new_key
from test_browser_app import (CHROMIUM, SCREENSHOTS, SMILING_CLIP, VERDICT_TEXT, WINDOW, _browser, _require,
                              _screenshot, streamlit_app)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_capture_link_to_webhook_verdict(tmp_path):
    _require(CHROMIUM, "Chromium")
    _require(SMILING_CLIP, "fake camera clip")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shared = {"DATABASE_URL": f"sqlite:///{tmp_path / 'liveness.db'}", "LIVENESS_EVIDENCE_KEY": new_key(),
              "LIVENESS_EVIDENCE_DIR": str(tmp_path / "evidence")}
    timings: dict[str, float] = {}
    with streamlit_app(tmp_path, **shared) as (app_url, _env), \
            api_server(shared["DATABASE_URL"], tmp_path, LIVENESS_PUBLIC_URL=app_url, **shared) as server:
        store = server.store()
        client = api_clients.create_client(store, "bank", ["sessions:write", "sessions:read"])
        store.close()
        with webhook_receiver(client.webhook_secret) as receiver, sync_playwright() as playwright:
            started = time.monotonic()
            with document_jpeg(tmp_path).open("rb") as document:
                created = httpx.post(server.url + "/v1/sessions", headers=bearer(client.api_key), timeout=60,
                                     data={"customer_ref": "cust-browser", "callback_url": receiver.url},
                                     files={"document": document})
            assert created.status_code == 201, created.text
            timings["POST /v1/sessions"] = time.monotonic() - started
            capture_url = created.json()["capture_url"]
            assert capture_url.startswith(app_url)

            browser = _browser(playwright, SMILING_CLIP)
            page = browser.new_page(viewport=WINDOW)
            page.goto(capture_url)
            page.get_by_text("Seu banco já enviou a foto do seu documento").wait_for(timeout=120_000)
            timings["capture page shown"] = time.monotonic() - started
            assert page.locator('input[type="file"]').count() == 0  # no document upload
            frame = page.frame_locator('iframe[title*="webrtc_streamer"]')
            frame.get_by_role("button", name="Iniciar").wait_for(timeout=60_000)
            _screenshot(page, "api_capture_page.png")
            assert "Fila de análise" not in page.inner_text("body")  # no staff menu on a customer's link
            frame.get_by_role("button", name="Iniciar").click(timeout=60_000)
            page.get_by_text(VERDICT_TEXT).first.wait_for(timeout=180_000)
            timings["verdict on the page"] = time.monotonic() - started
            page.get_by_text("Você já pode fechar esta página").wait_for(timeout=30_000)
            _screenshot(page, "api_capture_verdict.png")
            text = page.inner_text("body")
            for internal in ("Pontuações", "quadros/s", "Motivos", "Caso registrado", "Enviar foto do documento"):
                assert internal not in text  # no scores, reasons or internals for the customer

            events = receiver.wait_for(1, timeout_s=60)
            timings["webhook received"] = time.monotonic() - started
            assert len(events) == 1 and events[0]["type"] == "session.completed"
            session = httpx.get(f"{server.url}/v1/sessions/{created.json()['session_id']}",
                                headers=bearer(client.api_key)).json()
            assert session == events[0]["data"]
            assert session["status"] in ("accepted", "review") and session["case_id"]
            assert ("Cadastro aceito" in text) == (session["status"] == "accepted")

            # The link is single-use: a second browser is refused, in plain words.
            again = browser.new_page(viewport=WINDOW)
            again.goto(capture_url)
            again.get_by_text("Este link de verificação já foi usado").wait_for(timeout=60_000)
            _screenshot(again, "api_capture_reused.png")
            forged = browser.new_page(viewport=WINDOW)
            forged.goto(capture_url[:-3] + "xyz")
            forged.get_by_text("Link de verificação inválido").wait_for(timeout=60_000)
            browser.close()
    print(f"\n[api browser flow] {session['status']} {session['reasons']}; " +
          "; ".join(f"{name} at {seconds:.1f} s" for name, seconds in timings.items()))
