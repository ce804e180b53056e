/* The chart builder of a datastore table (progressive enhancement of the chart page's GET form).

   The form's state (mark, x, y, agg, color, unit) lives in the URL's query string, so a chart is shared by
   sharing its address. The figures come from the native API, /api/v1/datastore/{id}/rows with group_by,
   aggregates and time_bucket_* parameters (the server computes the groups; the browser only draws them), and are
   drawn by Vega-Lite through vega-embed. Vega's expressions run in its CSP-safe interpreter (no eval), and
   vega-embed's injected styles are turned off: the page's stylesheet styles the chart. Values from the table are
   only ever put in the page with textContent, never with innerHTML. */
(function () {
  "use strict";

  var TEMPORAL = { date: true, datetime: true };
  var NUMERIC = { integer: true, number: true };
  var NEEDS_NUMBER = { sum: true, avg: true, p50: true, p90: true };
  var LOCALES = {
    ca: { decimal: ",", thousands: ".", grouping: [3], currency: ["", "\u00a0€"] },
    es: { decimal: ",", thousands: ".", grouping: [3], currency: ["", "\u00a0€"] },
    en: { decimal: ".", thousands: ",", grouping: [3], currency: ["€", ""] },
  };

  function byId(id) { return document.getElementById(id); }

  function start() {
    var root = byId("chart");
    var form = byId("chart-form");
    if (!root || !form || typeof vegaEmbed !== "function") return;
    var config;
    try { config = JSON.parse(root.getAttribute("data-config") || "{}"); } catch (e) { return; }
    var types = config.types || {};
    var status = root.querySelector(".chart-status");
    var canvas = byId("chart-canvas");
    var actions = byId("chart-actions");
    var figures = byId("chart-figures");
    var apiLink = byId("chart-api-link");
    var current = null;  // the vega View on screen
    var sequence = 0;

    function msg(name) { return root.getAttribute("data-msg-" + name) || ""; }
    function say(text) { status.textContent = text; status.hidden = !text; }
    function value(name) { var el = form.elements[name]; return el && !el.disabled ? String(el.value || "") : ""; }

    function readState() {
      var s = { mark: value("mark") || "bar", x: value("x"), y: value("y"), agg: value("agg") || "count",
                color: value("color"), unit: value("unit"), version: value("version") };
      ["x", "y", "color"].forEach(function (k) { if (s[k] && !types[s[k]]) s[k] = ""; });
      if (s.unit && !TEMPORAL[types[s.x]]) s.unit = "";
      if (s.agg !== "count" && !s.y) s.agg = "count";
      if (NEEDS_NUMBER[s.agg] && !NUMERIC[types[s.y]]) s.agg = "count";
      return s;
    }

    function shareQuery(s) {
      var q = new URLSearchParams();
      ["version", "mark", "x", "unit", "agg", "y", "color"].forEach(function (k) { if (s[k]) q.set(k, s[k]); });
      return q.toString();
    }

    function unique(list) {
      return list.filter(function (v, i) { return v && list.indexOf(v) === i; });
    }

    function apiQuery(s) {
      var q = new URLSearchParams();
      q.set("version", String(config.version));
      q.set("limit", String(config.limit));
      if (s.agg === "none") {
        q.set("fields", unique([s.x, s.y, s.color]).join(","));
        q.set("sort", s.x);
        return q.toString();
      }
      var groups = unique([s.unit ? "" : s.x, s.color]);
      if (groups.length) q.set("group_by", groups.join(","));
      q.set("aggregates", s.agg === "count" ? "count" : s.agg + ":" + s.y);
      if (s.unit) {
        q.set("time_bucket_field", s.x);
        q.set("time_bucket_unit", s.unit);
        q.set("sort", s.x + "_" + s.unit);
      } else {
        q.set("sort", s.x);
      }
      return q.toString();
    }

    function encodingType(type, bucketed) {
      if (bucketed || TEMPORAL[type]) return "temporal";
      if (NUMERIC[type]) return "quantitative";
      return "nominal";
    }

    function buildSpec(s, records) {
      var unitLabel = s.unit ? (form.elements.unit.options[form.elements.unit.selectedIndex] || {}).text : "";
      var xField = s.unit ? s.x + "_" + s.unit : s.x;
      var aggLabel = (form.elements.agg.options[form.elements.agg.selectedIndex] || {}).text || s.agg;
      var yField, yTitle, yType;
      if (s.agg === "none") {
        yField = s.y; yTitle = s.y; yType = encodingType(types[s.y], false);
      } else {
        yField = s.agg === "count" ? "count" : s.agg + "_" + s.y;
        yTitle = s.agg === "count" ? aggLabel : aggLabel + " · " + s.y;
        yType = "quantitative";
      }
      var xType = encodingType(types[s.x], !!s.unit);
      if (s.mark === "bar" && xType === "quantitative" && s.agg !== "none") xType = "ordinal";
      var x = { field: xField, type: xType, title: unitLabel ? s.x + " (" + unitLabel + ")" : s.x };
      if (s.unit) x.timeUnit = { hour: "yearmonthdatehours", day: "yearmonthdate", week: "yearmonthdate",
                                 month: "yearmonth", year: "year" }[s.unit];
      if (xType === "nominal" || xType === "ordinal") x.sort = null;
      var encoding = { x: x, y: { field: yField, type: yType, title: yTitle } };
      if (s.color) encoding.color = { field: s.color, type: encodingType(types[s.color], false), title: s.color };
      var tooltip = [x, encoding.y];
      if (encoding.color) tooltip.push(encoding.color);
      encoding.tooltip = tooltip.map(function (e) {
        var t = { field: e.field, type: e.type, title: e.title };
        if (e.timeUnit) t.timeUnit = e.timeUnit;
        return t;
      });
      var mark = { type: s.mark };
      if (s.mark === "line") mark.point = true;
      if (s.mark === "point") mark.filled = true;
      return {
        $schema: "https://vega.github.io/schema/vega-lite/v6.json",
        description: (config.title || "") + ": " + yTitle + " / " + x.title,
        data: { values: records },
        mark: mark,
        encoding: encoding,
        width: "container",
        height: 380,
        autosize: { type: "fit-x", contains: "padding" },
        config: { font: "system-ui, sans-serif", axis: { labelLimit: 180 }, legend: { labelLimit: 200 } },
      };
    }

    function cellText(v) {
      if (v === null || v === undefined) return "";
      return typeof v === "object" ? JSON.stringify(v) : String(v);
    }

    function renderFigures(fields, records) {
      if (!figures) return;
      figures.textContent = "";
      var section = document.createElement("section");
      section.className = "chart-table";
      var h = document.createElement("h2");
      h.id = "chart-table-title";
      h.textContent = msg("figures");
      section.appendChild(h);
      var wrap = document.createElement("div");
      wrap.className = "table-wrap datastore-table-wrap";
      wrap.tabIndex = 0;
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-labelledby", "chart-table-title");
      var table = document.createElement("table");
      table.className = "datastore-table";
      var head = table.createTHead().insertRow();
      fields.forEach(function (f) {
        var th = document.createElement("th");
        th.scope = "col";
        th.textContent = f.name;
        head.appendChild(th);
      });
      var body = table.createTBody();
      records.forEach(function (r) {
        var tr = body.insertRow();
        fields.forEach(function (f) {
          var td = tr.insertCell();
          td.textContent = cellText(r[f.name]);
          if (NUMERIC[f.type]) td.className = "cell-num";
        });
      });
      wrap.appendChild(table);
      section.appendChild(wrap);
      figures.appendChild(section);
    }

    function clearChart() {
      if (current) { current.finalize(); current = null; }
      canvas.textContent = "";
      actions.hidden = true;
      root.removeAttribute("data-rendered");
    }

    function draw(push) {
      var s = readState();
      var share = shareQuery(s);
      var url = window.location.pathname + (share ? "?" + share : "");
      if (push && url !== window.location.pathname + window.location.search) window.history.replaceState(null, "", url);
      var ticket = ++sequence;
      root.setAttribute("data-rendered", "pending");
      if (!s.x) { clearChart(); say(msg("empty")); return; }
      say(msg("loading"));
      var api = config.rowsUrl + "?" + apiQuery(s);
      if (apiLink) apiLink.href = api;
      fetch(api, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          return r.json().then(function (body) {
            if (!r.ok) {
              var e = body && body.error ? body.error : {};
              var detail = e.fields ? Object.keys(e.fields).map(function (k) { return k + ": " + e.fields[k].join(" "); }).join("; ") : e.message;
              throw new Error(detail || String(r.status));
            }
            return body;
          });
        })
        .then(function (body) {
          if (ticket !== sequence) return null;
          var records = Array.isArray(body.records) ? body.records : [];
          renderFigures(Array.isArray(body.fields) ? body.fields : [], records);
          if (!records.length) { clearChart(); say(msg("nodata")); return null; }
          var options = {
            actions: false,
            renderer: "svg",
            ast: true,
            expr: window.vegaInterpreter.expressionInterpreter,
            defaultStyle: false,
            tooltip: { disableDefaultStyle: true },
            formatLocale: LOCALES[root.getAttribute("data-lang")] || LOCALES.en,
          };
          return vegaEmbed(canvas, buildSpec(s, records), options).then(function (result) {
            if (ticket !== sequence) { result.finalize(); return; }
            if (current) current.finalize();
            current = result.view;
            actions.hidden = false;
            say(body.next_cursor ? msg("truncated") : "");
            root.setAttribute("data-rendered", "true");
          });
        })
        .catch(function (error) {
          if (ticket !== sequence) return;
          clearChart();
          say(msg("error") + " " + (error && error.message ? error.message : ""));
          root.setAttribute("data-rendered", "error");
        });
    }

    function download(kind) {
      if (!current) return;
      var name = (config.title || "chart").replace(/[^\w.-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80) || "chart";
      current.toImageURL(kind, kind === "png" ? 2 : 1).then(function (href) {
        var a = document.createElement("a");
        a.href = href;
        a.download = name + "." + kind;
        document.body.appendChild(a);
        a.click();
        a.remove();
      });
    }

    actions.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      var kind = button.getAttribute("data-download");
      if (kind) { download(kind); return; }
      if (button.id === "chart-share" && navigator.clipboard) {
        navigator.clipboard.writeText(window.location.href).then(function () {
          say(button.getAttribute("data-copied") || "");
        }, function () { /* the address bar has the same link */ });
      }
    });
    // Controls that do not apply to the current choice are disabled (their values are ignored anyway).
    function syncControls() {
      var x = form.elements.x, unit = form.elements.unit, agg = form.elements.agg, y = form.elements.y;
      if (unit && x) unit.disabled = !TEMPORAL[types[x.value]];
      if (y && agg) y.disabled = agg.value === "count";
    }

    form.addEventListener("change", function () { syncControls(); draw(true); });
    form.addEventListener("submit", function (event) { event.preventDefault(); draw(true); });
    syncControls();
    draw(false);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
