"""The tree of a store's grids: city > district > street > community > grid.

A grid names its place in the tree with its ``district``, ``street`` and ``community``
attributes; any of them may be missing (a street office's own file has no district, an old
file no street). A missing name is ``""`` and forms a node of its own ("not given"), so
every grid sits exactly once under every level and sums over a level always add up to the
city. A node is identified by its path from the city (``("赛罕区", "大学西路街道")``), not
by its name: two streets may both have a "光明社区".

Levels that no grid uses and no known district fills are left out (a street office's store
has no district level), so a tree of one street office starts at its street.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

LEVELS = ("district", "street", "community", "grid")
"""The levels under the city, top down; ``grid`` is the leaf."""
AREA_LEVELS = LEVELS[:-1]
"""The levels named by a grid's attributes."""
CITY = "city"
NOT_GIVEN = ""
"""The name of the node holding grids whose attribute is missing."""


def clean_names(values: pd.Series) -> np.ndarray:
    """Stored names as text with missing or blank values as ``NOT_GIVEN`` (object array)."""
    text = values.astype(object).where(values.notna(), NOT_GIVEN)
    return np.asarray([str(v).strip() for v in text], dtype=object)


@dataclass(frozen=True, order=True)
class Node:
    """A place in the tree: its level and its path of names from the city down to it."""

    level: str
    path: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The node's own name (``""`` for the city and for a "not given" node)."""
        return self.path[-1] if self.path else NOT_GIVEN

    def contains(self, other: Node) -> bool:
        """True when ``other`` is this node or lies under it."""
        return other.path[: len(self.path)] == self.path and (
            len(other.path) > len(self.path) or other.level == self.level
        )


ROOT = Node(CITY)


class Hierarchy:
    """The tree of ``grids`` (columns grid_id and any of district, street, community).

    ``districts``: districts known without grids (e.g. the outlines of the city's
    districts): they appear as nodes with no grids under them.
    """

    def __init__(self, grids: pd.DataFrame, districts: Iterable[str] = ()) -> None:
        frame = pd.DataFrame({"grid_id": clean_names(grids["grid_id"])})
        for level in AREA_LEVELS:
            frame[level] = (
                clean_names(grids[level])
                if level in grids.columns
                else np.full(len(frame), NOT_GIVEN, dtype=object)
            )
        self.grids = frame.sort_values([*AREA_LEVELS, "grid_id"], kind="stable").reset_index(
            drop=True
        )
        self.known_districts = tuple(
            sorted({str(d).strip() for d in districts if d is not None and str(d).strip()})
        )
        used = [
            level
            for level in AREA_LEVELS
            if (self.grids[level] != NOT_GIVEN).any()
            or (level == "district" and self.known_districts)
        ]
        self.levels: tuple[str, ...] = (*used, "grid")

    # --- navigation -------------------------------------------------------------------

    def _depth(self, level: str) -> int:
        return self.levels.index(level) + 1  # path length of a node at ``level``

    def path_columns(self, level: str) -> list[str]:
        """The grid columns naming a node at ``level`` (``grid_id`` last for a grid); [] for the city."""
        if level == CITY:
            return []
        return [lv if lv != "grid" else "grid_id" for lv in self.levels[: self._depth(level)]]

    def child_level(self, node: Node) -> str | None:
        """The level below ``node`` (None under a grid)."""
        if node.level == "grid":
            return None
        return self.levels[0] if node.level == CITY else self.levels[self._depth(node.level)]

    def _under(self, node: Node) -> pd.DataFrame:
        if node.level == CITY:
            return self.grids
        keep = np.ones(len(self.grids), dtype=bool)
        for column, name in zip(self.path_columns(node.level), node.path, strict=True):
            keep &= (self.grids[column] == name).to_numpy(bool)
        return self.grids[keep]

    def children(self, node: Node) -> list[Node]:
        """The nodes directly under ``node``, sorted by name (known empty districts included)."""
        level = self.child_level(node)
        if level is None:
            return []
        column = "grid_id" if level == "grid" else level
        names = set(self._under(node)[column])
        if level == "district" and node.level == CITY:
            names |= set(self.known_districts)
        return [Node(level, (*node.path, name)) for name in sorted(names)]

    def grid_ids(self, node: Node = ROOT) -> list[str]:
        """The ids of the grids under ``node`` (in tree order)."""
        return self._under(node)["grid_id"].tolist()

    def node_of_grid(self, grid_id: str, level: str) -> Node:
        """The node at ``level`` holding grid ``grid_id`` (KeyError for an unknown grid)."""
        rows = self.grids[self.grids["grid_id"] == grid_id]
        if rows.empty:
            raise KeyError(grid_id)
        row = rows.iloc[0]
        if level == CITY:
            return ROOT
        return Node(level, tuple(row[c] for c in self.path_columns(level)))

    def nodes(self, level: str, under: Node = ROOT) -> list[Node]:
        """Every node at ``level`` under ``under`` (known empty districts included), sorted."""
        if level == CITY:
            return [ROOT]
        columns = self.path_columns(level)
        paths = {tuple(row) for row in self._under(under)[columns].itertuples(index=False)}
        if level == "district" and under.level == CITY:
            paths |= {(d,) for d in self.known_districts}
        return [Node(level, p) for p in sorted(paths)]

    def start(self, node: Node = ROOT) -> Node:
        """Where a view of ``node`` opens: down through every level with a single child.

        A store of one street office opens at that street; it never descends to a grid.
        """
        while True:
            children = self.children(node)
            if len(children) != 1 or children[0].level == "grid":
                return node
            node = children[0]

    def ancestors(self, node: Node) -> list[Node]:
        """The nodes from the city down to ``node``'s parent."""
        out = [ROOT] if node.level != CITY else []
        for i, level in enumerate(self.levels[: len(node.path) - 1]):
            out.append(Node(level, node.path[: i + 1]))
        return out


def resolve(hierarchy: Hierarchy, names: Sequence[str]) -> Node:
    """The node reached from the city by choosing ``names`` level by level (stops at the
    first empty choice; KeyError when a name is no child at its level)."""
    node = ROOT
    for name in names:
        if name is None:
            break
        children = {child.name: child for child in hierarchy.children(node)}
        if name not in children:
            raise KeyError(name)
        node = children[name]
    return node
