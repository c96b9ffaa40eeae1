"""Streamlit helpers shared by app.py and the pages (not pages themselves).

Import ``liveness`` before anything heavy: it fixes the native-library load
order WebRTC needs (see ``liveness/_native.py``).
"""

import gc

import liveness  # noqa: F401  (must come first)
import streamlit_webrtc  # noqa: F401
from liveness import logs, metrics, session  # noqa: F401

logs.configure()  # JSON lines on stderr, no biometric data
metrics.serve_from_env()  # /metrics of this replica on LIVENESS_METRICS_PORT, once per process

# A full garbage collection over the hundred thousand objects of these
# libraries holds the GIL for 100-300 ms, freezing the live video thread. They
# live as long as the process: take them out of the collector's sight once,
# here, before any page runs (.streamlit/config.toml also turns off
# Streamlit's collection after every rerun).
gc.collect()
gc.freeze()
