(function () {
  "use strict";
  var CM = window.CorridorMap, el = CM.el;
  // The numbers arrive rounded by Python (f"{v:,.0f}"); this only adds the separators.
  function thousands(n) {
    var s = String(Math.abs(n)), out = "";
    while (s.length > 3) { out = "," + s.slice(-3) + out; s = s.slice(0, -3); }
    return (n < 0 ? "-" : "") + s + out;
  }
  CM.thousands = thousands;
  var column = CM.column;
  function joined(d, access, refs) {
    var out = access.slice();
    refs.forEach(function (ref) {
      var line = ref >= 0 ? d.edges[ref] : d.edges[~ref].slice().reverse();
      out = out.concat(out.length ? line.slice(1) : line);
    });
    return out;
  }
  // A figure as Python's f"{v:,.{decimals}f}" writes it (the payload's numbers are rounded to
  // those decimals already), with its unit; an extra carries its sign.
  function figure(v, unit, decimals, extra) {
    if (v === null) { return "\u2014"; }
    var parts = Math.abs(v).toFixed(decimals).split(".");
    var text = thousands(parseInt(parts[0], 10)) + (parts.length > 1 ? "." + parts[1] : "");
    return (extra ? (v < 0 ? "\u2212" : "+") : "") + text + " " + unit;
  }
  CM.exportFigure = figure;
  // The comparison of deposit i at market m: row k, column s (avoid, avoid + CHN, none).
  // A fixed cell is a text of the group; the others are figures of the deposit (d.nums:
  // [row, payload key, unit, decimals, is an extra]; extras only for the two constrained
  // columns).
  function cell(d, m, i, k, s) {
    var fixed = m.cells[d.g[i]][s][k];
    if (fixed >= 0) { return d.s[fixed]; }
    for (var j = 0; j < d.nums.length; j++) {
      var r = d.nums[j];
      if (r[0] === k) { return figure(m[r[1]][s][i], r[2], r[3], r[4] === 1); }
    }
    return "";
  }
  CM.exportCell = cell;
  // A column's line as drawn on the map, beside its heading (built as SVG nodes, no markup).
  var SVG = "http://www.w3.org/2000/svg";
  function swatch(style, color) {
    var svg = document.createElementNS(SVG, "svg"), line = document.createElementNS(SVG, "line");
    svg.setAttribute("width", "24");
    svg.setAttribute("height", "10");
    svg.setAttribute("class", "cm-sw");
    svg.setAttribute("aria-hidden", "true");
    [["x1", 2], ["y1", 5], ["x2", 22], ["y2", 5], ["stroke", color],
      ["stroke-width", Math.min(style.weight, 5)], ["stroke-linecap", style.lineCap || "butt"]]
      .forEach(function (a) { line.setAttribute(a[0], String(a[1])); });
    if (style.dashArray) { line.setAttribute("stroke-dasharray", style.dashArray); }
    svg.appendChild(line);
    return svg;
  }
  CM.exports = function (map, d) {
    var current = d.initial, selected = -1, n = d.g.length;
    var textsOpen = false;  // the route texts under the figures: folded until asked for (phone)
    var drawn = L.featureGroup().addTo(map);
    var icons = {};
    function icon(k) {
      var key = String(k);
      if (!icons[key]) {
        icons[key] = L.divIcon({className: "cm-xd " + (k < 0 ? "cm-xnone" : "cm-xk" + k),
          iconSize: [13, 13], html: ""});
      }
      return icons[key];
    }
    function kOf(i) { return d.markets[current].k[d.g[i]]; }
    function name(i) { return column(d.data[0], i); }
    // the options the deposits of each kind start with (CM.still: never dragged nor moved)
    var bases = {};
    function base(k) {
      var key = String(k);
      if (!bases[key]) {
        bases[key] = CM.stillOptions({icon: icon(k), keyboard: false, riseOnHover: true});
      }
      return bases[key];
    }
    var group = d.cluster ? CM.clusterGroup(CM.clusterOptions()) : L.featureGroup();
    var markers = new Array(n);
    for (var i = 0; i < n; i++) {
      markers[i] = CM.still(d.lat[i], d.lon[i], base(kOf(i)), i);
    }
    // See corridor.js: a fresh cluster group takes the whole array and clusters it in chunks.
    if (d.cluster && Array.isArray(group._needsClustering) && !group._needsClustering.length) {
      group._needsClustering = markers;
    } else {
      markers.forEach(function (mk) { group.addLayer(mk); });
    }
    var hover = L.tooltip({direction: "top", offset: [0, -6]});
    group.on("mouseover", function (e) {
      var j = e.layer.options.cmIndex;
      if (j === undefined) { return; }
      hover.setLatLng(e.layer.getLatLng()).setContent(el("span", null, name(j)));
      map.openTooltip(hover);
    });
    group.on("mouseout", function () { map.closeTooltip(hover); });
    group.on("click", function (e) {
      var j = e.layer.options.cmIndex;
      if (j !== undefined) { select(j); }
    });
    group.cmGroup = "Deposits";
    map._cm.layers.push({layer: group, label: "Deposits, by corridor of their best route"});
    group.addTo(map);
    var star = L.divIcon({className: "cm-market", iconSize: [22, 22], html: d.star});
    var market = L.marker(d.markets[current].c, {icon: star, zIndexOffset: 2000, keyboard: false});
    market.bindTooltip(function () { return el("span", null, d.markets[current].name); },
      {direction: "right", permanent: true, className: "cm-market-label"});
    market.addTo(map);

    var sel = document.getElementById("cm-market");
    var sum = document.getElementById("cm-sum");
    var cmp = document.getElementById("cm-cmp");
    d.markets.forEach(function (m, j) {
      var o = el("option", null, m.name);
      o.value = String(j);
      sel.appendChild(o);
    });
    sel.value = String(current);
    L.DomEvent.on(sel, "change", function () { setMarket(parseInt(sel.value, 10)); });

    function setMarket(j) {
      current = j;
      for (var i = 0; i < n; i++) {
        var ic = icon(kOf(i));
        if (markers[i].options.icon !== ic) { markers[i].setIcon(ic); }
      }
      market.setLatLng(d.markets[current].c);
      market.setTooltipContent(el("span", null, d.markets[current].name));
      sum.textContent = d.markets[current].summary;
      if (selected >= 0) { select(selected); } else { cmp.textContent = ""; }
    }

    function select(i) {
      selected = i;
      var m = d.markets[current], routes = m.routes[d.groupNode[d.g[i]]];
      var access = [[d.lat[i], d.lon[i]], d.nodes[d.groupNode[d.g[i]]]];
      drawn.clearLayers();
      markers.forEach(function (mk) {
        var e = mk.getElement();
        if (e) { e.classList.remove("cm-xsel"); }
      });
      var e = markers[i].getElement();
      if (e) { e.classList.add("cm-xsel"); }
      // One line per column of the comparison, in its style (d.lines): the best avoiding
      // d.avoid solid in its corridor's colour, the one avoiding d.avoid2 dotted, the
      // unconstrained one dashed; drawn in that order, so each shows where they share track.
      d.lines.forEach(function (style, s) {
        var refs = routes[d.routeOf[s]];
        if (!refs) { return; }
        var latlngs = joined(d, access, refs);
        var opts = L.extend({pane: "cmRoutes", interactive: false,
          className: s === 0 ? "cm-xroute" : "cm-xroute" + s}, style);
        if (s === 0) {
          opts.color = d.palette[kOf(i)];
          drawn.addLayer(L.polyline(latlngs, {pane: "cmRoutes", color: "#fff",
            weight: style.weight + 3, opacity: 0.85, interactive: false}));
        }
        drawn.addLayer(L.polyline(latlngs, opts));
      });
      cmp.textContent = "";
      document.getElementById("cm-stats").classList.add("cm-xpicked");
      cmp.appendChild(el("div", "cm-dep-title", name(i) + " \u2192 " + m.name));
      var t = el("table"), head = el("tr");
      head.appendChild(el("th"));
      d.heads.forEach(function (h, s) {
        var th = el("th");
        th.appendChild(swatch(d.lines[s], s === 0 ? d.palette[kOf(i)] : d.lines[s].color));
        th.appendChild(document.createTextNode(h));
        head.appendChild(th);
      });
      var thead = el("thead");
      thead.appendChild(head);
      t.appendChild(thead);
      // d.rows: the figures, each with what the constrained columns add below it (the
      // unconstrained route is the reference); d.more: the route texts, folded on a phone.
      var main = el("tbody"), texts = el("tbody", "cm-xtexts");
      d.rows.forEach(function (pair) {
        var tr = el("tr");
        tr.appendChild(el("th", null, d.cmp[pair[0]]));
        for (var s = 0; s < 3; s++) {
          var td = el("td", null, cell(d, m, i, pair[0], s));
          var x = s < 2 ? cell(d, m, i, pair[1], s) : "";
          if (x) { td.appendChild(el("span", "cm-xx", x)); }
          tr.appendChild(td);
        }
        main.appendChild(tr);
      });
      d.more.forEach(function (k) {
        var tr = el("tr");
        tr.appendChild(el("th", null, d.cmp[k]));
        for (var s = 0; s < 3; s++) { tr.appendChild(el("td", null, cell(d, m, i, k, s))); }
        texts.appendChild(tr);
      });
      t.appendChild(main);
      t.appendChild(texts);
      cmp.appendChild(t);
      cmp.appendChild(el("p", "cm-xkey", d.key));
      var fold = el("button", "cm-xfold", d.moreLabel);
      fold.type = "button";
      fold.setAttribute("aria-expanded", textsOpen ? "true" : "false");
      L.DomEvent.on(fold, "click", function () {
        textsOpen = !textsOpen;
        fold.setAttribute("aria-expanded", textsOpen ? "true" : "false");
        cmp.classList.toggle("cm-xless", !textsOpen);
        CM.arrange(map, document.getElementById("cm-stats"));
      });
      cmp.classList.toggle("cm-xless", !textsOpen);
      cmp.appendChild(fold);
      var more = el("button", "cm-more", "Details of the deposit");
      more.type = "button";
      L.DomEvent.on(more, "click", function () { details(i); });
      cmp.appendChild(more);
      CM.openPanel(map, "cm-stats");  // the comparison is what the click asked for
      var b = drawn.getBounds();
      if (b.isValid()) { map.fitBounds(b, CM.clearView(map, 40, {maxZoom: 7})); }
    }
    function details(i) {
      var v = d.data.map(function (c) { return column(c, i); });
      L.popup({maxWidth: 380, offset: [0, -4]}).setLatLng(markers[i].getLatLng())
        .setContent(CM.card({cols: d.cols, links: d.links, notes: d.notes}, v)).openOn(map);
    }
    CM.depositDetails = details;
    CM.depositName = name;
    CM.exportMarkers = markers;
    CM.exportGroup = group;
    CM.selectDeposit = select;
    CM.setMarket = setMarket;
    sum.textContent = d.markets[current].summary;
  };
})();
