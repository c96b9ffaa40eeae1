"""Which models the app runs with (the third-party files and the shipped passive CNN), and the
passive model's evaluation reports as tables."""

from __future__ import annotations

import pandas as pd

from liveness.config import settings
from liveness.i18n import TEXT
from liveness.pad.artifact import ModelInfo
from liveness.passive import PASSIVE_MODEL_PATH
from liveness.registry import manifest, sha256_of

from .common import tr


def models_table(evaluation: bool = False) -> pd.DataFrame:
    """The model files and whether each is in place; ``evaluation``: also the optional ones
    only evaluations use (``models fetch`` leaves them out unless named)."""
    cache = settings().model_cache
    rows = []
    for entry in (e for e in manifest().values() if evaluation or not e.optional):
        path = cache / entry.filename
        ready = path.is_file() and sha256_of(path) == entry.sha256
        rows.append({tr("model"): entry.name, tr("model_role"): tr(f"model_role_{entry.name}"),
                     tr("model_version"): f"{entry.filename}@{entry.sha256[:12]}",
                     tr("model_status"): tr("model_ready" if ready else "model_missing")})
    passive_version = (ModelInfo.load(PASSIVE_MODEL_PATH).version
                       if PASSIVE_MODEL_PATH.is_file() else None)
    rows.append({tr("model"): "passive", tr("model_role"): tr("live_probability"),
                 tr("model_version"): passive_version or "—",
                 tr("model_status"): tr("model_ready" if passive_version else "model_missing")})
    return pd.DataFrame(rows)


RATES = ("apcer", "bpcer", "acer", "eer", "bpcer_at_apcer_1pct", "bpcer_at_apcer_5pct")
LABELS = {"bpcer_at_apcer_1pct": "BPCER @ APCER 1 %", "bpcer_at_apcer_5pct": "BPCER @ APCER 5 %"}


def _cell(key: str, value) -> str:
    """Rates in percent, AUC and thresholds as they are; a dash where a one-class set has none."""
    if value is None:
        return "—"
    return f"{100 * value:.1f} %" if key in RATES else f"{value:.3f}"


def _rates(values: dict, keys: tuple[str, ...]) -> dict:
    def label(key: str) -> str:
        return LABELS.get(key) or (key.upper() if key in (*RATES, "auc") else tr(f"evaluation_{key}"))

    return {label(key): _cell(key, values[key]) for key in keys if key in values}


def evaluation_tables(report: dict) -> list[tuple[str | None, pd.DataFrame]]:
    """The tables of one ``report.json``: (caption, table) for each recipe of a leave-one-source-out
    run (one row per source left out: scored by a model that never saw it), else its headline rates."""
    if "recipes" not in report:
        return [(None, pd.DataFrame([_rates(report, (*RATES, "auc", "threshold"))]))]
    tables = []
    for recipe in report["recipes"]:
        summary = recipe["summary"]
        caption = tr("evaluation_recipe", recipe=recipe["recipe"], mean_acer=_cell("acer", summary["mean_acer"]),
                     worst=summary["worst_acer"]["source"], worst_acer=_cell("acer", summary["worst_acer"]["value"]),
                     mean_auc=_cell("auc", summary["mean_auc"]))
        rows = [{tr("evaluation_source"): row["source"],
                 **_rates(row, ("apcer", "bpcer", "acer", "eer", "auc", "threshold"))}
                for row in recipe["per_source"]]
        tables.append((caption, pd.DataFrame(rows)))
    return tables


def evaluation_title(folder: str) -> str:
    """An evaluation folder's title (its name, where no title was written for it)."""
    key = f"evaluation_{folder}"
    return f"{tr(key)} (`{folder}`)" if key in TEXT else folder


def plot_caption(stem: str) -> str:
    return tr(f"plot_{stem}") if f"plot_{stem}" in TEXT else stem
