"""Care categories as written in input files, and as stored (';'-joined codes)."""

from __future__ import annotations

import re
import unicodedata

from geo.config import Config, load_config

_SEPARATORS = re.compile(r"[;,，；、|｜/]+")


def category_lookup(config: Config | None = None) -> dict[str, str]:
    """Every accepted spelling of a category (code, zh name, zh colour) -> its code."""
    config = config or load_config()
    lookup: dict[str, str] = {}
    for cat in config.categories:
        for spelling in (cat.code, cat.zh, cat.colour_zh, cat.en, cat.colour_zh + "色"):
            lookup[_normal(spelling).strip().lower()] = cat.code
        zh = _normal(cat.zh)
        # the zh name without the bracketed age note, e.g. "空巢、留守老人"
        lookup[re.sub(r"\s*[(].*?[)]\s*", "", zh).lower()] = cat.code
        # and with the note but no space before it, e.g. "空巢、留守老人(65岁以上)"
        lookup[re.sub(r"\s+[(]", "(", zh).lower()] = cat.code
    return lookup


def _normal(text: str) -> str:
    # clerks type full-width brackets and punctuation (（65岁以上）, ；): NFKC makes them ASCII
    return unicodedata.normalize("NFKC", text)


def parse_categories(text: object, config: Config | None = None) -> tuple[list[str], list[str]]:
    """Category codes (display order, no repeats) from a cell, and the unknown parts.

    ``"红、粉"`` -> ``(["red", "pink"], [])``; empty -> ``([], [])`` (an ordinary household).
    The zh name "空巢、留守老人" contains the separator 、 and is recognised whole.
    """
    config = config or load_config()
    if text is None or (isinstance(text, float) and text != text):
        return [], []
    raw = _normal(str(text)).strip()
    if not raw:
        return [], []
    lookup = category_lookup(config)
    found: set[str] = set()
    unknown: list[str] = []
    # names that contain a separator themselves are matched first, then removed
    for spelling, code in sorted(lookup.items(), key=lambda kv: -len(kv[0])):
        if _SEPARATORS.search(spelling) and spelling in raw.lower():
            found.add(code)
            raw = re.sub(re.escape(spelling), ";", raw, flags=re.IGNORECASE)
    for part in _SEPARATORS.split(raw):
        part = part.strip()
        if not part:
            continue
        code = lookup.get(part.lower())
        if code is None:
            unknown.append(part)
        else:
            found.add(code)
    return [c for c in config.category_codes if c in found], unknown


def join_codes(codes: list[str]) -> str | None:
    """The stored form: codes joined by ';' (None for an ordinary household)."""
    return ";".join(codes) if codes else None


def split_codes(stored: object) -> list[str]:
    """Codes of a stored categories value."""
    if stored is None or (isinstance(stored, float) and stored != stored) or stored == "":
        return []
    return str(stored).split(";")
