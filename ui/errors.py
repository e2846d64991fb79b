"""Unexpected errors: the user gets a short message with a reference, the server log the trace.

No traceback, server path or exception text ever reaches a browser: app.py runs every page
inside ``reported()``, server.py hands Streamlit ``on_script_error`` for what escapes it
(widget callbacks), and ``client.showErrorDetails = "none"`` covers the rest. The reference
(8 hex digits) is logged with the full trace, so an administrator finds it with ``grep``.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from geo.i18n import t
from ui.session import lang, user_name

LOG = logging.getLogger("gridmap.errors")


def new_reference() -> str:
    """A short reference for one error, as the user reads it out (e.g. 'E-7F3A9C21')."""
    return f"E-{secrets.token_hex(4).upper()}"


def report(error: BaseException) -> str:
    """Log ``error`` with its trace under a new reference; show the user the short message."""
    reference = new_reference()
    LOG.error(
        "reference %s: unexpected %s for user %s",
        reference,
        type(error).__name__,
        user_name() or "-",
        exc_info=error,
    )
    try:
        st.error(t("error_unexpected", lang(), ref=reference))
    except Exception:  # noqa: BLE001  (no page to write on: the log has it all the same)
        LOG.exception("reference %s: the message could not be shown", reference)
    return reference


@contextmanager
def reported() -> Iterator[None]:
    """Run a block; an unexpected error in it is reported (``st.stop``/``st.rerun`` pass through)."""
    try:
        yield
    except Exception as error:  # Streamlit's stop and rerun are BaseExceptions: not caught
        report(error)


def on_script_error(error: Exception) -> bool:
    """``st.App(on_script_error=...)``: report, and tell Streamlit not to draw its own box."""
    report(error)
    return True
