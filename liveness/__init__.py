"""Face identity verification engine: detection, matching, liveness, verdict.

Plain Python on numpy BGR frames; no Streamlit here.
"""

from ._native import preload as _preload

_preload()  # before anything can load TensorFlow or MediaPipe: see _native.py
