/* gridmap: draws the rainbow-map payload built by geo/mapping.py on a Leaflet map.
 *
 * Households are canvas circle markers whose colours are looked up here from the
 * category bitmask (bit i = i-th category, bit 7 = visit overdue): no per-feature
 * style function, no per-marker data beyond id, building, categories and last visit.
 * Household markers live in a layer group that is added after streamlit-folium has
 * bound its click handlers, so clicking a household opens a popup and never reruns
 * the page; clicking a grid polygon reports the polygon's tooltip (drill-down).
 */
(function () {
  "use strict";

  var OVERDUE = 128;

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function dayText(asOf, daysBefore) {
    var p = asOf.split("-");
    var t = Date.UTC(+p[0], +p[1] - 1, +p[2]) - daysBefore * 86400000;
    return new Date(t).toISOString().slice(0, 10);
  }

  function control(map, position, className, html, id) {
    if (!html) return null;
    var c = L.control({ position: position });
    c.onAdd = function () {
      var div = L.DomUtil.create("div", "gm-legend " + className);
      if (id) div.id = id;
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    c.addTo(map);
    return c;
  }

  function labelMinZoom(map, bounds, text) {
    // the zoom from which the label fits inside its grid's width
    var w0 = map.project(bounds.getNorthEast(), 0).x - map.project(bounds.getSouthWest(), 0).x;
    var need = text.length * 14 + 12;
    return w0 > 0 ? Math.ceil(Math.log(need / w0) / Math.LN2) : 99;
  }

  function drawGrids(map, P, renderer, stats) {
    var labels = [];
    var bubbles = L.layerGroup();
    var communityLabels = L.layerGroup();
    var grids = L.geoJSON(P.g, {
      renderer: renderer,
      style: function (f) {
        var p = f.properties;
        return {
          color: p.s ? "#1f2d3d" : "#455a64",
          weight: p.s ? 3.5 : 1.6,
          opacity: 0.9,
          fillColor: p.c || "#ffffff",
          fillOpacity: p.c ? 0.5 : 0.08
        };
      },
      onEachFeature: function (f, layer) {
        var p = f.properties;
        layer.bindTooltip(p.t, { sticky: true, direction: "top", className: "gm-tip" });
        var shortIcon = L.divIcon({ className: "gm-label", html: "<span>" + esc(p.n) + "</span>", iconSize: null });
        var fullIcon = L.divIcon({ className: "gm-label", html: "<span>" + esc(p.fn || p.n) + "</span>", iconSize: null });
        labels.push({
          marker: L.marker([p.ly, p.lx], { icon: shortIcon, interactive: false, keyboard: false }),
          shortIcon: shortIcon, fullIcon: fullIcon, full: false,
          minZoom: labelMinZoom(map, layer.getBounds(), p.n),
          fullZoom: labelMinZoom(map, layer.getBounds(), p.fn || p.n)
        });
        if (p.k !== null && p.k !== undefined) {
          bubbles.addLayer(L.marker([p.ly, p.lx], {
            icon: L.divIcon({ className: "gm-bubble", html: "<span>" + p.k + "</span>", iconSize: null }),
            interactive: false, keyboard: false
          }));
        }
        stats.grids += 1;
      }
    });
    grids.addTo(map);
    var outlines = L.layerGroup();
    (P.g.communities || []).forEach(function (c) {
      outlines.addLayer(L.geoJSON(c.b, {
        renderer: renderer, interactive: false,
        style: { color: "#7b1f1f", weight: 3, opacity: 0.75, dashArray: "8 5", fill: false }
      }));
      communityLabels.addLayer(L.marker([c.ly, c.lx], {
        icon: L.divIcon({ className: "gm-label gm-community-label", html: "<span>" + esc(c.n) + "</span>", iconSize: null }),
        interactive: false, keyboard: false
      }));
    });
    if ((P.g.communities || []).length > 1) outlines.addTo(map);
    var zooms = labels.map(function (l) { return l.minZoom; }).sort(function (a, b) { return a - b; });
    var gridLabelZoom = zooms.length ? zooms[Math.floor(zooms.length / 2)] : 0;
    return { grids: grids, labels: labels, bubbles: bubbles, communityLabels: communityLabels, gridLabelZoom: gridLabelZoom };
  }

  function drawHouseholds(map, P, renderer, stats) {
    var H = P.h, cats = P.cats, T = P.text;
    var group = L.featureGroup();
    var ids = H.n ? H.id.split("|") : [];
    for (var i = 0; i < H.n; i++) {
      var m = H.c[i], first = -1, second = -1;
      for (var b = 0; b < cats.length; b++) {
        if (m & (1 << b)) {
          if (first < 0) first = b; else if (second < 0) second = b;
        }
      }
      var overdue = (m & OVERDUE) !== 0;
      var stroke = "#ffffff", weight = 1;
      if (second >= 0) { stroke = cats[second].hex; weight = 3; }
      else if (overdue) { stroke = "#111111"; weight = 2; }
      var marker = L.circleMarker([H.y0 + H.y[i] * H.s, H.x0 + H.x[i] * H.s], {
        renderer: renderer,
        radius: first >= 0 ? (second >= 0 ? 5 : 4.5) : 3,
        color: stroke, weight: weight, opacity: 1,
        fillColor: first >= 0 ? cats[first].hex : P.ordinary, fillOpacity: 0.95
      });
      marker._gm = i;
      group.addLayer(marker);
    }
    stats.markers = H.n;
    group.on("click", function (e) {
      var i = e.layer._gm, m = H.c[i], names = [];
      for (var b = 0; b < cats.length; b++) if (m & (1 << b)) names.push(cats[b].label);
      var visit = H.v[i] < 0 ? T.map_never_visited : dayText(P.asOf, H.v[i]);
      var rows = [
        "<b>" + esc(T.map_household_id) + "</b> " + esc(ids[i]),
        "<b>" + esc(T.map_building) + "</b> " + esc(H.bl[H.b[i]] || "–"),
        "<b>" + esc(T.map_categories) + "</b> " + esc(names.length ? names.join(T.map_list_separator) : T.map_legend_ordinary),
        "<b>" + esc(T.map_last_visit) + "</b> " + esc(visit)
      ];
      if (m & OVERDUE) rows.push('<span class="gm-warn">' + esc(T.map_overdue_visit) + "</span>");
      L.popup({ className: "gm-popup" }).setLatLng(e.latlng).setContent(rows.join("<br>")).openOn(map);
    });
    return group;
  }

  function drawReports(map, P, stats) {
    var R = P.r, T = P.text;
    if (!R || !R.n) return null;
    stats.reports = R.n;
    if (P.heat && L.heatLayer) {
      var pts = [];
      for (var j = 0; j < R.n; j++) pts.push([R.lat[j], R.lon[j], 1]);
      return L.heatLayer(pts, { radius: 22, blur: 16, maxZoom: 17, minOpacity: 0.35 });
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
      L.popup({ className: "gm-popup" }).setLatLng(e.latlng).setContent([
        "<b>" + esc(T.map_report_id) + "</b> " + esc(R.id[i]),
        esc(R.cat[i]),
        "<b>" + esc(T.map_report_state) + "</b> " + esc(P.reportLabels[R.st[i]]),
        "<b>" + esc(T.map_reported_at) + "</b> " + esc(R.at[i])
      ].join("<br>")).openOn(map);
    });
    return group;
  }

  window.gridmapDraw = function (map, P) {
    var t0 = (window.performance || Date).now();
    var stats = { households: P.h.n, markers: 0, grids: 0, reports: 0, drawMs: 0, pointsShown: false };
    window.gridmapStats = stats;
    window.gridmapMap = map;  // for tests and the bench (streamlit-folium also sets window.map)
    map.getContainer().classList.add("gm-map");
    var renderer = L.canvas({ padding: 0.4, tolerance: 3 });
    var g = drawGrids(map, P, renderer, stats);
    var households = drawHouseholds(map, P, renderer, stats);
    var reports = drawReports(map, P, stats);

    L.control.scale({ imperial: false }).addTo(map);
    map.attributionControl.setPrefix("Leaflet");
    control(map, "bottomright", "gm-legend-main", P.legend, "gm-legend");
    control(map, "bottomleft", "gm-legend-fill", P.fillLegend, "gm-legend-fill");
    if (P.reportLegend && !P.heat) control(map, "topright", "gm-legend-reports", P.reportLegend, "gm-legend-reports");

    function levelOfDetail() {
      var z = map.getZoom();
      var showPoints = z >= P.pointsMinZoom;
      if (showPoints && !map.hasLayer(households)) map.addLayer(households);
      if (!showPoints && map.hasLayer(households)) map.removeLayer(households);
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
      var showCommunities = several && z < gridFrom;
      if (showCommunities && !map.hasLayer(g.communityLabels)) map.addLayer(g.communityLabels);
      if (!showCommunities && map.hasLayer(g.communityLabels)) map.removeLayer(g.communityLabels);
      stats.pointsShown = showPoints;
    }

    function start() {
      levelOfDetail();
      if (reports) reports.addTo(map);
      map.on("zoomend", levelOfDetail);
      // "ready" once the canvas has painted the frame holding every layer
      L.Util.requestAnimFrame(function () {
        L.Util.requestAnimFrame(function () {
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
})();
