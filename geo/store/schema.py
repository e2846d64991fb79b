"""The tables of the store: one definition shared by every store implementation.

Timestamps are stored as text ``YYYY-MM-DD HH:MM:SS`` in the deployment's local time
zone (see ``geo.config``), dates as ``YYYY-MM-DD``: lexical order is time order, and the
values read the same in QGIS, ogrinfo and psql.
"""

from __future__ import annotations

from dataclasses import dataclass

WGS84 = "EPSG:4326"
SCHEMA_VERSION = 9  # 2: verifications; 3: sessions, the audit log's hash chain;
# 4: new-employment groups (firms, outlets, workers, stations; contract section 7); 5: buildings;
# 6: cases; 7: the district (区县) of grids and of district leaders (geo.hierarchy);
# 8: department accounts (users.department); 9: the maintained care state (internal table
# care_state, geo.store.care)


@dataclass(frozen=True)
class Table:
    """A table: its columns (name, SQL type), key columns and geometry type (None = attributes)."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    geometry: str | None = None
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def column_names(self) -> list[str]:
        """Attribute column names, in order (without the geometry)."""
        return [name for name, _ in self.columns]


GEOMETRY_COLUMN = "geom"
# columns added to an existing table by a later schema version: a store an older gridmap
# wrote lacks them until its next write migrates it (reads give None meanwhile)
ADDED_COLUMNS: dict[str, frozenset[str]] = {
    "audit_log": frozenset({"entry_hash"}),  # 3
    # 6: cases (geo.cases)
    "reports": frozenset({"owner_kind", "owner_id", "followup_method", "followup_by", "closed_at"}),
    # 7: the hierarchy (geo.hierarchy): a grid's district, a district leader's district;
    # 8: department accounts
    "grids": frozenset({"district"}),
    "users": frozenset({"district", "department"}),
}

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "grids",
            (
                ("grid_id", "TEXT"),
                ("name", "TEXT"),
                ("community", "TEXT"),
                ("street", "TEXT"),
                ("party_branch", "TEXT"),
                ("district", "TEXT"),  # 区县 (schema 7): optional, city > district > street
            ),
            key=("grid_id",),
            geometry="MULTIPOLYGON",
        ),
        Table(
            "households",
            (
                ("household_id", "TEXT"),
                ("grid_id", "TEXT"),
                ("categories", "TEXT"),  # ';'-joined category codes in display order
                ("address", "TEXT"),
                ("building", "TEXT"),
                ("head_name", "TEXT"),
                ("phone", "TEXT"),
                ("id_number", "TEXT"),
                ("members", "INTEGER"),
                ("last_verified", "TEXT"),
            ),
            key=("household_id",),
            geometry="POINT",
            indexes=(("grid_id",),),
        ),
        Table(
            # buildings (楼栋, issue 17; geo.buildings): a point or a footprint polygon. Households
            # keep their ``building`` text and are linked when read (geo.buildings.linking)
            "buildings",
            (
                ("building_id", "TEXT"),
                ("grid_id", "TEXT"),  # the grid named in the file: assigned, not located
                ("name", "TEXT"),
                ("party_group", "TEXT"),  # 党小组; empty = none
                ("units", "INTEGER"),
                ("floors", "INTEGER"),
            ),
            key=("building_id",),
            geometry="GEOMETRY",  # POINT or POLYGON
            indexes=(("grid_id",),),
        ),
        Table(
            "visits",
            (
                ("visit_id", "TEXT"),
                ("household_id", "TEXT"),
                ("visited_at", "TEXT"),
                ("staff_id", "TEXT"),
                ("kind", "TEXT"),
                ("note", "TEXT"),
            ),
            key=("visit_id",),
            indexes=(("visited_at",), ("household_id", "visited_at")),
        ),
        Table(
            # every verification of a household (households.last_verified keeps the
            # latest): freshness as of a past day needs the one on or before that day
            "verifications",
            (
                ("household_id", "TEXT"),
                ("verified_on", "TEXT"),  # 'YYYY-MM-DD'
                ("actor", "TEXT"),
                ("source", "TEXT"),  # import / web / demo
            ),
            key=("household_id", "verified_on"),
            indexes=(("verified_on",),),
        ),
        Table(
            "staff",
            (
                ("staff_id", "TEXT"),
                ("name", "TEXT"),
                ("role", "TEXT"),
                ("grid_id", "TEXT"),
                ("department", "TEXT"),
                ("phone", "TEXT"),
            ),
            key=("staff_id", "grid_id"),
            indexes=(("grid_id",),),
        ),
        Table(
            "reports",
            (
                ("report_id", "TEXT"),
                ("source", "TEXT"),
                ("category", "TEXT"),
                ("description", "TEXT"),
                ("reporter_id", "TEXT"),
                ("reported_at", "TEXT"),
                ("responded_at", "TEXT"),
                ("resolved_at", "TEXT"),
                ("followed_up_at", "TEXT"),
                ("satisfaction", "TEXT"),
                ("photo", "TEXT"),
                ("grid_id", "TEXT"),
                ("duplicate_of", "TEXT"),
                # 6: cases (geo.cases): the owner (staff / department / mediation), the
                # return visit's method and who made it, and 结案
                ("owner_kind", "TEXT"),
                ("owner_id", "TEXT"),
                ("followup_method", "TEXT"),
                ("followup_by", "TEXT"),
                ("closed_at", "TEXT"),
            ),
            key=("report_id",),
            geometry="POINT",
            indexes=(("grid_id",), ("reported_at",)),
        ),
        Table(
            "report_steps",
            (
                ("report_id", "TEXT"),
                ("step", "TEXT"),  # reported / responded / resolved / followed_up
                ("at", "TEXT"),
                ("actor", "TEXT"),
                ("note", "TEXT"),
                ("recorded_at", "TEXT"),
            ),
            key=("report_id", "step"),
            indexes=(("report_id",),),
        ),
        Table(
            # 6: a case's dispatches, transfers and extensions (geo.cases.timeline), numbered
            # per report in the order recorded
            "case_events",
            (
                ("report_id", "TEXT"),
                ("event_no", "INTEGER"),
                (
                    "event",
                    "TEXT",
                ),  # assigned / transferred / extension_requested / extended / extension_refused
                ("at", "TEXT"),
                ("actor", "TEXT"),
                ("actor_role", "TEXT"),
                ("owner_kind", "TEXT"),
                ("owner_id", "TEXT"),
                ("from_kind", "TEXT"),
                ("from_id", "TEXT"),
                ("hours", "INTEGER"),  # an extension's whole hours
                ("reason", "TEXT"),
                ("request_seq", "INTEGER"),  # the request a decision answers
                ("recorded_at", "TEXT"),
            ),
            key=("report_id", "event_no"),
            indexes=(("at",),),
        ),
        Table(
            # 6: one reminder per limit in force (geo.cases.reminders)
            "case_reminders",
            (
                ("report_id", "TEXT"),
                ("due_at", "TEXT"),
                ("owner_kind", "TEXT"),
                ("owner_id", "TEXT"),
                ("sent_at", "TEXT"),
                ("status", "TEXT"),  # sending / sent / failed
                ("detail", "TEXT"),
            ),
            key=("report_id", "due_at"),
        ),
        Table(
            # 6: the mediation record of a dispute (geo.cases.mediation)
            "mediations",
            (
                ("report_id", "TEXT"),
                ("dispute_kind", "TEXT"),
                ("mediation_type", "TEXT"),
                ("room", "TEXT"),  # the community whose mediation room holds it
                ("opened_at", "TEXT"),
                ("opened_by", "TEXT"),
            ),
            key=("report_id",),
        ),
        Table(
            "mediation_sessions",
            (
                ("report_id", "TEXT"),
                ("session_no", "INTEGER"),
                ("held_at", "TEXT"),
                ("outcome", "TEXT"),  # success / failed / litigation
                ("note", "TEXT"),
                ("recorded_by", "TEXT"),
                ("recorded_at", "TEXT"),
            ),
            key=("report_id", "session_no"),
        ),
        Table(
            "mediation_mediators",
            (
                ("report_id", "TEXT"),
                ("session_no", "INTEGER"),
                ("staff_id", "TEXT"),
                ("capacity", "TEXT"),  # 老党员, 人民调解员, 民警 ... (cases.mediation.capacities)
            ),
            key=("report_id", "session_no", "staff_id"),
        ),
        Table(
            "photos",
            (("report_id", "TEXT"), ("mime", "TEXT"), ("data", "BLOB")),
            key=("report_id",),
        ),
        # new-employment groups (contract section 7, geo/employment/): schema version 4
        Table(
            "firms",
            (
                ("firm_id", "TEXT"),
                ("name", "TEXT"),
                (
                    "sector",
                    "TEXT",
                ),  # express / food_delivery / ride_hailing / taxi / freight / other
                ("party_org", "TEXT"),  # name; empty = none
                ("union", "TEXT"),  # name; empty = none
            ),
            key=("firm_id",),
        ),
        Table(
            "outlets",
            (
                ("outlet_id", "TEXT"),
                ("firm_id", "TEXT"),
                ("name", "TEXT"),
                ("address", "TEXT"),
                ("party_org", "TEXT"),
                ("grid_id", "TEXT"),
            ),
            key=("outlet_id",),
            geometry="POINT",
            indexes=(("grid_id",), ("firm_id",)),
        ),
        Table(
            "workers",
            (
                ("worker_id", "TEXT"),
                ("firm_id", "TEXT"),
                ("outlet_id", "TEXT"),
                ("name", "TEXT"),
                ("phone", "TEXT"),
                ("id_number", "TEXT"),
                ("party", "TEXT"),  # member / probationary / none
                ("party_relation", "TEXT"),  # local / mobile
                ("returned_on", "TEXT"),  # 'YYYY-MM-DD'
                ("insured", "INTEGER"),  # 0/1
                ("insured_on", "TEXT"),
                ("observer", "INTEGER"),  # 0/1
                ("registered_on", "TEXT"),
                ("community", "TEXT"),
            ),
            key=("worker_id",),
            indexes=(("firm_id",), ("outlet_id",)),
        ),
        Table(
            "stations",
            (
                ("station_id", "TEXT"),
                ("name", "TEXT"),
                ("services", "TEXT"),  # ';'-joined service codes
                ("host", "TEXT"),
                ("opened_on", "TEXT"),
                ("grid_id", "TEXT"),
            ),
            key=("station_id",),
            geometry="POINT",
            indexes=(("grid_id",),),
        ),
        Table(
            "boundary",
            (("boundary_id", "TEXT"), ("name", "TEXT"), ("adcode", "TEXT")),
            key=("boundary_id",),
            geometry="MULTIPOLYGON",
        ),
        Table(
            "users",
            (
                ("username", "TEXT"),
                ("role", "TEXT"),
                ("community", "TEXT"),
                ("grids", "TEXT"),  # ';'-joined grid ids for grid workers
                ("password_hash", "TEXT"),
                ("disabled", "INTEGER"),
                ("failed_attempts", "INTEGER"),
                ("locked_until", "TEXT"),
                ("created_at", "TEXT"),
                ("district", "TEXT"),  # a district leader's district (schema 7)
                ("department", "TEXT"),  # a department account's department (a staff role code)
            ),
            key=("username",),
        ),
        Table(
            "audit_log",
            (
                ("at", "TEXT"),
                ("actor", "TEXT"),
                ("action", "TEXT"),
                ("detail", "TEXT"),
                ("records", "TEXT"),
                # sha256 over this entry and the previous entry's hash (geo.access.audit_chain):
                # an entry changed or removed breaks every link after it
                ("entry_hash", "TEXT"),
            ),
            key=(),
            indexes=(("at",),),
        ),
        Table(
            # signed-in sessions (geo.access.sessions): what the browser's cookie names, by hash only
            "sessions",
            (
                ("session_id", "TEXT"),  # random; held server-side in the Streamlit session
                ("username", "TEXT"),
                ("grants", "TEXT"),  # role|community|grids at sign-in: a change ends the session
                ("token_hash", "TEXT"),  # sha256 of the cookie's token
                ("ticket_hash", "TEXT"),  # sha256 of the one-time ticket that sets the cookie
                ("ticket_expires", "TEXT"),
                ("created_at", "TEXT"),
                ("expires_at", "TEXT"),
                ("revoked_at", "TEXT"),
                ("revoked_why", "TEXT"),  # signed_out / disabled / role_changed / password
            ),
            key=("session_id",),
            indexes=(("token_hash",), ("ticket_hash",), ("username",)),
        ),
    )
}
