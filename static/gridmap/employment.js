/* gridmap: the new-employment layer (contract section 7) drawn over the grid map.
 *
 * Payload built by geo/employment/layers.py: outlets (a square in their sector's colour
 * with the firm's first character), 红蜂 service stations (a hexagon) with their reach
 * circle, and outlets beyond every open station's reach ringed in dark red. Everything
 * is drawn on one canvas from typed arrays (no Leaflet marker per outlet); clicks are
 * hit-tested here and open a popup without reaching the grid polygon below.
 *
 * All texts come from the payload (the catalogue); data is escaped before it is shown.
 */
(function () {
  "use strict";

  var EARTH = 40075016.686;  // metres around the equator (Web Mercator's scale)
  var HIT = 10;              // a click counts within this many pixels of a symbol's centre
  var GLYPH_ZOOM = 14;       // firm characters inside the squares from this zoom

  // canvaslayer.js: what the canvas layers share (loaded before this file)
  var C = window.gridmapCanvas, esc = C.esc;

  function metresPerPixel(map, lat) {
    return EARTH * Math.cos(lat * Math.PI / 180) / (256 * Math.pow(2, map.getZoom()));
  }

  function hexagon(ctx, x, y, r) {
    ctx.beginPath();
    for (var k = 0; k < 6; k++) {
      var a = Math.PI / 6 + k * Math.PI / 3;
      var px = x + r * Math.cos(a), py = y + r * Math.sin(a);
      if (k === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    }
    ctx.closePath();
  }

  function roundedSquare(ctx, x, y, h, r) {
    ctx.beginPath();
    ctx.moveTo(x - h + r, y - h);
    ctx.arcTo(x + h, y - h, x + h, y + h, r);
    ctx.arcTo(x + h, y + h, x - h, y + h, r);
    ctx.arcTo(x - h, y + h, x - h, y - h, r);
    ctx.arcTo(x - h, y - h, x + h, y - h, r);
    ctx.closePath();
  }

  var EmploymentLayer = L.Layer.extend({
    includes: [C.Pointer],  // hit-testing on the container
    // a class of its own: the households' layer clears gm-over-point whenever no household
    // is under the pointer, on every move
    options: { pane: "gmEmployment", hoverClass: "gm-over-employment" },

    initialize: function (E, stats) {
      this._E = E;
      this._stats = stats;
    },

    // a canvas the size of the view, drawn again when a move or zoom ends (hidden meanwhile)
    onAdd: function () {
      this._addCanvas("gm-employment leaflet-zoom-hide");
      this._redraw();
    },

    onRemove: function () { this._removeCanvas(); },

    getEvents: function () {
      return { viewreset: this._redraw, moveend: this._redraw, zoomend: this._redraw, resize: this._redraw };
    },

    _redraw: function () {
      var map = this._map, canvas = this._canvas, ctx = this._ctx, E = this._E;
      if (!map || !canvas) return;
      var size = map.getSize(), dpr = window.devicePixelRatio || 1;
      var topLeft = map.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(canvas, topLeft);
      canvas.width = Math.round(size.x * dpr);
      canvas.height = Math.round(size.y * dpr);
      canvas.style.width = size.x + "px";
      canvas.style.height = size.y + "px";
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, size.x, size.y);
      var S = E.s, O = E.o, i, p, drawn = { outlets: 0, stations: 0, circles: 0 };
      this._pts = { o: [], s: [] };

      // reach circles first, under everything: open stations solid, planned ones dashed
      for (i = 0; i < S.n; i++) {
        p = map.latLngToContainerPoint([S.lat[i], S.lon[i]]);
        var r = E.reach / metresPerPixel(map, S.lat[i]);
        this._pts.s.push(p);
        if (p.x + r < 0 || p.y + r < 0 || p.x - r > size.x || p.y - r > size.y) continue;
        ctx.beginPath();
        ctx.arc(p.x, p.y, r, 0, 2 * Math.PI);
        ctx.setLineDash(S.open[i] ? [] : [7, 6]);
        ctx.fillStyle = S.open[i] ? "rgba(198, 40, 40, 0.08)" : "rgba(198, 40, 40, 0.03)";
        ctx.fill();
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = "rgba(198, 40, 40, 0.75)";
        ctx.stroke();
        drawn.circles++;
      }
      ctx.setLineDash([]);

      // outlets: beyond every open station's reach first ringed, then the square on top
      var glyphs = map.getZoom() >= GLYPH_ZOOM, half = glyphs ? 9 : 6;
      for (i = 0; i < O.n; i++) {
        p = map.latLngToContainerPoint([O.lat[i], O.lon[i]]);
        this._pts.o.push(p);
        if (p.x < -20 || p.y < -20 || p.x > size.x + 20 || p.y > size.y + 20) continue;
        var firm = E.firms[O.f[i]] || {};
        if (!O.near[i]) {
          ctx.beginPath();
          ctx.arc(p.x, p.y, half + 6, 0, 2 * Math.PI);
          ctx.fillStyle = "rgba(183, 28, 28, 0.18)";
          ctx.fill();
          ctx.lineWidth = 3;
          ctx.strokeStyle = "#7f0000";
          ctx.stroke();
        }
        roundedSquare(ctx, p.x, p.y, half, 3);
        ctx.fillStyle = firm.colour || "#666666";
        ctx.fill();
        ctx.lineWidth = 1.5;
        ctx.strokeStyle = "#ffffff";
        ctx.stroke();
        if (glyphs && firm.glyph) {
          ctx.fillStyle = "#ffffff";
          ctx.font = "bold 12px 'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif";
          ctx.textAlign = "center";
          ctx.textBaseline = "middle";
          ctx.fillText(firm.glyph, p.x, p.y + 0.5);
        }
        drawn.outlets++;
      }

      // stations on top: a red hexagon (hollow while still being built)
      for (i = 0; i < S.n; i++) {
        p = this._pts.s[i];
        if (p.x < -20 || p.y < -20 || p.x > size.x + 20 || p.y > size.y + 20) continue;
        hexagon(ctx, p.x, p.y, 11);
        ctx.fillStyle = S.open[i] ? "#c62828" : "#ffffff";
        ctx.fill();
        ctx.lineWidth = 2.5;
        ctx.setLineDash(S.open[i] ? [] : [3, 2]);
        ctx.strokeStyle = S.open[i] ? "#ffffff" : "#c62828";
        ctx.stroke();
        ctx.setLineDash([]);
        hexagon(ctx, p.x, p.y, 13);
        ctx.lineWidth = 1;
        ctx.strokeStyle = "#7f0000";
        ctx.stroke();
        drawn.stations++;
      }
      this._stats.outletsDrawn = drawn.outlets;
      this._stats.stationsDrawn = drawn.stations;
      this._stats.circlesDrawn = drawn.circles;
    },

    /** {kind: "o"|"s", i} of the symbol nearest a container point (stations win), or null. */
    hit: function (point) {
      if (!this._pts) return null;
      var best = null, bestD = HIT * HIT, kinds = ["s", "o"];
      for (var k = 0; k < kinds.length; k++) {
        var pts = this._pts[kinds[k]];
        for (var i = 0; i < pts.length; i++) {
          var dx = pts[i].x - point.x, dy = pts[i].y - point.y, d = dx * dx + dy * dy;
          if (d <= bestD) { best = { kind: kinds[k], i: i }; bestD = d; }
        }
        if (best) return best;
      }
      return best;
    },

    openPopup: function (h) {
      var E = this._E, T = E.text, rows;
      if (h.kind === "o") {
        var O = E.o, firm = E.firms[O.f[h.i]] || {};
        var distance = O.d[h.i] < 0 ? T.emp_map_no_station : (O.d[h.i] / 1000).toFixed(2) + " km";
        rows = [
          "<b>" + esc(O.name[h.i] || O.id[h.i]) + "</b>",
          esc(T.emp_map_firm) + ": " + esc(firm.name || "") + " (" + esc(firm.sectorLabel || "") + ")",
          esc(T.emp_map_party_org) + ": " + esc(O.org[h.i] ? T.emp_map_yes : T.emp_map_no),
          esc(T.emp_map_nearest) + ": " + esc(distance),
          esc(T.emp_map_workers) + ": " + esc(O.w[h.i])
        ];
        if (!O.near[h.i]) rows.push('<span class="gm-warn">' + esc(T.emp_map_beyond) + "</span>");
        return C.popup(this._map, [O.lat[h.i], O.lon[h.i]], rows);
      }
      var S = E.s;
      rows = [
        "<b>" + esc(S.name[h.i] || S.id[h.i]) + "</b>",
        esc(T.emp_map_host) + ": " + esc(S.host[h.i] || "–"),
        esc(T.emp_map_services) + ": " + esc(S.services[h.i] || "–"),
        S.open[h.i]
          ? esc(T.emp_map_opened) + ": " + esc(S.opened[h.i] || "–")
          : '<span class="gm-warn">' + esc(T.emp_map_planned) + " " + esc(S.opened[h.i] || "") + "</span>"
      ];
      return C.popup(this._map, [S.lat[h.i], S.lon[h.i]], rows);
    },

    // the Pointer's hit-test and what a hit opens
    _hitAt: function (point) { return this.hit(point); },
    _openHit: function (h) { this.openPopup(h); }
  });

  window.gridmapEmploymentDraw = function (map, E) {
    var stats = {
      outlets: E.o.n, stations: E.s.n, beyond: 0, outletsDrawn: 0, stationsDrawn: 0, circlesDrawn: 0
    };
    for (var i = 0; i < E.o.n; i++) if (!E.o.near[i]) stats.beyond++;
    window.gridmapEmploymentStats = stats;
    if (!map.getPane("gmEmployment")) {
      // above the grid polygons and household points (450), below labels and report markers (600)
      map.createPane("gmEmployment").style.zIndex = 460;
    }
    var layer = new EmploymentLayer(E, stats);
    window.gridmapEmployment = layer;  // for tests: hit(point), openPopup(h)
    if (E.legend) {
      var c = L.control({ position: "bottomright" });
      c.onAdd = function () {
        var div = L.DomUtil.create("div", "gm-legend gm-legend-employment");
        div.id = "gm-legend-employment";
        div.innerHTML = E.legend;
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      };
      c.addTo(map);
    }
    function start() {
      layer.addTo(map);
      L.Util.requestAnimFrame(function () {
        if (map._animatingZoom) { map.once("moveend", function () { layer._redraw(); mark(); }); return; }
        layer._redraw();
        mark();
      });
    }
    function mark() {
      document.documentElement.setAttribute(
        "data-gridmap-employment", stats.outletsDrawn + "/" + stats.outlets + " " + stats.stationsDrawn + "/" + stats.stations
      );
    }
    if (map._loaded) setTimeout(start, 0); else map.whenReady(function () { setTimeout(start, 0); });
  };
})();
