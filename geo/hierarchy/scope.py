"""What each role's scope is in the tree: the grids it may see and the node its views start at.

- ``district_leader`` (区县领导): the grids of one district (``district``);
- ``community_staff``: the grids of one community (by name, as before);
- ``grid_worker``: their own grids;
- every other role: the whole store (None), households in no grid included.

A limited scope never includes the households in no grid (they belong to no district,
community or grid). An unknown district, community or grid gives an empty scope, never
the whole store.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from geo.hierarchy.tree import ROOT, Hierarchy, Node, clean_names

DISTRICT_ROLE = "district_leader"


def scope_grid_ids(
    grids: pd.DataFrame,
    role: str,
    *,
    district: str | None = None,
    community: str | None = None,
    grid_ids: Sequence[str] = (),
) -> list[str] | None:
    """The grid ids ``role`` may see (None = all), given the grids (grid_id, district, community)."""
    if role == DISTRICT_ROLE:
        if not district or "district" not in grids.columns:
            return []
        names = clean_names(grids["district"])
        return grids.loc[names == str(district).strip(), "grid_id"].astype(str).tolist()
    if role == "community_staff":
        if not community or "community" not in grids.columns:
            return []
        names = clean_names(grids["community"])
        return grids.loc[names == str(community).strip(), "grid_id"].astype(str).tolist()
    if role == "grid_worker":
        known = set(grids["grid_id"].astype(str))
        return [g for g in grid_ids if g in known]
    return None


def scope_root(
    hierarchy: Hierarchy,
    role: str,
    *,
    district: str | None = None,
    community: str | None = None,
    grid_ids: Sequence[str] = (),
) -> Node | None:
    """The node a viewer's tree starts at: their district, community or (one) grid, the
    smallest node holding all of a grid worker's grids; None when the scope is empty.

    The hierarchy given should already be restricted to the viewer's grids.
    """
    if role == DISTRICT_ROLE:
        matches = [
            n for n in hierarchy.children(ROOT) if n.level == "district" and n.name == district
        ]
        return matches[0] if matches and hierarchy.grid_ids(matches[0]) else None
    if role in ("community_staff", "grid_worker"):
        if not hierarchy.grid_ids(ROOT):
            return None
        node = ROOT
        while True:  # down while one child holds every grid in scope
            below = [c for c in hierarchy.children(node) if hierarchy.grid_ids(c)]
            if len(below) != 1 or (below[0].level == "grid" and role == "community_staff"):
                return node
            node = below[0]
            if node.level == "grid":  # a grid worker of a single grid
                return node
    return hierarchy.start(ROOT)
