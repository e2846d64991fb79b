"""The figures of case handling, as the data stood at the end of the as-of day.

- ``case_figures``: owners, transfers, extensions, overdue against the limit in force, the
  return visits by method (一事一回访) and the reminders sent — over the reports the
  contract counts (reported by the as-of day, not linked as duplicates);
- ``mediation_room_figures``: per community, the mediation room's cases, outcomes and
  success rate, and the response, completion and satisfaction rates of those cases (the
  contract's report rates over them).

Rates are fractions rounded to 4 decimals, None (NaN in tables) when the denominator is 0.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from geo.asof import rate_of, stored_text, text_isin
from geo.cases.limits import case_clock, judged_at
from geo.cases.mediation import OPEN_STATES, mediation_states, propose_kind
from geo.cases.settings import CaseSettings
from geo.cases.timeline import owners_as_of
from geo.reports.states import _report_flags

OWNER_KIND_KEYS = ("staff", "department", "mediation")


def _text(series: pd.Series) -> pd.Series:
    return stored_text(series)


def _in_window(stamps: pd.Series, cutoff: str, since: dt.date | None) -> pd.Series:
    text = _text(stamps)
    inside = (text != "") & (text < cutoff)
    if since is not None:
        inside &= text >= since.strftime("%Y-%m-%d")
    return inside


def _owner_kinds_as_of(reports: pd.DataFrame, events: pd.DataFrame, cutoff: str) -> pd.Series:
    """The owner kind of each report as the data stood before ``cutoff`` (None = no owner):
    from its owner events; a report with no owner event at all keeps its owner columns."""
    owners = owners_as_of(events, cutoff).set_index("report_id")["owner_kind"]
    kind = reports["report_id"].map(owners)
    never_moved = ~text_isin(reports["report_id"], set(events["report_id"]))
    return (
        kind.where(~never_moved, reports["owner_kind"])
        .astype(object)
        .where(lambda k: k.notna(), None)
    )


def case_figures(
    reports: pd.DataFrame,
    events: pd.DataFrame,
    reminders: pd.DataFrame,
    settings: CaseSettings,
    as_of: dt.date,
    since: dt.date | None = None,
) -> dict[str, Any]:
    """The ``cases`` figures as of the end of ``as_of``.

    Counts of things that happen (transfers, extensions, return visits, closings, reminders)
    are over the whole history, or from ``since`` on when given (a week of the weekly pack);
    states (owned, open, overdue, nearing) are as of the as-of day.
    ``reports`` holds the reports columns incl. owner_kind, owner_id, followup_method,
    closed_at; ``events`` case_events; ``reminders`` case_reminders.
    """
    _, cutoff = judged_at(as_of)
    flags = _report_flags(reports, as_of)
    counted = flags["counted"]
    population = reports[counted]
    ids = set(population["report_id"])
    clock = case_clock(population, events, settings, as_of)

    owner_kind = _owner_kinds_as_of(population, events, cutoff)
    mine = events[text_isin(events["report_id"], ids)]
    transfers = mine[(mine["event"] == "transferred") & _in_window(mine["at"], cutoff, since)]
    extended = mine[(mine["event"] == "extended") & _in_window(mine["at"], cutoff, since)]

    resolved = flags["resolved"][counted]
    followed = flags["followed_up"][counted]
    in_window = _in_window(population["followed_up_at"], cutoff, since).to_numpy(bool)
    visits = followed & in_window
    method = _text(population["followup_method"]).to_numpy(object)
    by_method = {m: int((visits & (method == m)).sum()) for m in settings.return_visit_methods}
    by_method["unknown"] = int(
        (visits & ~np.isin(method, list(settings.return_visit_methods))).sum()
    )
    closed = (
        _in_window(population["closed_at"], cutoff, since).to_numpy(bool)
        if "closed_at" in population
        else np.zeros(len(population), dtype=bool)
    )
    sent = reminders[
        (reminders["status"] == "sent")
        & text_isin(reminders["report_id"], ids)
        & _in_window(reminders["sent_at"], cutoff, since)
    ]
    return {
        "owned": int(owner_kind.notna().sum()),
        "unowned": int(owner_kind.isna().sum()),
        "by_owner_kind": {k: int((owner_kind == k).sum()) for k in OWNER_KIND_KEYS},
        "open": int(clock["open"].sum()),
        "overdue": int(clock["overdue"].sum()),
        "nearing_limit": int(clock["nearing"].sum()),
        "transfers": len(transfers),
        "transferred_cases": int(transfers["report_id"].nunique()),
        "extensions": len(extended),
        "extended_cases": int(extended["report_id"].nunique()),
        "return_visits": int(visits.sum()),
        "return_visits_by_method": by_method,
        "followup_rate": rate_of(int(followed.sum()), int(resolved.sum())),
        "closed": int(closed.sum()),
        "reminders_sent": len(sent),
    }


def mediation_room_figures(
    reports: pd.DataFrame,
    grids: pd.DataFrame,
    mediations: pd.DataFrame,
    sessions: pd.DataFrame,
    settings: CaseSettings,
    as_of: dt.date,
) -> pd.DataFrame:
    """One row per community with mediation cases (sorted by community): cases, mediated
    (at least one session held), one column per concluding state (success, failed,
    litigation ...), ongoing (no conclusion yet, incl. no session), success_rate (success /
    concluded), response_rate, completion_rate, satisfaction_rate, and kind_<code> counts.

    A mediation case is a counted report of a mediation source (矛盾纠纷) or one with a
    mediation record opened by the as-of day; its community is its grid's (cases outside
    every grid are left out). Its kind is the record's, else proposed from its category.
    """
    med = settings.mediation
    _, cutoff = judged_at(as_of)
    flags = _report_flags(reports, as_of)
    opened = mediations[_in_window(mediations["opened_at"], cutoff, None)]
    is_case = flags["counted"] & (
        reports["source"].isin(settings.mediation_sources)
        | text_isin(reports["report_id"], opened["report_id"])
    ).to_numpy(bool)
    community = reports["grid_id"].map(dict(zip(grids["grid_id"], grids["community"], strict=True)))
    is_case &= community.notna().to_numpy(bool)
    cases = reports[is_case]
    resolved = pd.Series(flags["resolved"][is_case], index=cases["report_id"].to_numpy())
    records = pd.DataFrame({"report_id": cases["report_id"]})
    states = mediation_states(records, sessions, resolved, cutoff, med)
    kinds = cases["report_id"].map(opened.set_index("report_id")["dispute_kind"])
    kinds = kinds.where(kinds.notna(), cases["category"].map(lambda c: propose_kind(c, med)))
    held = sessions[sessions["held_at"].astype(str) < cutoff]["report_id"]
    outcomes = list(med.outcomes)
    frame = pd.DataFrame(
        {
            "community": community[is_case].to_numpy(object),
            "cases": 1,
            "mediated": text_isin(cases["report_id"], set(held)).to_numpy(int),
            **{o: (states.to_numpy(object) == o).astype(int) for o in outcomes},
            "ongoing": np.isin(states.to_numpy(object), OPEN_STATES).astype(int),
            "responded": flags["responded"][is_case].astype(int),
            "resolved": flags["resolved"][is_case].astype(int),
            "satisfied": flags["satisfied"][is_case].astype(int),
            "unsatisfied": flags["unsatisfied"][is_case].astype(int),
            **{f"kind_{k}": (kinds == k).to_numpy(int) for k in med.kinds},
        }
    )
    table = frame.groupby("community", as_index=False).sum(numeric_only=True)
    return add_mediation_rates(table, settings).sort_values("community").reset_index(drop=True)


def add_mediation_rates(table: pd.DataFrame, settings: CaseSettings) -> pd.DataFrame:
    """``table`` (counts per row) with success/response/completion/satisfaction rates."""
    med = settings.mediation
    concluded = sum(table[o] for o in med.outcomes if o in table.columns)
    table = table.copy()

    def rate(num: pd.Series, den: pd.Series) -> pd.Series:
        den = den.astype(float)
        return (num.astype(float) / den.where(den > 0)).round(4)

    table["success_rate"] = rate(table["success"], concluded) if "success" in table else np.nan
    table["response_rate"] = rate(table["responded"], table["cases"])
    table["completion_rate"] = rate(table["resolved"], table["cases"])
    table["satisfaction_rate"] = rate(table["satisfied"], table["satisfied"] + table["unsatisfied"])
    return table


def mediation_totals(table: pd.DataFrame, settings: CaseSettings) -> dict[str, Any]:
    """The whole street's mediation figures from ``mediation_room_figures`` (rates recomputed)."""
    med = settings.mediation
    counts = ["cases", "mediated", *[o for o in med.outcomes if o in table.columns], "ongoing"]
    sums = {c: int(table[c].sum()) if len(table) else 0 for c in counts}
    concluded = sum(sums[o] for o in med.outcomes if o in sums)
    extra = ["responded", "resolved", "satisfied", "unsatisfied"]
    total = {c: int(table[c].sum()) if len(table) else 0 for c in extra}
    return {
        **sums,
        "success_rate": rate_of(sums.get("success", 0), concluded),
        "response_rate": rate_of(total["responded"], sums["cases"]),
        "completion_rate": rate_of(total["resolved"], sums["cases"]),
        "satisfaction_rate": rate_of(total["satisfied"], total["satisfied"] + total["unsatisfied"]),
        "by_kind": {k: int(table[f"kind_{k}"].sum()) if len(table) else 0 for k in med.kinds},
    }
