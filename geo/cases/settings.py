"""The configuration of case handling: the ``[cases]`` table (defaults + GRIDMAP_CONFIG).

Who may do what, the reminder lead time, category -> department, the return-visit methods,
the notification hook and the mediation vocabularies are data, not code.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from geo.config import DEFAULTS_PATH, load_config


@dataclass(frozen=True)
class HookSettings:
    """The outgoing notification hook: a command (argv) or a URL; empty = no hook."""

    command: tuple[str, ...] = ()
    url: str = ""
    timeout_seconds: float = 10.0
    allow_public_hosts: bool = False

    @property
    def configured(self) -> bool:
        """True when a command or a URL is set."""
        return bool(self.command or self.url)


@dataclass(frozen=True)
class MediationSettings:
    """Mediation vocabularies (code -> zh name) and the defaults proposed from a report."""

    kinds: dict[str, str]
    types: dict[str, str]
    outcomes: dict[str, str]
    concluding_outcomes: frozenset[str]
    capacities: dict[str, str]
    kind_of_category: dict[str, str]
    capacity_of_role: dict[str, str]
    rooms: dict[str, str] = field(default_factory=dict)

    def room_name(self, community: str) -> str | None:
        """The configured name of ``community``'s mediation room (None: the catalogue's default)."""
        return self.rooms.get(community) or None


@dataclass(frozen=True)
class CaseSettings:
    """The ``[cases]`` configuration."""

    base_limit_hours: float
    reminder_hours: float
    max_extension_hours: float
    max_extensions: int
    manager_roles: frozenset[str]
    approver_roles: frozenset[str]
    return_visit_roles: frozenset[str]
    mediation_sources: frozenset[str]
    grid_owner_roles: tuple[str, ...]
    department_roles: tuple[str, ...]
    return_visit_methods: dict[str, str]
    departments: dict[str, str]
    hook: HookSettings
    mediation: MediationSettings


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def build_case_settings(raw: dict[str, Any], base_limit_hours: float) -> CaseSettings:
    """CaseSettings from a parsed ``[cases]`` mapping; ValueError on an inconsistent one."""
    hook = raw.get("hook", {})
    med = raw["mediation"]
    settings = CaseSettings(
        base_limit_hours=float(base_limit_hours),
        reminder_hours=float(raw["reminder_hours"]),
        max_extension_hours=float(raw["max_extension_hours"]),
        max_extensions=int(raw["max_extensions"]),
        manager_roles=frozenset(raw["manager_roles"]),
        approver_roles=frozenset(raw["approver_roles"]),
        return_visit_roles=frozenset(raw["return_visit_roles"]),
        mediation_sources=frozenset(raw["mediation_sources"]),
        grid_owner_roles=tuple(raw["grid_owner_roles"]),
        department_roles=tuple(raw["department_roles"]),
        return_visit_methods=dict(raw["return_visit_methods"]),
        departments={str(k).strip(): v for k, v in raw["departments"].items()},
        hook=HookSettings(
            command=tuple(str(a) for a in hook.get("command", ())),
            url=str(hook.get("url", "")).strip(),
            timeout_seconds=float(hook.get("timeout_seconds", 10)),
            allow_public_hosts=bool(hook.get("allow_public_hosts", False)),
        ),
        mediation=MediationSettings(
            kinds=dict(med["kinds"]),
            types=dict(med["types"]),
            outcomes=dict(med["outcomes"]),
            concluding_outcomes=frozenset(med["concluding_outcomes"]),
            capacities=dict(med["capacities"]),
            kind_of_category=dict(med["kind_of_category"]),
            capacity_of_role=dict(med["capacity_of_role"]),
            rooms=dict(med.get("rooms", {})),
        ),
    )
    _check(settings)
    return settings


def _check(settings: CaseSettings) -> None:
    """Refuse a configuration whose parts name each other wrongly (at start, not mid-case)."""
    problems = []
    unknown_departments = sorted(
        set(settings.departments.values()) - set(settings.department_roles)
    )
    if unknown_departments:
        problems.append(f"cases.departments: not a department role: {unknown_departments}")
    med = settings.mediation
    if "success" not in med.outcomes:
        problems.append("cases.mediation.outcomes: needs 'success' (the success rate counts it)")
    if not med.concluding_outcomes <= set(med.outcomes):
        problems.append("cases.mediation.concluding_outcomes: not among the outcomes")
    if not set(med.kind_of_category.values()) <= set(med.kinds):
        problems.append("cases.mediation.kind_of_category: names an unknown kind")
    if not set(med.capacity_of_role.values()) <= set(med.capacities):
        problems.append("cases.mediation.capacity_of_role: names an unknown capacity")
    if settings.reminder_hours < 0 or settings.max_extension_hours <= 0:
        problems.append("cases: reminder_hours >= 0 and max_extension_hours > 0")
    if settings.hook.command and settings.hook.url:
        problems.append("cases.hook: set a command or a url, not both")
    if problems:
        raise ValueError("; ".join(problems))


@cache
def case_settings(path: str | None = None) -> CaseSettings:
    """The case settings: defaults, overridden by the ``[cases]`` table of ``path`` or $GRIDMAP_CONFIG."""
    raw = tomllib.loads(DEFAULTS_PATH.read_text(encoding="utf-8"))["cases"]
    override = path or os.environ.get("GRIDMAP_CONFIG")
    if override:
        raw = _merge(
            raw, tomllib.loads(Path(override).read_text(encoding="utf-8")).get("cases", {})
        )
    return build_case_settings(raw, load_config(path).resolution_limit_hours)
