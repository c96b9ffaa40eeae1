"""Entry point (``./run app``): the page menu, titled in the chosen language.

The pages live in pages/; each one draws its own content (see ui/ for the
shared helpers).
"""

import ui  # noqa: F401  (engine first: native load order)

import streamlit as st

from ui.common import tr

PAGES = [  # (file, menu title key, icon from Streamlit's bundled Material font)
    ("pages/0_Início.py", "home_menu", ":material/home:"),
    ("pages/1_Verificação.py", "verify_title", ":material/badge:"),
    ("pages/2_Replay.py", "replay_title", ":material/replay:"),
    ("pages/3_Fila_de_análise.py", "queue_title", ":material/inbox:"),
    ("pages/4_Modelo_e_limiares.py", "thresholds_title", ":material/tune:"),
]

st.navigation([st.Page(path, title=tr(title), icon=icon, default=index == 0)
               for index, (path, title, icon) in enumerate(PAGES)]).run()
