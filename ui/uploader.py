"""Streamlit's file uploader in the reader's language.

The uploader's own words ("Upload", "5MB per file", its refusal of a file) are English
only, with no setting to change them (streamlit#13500; the pull request that would have
added parameters, streamlit#10042, was closed). A few CSS rules, scoped to one uploader by
the ``st-key-<key>`` class Streamlit puts on a keyed widget's container, replace them with
the catalogue's text. The English stays in the page only for screen readers' aria labels.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import streamlit as st

from geo.i18n import t

FONT_SIZE = "14px"  # Streamlit's size for the button label and the limit line


def _css_string(text: str) -> str:
    """A CSS string literal (JSON's escaping of quotes and backslashes is valid CSS)."""
    return json.dumps(text, ensure_ascii=False)


def uploader_css(key_prefix: str, lang: str, max_mb: int, types: Sequence[str]) -> str:
    """The rules relabelling the uploaders whose widget key starts with ``key_prefix``."""
    scope = f'[class*="st-key-{key_prefix}"]'
    kinds = t("map_list_separator", lang).join(k.upper() for k in types)
    button = _css_string(t("ui_upload_button", lang))
    limit = _css_string(t("ui_upload_limit", lang, mb=max_mb, types=kinds))
    refused = _css_string(t("ui_upload_refused", lang, mb=max_mb, types=kinds))
    dropzone = f'{scope} [data-testid="stFileUploaderDropzone"]'
    instructions = f'{scope} [data-testid="stFileUploaderDropzoneInstructions"] span'
    invalid = f'{scope} [data-testid="stFileChip"][aria-invalid="true"]'
    return "\n".join(
        (
            f'{dropzone} button [data-testid="stMarkdownContainer"] p {{font-size: 0}}',
            f'{dropzone} button [data-testid="stMarkdownContainer"] p::after '
            f"{{content: {button}; font-size: {FONT_SIZE}}}",
            f"{instructions} {{font-size: 0; white-space: normal}}",
            f"{instructions}::after {{content: {limit}; font-size: {FONT_SIZE}; line-height: 1.4}}",
            f'{invalid} [data-testid="stFileChipName"] + div {{font-size: 0}}',
            f'{invalid} [data-testid="stFileChipName"] + div::after '
            f"{{content: {refused}; font-size: 12px; white-space: normal}}",
        )
    )


def localize_uploader(key_prefix: str, lang: str, max_mb: int, types: Sequence[str]) -> None:
    """Relabel the file uploaders keyed ``key_prefix...`` on this page (takes no space)."""
    st.html(f"<style>{uploader_css(key_prefix, lang, max_mb, types)}</style>")
