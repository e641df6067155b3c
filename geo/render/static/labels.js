
(function () {
  "use strict";
  // Place and country labels (geo/render/labels.py decides what, from which zoom, in which
  // order). At each zoom the labels are placed greedily, highest rank first: each tries eight
  // spots around its point (right, left, above, below, then the corners, then
  // a little further out) and takes the first that meets no label
  // placed before it, else it waits for a closer zoom. Text is set with textContent only.
  var CM = window.CorridorMap, el = CM.el;
  var GAP = 5;  // px between a place's point and its label
  var PAD = 2;  // px kept clear around a label

  function meets(a, b) {
    return a.x < b.x + b.w + PAD && b.x < a.x + a.w + PAD &&
      a.y < b.y + b.h + PAD && b.y < a.y + a.h + PAD;
  }

  CM.labels = function (map, d) {
    var pane = map.createPane("cmLabels");
    pane.style.zIndex = 620;  // over the markers (600), under tooltips and popups
    pane.style.pointerEvents = "none";
    var items = [];
    function item(lat, lon, text, zoom, rank, cls, country) {
      var node = el("div", "cm-label cm-label-" + cls, text);
      node.setAttribute("aria-hidden", "true");  // the places' own markers carry their names
      return {ll: L.latLng(lat, lon), z: zoom, rank: rank, node: node, country: country, w: 0};
    }
    var places = d.places.map(function (p) { return item(p[0], p[1], p[2], p[3], p[4], p[5]); });
    var countries = d.countries.map(function (c) {
      return item(c[0], c[1], c[2], c[3], 0, "country", true);
    });
    // Every place first (in rank order), then the country names where there is room.
    items = places.concat(countries);
    var shown = [];

    function measure(list) {
      var todo = list.filter(function (it) { return !it.w; });
      todo.forEach(function (it) {
        it.node.style.visibility = "hidden";
        pane.appendChild(it.node);
      });
      todo.forEach(function (it) {
        it.w = it.node.offsetWidth;
        it.h = it.node.offsetHeight;
      });
      todo.forEach(function (it) {
        pane.removeChild(it.node);
        it.node.style.visibility = "";
      });
    }

    function spots(it, p) {
      if (it.country) { return [{x: p.x - it.w / 2, y: p.y - it.h / 2}]; }
      return [
        {x: p.x + GAP, y: p.y - it.h / 2},
        {x: p.x - GAP - it.w, y: p.y - it.h / 2},
        {x: p.x - it.w / 2, y: p.y - GAP - it.h},
        {x: p.x - it.w / 2, y: p.y + GAP},
        {x: p.x + GAP - 2, y: p.y - GAP - it.h + 2},
        {x: p.x + GAP - 2, y: p.y + GAP - 2},
        {x: p.x - GAP - it.w + 2, y: p.y - GAP - it.h + 2},
        {x: p.x - GAP - it.w + 2, y: p.y + GAP - 2},
        // a second ring, further out, for crowded places (a tick would be nicer)
        {x: p.x - it.w / 2, y: p.y + 3 * GAP},
        {x: p.x - it.w / 2, y: p.y - 3 * GAP - it.h},
        {x: p.x + 3 * GAP, y: p.y + GAP},
        {x: p.x - 3 * GAP - it.w, y: p.y + GAP}
      ];
    }

    function layout() {
      var zoom = map.getZoom(), view = map.getBounds().pad(0.25);
      var wanted = items.filter(function (it) { return it.z <= zoom && view.contains(it.ll); });
      measure(wanted);
      shown.forEach(function (it) { if (it.node.parentNode) { pane.removeChild(it.node); } });
      shown = [];
      var boxes = [];
      wanted.forEach(function (it) {
        var p = map.latLngToLayerPoint(it.ll), free = null;
        spots(it, p).some(function (s) {
          var box = {x: s.x, y: s.y, w: it.w, h: it.h};
          if (boxes.some(function (b) { return meets(box, b); })) { return false; }
          free = box;
          return true;
        });
        if (!free) { return; }
        boxes.push(free);
        it.node.style.left = Math.round(free.x) + "px";
        it.node.style.top = Math.round(free.y) + "px";
        pane.appendChild(it.node);
        shown.push(it);
      });
      map._cm.labelsShown = shown.map(function (it) { return it.node.textContent; });
    }

    map.on("zoomstart", function () { pane.style.display = "none"; });
    map.on("zoomend moveend viewreset resize", function () {
      pane.style.display = "";
      layout();
    });
    map._cm.labels = {layout: layout, items: items};
    layout();
  };
})();
