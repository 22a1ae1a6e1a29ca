// One ride: the recorded and snapped lines and the events on a map, and a chart of the
// overtaking distance and speed over time (plain SVG, no chart library needed).
(function () {
  const el = document.getElementById("ride-map");
  if (!el) return;
  const SVG = "http://www.w3.org/2000/svg";

  function svg(tag, attrs, parent) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (parent) parent.append(node);
    return node;
  }

  function bounds(geojsons) {
    let b = null;
    const add = (c) => {
      if (typeof c[0] === "number") {
        b = b ? [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])] : [c[0], c[1], c[0], c[1]];
      } else c.forEach(add);
    };
    geojsons.filter(Boolean).forEach((g) => add(g.coordinates));
    return b;
  }

  function drawMap(data) {
    const b = bounds([data.snapped, data.raw, ...data.events.features.map((f) => f.geometry)]);
    const map = portalMiniMap(el, { bounds: b, center: [10.75, 59.91], zoom: 11 });
    map.on("load", () => {
      if (data.raw) {
        map.addSource("raw", { type: "geojson", data: data.raw });
        map.addLayer({ id: "raw", type: "line", source: "raw", paint: { "line-color": "#888", "line-width": 2, "line-dasharray": [2, 2] } });
      }
      if (data.snapped) {
        map.addSource("snapped", { type: "geojson", data: data.snapped });
        map.addLayer({ id: "snapped", type: "line", source: "snapped", paint: { "line-color": "#2a6fdb", "line-width": 4 } });
      }
      map.addSource("events", { type: "geojson", data: data.events });
      map.addLayer({ id: "events", type: "circle", source: "events", paint: {
        "circle-radius": 6, "circle-stroke-color": "#fff", "circle-stroke-width": 1.5,
        "circle-color": ["case", ["<", ["coalesce", ["get", "distance_left"], 99], ["get", "legal_minimum"]], "#d7191c", "#1a9641"] } });
      map.on("click", "events", (e) => {
        const p = e.features[0].properties;
        new maplibregl.Popup().setLngLat(e.lngLat).setText(
          `${p.distance_left != null ? Number(p.distance_left).toFixed(2) + " m" : "no distance"} · ${p.time}` +
          ` (minimum ${p.legal_minimum} m)`).addTo(map);
      });
    });
  }

  function drawChart(data) {
    const box = document.getElementById("ride-chart");
    const s = data.series;
    if (!s) {  // others see the events only
      box.textContent = data.events.features.length ? "" : "No overtaking events.";
      const ul = document.createElement("ul");
      data.events.features.forEach((f) => {
        const li = document.createElement("li");
        li.textContent = `${f.properties.time}: ${f.properties.distance_left != null ? f.properties.distance_left.toFixed(2) + " m" : "—"}`;
        ul.append(li);
      });
      box.append(ul);
      return;
    }
    const W = 900, H = 260, P = 36;
    const tMax = Math.max(1, s.t[s.t.length - 1]);
    const dMax = 3, vMax = 1.25 * Math.max(5, ...s.speed.filter((v) => v != null)) * 3.6;  // headroom above the fastest
    const x = (t) => P + (W - 2 * P) * t / tMax;
    const yD = (d) => H - P - (H - 2 * P) * Math.min(d, dMax) / dMax;
    const yV = (v) => H - P - (H - 2 * P) * v / vMax;
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "chart-svg" }, box);
    svg("line", { x1: P, y1: H - P, x2: W - P, y2: H - P, stroke: "#999" }, root);
    for (const m of [0.5, 1, 1.5, 2, 2.5, 3]) {
      svg("text", { x: 2, y: yD(m) + 4, "font-size": 10, fill: "#555" }, root).textContent = m + " m";
      svg("line", { x1: P, y1: yD(m), x2: W - P, y2: yD(m), stroke: "#eee" }, root);
    }
    let speedPath = "";
    s.speed.forEach((v, i) => { if (v != null) speedPath += (speedPath ? "L" : "M") + x(s.t[i]).toFixed(1) + "," + yV(v * 3.6).toFixed(1); });
    svg("path", { d: speedPath, fill: "none", stroke: "#9ab", "stroke-width": 1 }, root);
    s.left.forEach((d, i) => { if (d != null) svg("circle", { cx: x(s.t[i]), cy: yD(d), r: 1.5, fill: "#2a6fdb" }, root); });
    data.events.features.forEach((f) => {
      const p = f.properties;
      if (p.distance_left == null) return;
      const t = (Date.parse(p.time) / 1000) - s.start;
      svg("circle", { cx: x(t), cy: yD(p.distance_left), r: 5, fill: p.distance_left < p.legal_minimum ? "#d7191c" : "#1a9641" }, root);
    });
    const legend = document.createElement("p");
    legend.className = "legend";
    legend.textContent = "Blue dots: measured distance on the left; big dots: confirmed overtakes; grey line: speed (km/h, up to " + Math.round(vMax) + ").";
    box.append(legend);
  }

  fetch(el.dataset.url, { headers: { Accept: "application/json" } })
    .then((r) => r.json())
    .then((data) => { drawMap(data); drawChart(data); });
})();
