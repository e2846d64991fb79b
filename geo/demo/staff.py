"""Demo staff by role per grid (一格多员)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.demo.layout import _Layout
from geo.demo.people import _digits_text, _names, _phones


def _staff(rng: np.random.Generator, layout: _Layout, grids: gpd.GeoDataFrame) -> dict:
    """One row per (person, grid) assignment; ``role_of`` maps (grid, role) to a staff index."""
    g_count = len(grids)
    grid_ids = grids["grid_id"].to_numpy(object)
    has_branch = grids["party_branch"].notna().to_numpy()
    n_without = (
        max(int(rng.integers(2, 4)), round(g_count * 0.04))
        if g_count >= 20
        else (1 if g_count > 4 else 0)
    )
    without_worker = (
        set(rng.choice(g_count, n_without, replace=False).tolist()) if n_without else set()
    )
    people: list[tuple[str, str]] = []  # (role, department) per person
    rows: list[tuple[int, int]] = []  # (person, grid)

    def person(role: str, department: str, grid_list) -> int:
        people.append((role, department))
        for g in grid_list:
            rows.append((len(people) - 1, int(g)))
        return len(people) - 1

    for ci, (cname, _code, street) in enumerate(layout.communities):
        cgrids = np.flatnonzero(layout.community == ci)
        short = street.removesuffix("街道")
        office = f"{cname}居委会"
        workers: dict[int, int] = {}
        for g in cgrids:
            if g not in without_worker:
                workers[g] = person("grid_worker", office, [g])
        for g in cgrids:  # some workers also cover a neighbouring grid
            if g - 1 in workers and g not in without_worker and rng.random() < 0.12:
                rows.append((workers[g - 1], int(g)))
        for chunk in np.array_split(cgrids, max(1, round(len(cgrids) / 3))):
            person("grid_leader", f"{cname}党委", chunk)
        for g in cgrids[has_branch[cgrids]]:
            person("party_secretary", f"{grids['party_branch'].iloc[g]}", [g])
        person("police", f"呼和浩特市公安局新城区分局{short}派出所", cgrids)
        person("urban_management", f"新城区综合行政执法局{short}中队", cgrids)
        person("power", "国网呼和浩特供电公司新城区供电中心", cgrids)
        person(
            "lawyer",
            ("内蒙古青城律师事务所", "内蒙古北疆律师事务所", "内蒙古敕勒川律师事务所")[ci % 3],
            cgrids,
        )
        if ci % 2 == 0:
            both = (
                cgrids
                if ci + 1 >= len(layout.communities)
                else np.concatenate([cgrids, np.flatnonzero(layout.community == ci + 1)])
            )
            person("judicial", f"新城区司法局{short}司法所", both)
        if ci % 3 == 0:
            person("housing", "新城区住房和城乡建设局", cgrids)
        for g in cgrids:
            for _ in range(int(rng.integers(1, 3))):
                cover = [g, g + 1] if g + 1 in cgrids and rng.random() < 0.3 else [g]
                person("volunteer", f"{cname}志愿服务队", cover)

    n_people = len(people)
    roles = np.array([p[0] for p in people], dtype=object)
    depts = np.array([p[1] for p in people], dtype=object)
    male = rng.random(n_people) < np.where(roles == "grid_worker", 0.35, 0.6)
    names = _names(rng, male, rng.random(n_people) < 0.1)
    phones = _phones(rng, n_people).astype(object)
    staff_ids = _digits_text("S", np.arange(1, n_people + 1), 5).astype(object)
    pr = np.array(rows, dtype=np.int64)
    pr = pr[np.lexsort((pr[:, 0], pr[:, 1]))]
    frame = pd.DataFrame(
        {
            "staff_id": staff_ids[pr[:, 0]],
            "name": names[pr[:, 0]],
            "role": roles[pr[:, 0]],
            "grid_id": grid_ids[pr[:, 1]],
            "department": depts[pr[:, 0]],
            "phone": phones[pr[:, 0]],
        }
    )
    # staff index per (grid, role); a role missing in a grid falls back to its grid worker,
    # then to its grid leader (who also visits in grids without a worker)
    role_names = (
        "grid_worker",
        "grid_leader",
        "police",
        "urban_management",
        "judicial",
        "lawyer",
        "housing",
    )
    role_of = {r: np.full(g_count, -1, dtype=np.int64) for r in role_names}
    for p_idx, g in pr:
        r = people[p_idx][0]
        if r in role_of and role_of[r][g] < 0:
            role_of[r][g] = p_idx
    role_of["visitor"] = np.where(
        role_of["grid_worker"] >= 0, role_of["grid_worker"], role_of["grid_leader"]
    )
    for r in role_names:
        role_of[r] = np.where(role_of[r] >= 0, role_of[r], role_of["visitor"])
    # workers per grid for visits: up to 2 per grid
    visitors = np.full((g_count, 2), -1, dtype=np.int64)
    for p_idx, g in pr:
        if people[p_idx][0] == "grid_worker":
            slot = 0 if visitors[g, 0] < 0 else 1
            visitors[g, slot] = p_idx
    visitors[:, 0] = np.where(visitors[:, 0] < 0, role_of["visitor"], visitors[:, 0])
    visitors[:, 1] = np.where(visitors[:, 1] < 0, visitors[:, 0], visitors[:, 1])
    return {
        "frame": frame,
        "ids": staff_ids,
        "role_of": role_of,
        "visitors": visitors,
        "without_worker": np.array(sorted(without_worker), dtype=np.int64),
    }
