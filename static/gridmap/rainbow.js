/* gridmap: draws the rainbow-map payload built by geo/mapping.py on a Leaflet map.
 *
 * Households are drawn by one canvas layer (HouseholdLayer) whose colours are looked up
 * here from the category bitmask (bit i = i-th category, bit 7 = visit overdue): no
 * per-feature style function, no per-household object, no per-marker data beyond id,
 * building, categories and last visit. The layer hit-tests clicks itself: a click on a
 * household opens a popup and never reaches the grid polygon below (which would rerun
 * the page); any other click on a grid polygon reports its tooltip (drill-down).
 */
(function () {
  "use strict";

  // Leaflet's canvas renderer handles at most one mousemove per 32 ms and drops the rest,
  // so a pointer that stops just after crossing into a grid leaves the previous grid's
  // tooltip (and hover) showing, while a click opens the grid truly under it. The last
  // dropped position is handled once the 32 ms are over: pointer, tooltip and click agree.
  if (L.Canvas) {
    var hover = L.Canvas.prototype._handleMouseHover;
    L.Canvas.prototype._handleMouseHover = function (e, point) {
      this._gmLastMove = [e, point];
      if (!this._mouseHoverThrottled) return hover.call(this, e, point);
      if (this._gmTrailing) return;
      var renderer = this;
      this._gmTrailing = setTimeout(function () {
        renderer._gmTrailing = null;
        var last = renderer._gmLastMove;  // again through this function: still throttled, wait on
        if (renderer._map && last) renderer._handleMouseHover(last[0], last[1]);
      }, 40);
    };
  }

  var OVERDUE = 128;
  var MAX_CATEGORIES = 7;  // bits 0..6 of the bitmask (geo/mapping.py MAX_CATEGORIES)

  // Leaflet 1.9 focuses the map on mousedown (keyboard navigation) with a plain focus(),
  // which scrolls a partly hidden element into view. In the app's iframe that scrolls the
  // host page: between mousedown and click the map moves under the pointer, and the click
  // lands on a neighbouring grid. Focus without scrolling, as Leaflet 2 does. Patched at
  // load, before any map exists: the handler is bound when a map is created.
  if (L.Map.Keyboard) {
    L.Map.Keyboard.prototype._onMouseDown = function () {
      if (this._focused) return;
      this._map._container.focus({ preventScroll: true });
    };
  }

  // canvaslayer.js: what the canvas layers share (loaded before this file)
  var C = window.gridmapCanvas, esc = C.esc, dayText = C.dayText;

  function labelMinZoom(map, bounds, text) {
    // the zoom from which the label fits inside its grid's width
    var w0 = map.project(bounds.getNorthEast(), 0).x - map.project(bounds.getSouthWest(), 0).x;
    var need = text.length * 14 + 12;
    return w0 > 0 ? Math.ceil(Math.log(need / w0) / Math.LN2) : 99;
  }

  function gridStyle(fill, selected) {
    return {
      color: selected ? "#1f2d3d" : "#455a64",
      weight: selected ? 3.5 : 1.6,
      opacity: 0.9,
      fillColor: fill || "#ffffff",
      fillOpacity: fill ? 0.5 : 0.08
    };
  }

  function drawGrids(map, P, renderer, stats) {
    var labels = [];
    var layers = [];  // grid polygons in feature order (the view's fill, sel and k follow it)
    var points = [];  // each grid's label point
    var bubbles = L.layerGroup();
    var communityLabels = [];  // {marker, minZoom}: a name shows once it fits its community
    var grids = L.geoJSON(P.g, {
      renderer: renderer,
      style: function (f) { return gridStyle(f.properties.c, f.properties.s); },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer._gmIndex = layers.length;
        layers.push(layer);
        points.push([p.ly, p.lx]);
        layer.bindTooltip(p.t, { sticky: true, direction: "top", className: "gm-tip" });
        var shortIcon = L.divIcon({ className: "gm-label", html: "<span>" + esc(p.n) + "</span>", iconSize: null });
        var fullIcon = L.divIcon({ className: "gm-label", html: "<span>" + esc(p.fn || p.n) + "</span>", iconSize: null });
        labels.push({
          marker: L.marker([p.ly, p.lx], { icon: shortIcon, interactive: false, keyboard: false }),
          shortIcon: shortIcon, fullIcon: fullIcon, full: false,
          minZoom: labelMinZoom(map, layer.getBounds(), p.n),
          fullZoom: labelMinZoom(map, layer.getBounds(), p.fn || p.n)
        });
        stats.grids += 1;
      }
    });
    grids.addTo(map);
    var outlines = L.layerGroup();
    (P.g.communities || []).forEach(function (c) {
      var outline = L.geoJSON(c.b, {
        renderer: renderer, interactive: false,
        style: { color: "#7b1f1f", weight: 3, opacity: 0.75, dashArray: "8 5", fill: false }
      });
      outlines.addLayer(outline);
      communityLabels.push({
        marker: L.marker([c.ly, c.lx], {
          icon: L.divIcon({ className: "gm-label gm-community-label", html: "<span>" + esc(c.n) + "</span>", iconSize: null }),
          interactive: false, keyboard: false
        }),
        // hundreds of communities zoomed out would print over each other
        minZoom: labelMinZoom(map, outline.getBounds(), c.n)
      });
    });
    if ((P.g.communities || []).length > 1) outlines.addTo(map);
    var zooms = labels.map(function (l) { return l.minZoom; }).sort(function (a, b) { return a - b; });
    var gridLabelZoom = zooms.length ? zooms[Math.floor(zooms.length / 2)] : 0;
    return {
      grids: grids, layers: layers, points: points, labels: labels, bubbles: bubbles,
      communityLabels: communityLabels, gridLabelZoom: gridLabelZoom
    };
  }

  // the grids' fill, the selected ones and the count labels shown when points are hidden
  function styleGrids(g, V) {
    var selected = {};
    (V.sel || []).forEach(function (id) { selected[id] = true; });
    g.layers.forEach(function (layer, i) {
      var p = layer.feature.properties;
      layer.setStyle(gridStyle((V.fill || [])[i], selected[p.i]));
      if (selected[p.i]) layer.bringToFront();
    });
    g.bubbles.clearLayers();
    (V.k || []).forEach(function (k, i) {
      if (k === null || k === undefined) return;
      g.bubbles.addLayer(L.marker(g.points[i], {
        icon: L.divIcon({ className: "gm-bubble", html: "<span>" + esc(k) + "</span>", iconSize: null }),
        interactive: false, keyboard: false
      }));
    });
  }

  // --- households: one canvas layer for every point --------------------------------------
  //
  // One L.CircleMarker per household costs seconds at 100k (an object, bounds and a
  // redraw request each) and re-projects every marker on each zoom. This layer keeps the
  // points in typed arrays instead: world coordinates are computed once, a redraw is a
  // multiply-subtract per point, points are culled to the view, and clicks are
  // hit-tested on a bucket grid.
  //
  // Each style (fill colour x outline) is drawn once into a small sprite at the screen's
  // pixel ratio (crisp on high-DPI screens), and a point is a drawImage of its sprite at a
  // whole device pixel, in payload order (ordinary households first, care households on
  // top, as the circle markers were). Measured with 100k points in view, headless
  // Chromium on a busy 2-core machine: arcs batched into one path per style took 1.4-3.7 s
  // to paint at devicePixelRatio 1 and 5-8 s at 2; sprites take 0.3-0.5 s at either.

  var CELL = 16;         // hit-test bucket size, CSS pixels
  var HIT_SLACK = 3;     // a click counts within radius + this many pixels of a point
  var MAX_REACH = 5 + 1.5 + HIT_SLACK;  // largest radius + half its outline + slack
  var OUTLINES = 2 + MAX_CATEGORIES;    // white, black (overdue), then a ring per category

  // Style group of a household: fill (0 ordinary, 1 + first category) x outline (0 white,
  // 1 black for overdue, 2 + second category for a ring).
  function styleGroup(mask, ncats) {
    var first = -1, second = -1;
    for (var b = 0; b < ncats; b++) {
      if (mask & (1 << b)) {
        if (first < 0) first = b; else if (second < 0) second = b;
      }
    }
    var outline = second >= 0 ? 2 + second : (mask & OVERDUE) ? 1 : 0;
    return (first + 1) * OUTLINES + outline;
  }

  function groupStyles(P) {
    var styles = [];
    for (var f = 0; f <= MAX_CATEGORIES; f++) {
      for (var o = 0; o < OUTLINES; o++) {
        var ring = o >= 2;
        styles.push({
          fill: f === 0 ? P.ordinary : (P.cats[f - 1] || {}).hex,
          radius: f === 0 ? 3 : ring ? 5 : 4.5,
          stroke: ring ? (P.cats[o - 2] || {}).hex : o === 1 ? "#111111" : "#ffffff",
          weight: ring ? 3 : o === 1 ? 2 : 1
        });
      }
    }
    return styles;
  }

  // The circle of one style, drawn at the device pixel ratio, centred on a whole pixel.
  function sprite(style, dpr) {
    var half = Math.ceil((style.radius + style.weight / 2 + 1) * dpr);
    var c = document.createElement("canvas");
    c.width = c.height = 2 * half;
    var ctx = c.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.beginPath();
    ctx.arc(half / dpr, half / dpr, style.radius, 0, 2 * Math.PI);
    ctx.globalAlpha = 0.95;  // as the circle markers had: fillOpacity 0.95, opacity 1
    ctx.fillStyle = style.fill;
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.strokeStyle = style.stroke;
    ctx.lineWidth = style.weight;
    ctx.stroke();
    return { image: c, half: half };
  }

  // Zoom-0 world pixel coordinates (what map.project(latlng, 0) returns); at zoom z a
  // point is at world * crs.scale(z) / crs.scale(0), so zooming never re-projects.
  function worldCoords(map, lat, lng) {
    var n = lat.length, wx = new Float64Array(n), wy = new Float64Array(n), i;
    if (map.options.crs === L.CRS.EPSG3857) {
      // Spherical Mercator inlined: no LatLng and Point objects for each of 1M households
      var d = Math.PI / 180, maxLat = L.Projection.SphericalMercator.MAX_LATITUDE;
      for (i = 0; i < n; i++) {
        var s = Math.sin(Math.max(Math.min(maxLat, lat[i]), -maxLat) * d);
        wx[i] = 128 + lng[i] * (256 / 360);
        wy[i] = 128 - (64 / Math.PI) * Math.log((1 + s) / (1 - s));
      }
    } else {
      for (i = 0; i < n; i++) {
        var p = map.project(L.latLng(lat[i], lng[i]), 0);
        wx[i] = p.x; wy[i] = p.y;
      }
    }
    return { x: wx, y: wy };
  }

  var HouseholdLayer = L.Layer.extend({
    includes: [C.Pointer, C.Frame],  // hit-testing on the container; the padded canvas
    options: { pane: "gmHouseholds", hoverClass: "gm-over-point" },

    initialize: function (P, stats) {
      var H = P.h, n = H.n;
      this._P = P;
      this._stats = stats;
      this._n = n;
      this._lat = new Float64Array(n);
      this._lng = new Float64Array(n);
      this._group = new Uint8Array(n);
      for (var i = 0; i < n; i++) {
        this._lat[i] = H.y0 + H.y[i] * H.s;
        this._lng[i] = H.x0 + H.x[i] * H.s;
        this._group[i] = styleGroup(H.c[i], P.cats.length);
      }
      this._styles = groupStyles(P);
      this._sprites = null;
      this._spriteDpr = 0;
      // per-redraw buffers, allocated once: the points in view, their canvas positions,
      // and the hit-test buckets
      this._vis = new Int32Array(n);
      this._vx = new Float32Array(n);
      this._vy = new Float32Array(n);
      this._cellItems = new Int32Array(n);
      this._nv = 0;
      this._ids = null;  // split lazily: 1M ids are only needed when a popup opens
      this._visible = null;  // Uint8Array: 1 = drawn (the view's filter); null = every point
    },

    onAdd: function (map) {
      if (!this._world) this._world = worldCoords(map, this._lat, this._lng);
      // clicks go to the grid polygons below; this layer hit-tests them first (_onClick)
      this._addCanvas("gm-households " + this._zoomClass());
      this._redraw();
    },

    onRemove: function () {
      this._cancelFrame();
      this._removeCanvas();
      this._cells = this._center = null;
      this._nv = 0;
      this._stats.pointsDrawn = 0;
    },

    _redraw: function () {
      var map = this._map, canvas = this._canvas, ctx = this._ctx;
      // added while a zoom animates (folium's fitBounds on load): draw once it has ended
      if (!map || !canvas || map._animatingZoom) return;
      var placed = this._placeCanvas(), w = placed.w, h = placed.h, dpr = placed.dpr, min = this._min;
      // device pixels throughout: sprites are copied 1:1, never scaled
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, canvas.width, canvas.height);
      if (this._spriteDpr !== dpr) {
        this._sprites = [];  // made on first use: only the styles present are drawn
        this._spriteDpr = dpr;
      }

      var crs = map.options.crs, k = crs.scale(this._zoom) / crs.scale(0);
      var origin = map.getPixelOrigin(), ox = origin.x + min.x, oy = origin.y + min.y;
      var wx = this._world.x, wy = this._world.y, group = this._group, sprites = this._sprites;
      var vis = this._vis, vx = this._vx, vy = this._vy;
      var m = 6, nv = 0;
      var visible = this._visible;
      // payload order: ordinary households first, care households drawn over them
      for (var i = 0; i < this._n; i++) {
        if (visible && !visible[i]) continue;
        var x = wx[i] * k - ox, y = wy[i] * k - oy;
        if (x < -m || y < -m || x > w + m || y > h + m) continue;
        vis[nv] = i; vx[nv] = x; vy[nv] = y; nv++;
        var sp = sprites[group[i]] || (sprites[group[i]] = sprite(this._styles[group[i]], dpr));
        ctx.drawImage(sp.image, Math.round(x * dpr) - sp.half, Math.round(y * dpr) - sp.half);
      }
      this._nv = nv;
      this._stats.pointsDrawn = nv;
      this._buildBuckets(w, h);
    },

    // counting sort of the drawn points into CELL-sized screen buckets
    _buildBuckets: function (w, h) {
      var cols = Math.ceil(w / CELL) + 1, rows = Math.ceil(h / CELL) + 1;
      var start = new Int32Array(cols * rows + 1), nv = this._nv, vx = this._vx, vy = this._vy;
      var cellOf = function (j) {
        var cx = Math.min(cols - 1, Math.max(0, Math.floor(vx[j] / CELL)));
        var cy = Math.min(rows - 1, Math.max(0, Math.floor(vy[j] / CELL)));
        return cy * cols + cx;
      };
      var j, cells = new Int32Array(nv);
      for (j = 0; j < nv; j++) { cells[j] = cellOf(j); start[cells[j] + 1]++; }
      for (var c = 0; c < cols * rows; c++) start[c + 1] += start[c];
      var fill = start.slice(0, cols * rows);
      for (j = 0; j < nv; j++) this._cellItems[fill[cells[j]]++] = j;
      this._cells = { cols: cols, rows: rows, start: start };
    },

    /** Index of the household drawn nearest to a container point (within reach), or -1. */
    hit: function (point) {
      if (!this._map || !this._canvas || this._map._animatingZoom) return -1;
      this._flush();
      if (!this._cells) return -1;
      var lp = this._map.containerPointToLayerPoint(point);
      var x = lp.x - this._min.x, y = lp.y - this._min.y, grid = this._cells;
      var c0 = Math.max(0, Math.floor((x - MAX_REACH) / CELL)), c1 = Math.min(grid.cols - 1, Math.floor((x + MAX_REACH) / CELL));
      var r0 = Math.max(0, Math.floor((y - MAX_REACH) / CELL)), r1 = Math.min(grid.rows - 1, Math.floor((y + MAX_REACH) / CELL));
      var best = -1, bestD = Infinity;
      for (var row = r0; row <= r1; row++) {
        for (var col = c0; col <= c1; col++) {
          var cell = row * grid.cols + col;
          for (var q = grid.start[cell]; q < grid.start[cell + 1]; q++) {
            var j = this._cellItems[q], st = this._styles[this._group[this._vis[j]]];
            var dx = this._vx[j] - x, dy = this._vy[j] - y, d = dx * dx + dy * dy;
            var reach = st.radius + st.weight / 2 + HIT_SLACK;
            if (d <= reach * reach && d <= bestD) { best = this._vis[j]; bestD = d; }
          }
        }
      }
      return best;
    },

    /** Draw only the households the view's filter lets through (see filterMask). */
    setVisible: function (visible) {
      this._visible = visible;
      var shown = this._n;
      if (visible) { shown = 0; for (var i = 0; i < this._n; i++) shown += visible[i]; }
      this._stats.markers = shown;
      if (this._map) this._redraw();
    },

    size: function () { return this._n; },
    latLng: function (i) { return L.latLng(this._lat[i], this._lng[i]); },
    containerPoint: function (i) { return this._map.latLngToContainerPoint(this.latLng(i)); },

    /** Opens the popup of household i: id, building, categories, last visit, overdue. */
    openPopup: function (i) {
      var P = this._P, H = P.h, T = P.text, cats = P.cats, m = H.c[i], names = [];
      if (!this._ids) this._ids = H.id.split("|");
      for (var b = 0; b < cats.length; b++) if (m & (1 << b)) names.push(cats[b].label);
      var visit = H.v[i] < 0 ? T.map_never_visited : dayText(P.asOf, H.v[i]);
      var rows = [
        "<b>" + esc(T.map_household_id) + "</b> " + esc(this._ids[i]),
        "<b>" + esc(T.map_building) + "</b> " + esc(H.bl[H.b[i]] || "–"),
        "<b>" + esc(T.map_categories) + "</b> " + esc(names.length ? names.join(T.map_list_separator) : T.map_legend_ordinary),
        "<b>" + esc(T.map_last_visit) + "</b> " + esc(visit)
      ];
      if (m & OVERDUE) rows.push('<span class="gm-warn">' + esc(T.map_overdue_visit) + "</span>");
      return C.popup(this._map, this.latLng(i), rows);
    },

    // the Pointer's hit-test and what a hit opens
    _hitAt: function (point) { var i = this.hit(point); return i < 0 ? null : i; },
    _openHit: function (i) { this.openPopup(i); }
  });

  // Which households the view shows: any of the chosen categories, overdue only, in the
  // chosen grids (geo.mapping.HouseholdFilter). null: all of them.
  function filterMask(H, show) {
    if (!show) return null;
    var grids = null, n = H.n, visible = new Uint8Array(n);
    if (show.grids) {
      grids = {};
      show.grids.forEach(function (j) { grids[j] = true; });
      if (show.loose) grids[-1] = true;
    }
    for (var i = 0; i < n; i++) {
      var m = H.c[i];
      if (show.cats && !(m & show.cats)) continue;
      if (show.overdue && !(m & OVERDUE)) continue;
      if (grids && !grids[H.g ? H.g[i] : -1]) continue;
      visible[i] = 1;
    }
    return visible;
  }

  function drawHouseholds(map, P, stats) {
    if (!map.getPane("gmHouseholds")) {
      // above the grid polygons (overlayPane, 400), below labels and report markers (600)
      map.createPane("gmHouseholds").style.zIndex = 450;
    }
    stats.markers = P.h.n;
    return new HouseholdLayer(P, stats);
  }

  // A heat layer scaled to the data: by default leaflet.heat saturates a cell at an
  // intensity of 1, so with a few dozen reports nearly every cell reads red. Here the
  // densest cells of the view (95th percentile) are red and the rest in proportion.
  function scaledHeat(points) {
    var heat = L.heatLayer(points, { radius: 22, blur: 16, maxZoom: 17, minOpacity: 0.3, max: 1e9 });
    var onAdd = heat.onAdd;
    heat.onAdd = function (map) {
      onAdd.call(this, map);
      var simple = this._heat, data = simple.data;
      simple.data = function (cells) {
        var values = cells.map(function (c) { return c[2]; }).sort(function (a, b) { return a - b; });
        var top = values.length ? values[Math.floor(0.95 * (values.length - 1))] : 1;
        simple.max(top > 0 ? top : 1);
        heat._gmMax = top;  // for tests
        return data.call(simple, cells);
      };
      this._redraw();
    };
    return heat;
  }

  function drawReports(map, P, V, stats) {
    var R = V.r, T = P.text;
    stats.reports = R ? R.n : 0;
    if (!R || !R.n) return null;
    if (V.heat && L.heatLayer) {
      var pts = [];
      for (var j = 0; j < R.n; j++) pts.push([R.lat[j], R.lon[j], 1]);
      return scaledHeat(pts);
    }
    var group = L.featureGroup();
    for (var i = 0; i < R.n; i++) {
      var st = R.st[i], pending = st < 2;  // open and overdue stand out; done ones recede
      var marker = L.marker([R.lat[i], R.lon[i]], {
        icon: L.divIcon({
          className: pending ? "gm-report" : "gm-report gm-report-done",
          html: '<span style="background:' + P.reportColours[st] + '"></span>',
          iconSize: pending ? [14, 14] : [10, 10]
        }),
        zIndexOffset: pending ? 1000 : 0,
        keyboard: false
      });
      marker._gm = i;
      group.addLayer(marker);
    }
    group.on("click", function (e) {
      var i = e.layer._gm;
      C.popup(map, e.latlng, [
        "<b>" + esc(T.map_report_id) + "</b> " + esc(R.id[i]),
        esc(R.cat[i]),
        "<b>" + esc(T.map_report_state) + "</b> " + esc(P.reportLabels[R.st[i]]),
        "<b>" + esc(T.map_reported_at) + "</b> " + esc(R.at[i])
      ].concat(R.own && R.own[i] ? ["<b>" + esc(T.map_report_owner) + "</b> " + esc(R.own[i])] : []));
    });
    return group;
  }

  // A legend box in a corner of the map; hidden while it has nothing to say.
  function legendBox(map, position, className, id) {
    var c = L.control({ position: position });
    c.onAdd = function () {
      var div = L.DomUtil.create("div", "gm-legend " + className);
      div.id = id;
      div.style.display = "none";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    c.addTo(map);
    return c.getContainer();
  }

  function setLegend(div, html) {
    div.innerHTML = html || "";
    div.style.display = html ? "" : "none";
  }

  // Fit bounds with the legends kept off them: each corner legend takes its width from one
  // side or its height from the top or bottom, whichever leaves the larger zoom.
  function fitClear(map, bounds, boxes) {
    var size = function (div, corner) {
      if (!div || div.style.display === "none") return null;
      return { w: div.offsetWidth + 10, h: div.offsetHeight + 10, corner: corner };
    };
    var corners = [size(boxes.main, "br"), size(boxes.fill, "bl"), size(boxes.reports, "tr")]
      .filter(function (b) { return b; });
    var best = null;
    for (var choice = 0; choice < (1 << corners.length); choice++) {
      var tl = [12, 12], br = [12, 12];
      corners.forEach(function (b, j) {
        var sideways = choice & (1 << j);
        if (b.corner === "br") { if (sideways) br[0] = Math.max(br[0], b.w); else br[1] = Math.max(br[1], b.h); }
        if (b.corner === "bl") { if (sideways) tl[0] = Math.max(tl[0], b.w); else br[1] = Math.max(br[1], b.h); }
        if (b.corner === "tr") { if (sideways) br[0] = Math.max(br[0], b.w); else tl[1] = Math.max(tl[1], b.h); }
      });
      var zoom = map.getBoundsZoom(bounds, false, L.point(tl[0] + br[0], tl[1] + br[1]));
      if (!best || zoom > best.zoom) best = { zoom: zoom, tl: tl, br: br };
    }
    map.fitBounds(bounds, {
      paddingTopLeft: best ? best.tl : [12, 12],
      paddingBottomRight: best ? best.br : [12, 12],
      animate: false
    });
    return { size: map.getSize(), corners: corners, padding: best, zoom: map.getZoom() };
  }

  // A tooltip near the map's edge is kept inside it: below the pointer in the top row,
  // shifted sideways at the left and right edges (the iframe would cut it off).
  var placeTooltip = L.Tooltip.prototype._setPosition;
  L.Tooltip.prototype._setPosition = function (pos) {
    if (!this._container || !L.DomUtil.hasClass(this._container, "gm-tip") || !this._map) {
      return placeTooltip.call(this, pos);
    }
    var map = this._map, el = this._container, margin = 4;
    this.options.direction = "top";
    placeTooltip.call(this, pos);
    var at = map.layerPointToContainerPoint(L.DomUtil.getPosition(el));
    if (at.y < margin) {
      this.options.direction = "bottom";
      placeTooltip.call(this, pos);
      at = map.layerPointToContainerPoint(L.DomUtil.getPosition(el));
    }
    var width = el.offsetWidth, right = map.getSize().x - margin, dx = 0;
    if (at.x < margin) dx = margin - at.x;
    else if (at.x + width > right) dx = right - at.x - width;
    if (dx) L.DomUtil.setPosition(el, L.DomUtil.getPosition(el).add([dx, 0]));
  };

  // The view of a whole payload (geo.mapping.build_map): what split_payload sends apart.
  function viewOf(P) {
    var features = P.g.features;
    return {
      legend: P.legend, fillLegend: P.fillLegend, reportLegend: P.reportLegend,
      r: P.r, heat: P.heat, show: P.show, focus: P.focus,
      fill: features.map(function (f) { return f.properties.c; }),
      sel: features.filter(function (f) { return f.properties.s; }).map(function (f) { return f.properties.i; }),
      k: features.map(function (f) { return f.properties.k; })
    };
  }

  window.gridmapDraw = function (map, P) {
    var t0 = (window.performance || Date).now();
    var stats = { households: P.h.n, markers: 0, grids: 0, reports: 0, drawMs: 0, pointsShown: false, pointsDrawn: 0, views: 0 };
    window.gridmapStats = stats;
    window.gridmapMap = map;  // for tests and the bench (streamlit-folium also sets window.map)
    map.getContainer().classList.add("gm-map");
    var renderer = L.canvas({ padding: 0.4, tolerance: 3 });
    var g = drawGrids(map, P, renderer, stats);
    var households = drawHouseholds(map, P, stats);
    window.gridmapHouseholds = households;  // for tests: size(), containerPoint(i), hit(point), openPopup(i)
    // buildings (buildings.js): a building's households are drawn by its glyph, not as points
    var buildings = window.gridmapBuildings ? window.gridmapBuildings(map, P, stats, households) : null;
    var inBuilding = buildings ? buildings.linkedMask() : null;
    window.gridmapBuildingLayer = buildings;  // for tests: size(), containerPoint(i), openPopup(i)
    function showHouseholds(visible) {
      if (!buildings) { households.setVisible(visible); return; }
      buildings.setVisible(visible);
      var points = new Uint8Array(P.h.n), shown = 0;
      for (var i = 0; i < points.length; i++) {
        var on = visible ? visible[i] : 1;
        shown += on;
        points[i] = on && !inBuilding[i] ? 1 : 0;
      }
      households.setVisible(points);
      stats.markers = shown;  // households shown, as points or in their building's glyph
    }
    if (buildings) showHouseholds(null);

    L.control.scale({ imperial: false }).addTo(map);
    map.attributionControl.setPrefix("Leaflet");
    var boxes = {
      main: legendBox(map, "bottomright", "gm-legend-main", "gm-legend"),
      fill: legendBox(map, "bottomleft", "gm-legend-fill", "gm-legend-fill"),
      reports: legendBox(map, "topright", "gm-legend-reports", "gm-legend-reports")
    };
    var state = map._gm = { started: false, pending: null, reports: null, focus: null, bounds: null, auto: false };

    // Frame the chosen area clear of the legends; again whenever a legend or the map changes
    // size (web fonts arriving, the iframe's final width), until the user moves the map.
    // the sizes a fit was made for: only a real change (not the observer's first report)
    // refits, so a view that is ready stays where it is
    function sizes() {
      return [map.getContainer(), boxes.main, boxes.fill, boxes.reports]
        .map(function (e) { return e.offsetWidth + "x" + e.offsetHeight; }).join(",");
    }
    function frame() {
      if (!state.bounds) return;
      stats.fit = fitClear(map, state.bounds, boxes);
      state.sizes = sizes();
    }
    var refit = null;
    function refitSoon() {
      if (!state.auto || refit) return;
      refit = L.Util.requestAnimFrame(function () {
        refit = null;
        if (!state.auto || sizes() === state.sizes) return;
        document.documentElement.setAttribute("data-gridmap-ready", "0");
        map.invalidateSize({ pan: false });
        frame();
        markReady();
      });
    }
    ["mousedown", "wheel", "touchstart", "keydown"].forEach(function (type) {
      map.getContainer().addEventListener(type, function () { state.auto = false; }, true);
    });
    if (window.ResizeObserver) {
      var watch = new ResizeObserver(refitSoon);
      watch.observe(map.getContainer());
      watch.observe(boxes.main); watch.observe(boxes.fill); watch.observe(boxes.reports);
    }

    function levelOfDetail() {
      var z = map.getZoom();
      var showPoints = z >= P.pointsMinZoom;
      if (showPoints && !map.hasLayer(households)) map.addLayer(households);
      if (!showPoints && map.hasLayer(households)) map.removeLayer(households);
      if (buildings && showPoints && !map.hasLayer(buildings)) map.addLayer(buildings);
      if (buildings && !showPoints && map.hasLayer(buildings)) map.removeLayer(buildings);
      // counts per grid stand in for the points when zoomed out
      if (!showPoints && !map.hasLayer(g.bubbles)) map.addLayer(g.bubbles);
      if (showPoints && map.hasLayer(g.bubbles)) map.removeLayer(g.bubbles);
      // with several communities, their names come first; grid names one zoom level later
      var several = (P.g.communities || []).length > 1;
      var gridFrom = several ? g.gridLabelZoom + 1 : 0;
      g.labels.forEach(function (l) {
        var show = z >= Math.max(l.minZoom, gridFrom), full = z >= l.fullZoom;
        if (full !== l.full) { l.marker.setIcon(full ? l.fullIcon : l.shortIcon); l.full = full; }
        if (show && !map.hasLayer(l.marker)) map.addLayer(l.marker);
        if (!show && map.hasLayer(l.marker)) map.removeLayer(l.marker);
      });
      // community names while most grid names do not fit
      var communityPhase = several && z < gridFrom;
      g.communityLabels.forEach(function (l) {
        var show = communityPhase && z >= l.minZoom;
        if (show && !map.hasLayer(l.marker)) map.addLayer(l.marker);
        if (!show && map.hasLayer(l.marker)) map.removeLayer(l.marker);
      });
      stats.pointsShown = showPoints;
    }

    // What the page's choices change, applied in place: no reload of the map.
    function apply(V) {
      document.documentElement.setAttribute("data-gridmap-ready", "0");
      styleGrids(g, V);
      showHouseholds(filterMask(P.h, V.show));
      setLegend(boxes.main, V.legend);
      setLegend(boxes.fill, V.fillLegend);
      setLegend(boxes.reports, V.heat ? "" : V.reportLegend);
      if (state.reports) map.removeLayer(state.reports);
      state.reports = drawReports(map, P, V, stats);
      if (state.reports) state.reports.addTo(map);
      // re-frame only when the chosen area changed: a filter keeps the user's view
      var bounds = V.focus || P.bounds, key = JSON.stringify(bounds);
      if (bounds && key !== state.focus) {
        state.focus = key; state.bounds = bounds; state.auto = true;
        frame();
      }
      levelOfDetail();
      stats.views += 1;
      markReady();
    }

    state.view = function (V) { if (state.started) apply(V); else state.pending = V; };
    state.pending = map._gmPending || ("legend" in P ? viewOf(P) : null);

    function start() {
      // folium's fitBounds animates the zoom from zoom_start; a view fitted meanwhile would
      // be undone when that animation ends
      if (map._animatingZoom) { map.once("zoomend", function () { setTimeout(start, 0); }); return; }
      state.started = true;
      map.on("zoomend", levelOfDetail);
      if (state.pending) apply(state.pending); else { levelOfDetail(); markReady(); }
      state.pending = null;
    }

    // "ready" once the canvas has painted the frame holding every layer at the final view
    function markReady() {
      L.Util.requestAnimFrame(function () {
        L.Util.requestAnimFrame(function () {
          // folium's fitBounds after creating the map at zoom_start animates the zoom; a click
          // during that animation misses the polygons, so the map is not ready until it ends
          if (map._animatingZoom) { map.once("moveend", markReady); return; }
          stats.drawMs = Math.round((window.performance || Date).now() - t0);
          document.documentElement.setAttribute("data-gridmap-markers", String(stats.markers));
          document.documentElement.setAttribute("data-gridmap-ready", "1");
        });
      });
    }
    // after the current script: streamlit-folium binds its click handlers to the layers
    // present when the map script ends; households must not be among them
    if (map._loaded) setTimeout(start, 0); else map.whenReady(function () { setTimeout(start, 0); });
  };

  /** Apply a view (geo.mapping.split_payload) to a map drawn by gridmapDraw, now or once drawn. */
  window.gridmapView = function (map, V) {
    if (map._gm) map._gm.view(V); else map._gmPending = V;
  };
})();
