"""The webhook sender: a thread in the API process that queues, signs and delivers events.

Every ``poll_s`` it queues the events of sessions whose status moved
(``liveness.store.webhooks.enqueue_due``), drops document photos no capture
needs (``api_sessions.settle``), and POSTs the due deliveries, each signed
anew with its attempt's timestamp. Logs name deliveries by id, never a body.
"""

from __future__ import annotations

import logging
import threading
import time

import httpx

from liveness.config import settings as liveness_settings
from liveness.store import Store, api_clients, api_sessions, webhooks

from .config import ApiSettings, callback_refusal

log = logging.getLogger(__name__)
TIMEOUT_S = 10.0


def deliver(store: Store, client: httpx.Client, due: webhooks.DueDelivery, retry: webhooks.RetryPolicy) -> bool:
    timestamp = int(time.time())
    signature = webhooks.sign(api_clients.webhook_secret(store, due.client_id), timestamp, due.body)
    status = None
    # Checked again at each attempt: the hosts allowed may have changed since the session opened.
    error = callback_refusal(due.url, liveness_settings().production)
    if error is None:
        try:
            response = client.post(due.url, content=due.body, headers={
                "Content-Type": "application/json", "X-Webhook-Id": due.id, "X-Webhook-Event": due.event,
                "X-Timestamp": str(timestamp), "X-Signature": signature})
            status = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
    webhooks.record_attempt(store, due.id, status, error, retry)
    ok = status is not None and 200 <= status < 300
    if not ok:
        log.warning("webhook %s attempt %d failed: %s", due.id, due.attempts + 1, error or f"HTTP {status}")
    return ok


def run_once(store: Store, client: httpx.Client, settings: ApiSettings) -> int:
    webhooks.enqueue_due(store)
    api_sessions.settle(store)
    due = webhooks.claim_due(store)
    for delivery in due:
        deliver(store, client, delivery, settings.webhook_retry)
    return len(due)


class WebhookSender:
    def __init__(self, store: Store, settings: ApiSettings):
        self._store, self._settings = store, settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="webhooks", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        with httpx.Client(timeout=TIMEOUT_S, follow_redirects=False) as client:
            while not self._stop.is_set():
                try:
                    run_once(self._store, client, self._settings)
                except Exception:  # noqa: BLE001  (the database may be away a moment: try again)
                    log.exception("webhook round failed")
                self._stop.wait(self._settings.webhook_poll_s)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=TIMEOUT_S + 5)
