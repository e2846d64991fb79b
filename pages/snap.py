"""随手拍 on a phone: what, where (at a household of my grids, a tap on a small map, the phone's
position, or a position pasted from a map app), a photo from the camera; the duplicate guard;
filed into the viewer's grids."""

from __future__ import annotations

import streamlit as st

from geo.config import load_config
from geo.i18n import t
from geo.outputs.map import drilldown as drill
from geo.outputs.map.tiles import tile_provider_from_env
from geo.reports.workflow import (
    MAX_PHOTO_BYTES,
    ReportError,
    check_photo,
    file_report,
    find_duplicates,
    place_for_filer,
    to_wgs84,
)
from geo.store import open_store
from geo.store.base import StoreBusy
from geo.timeutil import now_local
from ui import auth, data, session
from ui import reports as ui_reports
from ui.datadesk import phone_css
from ui.geolocate import phone_position
from ui.text import md
from ui.uploader import localize_uploader

PHOTO_TYPES = ["jpg", "jpeg", "png", "webp"]
RESULT = "snap_result"  # (level, text) of the last filing, shown once
GENERATION = "snap_generation"  # a new key empties the form after a filing
AT_HOUSEHOLD, ON_MAP, HERE, TYPED = "household", "map", "here", "typed"
TAPPED = "snap_tapped_{}"  # (lon, lat, datum) of the last tap on the map, per generation
MAP_HEIGHT = 320  # px: the map and the form below it fit a 844 px screen with a scroll
MAX_CATEGORY = 40
MAX_DESCRIPTION = 500

lang = session.lang()
location = auth.location()
viewer = session.viewer()
config = load_config()

st.html(phone_css("snap_"))
st.title(t("snap_title", lang))
if viewer.aggregates_only:
    st.info(t("rv_not_for_role", lang))
    st.stop()

store = open_store(location)
version = data.data_version(location)
scope = data.grid_scope(location, version, viewer)
generation = st.session_state.get(GENERATION, 0)

result = st.session_state.pop(RESULT, None)
if result:
    level, text = result
    (st.success if level == "success" else st.error)(text)

sources = list(config.sources)
source = st.selectbox(
    t("snap_source", lang),
    sources,
    index=sources.index("patrol") if viewer.role == "grid_worker" and "patrol" in sources else 0,
    format_func=lambda s: t(f"map_source_{s}", lang),
    key="snap_source",
)
category = st.text_input(
    t("snap_category", lang),
    max_chars=MAX_CATEGORY,
    placeholder=t("snap_category_hint", lang),
    key=f"snap_category_{generation}",
).strip()
description = st.text_area(
    t("snap_description", lang), max_chars=MAX_DESCRIPTION, key=f"snap_description_{generation}"
)
photo = st.file_uploader(
    t("snap_photo", lang),
    type=PHOTO_TYPES,
    key=f"snap_photo_{generation}",
    max_upload_size=MAX_PHOTO_BYTES // (1024 * 1024),
)
localize_uploader(
    "snap_photo_", lang, MAX_PHOTO_BYTES // (1024 * 1024), [k for k in PHOTO_TYPES if k != "jpeg"]
)

where = st.radio(
    t("snap_where", lang),
    (AT_HOUSEHOLD, ON_MAP, HERE, TYPED),
    format_func=lambda w: t(f"snap_where_{w}", lang),
    key="snap_where",
)
point = None
coords = "wgs84"
if where == AT_HOUSEHOLD:
    households = store.read(
        "households",
        ["household_id", "building", "address"],
        where=None if scope is None else {"grid_id": list(scope)},
    ).sort_values("household_id")
    if households.empty:
        st.info(t("snap_no_households", lang))
    else:
        by_id = households.set_index("household_id")
        picked = st.selectbox(
            t("snap_household", lang),
            by_id.index.tolist(),
            format_func=lambda h: " · ".join(
                str(v)
                for v in (h, by_id.loc[h, "building"], by_id.loc[h, "address"])
                if isinstance(v, str)
            ),
            key="snap_household",
        )
        spot = by_id.loc[picked].geometry
        point = (float(spot.x), float(spot.y))
elif where == ON_MAP:  # a tap on the reports page's map picker, with the viewer's grids
    try:
        tiles = tile_provider_from_env()
    except ValueError as error:
        st.warning(md(str(error)))
        tiles = None
    datum = "gcj02" if tiles and tiles.gcj02 else "wgs84"  # a tap is in the map's datum
    tapped_key = TAPPED.format(generation)
    tapped = st.session_state.get(tapped_key)
    grids = drill.grid_layer(
        data.grid_polygons(location, version, viewer),
        data.grid_figures(location, version, session.as_of(), viewer),
    )
    ui_reports.report_map(
        grids,
        None,  # the place only: no report markers, no legend on a phone's small map
        lang=lang,
        as_of=session.as_of(),
        heat=False,
        tiles=tiles,
        picked=tapped[:2] if tapped else None,
        picked_coords=tapped[2] if tapped else datum,
        key=f"snap_map_{generation}",
        height=MAP_HEIGHT,
        on_pick=lambda p: st.session_state.__setitem__(tapped_key, (p[0], p[1], datum)),
        touch=True,
    )
    if not tapped:
        st.caption(t("snap_map_hint", lang))
    else:
        try:
            grid_id, _nearby = place_for_filer(
                store, tapped[0], tapped[1], coords=tapped[2], within=scope
            )
        except ReportError as error:
            st.error(t("snap_map_refused", lang, reason=error.message(lang)))
        else:
            point, coords = tapped[:2], tapped[2]
            st.success(
                t("snap_map_placed", lang, grid=md(grid_id or "-"), lon=point[0], lat=point[1])
            )
elif where == HERE:  # the phone's own position (GPS: WGS-84), when the browser allows it
    found = phone_position(t("snap_locate", lang), key=f"snap_here_{generation}")
    if isinstance(found, tuple):
        point = found[:2]
        st.caption(t("snap_located", lang, m=int(round(found[2]))))
    elif found is not None:
        st.warning(t("snap_locate_refused", lang))
else:
    text = st.text_input(
        t("snap_position", lang),
        placeholder="111.662, 40.816",
        help=t("rep_location_help", lang),
        key=f"snap_position_{generation}",
    )
    coords = st.radio(
        t("rep_coords", lang),
        ui_reports.COORD_SYSTEMS,
        index=1,  # a phone's map app (Gaode, Tencent) shows GCJ-02
        format_func=lambda c: t(f"rep_coords_{c}", lang),
        horizontal=True,
        key="snap_coords",
    )
    if text.strip():
        try:
            point = ui_reports.parse_lonlat(text)
        except ValueError:
            st.error(t("rep_bad_location", lang))

duplicate_of = None
if point is not None and category:
    lon_w, lat_w = to_wgs84(point[0], point[1], coords)
    pool = ui_reports.duplicate_pool(location, version, scope)
    duplicates = find_duplicates(pool, category, lon_w, lat_w, now_local())
    if len(duplicates):
        nearest = duplicates.iloc[0]
        st.warning(
            t(
                "snap_duplicate",
                lang,
                id=md(nearest["report_id"]),
                m=int(round(float(nearest["distance_m"]))),
            )
        )
        if st.checkbox(t("snap_link", lang), value=True, key=f"snap_link_{generation}"):
            duplicate_of = str(nearest["report_id"])

ready = bool(category) and point is not None
if st.button(
    t("snap_file", lang),
    key="snap_file",
    type="primary",
    disabled=not ready,
    use_container_width=True,
):
    try:
        data_bytes = photo.getvalue() if photo is not None else None
        if data_bytes is not None:
            check_photo(data_bytes, photo.name)
        filed = file_report(
            store,
            source=source,
            category=category,
            lon=point[0],
            lat=point[1],
            actor=viewer.username,
            description=description.strip() or None,
            photo=data_bytes,
            photo_name=photo.name if photo is not None else None,
            coords=coords,
            duplicate_of=duplicate_of,
            within=scope,
        )
    except StoreBusy as busy:
        st.session_state[RESULT] = ("error", busy.message(lang))
    except ReportError as error:
        st.session_state[RESULT] = ("error", t("rep_refused", lang, reason=error.message(lang)))
    else:
        st.session_state[RESULT] = (
            "success",
            t("snap_filed", lang, id=md(filed.report_id), grid=md(filed.grid_id or "-")),
        )
        st.session_state[GENERATION] = generation + 1
    st.rerun()
if not ready:
    st.caption(t("snap_need", lang))
