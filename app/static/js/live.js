// Live layers on the map, from one Server-Sent Events stream (/api/live/stream): a snapshot,
// then every change, drawn in place without reloading anything. Bike-share stations get
// two symbols, bikes (left) and free docks (right), coloured as Oslo's city-bike map does:
// red = none, orange = 3 or fewer, green = more than 3. Sensors show their latest value.
// The browser's EventSource reconnects by itself and sends Last-Event-ID, so a dropped
// connection resumes where it stopped. A panel says how fresh each feed is and warns when
// a feed is stale; a station or sensor panel charts its history (a day or a week).
(function () {
  const map = window.portalMap;
  if (!map) return;
  const LAYERS = ["gbfs_zones", "gbfs_stations", "gbfs_vehicles", "sensors"];
  const RED = "#d7191c", ORANGE = "#fd8d3c", GREEN = "#1a9641", GREY = "#9e9e9e";
  const features = Object.fromEntries(LAYERS.map((l) => [l, new Map()]));
  const lastChange = {};  // layer or feed -> Date.now() of its newest event
  const live = { connected: false, events: 0, features };
  window.portalLive = live;
  let visible = null;
  let dirty = new Set();
  const markers = new Map();  // sensor id -> maplibregl.Marker with its latest value

  function availabilityColour(n) {
    if (n === null || n === undefined) return GREY;
    return n === 0 ? RED : n <= 3 ? ORANGE : GREEN;
  }

  // what the map draws of a feature: the colours are computed here, once, so the style
  // stays simple and a test can read the colour a station is drawn with
  function drawn(layer, f) {
    if (layer !== "gbfs_stations") return f;
    const p = f.properties;
    const off = p.stale || p.is_renting === false;
    return Object.assign({}, f, { properties: Object.assign({}, p, {
      bikes_colour: off ? GREY : availabilityColour(p.num_bikes_available),
      docks_colour: off || p.is_returning === false ? GREY : availabilityColour(p.num_docks_available),
    }) });
  }

  const STYLE = {
    gbfs_zones: [{ id: "live-gbfs_zones", type: "fill", paint: {
      "fill-color": "#6a51a3", "fill-opacity": 0.12, "fill-outline-color": "#6a51a3" } }],
    gbfs_vehicles: [{ id: "live-gbfs_vehicles", type: "circle", paint: {
      "circle-radius": 4, "circle-color": ["case", ["get", "is_disabled"], GREY,
        ["get", "is_reserved"], ORANGE, "#2171b5"],
      "circle-stroke-color": "#fff", "circle-stroke-width": 1 } }],
    gbfs_stations: [
      { id: "live-gbfs_stations-bikes", type: "circle", paint: {
        "circle-radius": 6, "circle-color": ["get", "bikes_colour"], "circle-translate": [-6, 0],
        "circle-stroke-color": "#fff", "circle-stroke-width": 1.5 } },
      { id: "live-gbfs_stations-docks", type: "circle", paint: {
        "circle-radius": 6, "circle-color": ["get", "docks_colour"], "circle-translate": [6, 0],
        "circle-stroke-color": "#333", "circle-stroke-width": 1.5 } }],
    sensors: [{ id: "live-sensors", type: "circle", paint: {
      "circle-radius": 7, "circle-color": "#00838f", "circle-stroke-color": "#fff",
      "circle-stroke-width": 2 } }],
  };

  function addLayers() {
    for (const layer of LAYERS) {
      if (map.getSource("live-" + layer)) continue;
      map.addSource("live-" + layer, { type: "geojson", data: collection(layer) });
      for (const spec of STYLE[layer]) {
        map.addLayer(Object.assign({ source: "live-" + layer,
          metadata: { "portal:layer": layer } }, spec));
        map.on("click", spec.id, (e) => open(layer, e.features[0]));
        map.on("mouseenter", spec.id, () => { map.getCanvas().style.cursor = "pointer"; });
        map.on("mouseleave", spec.id, () => { map.getCanvas().style.cursor = ""; });
      }
    }
  }

  function collection(layer) {
    const out = [];
    for (const f of features[layer].values()) if (f.geometry) out.push(drawn(layer, f));
    return { type: "FeatureCollection", features: out };
  }

  function isVisible(layer) {
    // a layer the catalog does not list (yet) is shown; one it lists follows its checkbox
    return !visible || visible.has(layer) || !known(layer);
  }

  function known(layer) {
    return !!document.querySelector(`.layer-panel input[name=layer][value="${layer}"]`);
  }

  function applyVisibility() {
    for (const layer of LAYERS) {
      const on = isVisible(layer) ? "visible" : "none";
      for (const spec of STYLE[layer]) {
        if (map.getLayer(spec.id)) map.setLayoutProperty(spec.id, "visibility", on);
      }
    }
    for (const m of markers.values()) m.getElement().hidden = !isVisible("sensors");
  }

  // one redraw per frame however many events arrive in it
  function redraw() {
    for (const layer of dirty) {
      const src = map.getSource("live-" + layer);
      if (src) src.setData(collection(layer));
      if (layer === "sensors") drawSensorValues();
    }
    dirty = new Set();
    renderStatus();
  }
  let frame = null;
  function touch(layer) {
    dirty.add(layer);
    if (!frame) frame = requestAnimationFrame(() => { frame = null; redraw(); });
  }

  function firstValue(p) {
    const entries = Object.entries(p.values || {});
    if (!entries.length) return "";
    const preferred = entries.find(([k]) => /temp/i.test(k)) || entries[0];
    const v = preferred[1];
    return `${Math.round(v.value * 10) / 10}${v.unit ? " " + v.unit : ""}`;
  }

  function drawSensorValues() {
    for (const [id, f] of features.sensors) {
      if (!f.geometry) continue;
      let m = markers.get(id);
      if (!m) {
        const el = document.createElement("div");
        el.className = "sensor-value";
        el.onclick = (e) => { e.stopPropagation(); open("sensors", f); };
        m = new maplibregl.Marker({ element: el, anchor: "left", offset: [10, 0] })
          .setLngLat(f.geometry.coordinates).addTo(map);
        markers.set(id, m);
      }
      m.setLngLat(f.geometry.coordinates);
      m.getElement().textContent = firstValue(f.properties);
      m.getElement().title = `${f.properties.name || id}: ${ago(f.properties.received_at)}`;
      m.getElement().hidden = !isVisible("sensors");
    }
    for (const id of [...markers.keys()]) {
      if (!features.sensors.has(id)) { markers.get(id).remove(); markers.delete(id); }
    }
  }

  function ago(iso) {
    if (!iso) return "never";
    const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    return s < 120 ? `updated ${s} s ago` : s < 7200 ? `updated ${Math.round(s / 60)} min ago`
      : `updated ${Math.round(s / 3600)} h ago`;
  }

  // --- the status panel: freshness per feed, a warning for a stale one -------------------
  const status = document.createElement("div");
  status.className = "live-status";
  status.setAttribute("role", "status");
  map.getContainer().parentElement.append(status);

  function feeds() {
    const out = new Map();
    for (const f of features.gbfs_stations.values()) {
      const p = f.properties;
      const feed = out.get(p.feed) || { stations: 0, stale: null };
      feed.stations += 1;
      if (p.stale) feed.stale = p.stale_reason || "stale";
      out.set(p.feed, feed);
    }
    return out;
  }

  function renderStatus() {
    status.textContent = "";
    const head = document.createElement("div");
    head.className = live.connected ? "live-on" : "live-off";
    head.textContent = live.connected ? "● Live" : "○ Live: reconnecting…";
    status.append(head);
    for (const [name, feed] of feeds()) {
      const row = document.createElement("div");
      const when = lastChange["feed:" + name];
      row.textContent = `${name}: ${feed.stations} stations, ` +
        (when ? ago(new Date(when).toISOString()) : "no update yet");
      if (feed.stale) {
        const warn = document.createElement("div");
        warn.className = "live-stale";
        warn.textContent = `⚠ ${name} is stale: ${feed.stale} (showing the last good data)`;
        row.append(warn);
      }
      status.append(row);
    }
    if (features.sensors.size) {
      const row = document.createElement("div");
      const when = lastChange.sensors;
      row.textContent = `Sensors: ${features.sensors.size}, ` +
        (when ? ago(new Date(when).toISOString()) : "no update yet");
      status.append(row);
    }
  }
  setInterval(() => { renderStatus(); drawSensorValues(); }, 1000);

  // --- panels with a history chart -----------------------------------------------------------
  const SVG = "http://www.w3.org/2000/svg";
  const COLOURS = ["#2a6fdb", "#e6550d", "#31a354", "#756bb1"];
  function svg(tag, attrs, parent) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (parent) parent.append(e);
    return e;
  }

  // series: [{measurement, unit, times: [iso], values: [number]}]
  function chart(box, series) {
    box.textContent = "";
    const shown = series.filter((s) => s.values.length).slice(0, 4);
    if (!shown.length) { box.textContent = "No history for this period."; return; }
    const W = 320, H = 160, P = 28;
    const ts = shown.flatMap((s) => s.times.map(Date.parse));
    const t0 = Math.min(...ts), t1 = Math.max(...ts) || t0 + 1;
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart-svg" }, box);
    svg("line", { x1: P, y1: H - P, x2: W - 4, y2: H - P, stroke: "#999" }, root);
    shown.forEach((s, i) => {
      const lo = Math.min(...s.values), hi = Math.max(...s.values);
      const y = (v) => H - P - ((v - lo) / ((hi - lo) || 1)) * (H - 2 * P);
      const x = (t) => P + ((t - t0) / ((t1 - t0) || 1)) * (W - P - 4);
      const d = s.values.map((v, j) => `${j ? "L" : "M"}${x(Date.parse(s.times[j])).toFixed(1)},${y(v).toFixed(1)}`).join("");
      svg("path", { d, fill: "none", stroke: COLOURS[i], "stroke-width": 1.5 }, root);
      svg("text", { x: P + 2, y: 12 + 11 * i, "font-size": 10, fill: COLOURS[i] }, root)
        .textContent = `${s.measurement} ${lo}–${hi}${s.unit ? " " + s.unit : ""}`;
    });
    svg("text", { x: P, y: H - 8, "font-size": 10, fill: "#555" }, root).textContent =
      new Date(t0).toISOString().slice(0, 16).replace("T", " ");
    svg("text", { x: W - 4, y: H - 8, "font-size": 10, fill: "#555", "text-anchor": "end" },
      root).textContent = new Date(t1).toISOString().slice(0, 16).replace("T", " ");
  }

  // the station history (the gbfs API) as chart series, whatever its exact shape
  function asSeries(data) {
    if (Array.isArray(data.series)) return data.series;
    const rows = data.history || data.points || data.changes || [];
    const keys = ["num_bikes_available", "num_docks_available"];
    return keys.map((k) => ({ measurement: k.replace(/^num_|_available$/g, ""), unit: "",
      times: rows.filter((r) => r[k] != null).map((r) => r.at || r.time || r.last_reported),
      values: rows.filter((r) => r[k] != null).map((r) => r[k]) }));
  }

  function historyBox(url) {
    const wrap = document.createElement("div");
    const buttons = document.createElement("div");
    const box = document.createElement("div");
    box.className = "chart live-chart";
    for (const period of ["day", "week"]) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = period === "day" ? "A day" : "A week";
      b.onclick = () => load(period);
      buttons.append(b);
    }
    async function load(period) {
      box.textContent = "Loading…";
      try {
        const resp = await fetch(`${url}?period=${period}`, { headers: { Accept: "application/json" } });
        if (!resp.ok) { box.textContent = "No history available."; return; }
        chart(box, asSeries(await resp.json()));
      } catch (err) {
        box.textContent = "No history available.";
      }
    }
    wrap.append(buttons, box);
    load("day");
    return wrap;
  }

  function open(layer, f) {
    const id = f.id !== undefined ? String(f.id) : f.properties.device;
    const current = features[layer] && features[layer].get(id);
    const p = (current || f).properties;
    const table = map.table;
    if (layer === "sensors" || p.device) {
      const device = p.device || id;
      const rows = [["Device", device], ["Kind", p.kind], ["", ago(p.received_at)]];
      let values = p.values;
      if (typeof values === "string") values = JSON.parse(values);
      for (const [k, v] of Object.entries(values || {})) rows.push([k, `${v.value}${v.unit ? " " + v.unit : ""}`]);
      map.showSide(p.name || device, [table(rows),
        historyBox(`/api/live/sensors/${encodeURIComponent(device)}/history`)]);
    } else if (layer === "gbfs_stations") {
      const rows = [["Bikes", p.num_bikes_available], ["Free docks", p.num_docks_available],
        ["Capacity", p.capacity], ["Reported", p.last_reported], ["Feed", p.feed]];
      if (p.stale) rows.push(["⚠ Stale", p.stale_reason || "yes"]);
      map.showSide(p.name || p.station_id, [table(rows), historyBox(
        `/api/live/stations/${encodeURIComponent(p.feed)}/${encodeURIComponent(p.station_id)}/history`)]);
    } else if (layer === "gbfs_vehicles") {
      map.showSide(p.vehicle_id || "Vehicle", [table([["Type", p.form_factor || p.vehicle_type_id],
        ["Range", p.current_range_meters != null ? `${Math.round(p.current_range_meters / 1000)} km` : ""],
        ["Reserved", p.is_reserved ? "yes" : "no"], ["Disabled", p.is_disabled ? "yes" : "no"]])]);
    }
  }
  map.popups.sensor = (f) => open("sensors", f);
  map.popups.station = (f) => open("gbfs_stations", f);

  // --- the stream ------------------------------------------------------------------------------
  function apply(layer, feature, removed) {
    if (!features[layer]) return;
    if (removed !== undefined) features[layer].delete(removed);
    else features[layer].set(String(feature.id), feature);
    const key = layer === "gbfs_stations" && feature ? "feed:" + feature.properties.feed : layer;
    lastChange[key] = Date.now();
    touch(layer);
  }

  function connect() {
    const source = new EventSource(`/api/live/stream?layers=${LAYERS.join(",")}`);
    source.addEventListener("open", () => { live.connected = true; renderStatus(); });
    source.addEventListener("error", () => { live.connected = false; renderStatus(); });
    source.addEventListener("snapshot", (e) => {
      const data = JSON.parse(e.data);
      for (const layer of LAYERS) {
        features[layer].clear();
        for (const f of data.layers[layer] || []) {
          features[layer].set(String(f.id), f);
          if (layer === "gbfs_stations") lastChange["feed:" + f.properties.feed] = Date.now();
        }
        if ((data.layers[layer] || []).length && layer === "sensors") lastChange.sensors = Date.now();
        touch(layer);
      }
      live.events += 1;
    });
    source.addEventListener("change", (e) => {
      const data = JSON.parse(e.data);
      apply(data.layer, data.feature, data.removed);
      live.events += 1;
    });
  }

  window.addEventListener("portal:layers", (e) => {
    visible = e.detail;
    if (!map.getSource("live-sensors")) {
      addLayers();
      connect();
    }
    applyVisibility();
  });
})();
