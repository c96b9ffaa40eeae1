"""How a verdict is shown: the outcome in plain words, scores only where allowed."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from liveness.verdict import Verdict

from .common import tr


def show_verdict(verdict: Verdict, show_scores: bool, customer: bool = False) -> None:
    """The outcome and its reasons; with show_scores, the scores and versions too.

    customer: the words addressed to the person being verified (no internals).
    """
    if verdict.accepted:
        st.success(f"### {tr('accepted')}")
    else:
        st.warning(f"### {tr('review')}")
    if customer:
        st.write(tr("verify_accepted_text" if verdict.accepted else "verify_review_text"))
    if verdict.reasons and (show_scores or not customer):
        st.markdown(f"**{tr('reasons')}**")
        st.markdown("\n".join(f"- {tr(reason)}" for reason in verdict.reasons))
    if show_scores:
        with st.expander(tr("scores"), expanded=not customer):
            show_scores_table(verdict.scores, verdict.policy_version, verdict.policy_digest, verdict.model_versions)


def show_scores_table(scores: dict, policy_version: str, policy_digest: str, model_versions: dict) -> None:
    """The scores, then which policy and models produced them."""
    st.dataframe(scores_table(scores), hide_index=True, width="stretch")
    st.caption(f"{tr('policy_version')}: {policy_version} ({policy_digest}) · "
               f"{tr('versions')}: " + ", ".join(f"{k}={v}" for k, v in model_versions.items()))


# Scores named per challenge step (``peak_smile``, ``planar_residual_turn_left``).
_PER_STEP_SCORES = ("peak_", "planar_residual_")


def score_label(name: str) -> str:
    """A score of ``verdict.scores_of`` in words, in the page's language."""
    for prefix in _PER_STEP_SCORES:
        if name.startswith(prefix):
            return tr(f"score_{prefix}", gesture=tr(f"gesture_{name.removeprefix(prefix)}"))
    return tr(f"score_{name}")


def scores_table(scores: dict) -> pd.DataFrame:
    """A verdict's scores as (words, name, value) rows, numbers to 3 decimals, those not measured
    left out; the name is the one the policy and the what-if use."""
    def shown(value):
        return round(value, 3) if isinstance(value, float) else value

    return pd.DataFrame([{tr("score_name"): score_label(name), tr("score_key"): name, tr("score_value"): shown(value)}
                         for name, value in scores.items() if value is not None and not isinstance(value, dict)])
