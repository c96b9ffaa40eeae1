"""Which models the app runs with: the third-party files and the shipped passive CNN."""

from __future__ import annotations

import pandas as pd

from liveness.config import settings
from liveness.pad.artifact import ModelInfo
from liveness.passive import PASSIVE_MODEL_PATH
from liveness.registry import manifest, sha256_of

from .common import tr


def models_table() -> pd.DataFrame:
    cache = settings().model_cache
    rows = []
    for entry in manifest().values():
        path = cache / entry.filename
        ready = path.is_file() and sha256_of(path) == entry.sha256
        rows.append({tr("model"): entry.name, tr("model_role"): entry.description,
                     "version": f"{entry.filename}@{entry.sha256[:12]}",
                     tr("model_status"): tr("model_ready" if ready else "model_missing")})
    passive_version = (ModelInfo.load(PASSIVE_MODEL_PATH).version
                       if PASSIVE_MODEL_PATH.is_file() else None)
    rows.append({tr("model"): "passive", tr("model_role"): tr("live_probability"),
                 "version": passive_version or "—",
                 tr("model_status"): tr("model_ready" if passive_version else "model_missing")})
    return pd.DataFrame(rows)
