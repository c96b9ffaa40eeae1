"""Início: what the product does, the flow, and the models and policy in use.

Start with ``./run app``; the other pages are in pages/ (menu: ui/common.py).
"""

import ui  # noqa: F401  (engine first: native load order)

import streamlit as st

from ui.app_config import app_config
from ui.common import setup_page, tr
from ui.model_info import models_table

setup_page("home_title", "🛡️")
st.markdown(tr("home_intro"))
st.subheader(tr("home_flow_title"))
st.markdown(tr("home_flow"))
st.subheader(tr("home_pages_title"))
st.markdown(tr("home_pages"))

st.subheader(tr("home_models_title"))
st.dataframe(models_table(), hide_index=True, width="stretch")
policy = app_config().policy
st.metric(tr("policy_version"), policy.version, help=policy.digest())
