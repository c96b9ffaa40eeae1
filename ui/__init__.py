"""Streamlit helpers shared by app.py and the pages (not pages themselves).

Import ``liveness`` before anything heavy: it fixes the native-library load
order WebRTC needs (see ``liveness/_native.py``).
"""

import liveness  # noqa: F401  (must come first)
