"""Buildings (楼栋), the third level under community and grid (issue 17).

- ``names``: how building names compare (1号楼 = 1栋 = 一号楼 = １#).
- ``address``: building, unit (单元), floor and door read from a Chinese address
  (东河小区3号楼2单元501 -> building 3, unit 2, floor 5, door 1).
- ``spec``: the ``buildings`` kind of contract section 4 (columns, Chinese aliases, limits).
- ``rows``: the row rules of a buildings file (refusals and warnings).
- ``linking``: households linked to buildings, by id or by name within their grid.
- ``figures``: per-building figures, building coverage per grid, the grid worker's order.
- ``glyph``: the compact payload the map's building glyphs are drawn from.
- ``read``: the stored buildings with their anchors; households linked when read.
- ``tables``: the map page's building tables (a grid's buildings, households by building).
(The demo's buildings: ``geo.demo.buildings``.)
"""
