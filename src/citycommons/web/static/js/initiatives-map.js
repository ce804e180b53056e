/* The initiatives map (progressive enhancement; the list on the page is the no-JavaScript alternative) and the
   location picker of the submission form. No tiles unless the page gives a template (data-tiles): the districts'
   outlines are drawn on a plain background, so it works offline. Data from visitors is only ever put in the page
   with textContent or as attribute values: never with innerHTML. Invalid features are skipped. */
(function () {
  "use strict";
  var BARCELONA = [41.395, 2.165];

  function validPoint(feature) {
    if (!feature || feature.type !== "Feature" || !feature.geometry) return null;
    var g = feature.geometry;
    if (g.type !== "Point" || !Array.isArray(g.coordinates) || g.coordinates.length < 2) return null;
    var lon = Number(g.coordinates[0]), lat = Number(g.coordinates[1]);
    if (typeof g.coordinates[0] !== "number" || typeof g.coordinates[1] !== "number") return null;
    if (!isFinite(lat) || !isFinite(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180) return null;
    return [lat, lon];
  }

  function text(value) {
    return typeof value === "string" ? value : "";
  }

  function baseMap(element) {
    var map = L.map(element, { center: BARCELONA, zoom: 12, zoomSnap: 0.5, attributionControl: false });
    var tiles = element.getAttribute("data-tiles");
    if (tiles && /^https:\/\//.test(tiles)) {
      L.control.attribution({ prefix: false }).addTo(map);
      L.tileLayer(tiles, { maxZoom: 19, attribution: L.Util.escapeHTML(element.getAttribute("data-attribution") || "") }).addTo(map);
    }
    var outlines = element.getAttribute("data-outlines");
    if (outlines) {
      fetch(outlines, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data || !Array.isArray(data.features)) return;
          var layer = L.geoJSON(data, {
            interactive: false,
            style: function () { return { color: "#6b7785", weight: 1.5, fillColor: "#dfe6ee", fillOpacity: 0.6 }; },
          }).addTo(map);
          layer.bringToBack();
          if (!element.hasAttribute("data-fitted")) map.fitBounds(layer.getBounds(), { padding: [8, 8] });
        })
        .catch(function () { /* the outlines are decoration */ });
    }
    return map;
  }

  function popupFor(props, moreLabel) {
    var box = document.createElement("div");
    box.className = "map-popup";
    var title = document.createElement("strong");
    title.textContent = text(props.name);
    box.appendChild(title);
    if (text(props.district)) {
      var where = document.createElement("p");
      where.textContent = text(props.district);
      box.appendChild(where);
    }
    var id = text(props.id);
    if (/^[0-9a-f-]{1,36}$/.test(id)) {
      var link = document.createElement("a");
      link.href = "/initiatives/" + encodeURIComponent(id);
      link.textContent = moreLabel || "More";
      box.appendChild(link);
    }
    return box;
  }

  function initiativesMap(element) {
    element.textContent = "";
    var map = baseMap(element);
    var more = element.getAttribute("data-more");
    var url = element.getAttribute("data-features");
    if (!url) return;
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        var features = data && Array.isArray(data.features) ? data.features : [];
        var points = [];
        features.forEach(function (feature) {
          var at = validPoint(feature);
          if (!at) return;
          var props = feature.properties && typeof feature.properties === "object" ? feature.properties : {};
          var name = text(props.name);
          L.marker(at, { title: name, alt: name, keyboard: true }).bindPopup(popupFor(props, more)).addTo(map);
          points.push(at);
        });
        if (points.length) {
          element.setAttribute("data-fitted", "");
          map.fitBounds(L.latLngBounds(points).pad(0.2), { maxZoom: 15 });
        }
        element.setAttribute("data-markers", String(points.length));
      })
      .catch(function () { element.setAttribute("data-markers", "error"); });
  }

  function locationPicker(element) {
    var latInput = document.getElementById(element.getAttribute("data-lat-input"));
    var lonInput = document.getElementById(element.getAttribute("data-lon-input"));
    if (!latInput || !lonInput) return;
    var map = baseMap(element);
    var marker = null;
    function place(lat, lon) {
      if (!isFinite(lat) || !isFinite(lon) || lat < -90 || lat > 90 || lon < -180 || lon > 180) return;
      if (marker) marker.setLatLng([lat, lon]);
      else marker = L.marker([lat, lon], { keyboard: false }).addTo(map);
    }
    function fromInputs() {
      if (latInput.value.trim() === "" || lonInput.value.trim() === "") return;
      place(parseFloat(latInput.value), parseFloat(lonInput.value));
    }
    map.on("click", function (event) {
      latInput.value = event.latlng.lat.toFixed(5);
      lonInput.value = event.latlng.lng.toFixed(5);
      place(event.latlng.lat, event.latlng.lng);
    });
    latInput.addEventListener("change", fromInputs);
    lonInput.addEventListener("change", fromInputs);
    fromInputs();
  }

  function start() {
    if (typeof L === "undefined") return;
    var list = document.getElementById("initiatives-map");
    if (list) initiativesMap(list);
    var picker = document.getElementById("location-picker");
    if (picker) locationPicker(picker);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
