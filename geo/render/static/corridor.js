
(function () {
  "use strict";
  var CM = window.CorridorMap = {};
  var URL_RE = /^https?:\/\/[^\s<>"']+$/i;
  var ICON_FS = '<svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true"><path ' +
    'd="M2 6V2h4M10 2h4v4M14 10v4h-4M6 14H2v-4" fill="none" stroke="#333" stroke-width="2"/></svg>';
  var ICON_RULER = '<svg width="18" height="18" viewBox="0 0 18 18" aria-hidden="true"><path ' +
    'd="M2 12 12 2l4 4L6 16Z" fill="none" stroke="#333" stroke-width="1.6"/><path d="M5 9l2 2M8 ' +
    '6l2 2M11 3l2 2" stroke="#333" stroke-width="1.4"/></svg>';

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  CM.el = el;

  // A control's button: an <a> with a title and a constant SVG icon (never data).
  function ctlButton(title, icon) {
    var a = el("a", "cm-btn");
    a.href = "#";
    a.title = title;
    a.setAttribute("role", "button");
    a.innerHTML = icon;
    return a;
  }

  // A link's text for readers: the site's name (its host without "www."), never the URL, which
  // may be long and percent-encoded.
  function host(url) {
    var m = /^https?:\/\/([^\/?#:@\s]+)/i.exec(url);
    return m ? m[1].toLowerCase().replace(/^www\./, "") : url;
  }
  CM.host = host;

  // Text whose http(s) URLs become links named by their site; nothing is parsed as HTML.
  function linkify(parent, text) {
    String(text).split(/(\s+)/).forEach(function (part) {
      var m = /^(.*?)([.,;:)\]]*)$/.exec(part);
      if (m && URL_RE.test(m[1])) {
        var a = el("a", null, host(m[1]));
        a.title = m[1];
        a.href = m[1];
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        parent.appendChild(a);
        if (m[2]) { parent.appendChild(document.createTextNode(m[2])); }
      } else if (part) {
        parent.appendChild(document.createTextNode(part));
      }
    });
  }
  CM.linkify = linkify;

  function table(title, cols, values) {
    var box = el("div", "cm-popup");
    box.appendChild(el("div", "cm-popup-title", title));
    var t = el("table", "cm-props");
    for (var i = 0; i < cols.length; i++) {
      var tr = el("tr");
      tr.appendChild(el("th", null, cols[i]));
      var td = el("td");
      linkify(td, values[i] === "" || values[i] === undefined ? "\u2014" : values[i]);
      tr.appendChild(td);
      t.appendChild(tr);
    }
    box.appendChild(t);
    return box;
  }
  CM.table = table;

  // Links sent as one text (geo.render.cards.encode_links): "name<TAB>url" lines; a line
  // without a tab is a source cited without a URL, shown as text.
  function parseLinks(text) {
    return String(text || "").split("\n").filter(Boolean).map(function (l) {
      return l.split("\t");
    });
  }

  // A popup for readers: the first value is the title, empty values are left out, and the
  // source links ([name, url]) close it, named by their publisher, never shown as URLs. The
  // maintainers' notes (column spec.notes) stay folded under "data notes".
  function card(spec, values, links) {
    var cols = spec.cols;
    var box = el("div", "cm-popup cm-card");
    box.appendChild(el("div", "cm-popup-title", values[0]));
    var t = el("table", "cm-props");
    function add(label, td) {
      var tr = el("tr");
      tr.appendChild(el("th", null, label));
      tr.appendChild(td);
      t.appendChild(tr);
    }
    // columns after the notes (an id the page needs) are not the reader's
    var end = spec.notes === undefined ? cols.length : spec.notes;
    for (var i = 1; i < end; i++) {
      if (i === spec.links) { continue; }
      if (values[i] !== "" && values[i] !== undefined) { add(cols[i], el("td", null, values[i])); }
    }
    var sources = el("td");
    var all = links || (spec.links === undefined ? [] : parseLinks(values[spec.links]));
    all.forEach(function (l) {
      if (l.length === 2 && !URL_RE.test(l[1])) { return; }
      if (sources.firstChild) { sources.appendChild(document.createTextNode(", ")); }
      if (l.length !== 2) { sources.appendChild(document.createTextNode(l.join(" "))); return; }
      var a = el("a", null, l[0]);
      a.href = l[1];
      a.title = host(l[1]);
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      sources.appendChild(a);
    });
    if (sources.firstChild) { add(all.length > 1 ? "Sources" : "Source", sources); }
    box.appendChild(t);
    var notes = spec.notes === undefined ? "" : values[spec.notes];
    if (notes) {
      var fold = el("details", "cm-notes");
      fold.appendChild(el("summary", null, "data notes"));
      fold.appendChild(el("div", "cm-notes-text", notes));
      box.appendChild(fold);
    }
    return box;
  }
  CM.card = card;

  function popup(spec, f, title) {
    return spec.card ? card(spec, f.v, f.l) : table(title, spec.cols, f.v);
  }

  function tip(text) { return el("span", null, text); }

  CM.init = function (map, opts) {
    map._cm = {layers: [], routes: {}, base: [], panels: []};
    CM.map = map;
    [["cmBase", 250], ["cmShade", 300], ["cmRoutes", 380], ["cmPipes", 410], ["cmLines", 420],
      ["cmTitr", 440]]
      .forEach(function (p) { map.createPane(p[0]).style.zIndex = p[1]; });
    map.attributionControl.addAttribution("Base: Natural Earth");
    // Keep popups clear of the title box when the map pans to show them.
    L.Popup.mergeOptions({autoPanPaddingTopLeft: L.point(50, 64)});
    opts.tiles.forEach(function (t) {
      var layer = L.tileLayer(t.url, {
        attribution: t.attr, subdomains: t.sub || "abc", maxZoom: 19,
        errorTileUrl: "data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw=="
      });
      map._cm.base.push({layer: layer, label: CM.text(t.name), online: true});
    });
  };

  CM.text = function (s) { var d = el("div", null, s); return d.innerHTML; };

  function register(map, spec, layer) {
    layer.cmGroup = spec.group;
    if (spec.base) { map._cm.base.unshift({layer: layer, label: spec.label}); }
    else { map._cm.layers.push({layer: layer, label: spec.label}); }
    if (spec.show) { layer.addTo(map); }
    return layer;
  }

  function lines(map, spec) {
    // An attribution (text, escaped here) shows while the layer is on the map.
    var g = L.featureGroup([], spec.attr ? {attribution: CM.text(spec.attr)} : {});
    var entries = [];
    spec.f.forEach(function (f, i) {
      var s = spec.styles[f.s], parts = [];
      var opts = L.extend({pane: spec.pane, cmIndex: i}, s);
      delete opts.casing;
      if (s.casing) {
        parts.push(L.polyline(f.c, {pane: spec.pane, color: "#fff", weight: s.casing,
          opacity: 0.9, interactive: false, lineCap: "round"}));
      }
      var line = L.polyline(f.c, opts);
      line.bindTooltip(function () { return tip(f.t); }, {sticky: true});
      line.bindPopup(function () { return popup(spec, f, f.v[0] || f.t); }, {maxWidth: 380});
      parts.push(line);
      parts.forEach(function (p) { g.addLayer(p); });
      entries.push({st: f.st, parts: parts, on: true});
    });
    // The in-page filter: lines of an unticked status leave the group (and come back).
    g._cmFilter = function (off) {
      var hide = off[spec.group === "Pipelines" ? "pipe" : "line"];
      entries.forEach(function (e) {
        var want = !(e.st && hide[e.st]);
        if (want === e.on) { return; }
        e.parts.forEach(function (p) { if (want) { g.addLayer(p); } else { g.removeLayer(p); } });
        e.on = want;
      });
    };
    return g;
  }

  // Rings arrive as flat integer deltas (see geo.render.payloads.encode_rings).
  function decode(polys, scale) {
    return polys.map(function (rings) {
      return rings.map(function (d) {
        var out = new Array(d.length / 2), la = 0, lo = 0;
        for (var i = 0; i < d.length; i += 2) {
          la += d[i];
          lo += d[i + 1];
          out[i / 2] = [la / scale, lo / scale];
        }
        return out;
      });
    });
  }

  function polygons(map, spec) {
    var opts = L.extend({pane: spec.pane, interactive: !!spec.interactive}, spec.style);
    var g = L.featureGroup();
    var feats = spec.ref ? spec.ref.map(function (k) { return map._cm.polys[k]; }) :
      spec.f.map(function (f) { return {k: f.k, c: decode(f.c, spec.scale), t: f.t, v: f.v}; });
    if (spec.base) {
      map._cm.polys = {};
      feats.forEach(function (f) { map._cm.polys[f.k] = f; });
    }
    feats.forEach(function (f) {
      var p = L.polygon(f.c, spec.styles ? L.extend({}, opts, spec.styles[f.s]) : opts);
      if (spec.interactive) {
        p.bindTooltip(function () { return tip(f.t); }, {sticky: true});
        p.bindPopup(function () { return popup(spec, f, f.v[0] || f.t); }, {maxWidth: 380});
      }
      g.addLayer(p);
    });
    return g;
  }

  function nodes(map, spec) {
    var icons = spec.icons.map(function (svg) {
      var big = svg.indexOf('width="22"') > 0 || svg.indexOf('width="20"') > 0;
      var n = big ? 22 : 16;
      return L.divIcon({html: svg, className: "cm-node", iconSize: [n, n],
        iconAnchor: [n / 2, n / 2], tooltipAnchor: [n / 2, 0], popupAnchor: [0, -n / 2]});
    });
    var g = L.featureGroup();
    spec.f.forEach(function (f) {
      var mk = L.marker(f.c, {icon: icons[f.i], zIndexOffset: 1000, keyboard: false,
        alt: f.t});
      mk.bindTooltip(function () { return tip(f.t); }, {direction: "right"});
      mk.bindPopup(function () { return popup(spec, f, f.v[0] || f.t); }, {maxWidth: 380});
      g.addLayer(mk);
    });
    return g;
  }

  // One cell of a column table: plain values `v`, a dictionary `d` and codes `i`, or front
  // coding (each value as the count `f` of characters it shares with the one before, and the
  // rest `s`; ASCII only, so Python and JavaScript count alike), decoded once on first use.
  // Codes and shared lengths below 64 come as one character each (`c`, `g`: payloads.py's
  // small_numbers), others as lists of numbers (`i`, `f`).
  var SMALL = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_";
  var SMALL_OF = {};
  for (var sk = 0; sk < SMALL.length; sk++) { SMALL_OF[SMALL.charCodeAt(sk)] = sk; }
  function small(s, j) { return SMALL_OF[s.charCodeAt(j)]; }
  function column(c, i) {
    if (c.d) { return c.d[c.c !== undefined ? small(c.c, i) : c.i[i]]; }
    if (!c.v) {
      var n = c.s.length, v = new Array(n), prev = "";
      for (var j = 0; j < n; j++) {
        prev = prev.slice(0, c.g !== undefined ? small(c.g, j) : c.f[j]) + c.s[j];
        v[j] = prev;
      }
      c.v = v;
    }
    return c.v[i];
  }
  CM.column = column;

  // A cluster of deposits: its count in a circle sized by it (the supply map's too).
  function clusterIcon(cluster) {
    var n = cluster.getChildCount();
    var d = n < 100 ? 28 : n < 1000 ? 34 : 40;
    var inner = el("div", null, n);
    inner.style.width = inner.style.height = (d - 8) + "px";
    var outer = el("div");
    outer.appendChild(inner);
    return L.divIcon({html: outer.innerHTML, className: "marker-cluster cm-cluster",
      iconSize: [d, d]});
  }
  CM.clusterIcon = clusterIcon;

  // Leaflet.markercluster keeps two DistanceGrids per zoom level, its clusters and its lone
  // markers by grid cell, and asks both in turn for the object nearest to each new marker. A
  // Level holds both in one set of cells and answers both questions in one pass (near2), with
  // the very same answers: each cell keeps its objects in the order they came, with their
  // kinds and points beside them (the plugin kept points in an object keyed by Leaflet id),
  // and is visited in the plugin's order, comparing the same numbers.
  //
  // The cells live in typed arrays, not in objects: a table keyed by column and row (open
  // addressing, linear probing) holds each cell's first entry, and the entries (object, kind,
  // point, next entry of the cell) form each cell's list in the order its objects came. The
  // Maps of Maps of cells this replaces held a fifth of a 100,000-point page's memory, which
  // the garbage collector copied again and again, and their lookups were a sixth of its
  // loading. A cell once made keeps its slot (empty: no first entry).
  var FREE = -2, EMPTY = -1;
  function Level(cellSize) {
    this._cellSize = cellSize;
    this._sqCellSize = cellSize * cellSize;
    this._mask = 63;
    this._cells = 0;
    this._first = new Int32Array(64).fill(FREE);  // per slot: FREE, EMPTY or an entry
    this._keys = new Float64Array(128);  // per slot: column, row
    this._obj = new Array(64);
    this._kind = new Uint8Array(64);
    this._xy = new Float64Array(128);
    this._next = new Int32Array(64);
    this._used = 0;
    this._spare = EMPTY;  // entries given back, linked by _next
    this.clusters = new Grid(this, 0);
    this.markers = new Grid(this, 1);
    this.marker = null;  // near2's second answer
  }
  // A cell's column or row, as DistanceGrid._getCoord.
  function coord(x, size) {
    var c = Math.floor(x / size);
    return isFinite(c) ? c : x;
  }
  function hash(cx, cy, mask) {
    var h = Math.imul(cx | 0, 0x27d4eb2d) ^ Math.imul(cy | 0, 0x165667b1);
    return (h ^ h >>> 15) & mask;
  }
  // The same key (SameValueZero, as Map compares its keys).
  function same(a, b) { return a === b || a !== a && b !== b; }
  Level.prototype = {
    _coord: function (x) { return coord(x, this._cellSize); },
    // The slot of cell (cx, cy), or -1 if it has none.
    _find: function (cx, cy) {
      var first = this._first, keys = this._keys, mask = this._mask;
      for (var s = hash(cx, cy, mask); first[s] !== FREE; s = s + 1 & mask) {
        if (same(keys[2 * s], cx) && same(keys[2 * s + 1], cy)) { return s; }
      }
      return -1;
    },
    _slot: function (cx, cy) {
      var s = this._find(cx, cy);
      if (s >= 0) { return s; }
      if (2 * (this._cells + 1) > this._mask + 1) { this._grow(); }
      var mask = this._mask;
      for (s = hash(cx, cy, mask); this._first[s] !== FREE; s = s + 1 & mask) { /* probe */ }
      this._first[s] = EMPTY;
      this._keys[2 * s] = cx;
      this._keys[2 * s + 1] = cy;
      this._cells++;
      return s;
    },
    _grow: function () {
      var first = this._first, keys = this._keys, n = first.length * 2, mask = n - 1;
      this._first = new Int32Array(n).fill(FREE);
      this._keys = new Float64Array(2 * n);
      this._mask = mask;
      for (var s = 0; s < first.length; s++) {
        if (first[s] === FREE) { continue; }
        var cx = keys[2 * s], cy = keys[2 * s + 1], t = hash(cx, cy, mask);
        while (this._first[t] !== FREE) { t = t + 1 & mask; }
        this._first[t] = first[s];
        this._keys[2 * t] = cx;
        this._keys[2 * t + 1] = cy;
      }
    },
    _entry: function () {
      var e = this._spare;
      if (e !== EMPTY) {
        this._spare = this._next[e];
        return e;
      }
      if (this._used === this._kind.length) {
        var n = 2 * this._used, kind = new Uint8Array(n), xy = new Float64Array(2 * n),
          next = new Int32Array(n);
        kind.set(this._kind);
        xy.set(this._xy);
        next.set(this._next);
        this._kind = kind;
        this._xy = xy;
        this._next = next;
      }
      return this._used++;
    },
    add: function (kind, obj, x, y) {
      var s = this._slot(this._coord(x), this._coord(y)), e = this._entry();
      this._obj[e] = obj;
      this._kind[e] = kind;
      this._xy[2 * e] = x;
      this._xy[2 * e + 1] = y;
      this._next[e] = EMPTY;
      var k = this._first[s];
      if (k === EMPTY) {
        this._first[s] = e;
        return;
      }
      while (this._next[k] !== EMPTY) { k = this._next[k]; }
      this._next[k] = e;
    },
    remove: function (kind, obj, x, y) {
      var s = this._find(this._coord(x), this._coord(y));
      if (s < 0) { return false; }
      for (var prev = EMPTY, e = this._first[s]; e !== EMPTY; prev = e, e = this._next[e]) {
        if (this._obj[e] === obj && this._kind[e] === kind) {
          if (prev === EMPTY) { this._first[s] = this._next[e]; }
          else { this._next[prev] = this._next[e]; }
          this._obj[e] = null;
          this._next[e] = this._spare;
          this._spare = e;
          return true;
        }
      }
      return false;
    },
    // The nearest object of one kind within a cell's size, as DistanceGrid.getNearObject.
    near: function (kind, x, y) {
      var cx = this._coord(x), cy = this._coord(y), best = this._sqCellSize, closest = null;
      var xy = this._xy, next = this._next;
      for (var i = cy - 1; i <= cy + 1; i++) {
        for (var j = cx - 1; j <= cx + 1; j++) {
          var s = this._find(j, i);
          if (s < 0) { continue; }
          for (var e = this._first[s]; e !== EMPTY; e = next[e]) {
            if (this._kind[e] !== kind) { continue; }
            var dx = x - xy[2 * e], dy = y - xy[2 * e + 1], d = dx * dx + dy * dy;
            if (d < best || d <= best && closest === null) {
              best = d;
              closest = this._obj[e];
            }
          }
        }
      }
      return closest;
    },
    // near(0, x, y), returned, and near(1, x, y), left in this.marker, in one pass.
    near2: function (x, y) {
      var cx = this._coord(x), cy = this._coord(y);
      var bestC = this._sqCellSize, bestM = bestC, cluster = null, marker = null;
      var first = this._first, keys = this._keys, mask = this._mask, xy = this._xy,
        next = this._next, kinds = this._kind;
      for (var i = cy - 1; i <= cy + 1; i++) {
        for (var j = cx - 1; j <= cx + 1; j++) {
          // this._find(j, i), inlined: most of the cells asked about have never been made
          var s = hash(j, i, mask), e = first[s];
          while (e !== FREE && !(same(keys[2 * s], j) && same(keys[2 * s + 1], i))) {
            s = s + 1 & mask;
            e = first[s];
          }
          for (; e >= 0; e = next[e]) {
            var dx = x - xy[2 * e], dy = y - xy[2 * e + 1], d = dx * dx + dy * dy;
            if (kinds[e] === 0) {
              if (d < bestC || d <= bestC && cluster === null) {
                bestC = d;
                cluster = this._obj[e];
              }
            } else if (d < bestM || d <= bestM && marker === null) {
              bestM = d;
              marker = this._obj[e];
            }
          }
        }
      }
      this.marker = marker;
      return cluster;
    },
    // Each non-empty cell as [row, column, [[kind, object, x, y], ...]] (tests read them).
    cells: function () {
      var out = [];
      for (var s = 0; s < this._first.length; s++) {
        if (this._first[s] < 0) { continue; }
        var list = [];
        for (var e = this._first[s]; e !== EMPTY; e = this._next[e]) {
          list.push([this._kind[e], this._obj[e], this._xy[2 * e], this._xy[2 * e + 1]]);
        }
        out.push([this._keys[2 * s + 1], this._keys[2 * s], list]);
      }
      return out;
    }
  };

  // One kind of a Level, with L.DistanceGrid's interface (for the plugin's code we leave as is).
  function Grid(level, kind) {
    this._level = level;
    this._kind = kind;
    this._cellSize = level._cellSize;
  }
  Grid.prototype = {
    add: function (obj, x, y) { this._level.add(this._kind, obj, x, y); },
    remove: function (obj, x, y) { return this._level.remove(this._kind, obj, x, y); },
    near: function (x, y) { return this._level.near(this._kind, x, y); },
    addObject: function (obj, p) { this.add(obj, p.x, p.y); },
    removeObject: function (obj, p) { return this.remove(obj, p.x, p.y); },
    updateObject: function (obj, p) { this.removeObject(obj, p); this.addObject(obj, p); },
    getNearObject: function (p) { return this.near(p.x, p.y); },
    eachObject: function (fn, context) {
      var level = this._level, kind = this._kind;
      level.cells().forEach(function (cell) {
        cell[2].forEach(function (o) { if (o[0] === kind) { fn.call(context, o[1]); } });
      });
    }
  };
  CM.Level = Level;

  // A marker cluster group that clusters exactly as Leaflet.markercluster 1.4 does, faster: its
  // grids are Levels, and _addLayer (the plugin's, step for step) asks each level once (near2)
  // where the plugin asked its two grids in turn, and projects each point once, to the
  // unscaled plane, then scales it to each zoom level, where the plugin projected it again at
  // every level: the same numbers, since Leaflet's project is scale * (a * x + b), the scale
  // the only part that depends on the zoom. Any other projection takes the plugin's way. The
  // class is made on first use: a page without clusters does not load the plugin.
  var Clusters = null;
  // The plugin's cluster class (L.MarkerCluster or its non-animated kind) with a constructor
  // that sets the very fields its initialize sets, to the same values, in one step: without
  // the options object L.Marker's initialize copies, nor L.Class's init hooks (a cluster has
  // none). Its objects share the plugin class's prototype, so they are its instances.
  var LEAN = new Map();
  function leanCluster(base) {
    if (!LEAN.has(base)) {
      var Cluster = function (group, zoom, a, b) {
        var options = Object.create(base.prototype.options);
        options.icon = this;
        options.pane = group.options.clusterPane;
        this.options = options;
        this._latlng = a ? a._cLatLng || a.getLatLng() : new L.LatLng(0, 0);
        this._group = group;
        this._zoom = zoom;
        this._markers = [];
        this._childClusters = [];
        this._childCount = 0;
        this._iconNeedsUpdate = true;
        this._boundsNeedUpdate = true;
        this._bounds = new L.LatLngBounds();
        if (a) { this._addChild(a); }
        if (b) { this._addChild(b); }
      };
      Cluster.prototype = base.prototype;
      LEAN.set(base, Cluster);
    }
    return LEAN.get(base);
  }
  var CLUSTERS = {
    initialize: function (options) {
      L.MarkerClusterGroup.prototype.initialize.call(this, options);
      this._markerCluster = leanCluster(this._markerCluster);
    },

    _generateInitialClusters: function () {
      L.MarkerClusterGroup.prototype._generateInitialClusters.call(this);
      var crs = this._map.options.crs, scale = {}, levels = {};
      var clusters = this._gridClusters, markers = this._gridUnclustered;
      Object.keys(clusters).forEach(function (z) {
        var level = levels[z] = new Level(clusters[z]._cellSize);
        clusters[z] = level.clusters;
        markers[z] = level.markers;
        scale[z] = crs.scale(+z);
      });
      this._cmLevels = levels;
      this._cmScale = scale;
      this._cmPlane = crs.latLngToPoint === L.CRS.latLngToPoint &&
        crs.transformation instanceof L.Transformation && !!crs.projection;
    },

    // The point's place on the unscaled plane (u, v), left in this._cmU and this._cmV: numbers
    // kept on the group, so that no object is made per marker (the garbage collector's copying
    // of such long-lived objects was a fifth of the loading). Projecting anew is cheaper.
    _cmUV: function (layer) {
      var crs = this._map.options.crs, t = crs.transformation,
        p = crs.projection.project(layer.getLatLng());
      this._cmU = t._a * p.x + t._b;
      this._cmV = t._c * p.y + t._d;
    },

    // The plugin's _removeLayer(marker, false), but for its last step: it deletes the marker's
    // __parent, which turns the marker's properties into a dictionary (a third of a 100,000-point
    // layer's markers, slower and bigger), and _addLayer sets a new one at once.
    _cmDetach: function (marker, minZoom) {
      var cluster = marker.__parent;
      this._arraySplice(cluster._markers, marker);
      while (cluster) {
        cluster._childCount--;
        cluster._boundsNeedUpdate = true;
        if (cluster._zoom < minZoom) { break; }
        cluster._iconNeedsUpdate = true;
        cluster = cluster.__parent;
      }
    },

    _addLayer: function (layer, zoom) {
      if (!this._cmPlane) {
        return L.MarkerClusterGroup.prototype._addLayer.call(this, layer, zoom);
      }
      var gridClusters = this._gridClusters, gridUnclustered = this._gridUnclustered,
        minZoom = Math.floor(this._map.getMinZoom()), scale = this._cmScale,
        levels = this._cmLevels, z;
      if (this.options.singleMarkerMode) { this._overrideMarkerIcon(layer); }
      // the plugin follows a marker that is dragged or moved; a still one never is
      if (!layer.cmStill) { layer.on(this._childMarkerEventHandlers, this); }
      this._cmUV(layer);
      var u = this._cmU, v = this._cmV;
      for (; zoom >= minZoom; zoom--) {
        var s = scale[zoom], x = s * u, y = s * v;
        var level = levels[zoom], closest = level.near2(x, y);
        if (closest) {
          closest._addChild(layer);
          layer.__parent = closest;
          return;
        }
        closest = level.marker;
        if (closest) {
          var parent = closest.__parent;
          if (parent) { this._cmDetach(closest, minZoom); }
          // the new cluster's centre is closest's position
          this._cmUV(closest);
          var cu = this._cmU, cv = this._cmV;
          var newCluster = new this._markerCluster(this, zoom, closest, layer);
          gridClusters[zoom].add(newCluster, s * cu, s * cv);
          closest.__parent = newCluster;
          layer.__parent = newCluster;
          var lastParent = newCluster;
          for (z = zoom - 1; z > parent._zoom; z--) {
            lastParent = new this._markerCluster(this, z, lastParent);
            gridClusters[z].add(lastParent, scale[z] * cu, scale[z] * cv);
          }
          parent._addChild(lastParent);
          for (z = zoom; z >= minZoom; z--) {
            if (!gridUnclustered[z].remove(closest, scale[z] * cu, scale[z] * cv)) { break; }
          }
          return;
        }
        gridUnclustered[zoom].add(layer, x, y);
      }
      this._topClusterLevel._addChild(layer);
      layer.__parent = this._topClusterLevel;
    }
  };
  CM.clusterGroup = function (options) {
    Clusters = Clusters || L.MarkerClusterGroup.extend(CLUSTERS);
    return new Clusters(options);
  };

  // Markers are clustered in chunks of 200 ms, each a task of its own, so input and drawing
  // wait no longer than that. The plugin's pause between chunks (50 ms) left the page idle for
  // about a second of a 100,000-point layer's loading (20 chunks on a busy machine); a pause
  // of 1 ms still hands the browser its turn.
  var CLUSTER_OPTIONS = {chunkedLoading: true, chunkInterval: 200, chunkDelay: 1,
    maxClusterRadius: 45, showCoverageOnHover: false, spiderfyOnMaxZoom: true,
    iconCreateFunction: clusterIcon};
  CM.clusterOptions = function () { return L.extend({}, CLUSTER_OPTIONS); };

  // A marker that is never dragged or moved (a deposit's), made in one step: L.Marker's
  // constructor copies its options, converts its point and runs the init hooks, and the cluster
  // group listens to each marker for drags and moves (seven objects a marker), together about a
  // fifth of loading 100,000 points. It is an L.Marker in every other way; `options` is the
  // marker's own object on top of the shared `base` (as L.setOptions makes it, on top of
  // L.Marker's defaults). Made with Object.create, it has room for four properties in itself:
  // these two and the two the cluster group adds (_leaflet_id, __parent), which a constructor's
  // objects would keep in a separate array, made for each marker.
  var stillProto = null;
  function still(lat, lng, base, index) {
    if (!stillProto) {
      stillProto = Object.create(L.Marker.prototype);
      stillProto.cmStill = true;
    }
    var m = Object.create(stillProto), options = Object.create(base);
    options.cmIndex = index;
    m.options = options;
    m._latlng = new L.LatLng(lat, lng);
    return m;
  }
  // The options every still marker of an icon shares.
  CM.stillOptions = function (options) {
    return L.extend(Object.create(L.Marker.prototype.options), options);
  };
  CM.still = still;

  // Deposits: markers built from compact [lat, lon, group] arrays; popups and tooltips are made
  // on demand from the column table, so 100,000 points stay usable.
  function deposits(map, spec) {
    var icons = {};
    function icon(g) {
      if (!icons[g]) {
        icons[g] = CM.stillOptions({icon: L.divIcon({className: "cm-dep " + (spec.cls || "cm-c") +
          g + (spec.user ? " cm-user" : ""), iconSize: [11, 11], html: ""}), keyboard: false});
      }
      return icons[g];
    }
    var group = CM.clusterGroup(CLUSTER_OPTIONS);
    var markers = new Array(spec.p.length);
    for (var i = 0; i < spec.p.length; i++) {
      var p = spec.p[i];
      markers[i] = still(p[0], p[1], icon(p[2]), i);
    }
    // Leaflet.markercluster 1.4 checks each marker against its pending list while the group is
    // off the map (quadratic: minutes for 100,000 points). A fresh group's pending list is
    // empty, so hand it the whole array; onAdd then clusters it in chunks.
    if (!group._map && Array.isArray(group._needsClustering) && !group._needsClustering.length) {
      group._needsClustering = markers;
    } else {
      group.addLayers(markers);
    }
    function values(i) { return spec.data.map(function (c) { return column(c, i); }); }
    // The in-page filter: deposits of an unticked commodity group or status leave the clusters.
    var hidden = 0;
    group._cmFilter = function (off) {
      var com = spec.cls ? {} : off.commodity, st = off.deposit;
      var kept = markers.filter(function (m, i) {
        var p = spec.p[i];
        return !com[p[2]] && !(spec.sts && st[spec.sts[p[3]]]);
      });
      if (kept.length === markers.length && !hidden) { return; }
      hidden = markers.length - kept.length;
      group.clearLayers();
      group.addLayers(kept);
    };
    var hover = L.tooltip({direction: "top", offset: [0, -6]});
    group.on("mouseover", function (e) {
      var i = e.layer.options.cmIndex;
      if (i === undefined) { return; }
      hover.setLatLng(e.layer.getLatLng()).setContent(tip(column(spec.data[0], i)));
      map.openTooltip(hover);
    });
    group.on("mouseout", function () { map.closeTooltip(hover); });
    group.on("click", function (e) {
      var i = e.layer.options.cmIndex;
      if (i === undefined) { return; }
      var v = values(i);
      L.popup({maxWidth: 380, offset: [0, -4]}).setLatLng(e.layer.getLatLng())
        .setContent(spec.card ? card(spec, v) : table(v[0], spec.cols, v)).openOn(map);
    });
    return group;
  }

  function route(map, spec) {
    var f = spec.f[0];
    var line = L.polyline(f.c, L.extend({pane: "cmRoutes"}, spec.style));
    line.bindTooltip(function () { return tip(f.t); }, {sticky: true});
    line.bindPopup(function () { return table(f.t, spec.cols, f.v); }, {maxWidth: 420});
    map._cm.routes[spec.route] = line;
    return line;
  }

  var BUILDERS = {lines: lines, polygons: polygons, nodes: nodes, deposits: deposits,
    route: route};

  CM.add = function (map, spec) {
    var layer = BUILDERS[spec.kind](map, spec);
    layer._cmKind = spec.kind;
    layer._cmSpec = spec;  // what it was drawn from (tests and tools read it)
    return register(map, spec, layer);
  };

  CM.fit = function (map, bounds) {
    map.fitBounds(bounds, {paddingTopLeft: [50, 60], paddingBottomRight: [40, 40], maxZoom: 9});
  };

  CM.showRoute = function (map, i) {
    var line = map._cm.routes[i];
    if (!line) { return; }
    if (!map.hasLayer(line)) { line.addTo(map); }
    // On a phone the open table and a popup would cover the route: the table closes and the
    // route's numbers stay a tap on the line away.
    var narrow = map.getContainer().classList.contains("cm-narrow");
    if (narrow) { CM.openPanel(map, "cm-stats", false); }
    map.fitBounds(line.getBounds(), CM.clearView(map, 30, {}));
    if (!narrow) { line.openPopup(line.getCenter()); }
  };

  // Options for fitBounds that keep the view clear of the title and, on a narrow map, of the
  // panels at its foot (there they span its width).
  CM.clearView = function (map, pad, opts) {
    var box = map.getContainer(), r = box.getBoundingClientRect(), top = pad, under = 0;
    if (box.classList.contains("cm-narrow")) {
      var title = box.querySelector(".cm-title");
      if (title) { top = title.getBoundingClientRect().bottom - r.top + 10; }
      map._cm.panels.forEach(function (c) {
        under = Math.max(under, r.bottom - c.cmNode.getBoundingClientRect().top);
      });
    }
    return L.extend({paddingTopLeft: [pad, top], paddingBottomRight: [pad, pad + under]}, opts);
  };

  // Layer control with group headings (one per layer's cmGroup).
  var Grouped = L.Control.Layers.extend({
    // Leaflet 1.9.4's fix, missing from the 1.9.3 that XStatic ships: a click that arrives
    // with the pointer entering the control (a tap on a phone) cancels the box's change, so it
    // must not change the layer either, or the box and the map disagree.
    _expandSafely: function () {
      var self = this;
      this._cmPreventClick = true;
      L.Control.Layers.prototype._expandSafely.call(this);
      setTimeout(function () { self._cmPreventClick = false; });
    },
    _onInputClick: function () {
      if (this._cmPreventClick) { return; }
      return L.Control.Layers.prototype._onInputClick.call(this);
    },
    _update: function () {
      this._cmLast = null;
      return L.Control.Layers.prototype._update.call(this);
    },
    _addItem: function (obj) {
      if (obj.overlay) {
        var g = obj.layer.cmGroup || "";
        if (g !== this._cmLast) {
          this._overlaysList.appendChild(el("div", "cm-lc-group", g));
          this._cmLast = g;
        }
      }
      return L.Control.Layers.prototype._addItem.call(this, obj);
    }
  });

  var Fullscreen = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function (map) {
      var bar = el("div", "leaflet-bar leaflet-control cm-fs");
      var a = ctlButton("Full screen", ICON_FS);
      bar.appendChild(a);
      var c = map.getContainer();
      function fallback() { c.classList.toggle("cm-fullscreen"); map.invalidateSize(); }
      L.DomEvent.on(a, "click", function (e) {
        L.DomEvent.stop(e);
        if (document.fullscreenElement) { document.exitFullscreen(); return; }
        if (c.classList.contains("cm-fullscreen") || !c.requestFullscreen) { fallback(); return; }
        c.requestFullscreen().catch(fallback);
      });
      document.addEventListener("fullscreenchange", function () { map.invalidateSize(); });
      return bar;
    }
  });

  // Geodesic distance: the sum of L.LatLng.distanceTo over the clicked legs.
  var Measure = L.Control.extend({
    options: {position: "topleft"},
    onAdd: function (map) {
      this._map = map;
      this._pts = [];
      this._on = false;
      var bar = el("div", "leaflet-control cm-measure");
      var inner = el("div", "leaflet-bar");
      var a = ctlButton("Measure distance: click points on the map; click here or press Esc to end", ICON_RULER);
      inner.appendChild(a);
      bar.appendChild(inner);
      this._out = el("div", "cm-measure-out");
      bar.appendChild(this._out);
      this._bar = bar;
      this._line = L.polyline([], {color: "#111", weight: 2.5, dashArray: "6 5",
        interactive: false});
      this._marks = L.layerGroup();
      var self = this;
      L.DomEvent.on(a, "click", function (e) { L.DomEvent.stop(e); self.toggle(); });
      L.DomEvent.disableClickPropagation(bar);
      return bar;
    },
    toggle: function () { if (this._on) { this.stop(); } else { this.start(); } },
    start: function () {
      var map = this._map;
      this._on = true;
      this._pts = [];
      this._line.setLatLngs([]).addTo(map);
      this._marks.clearLayers().addTo(map);
      map.on("click", this._add, this);
      map.doubleClickZoom.disable();
      L.DomEvent.on(document, "keydown", this._key, this);
      map.getContainer().classList.add("cm-measuring");
      this._bar.classList.add("cm-measure-on");
      this._out.textContent = "Click on the map to measure";
    },
    stop: function () {
      var map = this._map;
      this._on = false;
      map.off("click", this._add, this);
      map.doubleClickZoom.enable();
      L.DomEvent.off(document, "keydown", this._key, this);
      map.removeLayer(this._line);
      map.removeLayer(this._marks);
      map.getContainer().classList.remove("cm-measuring");
      this._bar.classList.remove("cm-measure-on");
    },
    _key: function (e) { if (e.key === "Escape") { this.stop(); } },
    _add: function (e) { this.addPoint(e.latlng); },
    addPoint: function (latlng) {
      this._pts.push(L.latLng(latlng));
      this._line.addLatLng(latlng);
      L.circleMarker(latlng, {radius: 3.5, color: "#111", weight: 1.5, fillColor: "#fff",
        fillOpacity: 1, interactive: false}).addTo(this._marks);
      var km = this.meters() / 1000;
      var legs = this._pts.length - 1;
      this._out.textContent = km.toLocaleString("en", {maximumFractionDigits: km < 100 ? 1 : 0}) +
        " km" + (legs > 1 ? " (" + legs + " legs)" : "");
    },
    meters: function () {
      var d = 0;
      for (var i = 1; i < this._pts.length; i++) { d += this._pts[i - 1].distanceTo(this._pts[i]); }
      return d;
    }
  });

  // Panels (legend, statistics): each collapses to its head button. arrange() keeps them clear
  // of each other, of the map's controls and of the title at every size: on a narrow map they
  // stack in one corner and one opens at a time; on a wide one they keep their corners, and
  // when two open panels would meet, the one opened last stays open (the other collapses) or,
  // if even that meets, they stack as on a phone.
  var NARROW = 640;  // map width (px) below which the panels stack, one open at a time
  // The share of a wide map the panels may cover when the page opens: they open in order of
  // importance while they fit. A narrow map opens with every panel a button.
  var OPEN_BUDGET = 0.25;

  function isOpen(node) { return !node.classList.contains("cm-collapsed"); }
  function setOpen(node, open) {
    node.classList.toggle("cm-collapsed", !open);
    var head = node.querySelector(".cm-head");
    if (head) { head.setAttribute("aria-expanded", open ? "true" : "false"); }
  }

  function panel(map, id, position) {
    var node = document.getElementById(id);
    if (!node) { return null; }
    L.DomEvent.disableClickPropagation(node);
    L.DomEvent.disableScrollPropagation(node);
    node.classList.add("leaflet-control");
    var c = L.control({position: position});
    c.onAdd = function () { return node; };  // moved between corners by arrange()
    c.cmHome = position;
    c.cmNode = node;
    c.addTo(map);
    var head = node.querySelector(".cm-head");
    if (head) {
      L.DomEvent.on(head, "click", function () {
        setOpen(node, !isOpen(node));
        arrange(map, node);
      });
    }
    Array.prototype.forEach.call(node.querySelectorAll("[data-cm-route]"), function (tr) {
      L.DomEvent.on(tr, "click", function () {
        CM.showRoute(map, parseInt(tr.getAttribute("data-cm-route"), 10));
      });
    });
    return c;
  }

  function meets(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  // What the panels must stay clear of: the map's other controls (the layer list as its
  // button: it opens over everything while pointed at) and the title.
  function obstacles(map) {
    var box = map.getContainer(), out = [];
    Array.prototype.forEach.call(box.querySelectorAll(".leaflet-control, .cm-title"), function (e) {
      if (e.classList.contains("cm-panel") || e.classList.contains("leaflet-control-layers-expanded")
          || !e.offsetWidth) { return; }
      out.push(e.getBoundingClientRect());
    });
    return out;
  }

  function clashes(map) {
    var panels = map._cm.panels.map(function (c) { return c.cmNode.getBoundingClientRect(); });
    var others = obstacles(map);
    return panels.some(function (p, i) {
      return panels.some(function (q, j) { return j > i && meets(p, q); }) ||
        others.some(function (o) { return meets(p, o); });
    });
  }

  // Keep one panel open: `keep` if it is open, else the most important open one.
  function onlyOne(panels, keep) {
    var open = panels.filter(function (c) { return isOpen(c.cmNode); });
    var kept = keep && isOpen(keep) ? keep : open.length ? open[0].cmNode : null;
    open.forEach(function (c) { if (c.cmNode !== kept) { setOpen(c.cmNode, false); } });
  }

  // Each panel's height stops below the lowest control (or the title) at the top of the map;
  // the panels above it in its corner (collapsed, or open in a wide corner) keep their room.
  function fitHeights(map, narrow) {
    var box = map.getContainer(), top = box.getBoundingClientRect().top + 10;
    Array.prototype.forEach.call(box.querySelectorAll(".leaflet-top .leaflet-control, .cm-title"),
      function (e) { if (e.offsetWidth) { top = Math.max(top, e.getBoundingClientRect().bottom + 10); } });
    var width = box.clientWidth - 20;
    map._cm.panels.forEach(function (c) {
      var node = c.cmNode;
      node.style.maxHeight = node.style.maxWidth = "";
      var style = getComputedStyle(node);
      var css = parseFloat(style.maxHeight) || Infinity;
      var cssWidth = parseFloat(style.maxWidth) || Infinity;
      var above = 0;
      for (var e = node.previousElementSibling; e; e = e.previousElementSibling) {
        above += e.offsetHeight + 10;
      }
      var room = node.getBoundingClientRect().bottom - top - above;
      node.style.maxHeight = Math.max(40, Math.floor(narrow ? room : Math.min(room, css))) + "px";
      node.style.maxWidth = Math.floor(Math.min(width, cssWidth)) + "px";
    });
  }

  function place(map, stacked) {
    map._cm.panels.forEach(function (c) {
      var where = stacked ? "bottomleft" : c.cmHome;
      if (c.getPosition() !== where) { c.setPosition(where); }
    });
  }

  // A long attribution (a shown layer's licence) wraps across a narrow map: the bottom-left
  // corner (scale, panels) then sits above it rather than under it.
  function liftLeft(map) {
    var box = map.getContainer();
    var left = box.querySelector(".leaflet-bottom.leaflet-left");
    var attr = box.querySelector(".leaflet-control-attribution");
    if (!left) { return; }
    left.style.bottom = "";
    if (!attr || !attr.offsetWidth) { return; }
    var a = attr.getBoundingClientRect(), l = left.getBoundingClientRect();
    if (a.left < l.right) {
      left.style.bottom = Math.ceil(box.getBoundingClientRect().bottom - a.top) + "px";
    }
  }

  function arrange(map, keep) {
    var panels = map._cm.panels;
    if (!panels.length) { return; }
    var box = map.getContainer(), narrow = box.clientWidth < NARROW;
    box.classList.toggle("cm-narrow", narrow);
    place(map, narrow);
    liftLeft(map);
    if (narrow) { onlyOne(panels, keep); }
    fitHeights(map, narrow);
    if (!narrow && clashes(map)) {
      onlyOne(panels, keep);
      fitHeights(map, narrow);
      if (clashes(map)) {
        place(map, true);
        fitHeights(map, narrow);
      }
    }
  }
  CM.arrange = arrange;

  // The share of the map that the panels cover (they never overlap each other).
  function covered(map) {
    var m = map.getContainer().getBoundingClientRect(), area = 0;
    map._cm.panels.forEach(function (c) {
      var r = c.cmNode.getBoundingClientRect();
      var w = Math.min(r.right, m.right) - Math.max(r.left, m.left);
      var h = Math.min(r.bottom, m.bottom) - Math.max(r.top, m.top);
      if (w > 0 && h > 0) { area += w * h; }
    });
    return area / (m.width * m.height);
  }
  CM.covered = covered;

  // At opening, the panels open in order of importance while they fit the budget.
  function openWithin(map) {
    var panels = map._cm.panels;
    panels.forEach(function (c) { setOpen(c.cmNode, false); });
    arrange(map, null);
    if (map.getContainer().clientWidth < NARROW) { return; }
    panels.forEach(function (c) {
      var shut = panels.filter(function (o) { return !isOpen(o.cmNode); });
      setOpen(c.cmNode, true);
      arrange(map, null);
      var closedOther = panels.some(function (o) {
        return o !== c && shut.indexOf(o) < 0 && !isOpen(o.cmNode);
      });
      if (!isOpen(c.cmNode) || closedOther || covered(map) > OPEN_BUDGET) {
        panels.forEach(function (o) { setOpen(o.cmNode, o !== c && shut.indexOf(o) < 0); });
        arrange(map, null);
      }
    });
  }

  // The in-page filters: the legend's checkboxes (data-cm-filter: line, pipe, commodity,
  // deposit) say what stays hidden; each layer that can filter itself is told, nothing is
  // rebuilt.
  CM.applyFilters = function (map) {
    var off = {line: {}, pipe: {}, commodity: {}, deposit: {}};
    var inputs = map.getContainer().querySelectorAll("input[data-cm-filter]");
    Array.prototype.forEach.call(inputs, function (input) {
      var kind = input.getAttribute("data-cm-filter");
      if (!input.checked && off[kind]) { off[kind][input.value] = true; }
    });
    map._cm.layers.forEach(function (o) { if (o.layer._cmFilter) { o.layer._cmFilter(off); } });
    return off;
  };

  // Open (or close) a panel as its head button would, e.g. when a click fills it.
  CM.openPanel = function (map, id, open) {
    var node = document.getElementById(id);
    if (!node || isOpen(node) === (open !== false)) { return; }
    setOpen(node, open !== false);
    arrange(map, node);
  };

  CM.finish = function (map, opts) {
    // Added one by one: an object keyed by label would merge equal labels and reorder them.
    var control = new Grouped({}, {}, {collapsed: true, position: "topright"});
    map._cm.base.forEach(function (b, i) {
      control.addBaseLayer(b.layer, b.label);
      // Only an offline base is shown by default: tiles load only when the reader picks them.
      if (i === 0 && !b.online && !map.hasLayer(b.layer)) { b.layer.addTo(map); }
    });
    map._cm.layers.forEach(function (o) { control.addOverlay(o.layer, o.label); });
    map._cm.control = control.addTo(map);
    L.control.scale({imperial: false, position: "bottomleft", maxWidth: 160}).addTo(map);
    // In order of importance: the page's own panel (routes, market, statistics), the legend.
    map._cm.panels = [panel(map, opts.stats, "bottomleft"), panel(map, opts.legend, "bottomright")]
      .filter(function (c) { return c !== null; });
    new Fullscreen().addTo(map);
    map._cm.measure = new Measure().addTo(map);
    var title = document.querySelector(".cm-title");
    if (title) { map.getContainer().appendChild(title); }
    openWithin(map);
    var inputs = map.getContainer().querySelectorAll("input[data-cm-filter]");
    Array.prototype.forEach.call(inputs, function (input) {
      L.DomEvent.on(input, "change", function () { CM.applyFilters(map); });
    });
    map.on("resize", function () { arrange(map, null); });
    // an overlay's attribution comes and goes with it
    map.on("overlayadd overlayremove", function () { arrange(map, null); });
  };
})();
