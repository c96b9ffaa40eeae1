"""Signed JSON tokens: ``<payload>.<signature>``, both base64url without padding, the
signature an HMAC-SHA256 of the payload's JSON bytes. Challenge scripts and the API's
capture links are such tokens, each under a key of its own."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json


class BadSignature(ValueError):
    """The token is malformed (``malformed``), or its signature is not this key's."""

    def __init__(self, malformed: bool):
        super().__init__("malformed token" if malformed else "signature not valid for this key")
        self.malformed = malformed


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def sign_payload(data: dict, key: bytes) -> str:
    payload = json.dumps(data, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def open_payload(token: str, key: bytes) -> object:
    """The JSON value a token signed with ``key`` carries; BadSignature otherwise."""
    try:
        payload_text, mac_text = token.strip().split(".")
        payload, mac = _unb64(payload_text), _unb64(mac_text)
    except (ValueError, binascii.Error):
        raise BadSignature(malformed=True) from None
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise BadSignature(malformed=False)
    try:
        return json.loads(payload)
    except ValueError:  # signed by us, so never in practice: a key shared with another format
        raise BadSignature(malformed=True) from None
