"""The demo data set: one street office (街道) in 新城区, Hohhot, deterministic by seed.

Communities (社区) of city-block grids (网格) tiling a jittered lattice around lon 111.70,
lat 40.84 (WGS-84); the first community is modelled on 东河社区: one compound split into
8 grids. Households sit in buildings strictly inside their grid, with care categories,
synthetic names, phones and ID numbers; about 8 weeks of visits ending on the as-of day;
staff by role per grid (一格多员); citizen reports from all five sources with timelines.

Everything is generated with numpy arrays (no per-household Python), so
``households=1_000_000`` (about 10M visits) runs in minutes and bounded memory: visits
are handed to the store in chunks inside the one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.demo.buildings import demo_buildings
from geo.demo.cases import add_cases
from geo.demo.employment import add_employment
from geo.demo.households import _households, _verifications
from geo.demo.layout import DISTRICT_ADCODE, DISTRICT_CODE, _area_name, _grids_frame, _layout
from geo.demo.reports import _reports
from geo.demo.staff import _staff
from geo.demo.visits import _visits
from geo.store.base import Store
from geo.store.schema import WGS84
from geo.timeutil import end_of_day, now_local, today

DEFAULT_HOUSEHOLDS = 18_000


def build_demo(
    store: Store, seed: int = 7, households: int | None = None, as_of: dt.date | None = None
) -> dict[str, int]:
    """Replace every data table of ``store`` by the demo data set; returns rows per table."""
    as_of = as_of or today()
    rng = np.random.default_rng(seed)
    n_households = DEFAULT_HOUSEHOLDS if households is None else max(1, int(households))
    layout = _layout(rng, n_households)
    grids = _grids_frame(rng, layout)
    homes = _households(rng, layout, grids, n_households, as_of)
    staff = _staff(rng, layout, grids)
    _, visit_chunks = _visits(rng, homes, staff, grids, as_of)
    until = min(end_of_day(as_of), now_local())  # the build's moment on a live as-of day
    reports, steps = _reports(rng, layout, grids, homes, staff, as_of, until)
    boundary = gpd.GeoDataFrame(
        {"boundary_id": [DISTRICT_CODE], "name": [_area_name(layout)], "adcode": [DISTRICT_ADCODE]},
        geometry=[
            shapely.multipolygons(shapely.get_parts(shapely.union_all(grids.geometry.values)))
        ],
        crs=WGS84,
    )
    counts: dict[str, int] = {}
    with store.transaction() as tx:
        counts["grids"] = tx.replace("grids", grids)
        counts["households"] = tx.replace("households", _chunks(homes["frame"]))
        counts["buildings"] = tx.replace("buildings", demo_buildings(seed, grids, homes["frame"]))
        counts["verifications"] = tx.replace(
            "verifications", _chunks(_verifications(seed, homes.pop("frame"), as_of))
        )
        counts["staff"] = tx.replace("staff", staff["frame"])
        counts["visits"] = tx.replace("visits", visit_chunks)
        reports, steps = add_cases(
            tx, reports, steps, staff["frame"], grids, seed, as_of, counts, until=until
        )
        counts["reports"] = tx.replace("reports", reports)
        counts["report_steps"] = tx.replace("report_steps", steps)
        counts["boundary"] = tx.replace("boundary", boundary)
        counts |= add_employment(tx, seed, grids, as_of, n_households)  # issue 14, section 7
        tx.set_meta("demo_mode", "1")  # synthetic data: see geo.access.auth.demo_viewer
    return counts


def _chunks(frame: pd.DataFrame, size: int = 200_000) -> Iterator[pd.DataFrame]:
    """Slices of ``frame``: the store converts one slice at a time, bounding memory."""
    for start in range(0, len(frame), size):
        yield frame.iloc[start : start + size]
