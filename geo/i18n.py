"""The one catalogue of user-facing strings, in zh-CN (default) and en.

Strings live in ``geo/messages.toml`` as ``[key]`` tables with a ``zh-CN`` and an
``en`` entry; ``t("key", lang, name=...)`` formats one with ``str.format``.
"""

from __future__ import annotations

import os
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


LANG_ENV = "GRIDMAP_LANG"


def process_language(choice: str | None = None) -> str:
    """The language of command-line output: ``choice`` (``--lang``), else ``$GRIDMAP_LANG``, else zh-CN."""
    lang = choice or os.environ.get(LANG_ENV) or DEFAULT_LANGUAGE
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


class Msg:
    """A catalogue message not yet put into words: its key and values (values may be Msgs)."""

    __slots__ = ("key", "values")

    def __init__(self, key: str, /, **values: object) -> None:
        if key not in catalogue():
            raise KeyError(f"no message {key!r} in {CATALOGUE_PATH.name}")
        self.key = key
        self.values = values

    def text(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """The message in ``lang``; nested messages in the same language."""
        values = {k: v.text(lang) if isinstance(v, Msg) else v for k, v in self.values.items()}
        return t(self.key, lang, **values)

    def __repr__(self) -> str:
        return f"Msg({self.key!r}, {self.values!r})"


class MessageError(ValueError):
    """An error whose reason is a catalogue message; ``str()`` is it in the process language."""

    def __init__(self, key: str, /, **values: object) -> None:
        self.msg = Msg(key, **values)
        super().__init__(key)

    def __str__(self) -> str:
        return self.msg.text(process_language())

    def message(self, lang: str = DEFAULT_LANGUAGE) -> str:
        """The reason in ``lang``."""
        return self.msg.text(lang)
