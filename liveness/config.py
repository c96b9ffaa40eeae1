"""Deployment settings read from the environment, with embedded defaults.

Everything runs with no configuration at all (SQLite, local folders); a bank
deployment sets the variables below.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def _cache_home() -> Path:
    return _path("XDG_CACHE_HOME", Path.home() / ".cache")


@dataclass(frozen=True)
class Settings:
    """Where things live and how the product runs.

    mode: ``demo`` shows scores to the customer; ``production`` shows only the
    outcome and refuses to start without an evidence key.
    """

    mode: str
    model_cache: Path
    data_dir: Path
    var_dir: Path
    database_url: str
    evidence_dir: Path
    evidence_key: str | None
    script_key: str | None  # signs challenge scripts; None: derived from the evidence key
    retention_days: float  # case evidence older than this is purged (LGPD: keep no longer than needed)

    @property
    def production(self) -> bool:
        return self.mode == "production"


def settings() -> Settings:
    var_dir = _path("LIVENESS_VAR_DIR", PROJECT_ROOT / "var")
    mode = os.environ.get("LIVENESS_MODE", "demo").strip().lower()
    if mode not in ("demo", "production"):
        raise ValueError(f"LIVENESS_MODE must be 'demo' or 'production', not {mode!r}")
    return Settings(
        mode=mode,
        model_cache=_path("LIVENESS_MODEL_CACHE", _cache_home() / "liveness-models"),
        data_dir=_path("LIVENESS_DATA_DIR", PROJECT_ROOT.parent / "shared" / "data"),
        var_dir=var_dir,
        database_url=os.environ.get("DATABASE_URL", f"sqlite:///{var_dir / 'liveness.db'}"),
        evidence_dir=_path("LIVENESS_EVIDENCE_DIR", var_dir / "evidence"),
        evidence_key=os.environ.get("LIVENESS_EVIDENCE_KEY") or None,
        script_key=os.environ.get("LIVENESS_SCRIPT_KEY") or None,
        retention_days=float(os.environ.get("LIVENESS_RETENTION_DAYS", "180")),
    )
