
(function () {
  "use strict";
  var CM = window.CorridorMap, el = CM.el;
  function joined(d, r) {
    var out = r.a.slice();
    r.e.forEach(function (ref) {
      var line = ref >= 0 ? d.edges[ref] : d.edges[~ref].slice().reverse();
      out = out.concat(out.length ? line.slice(1) : line);
    });
    return out;
  }
  CM.exports = function (map, d) {
    var current = d.initial, selected = -1;
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
    var group = L.featureGroup();
    var markers = d.c.map(function (c, i) {
      var mk = L.marker(c, {icon: icon(d.r[i][current][0]), keyboard: false, riseOnHover: true});
      mk.bindTooltip(function () { return el("span", null, d.rows[i][0]); }, {direction: "top",
        offset: [0, -6]});
      mk.on("click", function () { select(i); });
      group.addLayer(mk);
      return mk;
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
    d.markets.forEach(function (m, i) {
      var o = el("option", null, m.name);
      o.value = String(i);
      sel.appendChild(o);
    });
    sel.value = String(current);
    L.DomEvent.on(sel, "change", function () { setMarket(parseInt(sel.value, 10)); });

    function setMarket(i) {
      current = i;
      markers.forEach(function (mk, j) { mk.setIcon(icon(d.r[j][current][0])); });
      market.setLatLng(d.markets[current].c);
      market.setTooltipContent(el("span", null, d.markets[current].name));
      sum.textContent = d.markets[current].summary;
      if (selected >= 0) { select(selected); } else { cmp.textContent = ""; }
    }

    function select(i) {
      selected = i;
      var r = d.r[i][current];
      drawn.clearLayers();
      markers.forEach(function (mk) {
        var e = mk.getElement();
        if (e) { e.classList.remove("cm-xsel"); }
      });
      var e = markers[i].getElement();
      if (e) { e.classList.add("cm-xsel"); }
      if (r[2]) {
        drawn.addLayer(L.polyline(joined(d, r[2]), {pane: "cmRoutes", color: d.shortColor,
          weight: 3, opacity: 0.9, dashArray: "8 6", interactive: false}));
      }
      if (r[1]) {
        var latlngs = joined(d, r[1]);
        drawn.addLayer(L.polyline(latlngs, {pane: "cmRoutes", color: "#fff", weight: 8,
          opacity: 0.85, interactive: false}));
        drawn.addLayer(L.polyline(latlngs, {pane: "cmRoutes", color: d.palette[r[0]], weight: 5,
          opacity: 0.95, interactive: false, className: "cm-xroute"}));
      }
      cmp.textContent = "";
      cmp.appendChild(el("div", "cm-dep-title", d.rows[i][0] + " \u2192 " +
        d.markets[current].name));
      var t = el("table"), head = el("tr");
      head.appendChild(el("th"));
      d.heads.forEach(function (h) { head.appendChild(el("th", null, h)); });
      t.appendChild(head);
      d.cmp.forEach(function (label, k) {
        var tr = el("tr");
        tr.appendChild(el("th", null, label));
        r[3][k].forEach(function (v) { tr.appendChild(el("td", null, d.s[v])); });
        t.appendChild(tr);
      });
      cmp.appendChild(t);
      var more = el("button", "cm-more", "Details of the deposit");
      more.type = "button";
      L.DomEvent.on(more, "click", function () { details(i); });
      cmp.appendChild(more);
      var b = drawn.getBounds();
      if (b.isValid()) { map.fitBounds(b, {padding: [40, 40], maxZoom: 7}); }
    }
    function details(i) {
      L.popup({maxWidth: 380, offset: [0, -4]}).setLatLng(markers[i].getLatLng())
        .setContent(CM.table(d.rows[i][0], d.cols, d.rows[i])).openOn(map);
    }
    CM.depositDetails = details;
    CM.exportMarkers = markers;
    CM.selectDeposit = select;
    CM.setMarket = setMarket;
    sum.textContent = d.markets[current].summary;
  };
})();
