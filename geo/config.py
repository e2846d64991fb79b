"""Configuration: care categories with their visit rules and colours, time zone, limits.

Defaults live in ``geo/defaults.toml``; ``GRIDMAP_CONFIG`` may name a TOML file whose
keys override them. Nothing here is hard-coded policy: rules and colours are data.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

DEFAULTS_PATH = Path(__file__).with_name("defaults.toml")


@dataclass(frozen=True)
class VisitRule:
    """A visit rule: visits on at least ``min_days`` distinct days among the ``days`` days
    ending on the as-of day (``every_day`` is the case ``min_days == days``)."""

    kind: str
    days: int
    min_days: int

    def describe(self, lang: str = "zh-CN") -> str:
        """A short human description of the rule."""
        if self.kind == "every_day":
            return (
                f"近{self.days}天每天走访"
                if lang == "zh-CN"
                else f"a visit on each of the last {self.days} days"
            )
        if lang == "zh-CN":
            return f"近{self.days}天至少{self.min_days}天有走访"
        return f"visits on at least {self.min_days} of the last {self.days} days"


@dataclass(frozen=True)
class Category:
    """One colour of the rainbow map."""

    code: str
    zh: str
    en: str
    colour_zh: str
    hex: str
    rule: VisitRule

    def label(self, lang: str = "zh-CN") -> str:
        """The category's name in ``lang``."""
        return self.zh if lang == "zh-CN" else self.en


@dataclass(frozen=True)
class Limits:
    """What an imported file or an uploaded photo may hold (``[limits]`` in the configuration)."""

    max_columns: int = 500
    max_zip_entry_mb: float = 200
    max_zip_total_mb: float = 400
    max_photo_megapixels: float = 40

    @property
    def max_zip_entry_bytes(self) -> int:
        """``max_zip_entry_mb`` in bytes."""
        return int(self.max_zip_entry_mb * 1024 * 1024)

    @property
    def max_zip_total_bytes(self) -> int:
        """``max_zip_total_mb`` in bytes."""
        return int(self.max_zip_total_mb * 1024 * 1024)

    @property
    def max_photo_pixels(self) -> int:
        """``max_photo_megapixels`` in pixels."""
        return int(self.max_photo_megapixels * 1_000_000)


@dataclass(frozen=True)
class Config:
    """The deployment's configuration."""

    timezone: str
    resolution_limit_hours: float
    freshness_days: int
    duplicate_radius_m: float
    duplicate_window_days: int
    report_max_outside_m: float
    report_reach_m: float
    categories: tuple[Category, ...]
    ordinary_hex: str
    roles: dict[str, str]
    sources: dict[str, str]
    satisfaction: dict[str, str]
    limits: Limits = Limits()

    @property
    def tz(self) -> ZoneInfo:
        """The deployment's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def category_codes(self) -> list[str]:
        """Category codes in display order."""
        return [c.code for c in self.categories]

    def category(self, code: str) -> Category:
        """The category with ``code``."""
        for cat in self.categories:
            if cat.code == code:
                return cat
        raise KeyError(code)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _parse_rule(raw: dict[str, Any]) -> VisitRule:
    kind = raw["kind"]
    days = int(raw["days"])
    if kind == "every_day":
        return VisitRule(kind, days, days)
    if kind == "distinct_days":
        return VisitRule(kind, days, int(raw.get("min_days", 1)))
    raise ValueError(f"unknown visit rule kind {kind!r} (every_day, distinct_days)")


def build_config(raw: dict[str, Any]) -> Config:
    """A Config from a parsed TOML mapping."""
    categories = tuple(
        Category(
            code=c["code"],
            zh=c["zh"],
            en=c["en"],
            colour_zh=c["colour_zh"],
            hex=c["hex"],
            rule=_parse_rule(c["rule"]),
        )
        for c in raw["categories"]
    )
    return Config(
        timezone=raw["timezone"],
        resolution_limit_hours=float(raw["resolution_limit_hours"]),
        freshness_days=int(raw["freshness_days"]),
        duplicate_radius_m=float(raw["duplicate_radius_m"]),
        duplicate_window_days=int(raw["duplicate_window_days"]),
        report_max_outside_m=float(raw["report_max_outside_m"]),
        report_reach_m=float(raw["report_reach_m"]),
        categories=categories,
        ordinary_hex=raw["ordinary"]["hex"],
        roles=dict(raw["roles"]),
        sources=dict(raw["sources"]),
        satisfaction=dict(raw["satisfaction"]),
        limits=Limits(**raw.get("limits", {})),
    )


@cache
def load_config(path: str | None = None) -> Config:
    """The configuration: defaults, overridden by ``path`` or ``$GRIDMAP_CONFIG`` if set."""
    raw = tomllib.loads(DEFAULTS_PATH.read_text(encoding="utf-8"))
    override = path or os.environ.get("GRIDMAP_CONFIG")
    if override:
        raw = _merge(raw, tomllib.loads(Path(override).read_text(encoding="utf-8")))
    return build_config(raw)
