"""Page set-up shared by every page: title, language switch, mode banner."""

from __future__ import annotations

import streamlit as st

from liveness.config import settings
from liveness.i18n import DEFAULT_LANGUAGE, LANGUAGES, t
from liveness.media import MediaError

from .app_config import app_config

LANGUAGE_NAMES = {"pt": "Português (Brasil)", "en": "English"}
# The menu, drawn here rather than by Streamlit (client.showSidebarNavigation is
# off) so that its labels follow the language switch: (script, title key, icon).
MENU = [
    ("app.py", "home_menu", ":material/home:"),
    ("pages/1_Verificação.py", "verify_title", ":material/badge:"),
    ("pages/2_Replay.py", "replay_title", ":material/replay:"),
    ("pages/3_Fila_de_análise.py", "queue_title", ":material/inbox:"),
    ("pages/4_Modelo_e_limiares.py", "thresholds_title", ":material/tune:"),
]
_LANG = "lang"               # the chosen language, kept across pages
_LANG_WIDGET = "lang_widget"  # widget state is dropped on pages that don't draw it
_PAGE = "page"               # the page this session drew last
_PAGE_VISIT = "page_visit"   # counts the times the session came to a page from another one
_CUSTOMER = "customer_from_url"  # a bank's ?customer= reference, kept from page to page


def lang() -> str:
    return st.session_state.get(_LANG, DEFAULT_LANGUAGE)


def set_lang(value: str) -> None:
    st.session_state[_LANG] = value


def tr(key: str, **values) -> str:
    """``key`` in the session's language."""
    return t(key, lang(), **values)


def media_error_text(error: MediaError) -> str:
    """Why a file cannot be used, in the session's language."""
    return tr(f"media_{error.code}", **error.values)


def _keep_in_url() -> None:
    """Keep in the URL what must survive the menu's links (they drop the query) and a reload
    (a new session): a bank's ``?customer=``, so that the attempt limit follows the customer,
    and the chosen ``?lang=``. The URL's customer wins (the bank's link); the session's language
    wins (the switch), the URL's applies to a new session."""
    customer = st.query_params.get("customer")
    if customer:
        st.session_state[_CUSTOMER] = customer
    elif _CUSTOMER in st.session_state:
        st.query_params["customer"] = st.session_state[_CUSTOMER]
    if _LANG in st.session_state:
        if st.query_params.get("lang") != st.session_state[_LANG]:  # each write sends the browser a message
            st.query_params["lang"] = st.session_state[_LANG]
    elif st.query_params.get("lang") in LANGUAGES:
        st.session_state[_LANG] = st.query_params["lang"]


def _remember_language() -> None:
    st.session_state[_LANG] = st.session_state[_LANG_WIDGET]


def page_visit() -> int:
    """Which visit of the current page this run belongs to: reruns keep it, coming back from another page changes it."""
    return st.session_state[_PAGE_VISIT]


def setup_page(title_key: str, icon: str, customer_link: bool = False) -> str:
    """Configure the page, draw the sidebar (language, mode) and the title; returns the language.

    customer_link: a bank's customer arriving by a capture link sees only the language switch
    (no menu of the staff's pages, no word about scores it is never shown)."""
    # Before any st call: a run can be stopped for a rerun at any of them.
    _keep_in_url()
    if st.session_state.get(_PAGE) != title_key:
        st.session_state[_PAGE] = title_key
        st.session_state[_PAGE_VISIT] = st.session_state.get(_PAGE_VISIT, 0) + 1
    st.set_page_config(page_title=tr(title_key), page_icon=icon, layout="wide")
    # In production no one sees a traceback in the browser: the details go to the server's log.
    st.set_option("client.showErrorDetails", "none" if settings().production else "full")
    with st.sidebar:
        if not customer_link:
            for script, title, icon in MENU:
                st.page_link(script, label=tr(title), icon=icon)
            st.divider()
        st.session_state[_LANG_WIDGET] = lang()
        st.selectbox(t("language", lang()), LANGUAGES, key=_LANG_WIDGET,
                     format_func=LANGUAGE_NAMES.__getitem__, on_change=_remember_language)
        if not customer_link:
            st.caption(tr("mode_production" if settings().production else "mode_demo"))
        config = app_config()
        if config.fixed_steps:
            st.warning(tr("test_config_active", steps=",".join(s.value for s in config.fixed_steps),
                          timeout=config.policy.step_timeout_s))
    st.title(tr(title_key))
    return lang()
