"""The care state: per-grid blocks of what every figure needs, kept current by each write.

The figures of the data contract (visit rules, freshness, reports) used to be refolded
from every visit row on every page: 10M visits at a city's scale. A *block* holds, for the
households and reports of one grid, exactly what those figures depend on, compactly
(``bits``: the visit and verification days of the last 128 days as bit masks; ``block``:
the columns and their binary form; ``build``: a block from the base tables' rows;
``figures``: the per-household status and per-grid counts as of a day, equal to
``geo.metrics``).
"""
