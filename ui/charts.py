"""Charts: a session's per-frame scores (live probability, smile, blink, similarity, yaw), and
the what-if's error rates along the live-probability threshold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import streamlit as st

from liveness.i18n import event_detail
from liveness.verdict import NO_DOCUMENT_REASONS

from .common import lang, tr

# Series on a 0..1 scale share one chart; yaw (degrees) gets its own.
_UNIT_SERIES = {"passive": "live_probability", "smile": "chart_smile", "blink": "chart_blink",
                "similarity": "similarity"}


# Scored on some frames only (every passive_every_n-th face, an identity sample per second):
# a chart draws no line through the frames between, so they are joined between their samples.
_SAMPLED_SERIES = ("passive", "similarity")


def timeline_frame(series: Mapping[str, Sequence], timestamps: Sequence[float]) -> pd.DataFrame:
    frame = pd.DataFrame({name: list(series.get(name, [])) for name in (*_UNIT_SERIES, "yaw")
                          if series.get(name)}, dtype="float64")
    frame.index = pd.Index(list(timestamps)[: len(frame)], name="t (s)")
    sampled = [name for name in _SAMPLED_SERIES if name in frame]
    frame[sampled] = frame[sampled].interpolate(limit_area="inside")
    return frame


def show_timeline(series: Mapping[str, Sequence], timestamps: Sequence[float],
                  events: Sequence[Mapping], reasons: Sequence[str]) -> None:
    """The score curves over time, then the challenge events as a table; ``reasons`` (the
    verdict's) say whether the similarity is to a document or to the session's first face."""
    frame = timeline_frame(series, timestamps)
    if frame.empty:
        return
    st.markdown(f"**{tr('chart_scores')}**")
    unit = frame[[name for name in _UNIT_SERIES if name in frame]]
    st.line_chart(unit.rename(columns=series_labels(reasons)), x_label=tr("event_time"), y_label="0 … 1")
    if "yaw" in frame:
        st.markdown(f"**{tr('chart_yaw')}**")
        st.line_chart(frame[["yaw"]].rename(columns={"yaw": tr("chart_yaw")}), x_label=tr("event_time"),
                      y_label=tr("chart_yaw_unit"))
    if events:
        st.markdown(f"**{tr('challenge_events')}**")
        st.dataframe(events_table(events), hide_index=True, width="stretch")


def series_labels(reasons: Sequence[str]) -> dict[str, str]:
    """The 0..1 series' names on the chart: without a usable document, the similarity is to the
    session's first face (continuity)."""
    labels = {name: tr(key) for name, key in _UNIT_SERIES.items()}
    if any(reason in NO_DOCUMENT_REASONS for reason in reasons):
        labels["similarity"] = tr("similarity_first_face")
    return labels


def key_frame_caption(label: str) -> str:
    """A key frame's label (``session._collect_key_frames``: ``step:event``, ``first_face``,
    ``first_low_live_score``) in the page's language."""
    step, _, event = label.partition(":")
    return f"{tr(f'step_{step}')}: {tr(f'event_{event}')}" if event else tr(f"key_frame_{label}")


def events_table(events: Sequence[Mapping]) -> pd.DataFrame:
    """The challenge's timeline (``ChallengeEvent.to_dict`` rows) in the page's language (a case
    recorded before events had a ``code`` keeps its English detail)."""
    return pd.DataFrame([{tr("event_time"): e["t"], tr("event_step"): tr(f"step_{e['step']}"),
                          tr("event_name"): tr(f"event_{e['event']}"),
                          tr("event_detail"): event_detail(e["code"], e["values"], lang()) if "code" in e
                          else e["detail"]}
                         for e in events])


def show_error_rates(sweep: Sequence[tuple[float, float | None, float | None]], threshold: float) -> None:
    """APCER and BPCER (0..1, None where a class has no case) along the threshold, the chosen one marked."""
    import altair as alt

    rows = [{"threshold": th, "rate": value, "curve": name}
            for th, apcer, bpcer in sweep for name, value in (("APCER", apcer), ("BPCER", bpcer))
            if value is not None]
    if not rows:
        return
    x = alt.X("threshold:Q", title=tr("live_probability"), scale=alt.Scale(domain=[0, 1]))
    curves = alt.Chart(pd.DataFrame(rows)).mark_line(interpolate="step-after").encode(
        x=x, y=alt.Y("rate:Q", title=None, scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        color=alt.Color("curve:N", title=None))
    chosen = alt.Chart(pd.DataFrame({"threshold": [threshold]})).mark_rule(strokeDash=[4, 4]).encode(x=x)
    st.altair_chart(curves + chosen, width="stretch")
