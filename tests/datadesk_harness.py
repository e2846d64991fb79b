"""Stage-1 harness: one data-desk page served alone, signed in as ``$DATADESK_USER``.

The data-desk pages are registered in app.py only in stage 2 of issue 15; until then the
browser tests serve a page through this entry point (``streamlit run
tests/datadesk_harness.py`` with ``$DATADESK_PAGE``, ``$DATADESK_USER`` and ``$GRIDMAP_DB``),
with the catalogue of notes-messages.toml merged in. Stage 2 deletes this file and the
browser tests sign in through app.py instead.
"""

import os
import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geo.access.auth import load_viewer  # noqa: E402
from geo.store import open_store  # noqa: E402
from geo.timeutil import now_local  # noqa: E402
from ui import session  # noqa: E402

st.set_page_config(page_title="gridmap", layout="wide")
if session.VIEWER_KEY not in st.session_state:
    user = os.environ["DATADESK_USER"]
    st.session_state[session.VIEWER_KEY] = load_viewer(open_store(os.environ["GRIDMAP_DB"]), user)
    st.session_state[session.SIGNED_IN_AT_KEY] = now_local()
    st.session_state[session.USER_KEY] = user
st.navigation([st.Page(str(ROOT / os.environ["DATADESK_PAGE"]))], position="hidden").run()
