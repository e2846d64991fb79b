"""The four kinds of contract section 7 as files spell them: columns, aliases, keys."""

from __future__ import annotations

KINDS = ("firms", "outlets", "workers", "stations")
POINT_KINDS = ("outlets", "stations")
"""Kinds placed on the map (lon/lat columns, or point features of a vector file)."""

_LON = ("经度", "longitude", "lng")
_LAT = ("纬度", "latitude")

# canonical column -> accepted header spellings besides the canonical name
ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "firms": {
        "firm_id": ("企业编号", "企业id", "企业代码"),
        "name": ("企业名称", "名称", "企业"),
        "sector": ("行业", "行业类别", "所属行业"),
        "party_org": ("党组织", "党组织名称"),
        "union": ("工会", "工会名称"),
    },
    "outlets": {
        "outlet_id": ("网点编号", "网点id", "站点编号"),
        "firm_id": ("企业编号", "企业id", "所属企业编号"),
        "lon": _LON,
        "lat": _LAT,
        "name": ("网点名称", "名称", "站点名称"),
        "address": ("地址", "网点地址"),
        "party_org": ("党组织", "党组织名称"),
    },
    "workers": {
        "worker_id": ("人员编号", "骑手编号", "从业人员编号"),
        "firm_id": ("企业编号", "企业id", "所属企业编号"),
        "name": ("姓名",),
        "outlet_id": ("网点编号", "所属网点编号"),
        "phone": ("电话", "联系电话", "手机"),
        "id_number": ("身份证号", "身份证号码"),
        "party": ("政治面貌",),
        "party_relation": ("组织关系", "党组织关系"),
        "returned_on": ("回归日期", "回归时间"),
        "insured": ("职业伤害保障", "是否参保", "参保"),
        "insured_on": ("参保日期", "参保时间"),
        "observer": ("社区观察员", "是否社区观察员", "观察员"),
        "registered_on": ("报到日期", "报到时间"),
        "community": ("报到社区",),
    },
    "stations": {
        "station_id": ("驿站编号", "站点编号"),
        "name": ("驿站名称", "名称"),
        "lon": _LON,
        "lat": _LAT,
        "services": ("服务项目", "服务内容"),
        "host": ("依托单位", "承建单位"),
        "opened_on": ("建成日期", "建成时间", "启用日期"),
    },
}

REQUIRED: dict[str, tuple[str, ...]] = {
    "firms": ("firm_id", "name", "sector"),
    "outlets": ("outlet_id", "firm_id", "lon", "lat"),
    "workers": ("worker_id", "firm_id", "name"),
    "stations": ("station_id", "name", "lon", "lat"),
}

KEYS: dict[str, tuple[str, ...]] = {
    "firms": ("firm_id",),
    "outlets": ("outlet_id",),
    "workers": ("worker_id",),
    "stations": ("station_id",),
}
"""The columns whose values may not repeat within a file (and the store's key)."""

DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "firms": (),
    "outlets": (),
    "workers": ("returned_on", "insured_on", "registered_on"),
    "stations": ("opened_on",),
}
"""Columns the importer parses as dates (stored ``YYYY-MM-DD``) before the row rules run."""

PERSONAL_COLUMNS = ("name", "phone", "id_number")
"""Worker columns that are personal data exactly as households' are (masked by default)."""
