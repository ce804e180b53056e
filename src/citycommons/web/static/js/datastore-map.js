/* The map of a datastore table (progressive enhancement: the page lists the rows without JavaScript).

   Rows come from the native API: the GeoJSON export of a table with a geometry column, or a page of rows with
   latitude and longitude columns. No tiles unless the page names a tile template (data-tiles, https only), so the
   map works offline on a plain background. Popups list the row's fields; every value goes into the page through
   textContent, never innerHTML. Invalid coordinates are skipped. */
(function () {
  "use strict";
  var MAX_FIELDS = 30;
  var POPUP = { minWidth: 220, maxWidth: 340, maxHeight: 220, autoPanPadding: [16, 16] };

  function number(v) {
    var n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
    return isFinite(n) ? n : null;
  }

  function text(v) {
    if (v === null || v === undefined) return "";
    var s = typeof v === "object" ? JSON.stringify(v) : String(v);
    return s.length > 300 ? s.slice(0, 300) + "…" : s;
  }

  function popup(props, title) {
    var box = document.createElement("div");
    box.className = "map-popup";
    if (title && props[title] !== undefined && props[title] !== null) {
      var strong = document.createElement("strong");
      strong.textContent = text(props[title]);
      box.appendChild(strong);
    }
    var dl = document.createElement("dl");
    Object.keys(props).filter(function (key) { return key !== title; }).slice(0, MAX_FIELDS).forEach(function (key) {
      if (props[key] === null || props[key] === undefined || props[key] === "") return;
      var dt = document.createElement("dt");
      dt.textContent = key;
      var dd = document.createElement("dd");
      dd.textContent = text(props[key]);
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    box.appendChild(dl);
    return box;
  }

  function validLatLng(lat, lon) {
    return lat !== null && lon !== null && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180;
  }

  function start() {
    var element = document.getElementById("data-map");
    if (!element || typeof L === "undefined") return;
    var status = document.getElementById("data-map-status");
    function say(t) { if (status) status.textContent = t; }
    element.textContent = "";
    var map = L.map(element, { center: [41.39, 2.17], zoom: 12, zoomSnap: 0.5, attributionControl: false });
    var tiles = element.getAttribute("data-tiles");
    if (tiles && /^https:\/\//.test(tiles)) {
      L.control.attribution({ prefix: false }).addTo(map);
      L.tileLayer(tiles, { maxZoom: 19, attribution: L.Util.escapeHTML(element.getAttribute("data-attribution") || "") }).addTo(map);
    }
    var label = element.getAttribute("data-label") || "";
    var kind = element.getAttribute("data-kind");
    var lat = element.getAttribute("data-lat"), lon = element.getAttribute("data-lon");
    var style = { color: "#1d5c96", weight: 1.5, fillColor: "#3b82c4", fillOpacity: 0.35 };

    function finish(layer, count) {
      element.setAttribute("data-features", String(count));
      if (count) map.fitBounds(layer.getBounds().pad(0.05), { maxZoom: 16 });
      else say(element.getAttribute("data-msg-none") || "");
    }

    fetch(element.getAttribute("data-source"), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (data) {
        var count = 0;
        if (kind === "geojson") {
          var features = data && Array.isArray(data.features) ? data.features : [];
          var layer = L.geoJSON(null, {
            style: function () { return style; },
            pointToLayer: function (f, at) { return L.circleMarker(at, { radius: 6, color: style.color, weight: 1, fillColor: style.fillColor, fillOpacity: 0.8 }); },
            onEachFeature: function (f, l) {
              var props = f.properties && typeof f.properties === "object" ? f.properties : {};
              l.bindPopup(popup(props, label), POPUP);
            },
          });
          features.forEach(function (f) {
            if (!f || f.type !== "Feature" || !f.geometry) return;
            try { layer.addData(f); count += 1; } catch (e) { /* an invalid geometry is skipped */ }
          });
          layer.addTo(map);
          finish(layer, count);
        } else {
          var records = data && Array.isArray(data.records) ? data.records : [];
          var group = L.featureGroup();
          records.forEach(function (rec) {
            var y = number(rec[lat]), x = number(rec[lon]);
            if (!validLatLng(y, x)) return;
            L.circleMarker([y, x], { radius: 6, color: style.color, weight: 1, fillColor: style.fillColor, fillOpacity: 0.8 })
              .bindPopup(popup(rec, label), POPUP).addTo(group);
            count += 1;
          });
          group.addTo(map);
          finish(group, count);
        }
      })
      .catch(function () {
        element.setAttribute("data-features", "error");
        say(element.getAttribute("data-msg-error") || "");
      });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
