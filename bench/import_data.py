"""Big import files for the import benchmarks, written in blocks (the writer stays small)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo.store.base import Store

BLOCK = 200_000
KINDS = ("入户", "电话", "视频")
CATEGORIES = ("", "", "", "红", "黄", "橙", "绿", "粉", "蓝", "紫", "红;粉")


def households_csv(store: Store, path: Path, target_mb: float, seed: int = 1) -> int:
    """A households CSV of about ``target_mb`` MB, points inside the store's grids; returns rows."""
    grids = store.read("grids", ["grid_id"])
    minx, miny, maxx, maxy = grids.total_bounds
    rng = np.random.default_rng(seed)
    rows = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("户编号,经度,纬度,类别,地址,户主姓名,电话,身份证号,人数,核实日期\n")
        while out.tell() < target_mb * 1024 * 1024:
            n = BLOCK
            ids = np.arange(rows, rows + n)
            frame = pd.DataFrame(
                {
                    "id": [f"B{i:08d}" for i in ids],
                    "lon": np.round(rng.uniform(minx, maxx, n), 6),
                    "lat": np.round(rng.uniform(miny, maxy, n), 6),
                    "cat": rng.choice(CATEGORIES, n),
                    "address": [
                        f"新城区东风路{i % 900 + 1}号院{i % 37 + 1}号楼{i % 6 + 1}单元{i % 30 + 101}室"
                        for i in ids
                    ],
                    "name": [
                        f"张{'伟芳娜敏静丽强磊军洋'[i % 10]}{'明华红英建国'[i % 6]}" for i in ids
                    ],
                    "phone": [f"13{i % 10}{i:08d}"[:11] for i in ids],
                    "idno": [f"150102{1940 + i % 60}0101{i % 10000:04d}" for i in ids],
                    "members": rng.integers(1, 7, n),
                    "verified": (
                        pd.Timestamp("2026-11-01")
                        - pd.to_timedelta(rng.integers(0, 300, n), unit="D")
                    ).strftime("%Y-%m-%d"),
                }
            )
            frame.to_csv(out, header=False, index=False)
            rows += n
    return rows


def visits_csv(store: Store, path: Path, rows: int, seed: int = 2) -> None:
    """``rows`` visits (with ids) of the store's households over 8 weeks."""
    households = store.read_attributes("households", ["household_id"])["household_id"].to_numpy()
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-10-01")
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("走访编号,户编号,走访时间,人员编号,方式,备注\n")
        for first in range(0, rows, BLOCK):
            n = min(BLOCK, rows - first)
            stamps = start + pd.to_timedelta(rng.integers(0, 56 * 86400, n), unit="s")
            frame = pd.DataFrame(
                {
                    "id": [f"BV{i:09d}" for i in range(first, first + n)],
                    "household": rng.choice(households, n),
                    "at": stamps.strftime("%Y-%m-%d %H:%M:%S"),
                    "staff": [f"S{i % 500:04d}" for i in range(first, first + n)],
                    "kind": rng.choice(KINDS, n),
                    "note": np.where(rng.random(n) < 0.3, "老人身体尚可", ""),
                }
            )
            frame.to_csv(out, header=False, index=False)
