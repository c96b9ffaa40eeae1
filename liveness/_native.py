"""Native-library load order, in one place.

TensorFlow and MediaPipe each carry their own copy of OpenSSL/BoringSSL
symbols. If either is loaded before ``pylibsrtp`` (pulled in by aiortc, so by
streamlit-webrtc), libsrtp's ``HMAC_Init_ex`` binds to that copy and the
process dies with a segfault on the first SRTP packet. Loading pylibsrtp
first makes the binding correct whichever of the three is imported later.

``liveness/__init__.py`` calls :func:`preload` before anything else, so any
import of the engine fixes the order.
"""

from __future__ import annotations

import importlib
import sys

_HEAVY = ("tensorflow", "mediapipe")


def preload() -> None:
    """Import pylibsrtp (when installed) before TensorFlow or MediaPipe."""
    if "pylibsrtp" in sys.modules:
        return
    late = [name for name in _HEAVY if name in sys.modules]
    if late:
        raise ImportError(
            f"{', '.join(late)} was imported before the liveness engine; "
            "import liveness first (it loads pylibsrtp before the native ML "
            "libraries, or WebRTC crashes)"
        )
    try:
        importlib.import_module("pylibsrtp")
    except ImportError:  # the CLI and training run without WebRTC installed
        pass
