"""Reviewer and admin login for the review pages (accounts: ``./run cli users create``)."""

from __future__ import annotations

import streamlit as st

from liveness.store import AuthError, LockedOut, PermissionDenied, UserInfo
from liveness.store import auth

from .cases import store
from .common import tr

_USER = "user"  # the logged-in UserInfo, for this browser session only


def require_user(*roles: str) -> UserInfo:
    """The logged-in user with one of ``roles``; otherwise draw the login form and stop the page."""
    user: UserInfo | None = st.session_state.get(_USER)
    if user is None:
        _login_form()
        st.stop()
    try:
        auth.require_role(user, *roles)
    except PermissionDenied:
        st.error(tr("login_role_needed", roles=" / ".join(roles)))
        st.stop()
    with st.sidebar:
        st.caption(tr("login_as", username=user.username, role=user.role))
        if st.button(tr("logout")):
            del st.session_state[_USER]
            st.rerun()
    return user


def _login_form() -> None:
    st.info(tr("login_needed"))
    with st.form("login"):
        username = st.text_input(tr("username"))
        password = st.text_input(tr("password"), type="password")
        if not st.form_submit_button(tr("login")):
            return
    try:
        st.session_state[_USER] = auth.authenticate(store(), username.strip(), password)
    except AuthError:
        st.error(tr("login_failed"))
        return
    except LockedOut as error:
        st.error(tr("login_locked", until=error.until.astimezone().strftime("%H:%M")))
        return
    st.rerun()
