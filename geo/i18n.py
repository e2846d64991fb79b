"""The one catalogue of user-facing strings, in zh-CN (default) and en.

Strings live in ``geo/messages.toml`` as ``[key]`` tables with a ``zh-CN`` and an
``en`` entry; ``t("key", lang, name=...)`` formats one with ``str.format``.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"
CATALOGUE_PATH = Path(__file__).with_name("messages.toml")


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """key -> {language -> text}."""
    return tomllib.loads(CATALOGUE_PATH.read_text(encoding="utf-8"))


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The text of ``key`` in ``lang`` (falling back to zh-CN), formatted with ``values``."""
    entry = catalogue()[key]
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text
