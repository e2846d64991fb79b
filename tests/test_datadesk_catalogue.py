"""The data desk's catalogue keys built from names exist (test_i18n checks the literal ones)."""

from __future__ import annotations

from geo.i18n import catalogue
from geo.inputs.importers.columns import KINDS
from geo.inputs.importers.core import COORDS


def test_keys_built_from_names_exist():
    wanted = (
        [f"ds_kind_{k}" for k in KINDS]
        + [f"ds_tpl_name_{k}" for k in KINDS]
        + [f"ds_coords_{c}" for c in COORDS]
        + [f"acc_status_{s}" for s in ("active", "disabled", "locked")]
        + [f"today_kind_{k}" for k in ("home", "phone", "video")]
    )
    assert [k for k in wanted if k not in catalogue()] == []
