/* gridmap: what the map's canvas layers share (households in rainbow.js, building glyphs in
 * buildings.js, outlets and stations in employment.js). Loaded before them.
 *
 * Each of those layers draws on one canvas of its own and keeps Leaflet out of its points:
 * the canvas lets every pointer event through (pointer-events: none), and the layer
 * listens on the map's container in the capture phase instead, so it sees a click before
 * the grid polygons below do. A click on one of its symbols opens its popup and stops
 * there (a grid polygon seeing it would rerun the page, drill-down); a miss goes on to the
 * grids. While the pointer is over a symbol the container carries a class (the cursor, the
 * grid tooltip hidden: rainbow.css, buildings.css).
 *
 * window.gridmapCanvas:
 *   esc(s), dayText(asOf, daysBefore), popup(map, latLng, rows)
 *   Pointer: mixed into a layer (L.Layer.extend({ includes: [gridmapCanvas.Pointer] })). The
 *     layer gives _hitAt(point) (what is drawn under a container point, or null),
 *     _openHit(hit), options.hoverClass, and may give _yields(point) (true: a click there
 *     is another layer's). _addCanvas(className) and _removeCanvas() in onAdd/onRemove.
 *   Frame: a canvas larger than the view by PADDING on each side that follows a zoom
 *     animation by CSS, as Leaflet's own renderers do; the layer gives _redraw() and calls
 *     _placeCanvas() at its start.
 */
(function () {
  "use strict";

  var PADDING = 0.2;  // canvas margin around the view (fraction of its size), as L.Renderer
  var DRAG = 4;       // a pointer that moved more than this many pixels dragged: no click

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // the day ``daysBefore`` days before ``asOf`` (YYYY-MM-DD): last visits travel as day counts
  function dayText(asOf, daysBefore) {
    var p = asOf.split("-");
    var t = Date.UTC(+p[0], +p[1] - 1, +p[2]) - daysBefore * 86400000;
    return new Date(t).toISOString().slice(0, 10);
  }

  // a popup of lines of markup (every datum in them escaped by the caller)
  function popup(map, latLng, rows) {
    return L.popup({ className: "gm-popup" }).setLatLng(latLng).setContent(rows.join("<br>")).openOn(map);
  }

  var DOWN = window.PointerEvent ? "pointerdown" : "mousedown";

  var Pointer = {
    // the layer's canvas in its pane, and its listeners on the map's container
    _addCanvas: function (className) {
      var canvas = this._canvas = L.DomUtil.create("canvas", className);
      canvas.style.pointerEvents = "none";  // clicks are hit-tested on the container (_onClick)
      this._ctx = canvas.getContext("2d");
      this.getPane().appendChild(canvas);
      var box = this._map.getContainer();
      // capture phase: the layer sees a click before the grid canvas does and can keep it
      this._listeners().forEach(function (l) { box.addEventListener(l[0], l[1], true); });
      return canvas;
    },

    _removeCanvas: function () {
      var box = this._map.getContainer();
      this._listeners().forEach(function (l) { box.removeEventListener(l[0], l[1], true); });
      L.DomUtil.removeClass(box, this.options.hoverClass);
      L.DomUtil.remove(this._canvas);
      this._canvas = this._ctx = null;
    },

    // [event type, handler bound to this layer], made once: removed as they were added
    _listeners: function () {
      if (!this._bound) {
        this._bound = [
          [DOWN, this._onDown.bind(this)],
          ["click", this._onClick.bind(this)],
          ["mousemove", this._onMove.bind(this)]
        ];
      }
      return this._bound;
    },

    // only events on the map itself: not on report markers, popups or controls above it
    _onMap: function (e) {
      var t = e.target;
      return t === this._map.getContainer() || t.tagName === "CANVAS" || t.tagName === "svg" ||
        L.DomUtil.hasClass(t, "leaflet-pane");
    },

    _onDown: function (e) { this._down = [e.clientX, e.clientY]; },

    _onClick: function (e) {
      // the click that ends a drag is no click on a symbol
      var d = this._down;
      if (d && Math.abs(e.clientX - d[0]) + Math.abs(e.clientY - d[1]) > DRAG) return;
      if (!this._onMap(e)) return;
      var point = this._map.mouseEventToContainerPoint(e);
      if (this._yields && this._yields(point)) return;
      var hit = this._hitAt(point);
      if (hit === null) return;  // a miss goes on to the grid polygon below (drill-down)
      // a hit stops here: the grid polygon must not see it (that would rerun the page)
      e.stopPropagation();
      this._openHit(hit);
    },

    _onMove: function (e) {
      var over = !e.buttons && this._onMap(e) && this._hitAt(this._map.mouseEventToContainerPoint(e)) !== null;
      var box = this._map.getContainer(), hover = this.options.hoverClass;
      if (over !== L.DomUtil.hasClass(box, hover)) {
        if (over) L.DomUtil.addClass(box, hover); else L.DomUtil.removeClass(box, hover);
      }
    }
  };

  var Frame = {
    getEvents: function () {
      var events = { viewreset: this._redraw, zoom: this._onZoom, moveend: this._update, resize: this._update };
      if (this._zoomAnimated) events.zoomanim = this._onAnimZoom;
      return events;
    },

    // the class that lets the canvas follow a zoom animation (or hides it meanwhile)
    _zoomClass: function () {
      return this._zoomAnimated ? "leaflet-zoom-animated" : "leaflet-zoom-hide";
    },

    // a move, zoom and resize can end in the same tick: draw once, on the next frame
    _update: function () {
      if (this._map._animatingZoom || this._frame) return;
      this._frame = L.Util.requestAnimFrame(function () { this._frame = null; this._redraw(); }, this);
    },

    // a frame still to come is drawn now (a hit-test must see what is about to be shown)
    _flush: function () {
      if (!this._frame) return;
      this._cancelFrame();
      this._redraw();
    },

    _cancelFrame: function () {
      L.Util.cancelAnimFrame(this._frame);
      this._frame = null;
    },

    // during a zoom the last frame is scaled by CSS, as Leaflet's own renderers do
    _onAnimZoom: function (e) { this._updateTransform(e.center, e.zoom); },
    _onZoom: function () { this._updateTransform(this._map.getCenter(), this._map.getZoom()); },
    _updateTransform: function (center, zoom) {
      if (!this._center) return;  // nothing drawn yet
      var map = this._map, scale = map.getZoomScale(zoom, this._zoom);
      var offset = map.getSize().multiplyBy(-scale * (0.5 + PADDING))
        .add(map.project(this._center, zoom)).subtract(map._getNewPixelOrigin(center, zoom));
      if (L.Browser.any3d) L.DomUtil.setTransform(this._canvas, offset, scale);
      else L.DomUtil.setPosition(this._canvas, offset);
    },

    // The canvas placed over the view and its margins, sized in device pixels (crisp on
    // high-DPI screens): {w, h} in CSS pixels, dpr. this._min is the canvas's top-left
    // layer point; this._center and this._zoom the view it is drawn for.
    _placeCanvas: function () {
      var map = this._map, canvas = this._canvas, size = map.getSize();
      var min = map.containerPointToLayerPoint(size.multiplyBy(-PADDING)).round();
      var w = Math.round(size.x * (1 + 2 * PADDING)), h = Math.round(size.y * (1 + 2 * PADDING));
      this._min = min;
      this._center = map.getCenter();
      this._zoom = map.getZoom();
      L.DomUtil.setPosition(canvas, min);
      var dpr = window.devicePixelRatio || 1;
      if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
        canvas.width = Math.round(w * dpr);
        canvas.height = Math.round(h * dpr);
        canvas.style.width = w + "px";
        canvas.style.height = h + "px";
      }
      return { w: w, h: h, dpr: dpr };
    }
  };

  window.gridmapCanvas = { esc: esc, dayText: dayText, popup: popup, Pointer: Pointer, Frame: Frame };
})();
