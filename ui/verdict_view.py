"""How a verdict is shown: the outcome in plain words, scores only where allowed."""

from __future__ import annotations

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
            st.json({key: value for key, value in verdict.scores.items() if value is not None})
            st.caption(f"{tr('policy_version')}: {verdict.policy_version} ({verdict.policy_digest})")
            st.json(verdict.model_versions, expanded=False)
