/* gridmap: building glyphs (the third level under community and grid) on the rainbow map.
 *
 * Every household of a building shares the building's coordinate, so its points would stack
 * on one spot and hide each other's colours. Instead each building is one glyph: a ring of
 * the seven category colours by count (the number of cared-for households in its middle),
 * a red mark when any of its households is overdue (needs a visit today), and a small flag
 * when the building has a party group. Zoomed further, each building is drawn as its
 * unit x floor grid of households; a click on a building opens that grid in a popup, with
 * the door numbers, each household in its colours and the overdue ones marked.
 *
 * Drawn by ONE canvas layer (BuildingLayer), like the households: no Leaflet marker per
 * building, hit-testing of its own. The payload (geo/buildings/glyph.py) holds ids,
 * categories (through the households' payload) and places only; the counts are computed
 * here from the households' category bitmask, so the map's category filter filters the
 * glyphs too. Every text comes from the payload's catalogue strings (P.text).
 */
(function () {
  "use strict";

  var OVERDUE = 128;
  var MAX_CATEGORIES = 7;
  var HIT_SLACK = 4;        // a click counts within the glyph's radius + this many pixels
  var FOOTPRINT_ZOOM = 16;  // footprints drawn from this zoom
  var LABEL_ZOOM = 17;      // building names from this zoom
  var GRID_ZOOM = 19.5;     // unit x floor grids instead of rings from this zoom (a grid
                            // fills the map at about 18 on a phone, 19 on a desktop)
  var DEEP_CELL = 8;        // a household's cell in a unit x floor grid drawn on the map, px
  var OVERDUE_RED = "#c0392b";
  var PARTY_RED = "#d7000f";

  // canvaslayer.js: what the canvas layers share (loaded before this file)
  var C = window.gridmapCanvas, esc = C.esc, dayText = C.dayText;

  // a catalogue string with {name} placeholders filled in (values are escaped)
  function fmt(template, values) {
    return esc(template || "").replace(/\{(\w+)\}/g, function (m, k) {
      return k in values ? esc(values[k]) : m;
    });
  }

  function radiusAt(zoom) {
    return Math.max(5, Math.min(16, 5 + (zoom - 15) * 3));
  }

  // The payload decoded once: places, footprints, and each building's households.
  function decode(B, H) {
    var n = B.n, i, k;
    var lat = new Float64Array(n), lng = new Float64Array(n);
    for (i = 0; i < n; i++) {
      lat[i] = B.y0 + B.y[i] * B.s;
      lng[i] = B.x0 + B.x[i] * B.s;
    }
    var start = Int32Array.from(B.o);
    var members = new Int32Array(B.m.length);
    var buildingOf = new Int32Array(H.n).fill(-1);
    for (i = 0; i < n; i++) {
      var index = 0;
      for (k = start[i]; k < start[i + 1]; k++) {
        index = k === start[i] ? B.m[k] : index + B.m[k];
        members[k] = index;
        buildingOf[index] = i;
      }
    }
    var rings = B.fp.map(function (ring, b) {
      if (!ring || !ring.length) return null;
      var out = [];
      for (var j = 0; j + 1 < ring.length; j += 2) {
        out.push([lat[b] + ring[j + 1] * B.s, lng[b] + ring[j] * B.s]);
      }
      return out;
    });
    return { n: n, lat: lat, lng: lng, start: start, members: members, buildingOf: buildingOf, rings: rings };
  }

  var BuildingLayer = L.Layer.extend({
    includes: [C.Pointer, C.Frame],  // hit-testing on the container; the padded canvas
    options: { pane: "gmBuildings", hoverClass: "gm-over-building" },

    initialize: function (P, stats, households) {
      this._P = P;
      this._B = P.bd;
      this._stats = stats || {};
      this._households = households || null;
      this._d = decode(P.bd, P.h);
      this._visible = null;  // the households' filter (null: every household)
      this._ids = null;      // the households' ids, split when a popup first needs them
      this._count();
      this._stats.buildings = this._d.n;
    },

    // counts per building of the households let through by the filter: per category bit,
    // ordinary, overdue, and all (flat arrays, MAX_CATEGORIES + 3 per building)
    _count: function () {
      var d = this._d, H = this._P.h, n = d.n, W = MAX_CATEGORIES + 3;
      var counts = new Int32Array(n * W), visible = this._visible;
      for (var b = 0; b < n; b++) {
        for (var k = d.start[b]; k < d.start[b + 1]; k++) {
          var i = d.members[k];
          if (visible && !visible[i]) continue;
          var m = H.c[i], base = b * W;
          for (var bit = 0; bit < MAX_CATEGORIES; bit++) if (m & (1 << bit)) counts[base + bit]++;
          if (!(m & (OVERDUE - 1))) counts[base + MAX_CATEGORIES]++;
          if (m & OVERDUE) counts[base + MAX_CATEGORIES + 1]++;
          counts[base + MAX_CATEGORIES + 2]++;
        }
      }
      this._counts = counts;
    },

    /** What building i's glyph shows: {households, cats[7], ordinary, overdue, caredFor}. */
    counts: function (i) {
      var W = MAX_CATEGORIES + 3, base = i * W, c = this._counts;
      var cats = Array.prototype.slice.call(c.subarray(base, base + MAX_CATEGORIES));
      var all = c[base + MAX_CATEGORIES + 2], ordinary = c[base + MAX_CATEGORIES];
      return { households: all, cats: cats, ordinary: ordinary, overdue: c[base + MAX_CATEGORIES + 1], caredFor: all - ordinary };
    },

    /** 1 for each household drawn by a building glyph (the households' layer leaves them out). */
    linkedMask: function () {
      var out = new Uint8Array(this._P.h.n), of = this._d.buildingOf;
      for (var i = 0; i < out.length; i++) out[i] = of[i] >= 0 ? 1 : 0;
      return out;
    },

    /** Follow the households' filter (a Uint8Array of the households drawn, or null). */
    setVisible: function (visible) {
      this._visible = visible;
      this._count();
      if (this._map) this._redraw();
    },

    size: function () { return this._d.n; },
    id: function (i) { return this._B.id[i]; },
    latLng: function (i) { return L.latLng(this._d.lat[i], this._d.lng[i]); },
    containerPoint: function (i) { return this._map.latLngToContainerPoint(this.latLng(i)); },

    onAdd: function () {
      this._addCanvas("gm-buildings " + this._zoomClass());
      this._redraw();
    },

    onRemove: function () {
      this._cancelFrame();
      this._removeCanvas();
      this._center = this._drawn = null;
      this._stats.buildingsDrawn = 0;
    },

    // each building's unit x floor layout: columns per unit (its largest door number),
    // floors; households whose unit or floor is not known are left for the list below
    _layout: function (b) {
      var B = this._B, d = this._d, units = B.u[b] || 0, floors = B.f[b] || 0, doors = [];
      for (var k = d.start[b]; k < d.start[b + 1]; k++) {
        var u = B.mu[k], f = B.mf[k];
        if (u > units) units = u;
        if (f > floors) floors = f;
        if (u > 0) doors[u] = Math.max(doors[u] || 1, B.md[k] || 1);
      }
      var columns = [], first = [];
      for (var unit = 1; unit <= units; unit++) {
        first[unit] = columns.length;
        for (var door = 1; door <= (doors[unit] || (B.u[b] ? 2 : 1)); door++) columns.push([unit, door]);
      }
      return { units: units, floors: floors, columns: columns, first: first, doors: doors };
    },

    _redraw: function () {
      var map = this._map, canvas = this._canvas, ctx = this._ctx;
      if (!map || !canvas || map._animatingZoom) return;
      var t0 = (window.performance || Date).now();
      var placed = this._placeCanvas(), w = placed.w, h = placed.h, dpr = placed.dpr, min = this._min;
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, w, h);
      var d = this._d, zoom = this._zoom, r = radiusAt(zoom), deep = zoom >= GRID_ZOOM;
      var toLayer = function (lat, lng) {
        var p = map.latLngToLayerPoint([lat, lng]);
        return [p.x - min.x, p.y - min.y];
      };
      var drawn = [], margin = deep ? 200 : r + 20;
      // footprints first, under every glyph
      if (zoom >= FOOTPRINT_ZOOM) {
        ctx.fillStyle = "rgba(207, 196, 178, 0.85)";
        ctx.strokeStyle = "#7d7362";
        ctx.lineWidth = 1;
        for (var f = 0; f < d.n; f++) {
          var ring = d.rings[f];
          if (!ring || !this._shown(f)) continue;
          ctx.beginPath();
          for (var v = 0; v < ring.length; v++) {
            var q = toLayer(ring[v][0], ring[v][1]);
            if (v) ctx.lineTo(q[0], q[1]); else ctx.moveTo(q[0], q[1]);
          }
          ctx.closePath();
          ctx.fill();
          ctx.stroke();
        }
      }
      for (var b = 0; b < d.n; b++) {
        if (!this._shown(b)) continue;
        var p = toLayer(d.lat[b], d.lng[b]);
        if (p[0] < -margin || p[1] < -margin || p[0] > w + margin || p[1] > h + margin) continue;
        var box = deep ? this._drawGrid(ctx, b, p[0], p[1]) : this._drawRing(ctx, b, p[0], p[1], r);
        drawn.push({ b: b, x: p[0], y: p[1], box: box });
        if (zoom >= LABEL_ZOOM) this._drawLabel(ctx, b, p[0], box[3] + 2);
      }
      this._drawn = drawn;
      this._stats.buildingsDrawn = drawn.length;
      this._stats.buildingsMs = Math.round((window.performance || Date).now() - t0);
    },

    // drawn: a building with households let through by the filter; with no filter, also a
    // building with no household recorded (a grey glyph: it exists, nobody is registered)
    _shown: function (b) {
      if (this._counts[b * (MAX_CATEGORIES + 3) + MAX_CATEGORIES + 2] > 0) return true;
      return !this._visible && this._d.start[b + 1] === this._d.start[b];
    },

    // the ring: the seven colours by count, clockwise from the top; grey when no household is
    // cared for; the cared-for count inside; returns its box [x0, y0, x1, y1]
    _drawRing: function (ctx, b, x, y, r) {
      var P = this._P, c = this.counts(b), total = 0, i;
      for (i = 0; i < MAX_CATEGORIES; i++) total += c.cats[i];
      var inner = r * 0.55;
      ctx.beginPath();
      ctx.arc(x, y, r + 1.5, 0, 2 * Math.PI);
      ctx.fillStyle = "#ffffff";
      ctx.fill();
      if (!total) {
        ctx.beginPath();
        ctx.arc(x, y, r * 0.7, 0, 2 * Math.PI);
        ctx.fillStyle = P.ordinary;
        ctx.fill();
      } else {
        var angle = -Math.PI / 2;
        for (i = 0; i < MAX_CATEGORIES; i++) {
          if (!c.cats[i]) continue;
          var sweep = 2 * Math.PI * c.cats[i] / total;
          ctx.beginPath();
          ctx.arc(x, y, r, angle, angle + sweep);
          ctx.arc(x, y, inner, angle + sweep, angle, true);
          ctx.closePath();
          ctx.fillStyle = (P.cats[i] || {}).hex || P.ordinary;
          ctx.fill();
          angle += sweep;
        }
        if (r >= 11) {
          ctx.fillStyle = "#1f2d3d";
          ctx.font = "bold " + Math.round(inner * 1.3) + "px sans-serif";
          ctx.textAlign = "center";
          ctx.textBaseline = "middle";
          ctx.fillText(String(c.caredFor), x, y + 0.5);
        }
      }
      if (c.overdue) this._drawOverdue(ctx, x + r * 0.78, y - r * 0.78, Math.max(3, r * 0.42));
      if (this._B.pg[b] && r >= 7) this._drawFlag(ctx, x - r * 0.9, y - r * 0.35, r * 0.8);
      return [x - r - 2, y - r - 2, x + r + 2, y + r + 2];
    },

    _drawOverdue: function (ctx, x, y, s) {
      ctx.beginPath();
      ctx.arc(x, y, s, 0, 2 * Math.PI);
      ctx.fillStyle = OVERDUE_RED;
      ctx.fill();
      ctx.lineWidth = 1.2;
      ctx.strokeStyle = "#ffffff";
      ctx.stroke();
      if (s >= 4) {
        ctx.fillStyle = "#ffffff";
        ctx.font = "bold " + Math.round(s * 1.6) + "px sans-serif";
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.fillText("!", x, y + 0.5);
      }
    },

    // a small red flag: the building has a party group
    _drawFlag: function (ctx, x, y, s) {
      ctx.strokeStyle = "#5d4037";
      ctx.lineWidth = 1.2;
      ctx.beginPath();
      ctx.moveTo(x, y + s * 0.2);
      ctx.lineTo(x, y - s);
      ctx.stroke();
      ctx.beginPath();
      ctx.moveTo(x, y - s);
      ctx.lineTo(x - s * 0.9, y - s * 0.72);
      ctx.lineTo(x, y - s * 0.44);
      ctx.closePath();
      ctx.fillStyle = PARTY_RED;
      ctx.fill();
    },

    // zoomed in: the unit x floor grid of households, top floor on top, on the building
    _drawGrid: function (ctx, b, x, y) {
      var P = this._P, H = P.h, B = this._B, d = this._d, lay = this._layout(b), visible = this._visible;
      var cell = Math.round(DEEP_CELL + Math.max(0, this._zoom - GRID_ZOOM) * 8), gap = 2;
      var cols = lay.columns.length || 1, rows = lay.floors || 1;
      var width = cols * cell + Math.max(0, lay.units - 1) * gap, height = rows * cell;
      var x0 = Math.round(x - width / 2), y0 = Math.round(y - height / 2);
      ctx.fillStyle = "#ffffff";
      ctx.fillRect(x0 - 2, y0 - 2, width + 4, height + 4);
      ctx.strokeStyle = "#5f6b77";
      ctx.lineWidth = 1;
      ctx.strokeRect(x0 - 2.5, y0 - 2.5, width + 5, height + 5);
      // every flat of the building, then the households in theirs (an empty one stays pale)
      ctx.fillStyle = "#f1f1f1";
      for (var c = 0; c < lay.columns.length; c++) {
        var ex = x0 + c * cell + (lay.columns[c][0] - 1) * gap;
        for (var r = 0; r < rows; r++) ctx.fillRect(ex + 0.5, y0 + r * cell + 0.5, cell - 1, cell - 1);
      }
      var overdue = false;
      for (var k = d.start[b]; k < d.start[b + 1]; k++) {
        var i = d.members[k], u = B.mu[k], f = B.mf[k];
        if (!u || !f || (visible && !visible[i])) continue;
        var col = lay.first[u] + (B.md[k] || 1) - 1, m = H.c[i];
        var cx = x0 + col * cell + (u - 1) * gap, cy = y0 + (rows - f) * cell;
        ctx.fillStyle = this._fill(m);
        ctx.fillRect(cx + 0.5, cy + 0.5, cell - 1, cell - 1);
        if (m & OVERDUE) {
          overdue = true;
          ctx.strokeStyle = "#111111";
          ctx.lineWidth = 1.5;
          ctx.strokeRect(cx + 1, cy + 1, cell - 2, cell - 2);
        }
      }
      if (overdue) this._drawOverdue(ctx, x0 + width + 2, y0 - 2, 5);
      if (B.pg[b]) this._drawFlag(ctx, x0 - 2, y0 - 3, 9);
      return [x0 - 3, y0 - 3, x0 + width + 3, y0 + height + 3];
    },

    _fill: function (mask) {
      var P = this._P;
      for (var bit = 0; bit < MAX_CATEGORIES; bit++) if (mask & (1 << bit)) return (P.cats[bit] || {}).hex;
      return "#c9c9c9";
    },

    _drawLabel: function (ctx, b, x, y) {
      ctx.font = "bold 12px sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "top";
      ctx.lineWidth = 3;
      ctx.strokeStyle = "#ffffff";
      ctx.strokeText(this._B.nm[b], x, y);
      ctx.fillStyle = "#1f2d3d";
      ctx.fillText(this._B.nm[b], x, y);
    },

    /** Index of the building drawn under a container point, or -1. */
    hit: function (point) {
      if (!this._map || !this._canvas || this._map._animatingZoom) return -1;
      this._flush();
      if (!this._drawn) return -1;
      var lp = this._map.containerPointToLayerPoint(point);
      var x = lp.x - this._min.x, y = lp.y - this._min.y, best = -1, bestD = Infinity;
      for (var j = this._drawn.length - 1; j >= 0; j--) {
        var g = this._drawn[j], box = g.box;
        if (x < box[0] - HIT_SLACK || x > box[2] + HIT_SLACK || y < box[1] - HIT_SLACK || y > box[3] + HIT_SLACK) continue;
        var dx = g.x - x, dy = g.y - y, dist = dx * dx + dy * dy;
        if (dist < bestD) { best = g.b; bestD = dist; }
      }
      return best;
    },

    /** Opens the popup of building i: its figures and its unit x floor grid of households. */
    openPopup: function (i) {
      var map = this._map;
      var popup = L.popup({
        className: "gm-popup gm-bld-popup",
        maxWidth: Math.min(420, map.getSize().x - 40),
        minWidth: 180,
        maxHeight: Math.max(200, map.getSize().y - 90),
        autoPanPadding: [10, 10]
      }).setLatLng(this.latLng(i)).setContent(this._popupHtml(i));
      // while it is open the legends are hidden (buildings.css): they would cover its grid
      var box = map.getContainer();
      popup.on("add", function () { L.DomUtil.addClass(box, "gm-bld-open"); });
      popup.on("remove", function () { L.DomUtil.removeClass(box, "gm-bld-open"); });
      popup.openOn(map);
      var self = this, root = popup.getElement();
      if (root) {
        L.DomEvent.on(root, "click", function (e) {
          var t = e.target.closest ? e.target.closest("[data-i]") : null;
          if (!t) return;
          var previous = root.querySelector(".gm-flat-picked");
          if (previous) L.DomUtil.removeClass(previous, "gm-flat-picked");
          L.DomUtil.addClass(t, "gm-flat-picked");
          root.querySelector(".gm-bld-detail").innerHTML = self._householdHtml(+t.getAttribute("data-i"), +t.getAttribute("data-k"));
        });
      }
      return popup;
    },

    _catNames: function (mask) {
      var names = [], cats = this._P.cats;
      for (var b = 0; b < cats.length; b++) if (mask & (1 << b)) names.push(cats[b].label);
      return names;
    },

    _place: function (k) {
      var B = this._B, T = this._P.text, u = B.mu[k], f = B.mf[k], door = B.md[k];
      if (u && f && door) return fmt(T.bld_room, { unit: u, room: f * 100 + door });
      if (u && f) return fmt(T.bld_unit_floor, { unit: u, floor: f });
      if (u) return fmt(T.bld_unit, { n: u });
      return esc(T.bld_place_unknown);
    },

    _householdHtml: function (i, k) {
      var P = this._P, H = P.h, T = P.text, m = H.c[i], names = this._catNames(m);
      if (!this._ids) this._ids = H.id.split("|");
      var visit = H.v[i] < 0 ? T.map_never_visited : dayText(P.asOf, H.v[i]);
      var rows = [
        "<b>" + esc(T.map_household_id) + "</b> " + esc(this._ids[i]) + " · " + this._place(k),
        "<b>" + esc(T.map_categories) + "</b> " + esc(names.length ? names.join(T.map_list_separator) : T.map_legend_ordinary),
        "<b>" + esc(T.map_last_visit) + "</b> " + esc(visit)
      ];
      if (m & OVERDUE) rows.push('<span class="gm-warn">' + esc(T.map_overdue_visit) + "</span>");
      return rows.join("<br>");
    },

    // one household as a cell: its first category's colour, a ring of its second, a dark
    // frame and a mark when overdue, its room number
    _flat: function (i, k, label) {
      var P = this._P, m = P.h.c[i], first = -1, second = -1;
      for (var bit = 0; bit < MAX_CATEGORIES; bit++) {
        if (m & (1 << bit)) { if (first < 0) first = bit; else if (second < 0) second = bit; }
      }
      var style = first >= 0 ? "background:" + P.cats[first].hex + ";" : "";
      if (second >= 0) style += "box-shadow:inset 0 0 0 3px " + P.cats[second].hex + ";";
      var cls = "gm-flat" + (first >= 0 ? " gm-flat-care" : "") + (m & OVERDUE ? " gm-flat-due" : "");
      return '<span class="' + cls + '" data-i="' + i + '" data-k="' + k + '" style="' + style + '">' + esc(label) + "</span>";
    },

    _popupHtml: function (b) {
      var P = this._P, B = this._B, T = P.text, d = this._d, c = this.counts(b), lay = this._layout(b);
      var visible = this._visible, html = [];
      html.push('<div class="gm-bld" data-building="' + esc(B.id[b]) + '">');
      html.push('<div class="gm-bld-head"><b>' + esc(B.nm[b]) + "</b>" +
        (B.pg[b] ? '<span class="gm-bld-pg">' + esc(T.bld_party_group) + "</span>"
          : '<span class="gm-bld-pg gm-bld-pg-none">' + esc(T.bld_no_party_group) + "</span>") + "</div>");
      var summary = fmt(T.bld_households, { n: c.households }) + " · " + fmt(T.bld_cared_for, { n: c.caredFor });
      if (c.overdue) summary += ' · <span class="gm-warn">' + fmt(T.bld_visit_today, { n: c.overdue }) + "</span>";
      html.push('<div class="gm-bld-sum">' + summary + "</div>");
      var chips = [];
      for (var bit = 0; bit < P.cats.length && bit < MAX_CATEGORIES; bit++) {
        if (!c.cats[bit]) continue;
        chips.push('<span class="gm-bld-chip" data-code="' + esc(P.cats[bit].code) + '" data-count="' + c.cats[bit] + '">' +
          '<span class="gm-swatch" style="background:' + P.cats[bit].hex + '"></span>' + esc(P.cats[bit].label) + " <b>" + c.cats[bit] + "</b></span>");
      }
      if (chips.length) html.push('<div class="gm-bld-cats">' + chips.join("") + "</div>");
      // the doors to knock on today, each a link to its household
      var due = [];
      for (var kd = d.start[b]; kd < d.start[b + 1]; kd++) {
        var id_ = d.members[kd];
        if ((visible && !visible[id_]) || !(P.h.c[id_] & OVERDUE)) continue;
        due.push('<a class="gm-bld-door" data-i="' + id_ + '" data-k="' + kd + '">' + this._place(kd) + "</a>");
      }
      if (due.length) html.push('<div class="gm-bld-due">' + esc(T.bld_due_doors) + due.join(esc(T.map_list_separator)) + "</div>");

      // the grid: a row per floor (top floor first), a column per door of each unit
      var cells = {}, loose = [];
      for (var k = d.start[b]; k < d.start[b + 1]; k++) {
        var i = d.members[k];
        if (visible && !visible[i]) continue;
        var u = B.mu[k], f = B.mf[k];
        if (u && f) {
          var key = f + "|" + (lay.first[u] + (B.md[k] || 1) - 1);
          (cells[key] = cells[key] || []).push([i, k]);
        } else {
          loose.push([i, k]);
        }
      }
      if (lay.floors && lay.columns.length) {
        html.push('<div class="gm-bld-scroll"><table class="gm-bld-grid"><thead><tr><th></th>');
        for (var unit = 1; unit <= lay.units; unit++) {
          var span = lay.columns.filter(function (col) { return col[0] === unit; }).length;
          html.push('<th colspan="' + span + '" class="gm-bld-unit">' + fmt(T.bld_unit, { n: unit }) + "</th>");
        }
        html.push("</tr></thead><tbody>");
        for (var floor = lay.floors; floor >= 1; floor--) {
          html.push('<tr data-floor="' + floor + '"><th class="gm-bld-floor">' + fmt(T.bld_floor, { n: floor }) + "</th>");
          for (var col = 0; col < lay.columns.length; col++) {
            var unitStart = col === lay.first[lay.columns[col][0]] && col > 0;
            var here = cells[floor + "|" + col] || [];
            var room = floor * 100 + lay.columns[col][1];
            html.push('<td class="' + (unitStart ? "gm-bld-gap" : "") + '">' +
              (here.length ? here.map(function (h) { return this._flat(h[0], h[1], String(room)); }, this).join("")
                : '<span class="gm-flat gm-flat-empty"></span>') + "</td>");
          }
          html.push("</tr>");
        }
        html.push("</tbody></table></div>");
      }
      if (loose.length) {
        html.push('<div class="gm-bld-loose"><span>' + esc(T.bld_place_unknown) + "</span>" +
          loose.map(function (h) { return this._flat(h[0], h[1], ""); }, this).join("") + "</div>");
      }
      if (!c.households) html.push('<div class="gm-bld-empty">' + esc(T.bld_no_households) + "</div>");
      html.push('<div class="gm-bld-detail">' + esc(T.bld_pick_household) + "</div></div>");
      return html.join("");
    },

    // the Pointer's hit-test (a household point drawn there, one without a building, answers
    // a click itself) and what a hit opens
    _hitAt: function (point) { var b = this.hit(point); return b < 0 ? null : b; },
    _yields: function (point) {
      return !!this._households && this._map.hasLayer(this._households) && this._households.hit(point) >= 0;
    },
    _openHit: function (b) { this.openPopup(b); }
  });

  /**
   * The building layer of a payload (null when it has no buildings): draws P.bd over the
   * households' layer; ``households`` (that layer) keeps a click on a point its own.
   */
  window.gridmapBuildings = function (map, P, stats, households) {
    if (!P.bd || !P.bd.n) return null;
    if (!map.getPane("gmBuildings")) {
      // above the households (450), below labels and report markers (600)
      map.createPane("gmBuildings").style.zIndex = 455;
    }
    return new BuildingLayer(P, stats, households);
  };
})();
