"""Checking the rows of a buildings file (contract section 4; the rules: ``geo.buildings.rows``)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geo.buildings.rows import BuildingRules
from geo.inputs.importers.problems import _Checker
from geo.store.base import Store


class BuildingsImport:
    """The ``prepare`` of one buildings import: its rules remember ids and names across
    chunks, and ``finish`` checks the file's names against the stored buildings."""

    def __init__(self) -> None:
        self.rules: BuildingRules | None = None

    def __call__(
        self,
        store: Store,
        frame: pd.DataFrame,
        check: _Checker,
        *,
        coords: str,
        crs: str | None,
        replace: bool,
        **_: object,
    ) -> pd.DataFrame:
        """The chunk's buildings, checked (the frame itself when it has problems)."""
        if self.rules is None:
            stored = (
                None
                if replace
                else store.read_attributes("buildings", ["building_id", "grid_id", "name"])
            )
            self.rules = BuildingRules(store.read("grids", ["grid_id"]), stored)
        # vector files were converted (CRS and datum) when read
        vector = isinstance(frame, gpd.GeoDataFrame)
        prepared = self.rules.prepare(
            frame, check, coords="wgs84" if vector else coords, crs=None if vector else crs
        )
        return frame if prepared is None else prepared

    def finish(self, check: _Checker) -> None:
        """Names a stored building of the same grid has under another id."""
        if self.rules is not None:
            self.rules.finish(check)
