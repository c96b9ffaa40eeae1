"""The bank's HTTP API (FastAPI): sessions, capture links, webhooks, offline verifications.

Run with ``python -m api`` (``./run app`` starts it beside Streamlit). The
engine is imported first, as every entry point must (``liveness/_native.py``).
Routers are thin: they parse and check input, then call the engine
(``liveness.matching``, ``liveness.pipeline``) and the store
(``liveness.store.api_clients``, ``api_sessions``, ``webhooks``, ``idempotency``).
"""

import liveness  # noqa: F401  (must come first: native load order)
