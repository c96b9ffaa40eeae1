"""Schemathesis hooks for tests/test_api_schemathesis.py (loaded through SCHEMATHESIS_HOOKS)."""

import schemathesis


@schemathesis.check
def error_has_message(ctx, response, case):
    """Every 4xx carries a one-line ``detail``, never an empty body or a traceback."""
    if 400 <= response.status_code < 500:
        body = response.json()
        detail = body.get("detail") if isinstance(body, dict) else None
        if not isinstance(detail, str) or not detail.strip() or "Traceback" in detail or "\n" in detail:
            raise AssertionError(f"a {response.status_code} without a one-line detail: {response.text[:200]}")
