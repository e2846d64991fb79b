"""The demo's new-employment groups (contract section 7): written in the demo's transaction."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd

from geo.employment.demo import demo_observer_ids, employment_demo
from geo.store.base import Transaction


def add_employment(
    tx: Transaction, seed: int, grids: gpd.GeoDataFrame, as_of: dt.date, n_households: int
) -> dict[str, int]:
    """Replace firms, outlets, workers and stations by the demo's (deterministic by seed; the
    observers are the ``reporter_id`` values of the demo's 随手拍 reports); rows per table."""
    demo = employment_demo(seed, grids, as_of, demo_observer_ids(n_households))
    return {
        "firms": tx.replace("firms", demo.firms),
        "outlets": tx.replace("outlets", demo.outlets),
        "workers": tx.replace("workers", demo.workers),
        "stations": tx.replace("stations", demo.stations),
    }
