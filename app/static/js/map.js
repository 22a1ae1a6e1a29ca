// The map shell: streets and stops from our own PostGIS as vector tiles, no external
// basemap, so the portal works without internet access.
(function () {
  const el = document.getElementById("map");
  const tiles = new URL(el.dataset.tiles, window.location.origin).href.replace(/%7B/g, "{").replace(/%7D/g, "}");
  const rides = window.location.origin + "/tiles/rides/{z}/{x}/{y}.mvt";
  const params = new URLSearchParams(window.location.hash.slice(1));
  const center = (params.get("c") || "10.78,59.915").split(",").map(Number);
  const zoom = Number(params.get("z") || 13);
  const PATHS = ["footway", "path", "pedestrian", "steps", "bridleway", "corridor", "track"];
  const isPath = ["in", ["get", "highway"], ["literal", PATHS]];
  const roadColor = ["match", ["get", "highway"],
    ["motorway", "trunk", "motorway_link", "trunk_link"], "#e8925a",
    ["primary", "primary_link"], "#f2c45a",
    ["secondary", "secondary_link", "tertiary", "tertiary_link"], "#fff7d6",
    ["cycleway"], "#3b7dd8",
    "#ffffff"];
  const map = new maplibregl.Map({
    container: "map",
    center, zoom, hash: false,
    style: {
      version: 8,
      sources: { osm: { type: "vector", tiles: [tiles], minzoom: 8, maxzoom: 16,
                        attribution: "© OpenStreetMap contributors" },
                 rides: { type: "vector", tiles: [rides], minzoom: 8, maxzoom: 16 } },
      layers: [
        { id: "background", type: "background", paint: { "background-color": "#eceae4" } },
        { id: "paths", type: "line", source: "osm", "source-layer": "roads", filter: isPath,
          paint: { "line-color": "#b08968", "line-dasharray": [2, 1.5],
                   "line-width": ["interpolate", ["linear"], ["zoom"], 13, 0.5, 17, 1.5] } },
        { id: "roads-casing", type: "line", source: "osm", "source-layer": "roads",
          filter: ["!", isPath], layout: { "line-join": "round" },
          paint: { "line-color": "#a8a195", "line-width": ["interpolate", ["linear"], ["zoom"], 10, 1, 16, 7] } },
        { id: "roads", type: "line", source: "osm", "source-layer": "roads",
          filter: ["!", isPath], layout: { "line-join": "round" },
          paint: { "line-color": roadColor, "line-width": ["interpolate", ["linear"], ["zoom"], 10, 0.5, 16, 5] } },
        { id: "road-stats", type: "line", source: "rides", "source-layer": "road_stats",
          layout: { "line-cap": "round" },
          paint: { "line-width": ["interpolate", ["linear"], ["zoom"], 10, 2, 16, 8],
                   "line-color": ["case", ["==", ["get", "events"], 0], "#7fa7d9",
                     ["interpolate", ["linear"], ["get", "below_share"], 0, "#1a9641", 0.25, "#fdae61", 0.5, "#d7191c"]] } },
        { id: "events", type: "circle", source: "rides", "source-layer": "events",
          paint: { "circle-radius": ["interpolate", ["linear"], ["zoom"], 12, 2.5, 17, 7],
                   "circle-color": ["case", ["get", "too_close"], "#d7191c", "#1a9641"],
                   "circle-stroke-color": "#222", "circle-stroke-width": 1 } },
        { id: "stops", type: "circle", source: "osm", "source-layer": "stops",
          paint: { "circle-radius": ["interpolate", ["linear"], ["zoom"], 13, 2.5, 17, 6],
                   "circle-color": "#c0392b", "circle-stroke-color": "#fff", "circle-stroke-width": 1 } },
      ],
    },
  });
  map.addControl(new maplibregl.NavigationControl(), "top-right");
  map.on("moveend", () => {
    const c = map.getCenter();
    history.replaceState(null, "", `#c=${c.lng.toFixed(5)},${c.lat.toFixed(5)}&z=${map.getZoom().toFixed(2)}`);
  });
  map.on("click", "stops", (e) => {
    const p = e.features[0].properties;
    new maplibregl.Popup().setLngLat(e.lngLat)
      .setText(`${p.name || "(no name)"} · ${p.kind}${p.ref ? " · ref " + p.ref : ""}`).addTo(map);
  });
  map.on("mouseenter", "stops", () => { map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", "stops", () => { map.getCanvas().style.cursor = ""; });
  // the road panel: statistics per direction and a histogram of the distances
  const panel = document.createElement("div");
  panel.className = "road-panel";
  panel.hidden = true;
  el.parentElement.append(panel);
  map.on("click", "road-stats", async (e) => {
    const id = e.features[0].id;  // the tile carries the way id as the feature id
    const resp = await fetch(`/api/roads/${id}`, { headers: { Accept: "application/json" } });
    if (!resp.ok) return;
    const data = await resp.json();
    panel.textContent = "";
    const h = document.createElement("h3");
    h.textContent = data.road.name || `${data.road.highway} (way ${data.road.osm_id})`;
    const close = document.createElement("button");
    close.textContent = "×"; close.onclick = () => { panel.hidden = true; };
    panel.append(close, h);
    for (const d of data.directions) {
      const t = document.createElement("table");
      const rows = [["Direction", d.direction > 0 ? "along the way" : d.direction < 0 ? "against the way" : "unknown"],
        ["Passes", d.passes], ["Events", d.events],
        ["Mean / median", d.events ? `${d.distance_mean.toFixed(2)} m / ${d.distance_median.toFixed(2)} m` : "—"],
        ["Min / max", d.events ? `${d.distance_min.toFixed(2)} m / ${d.distance_max.toFixed(2)} m` : "—"],
        ["Below " + (d.legal_minimum || "") + " m", d.events ? `${d.below_minimum} (${Math.round(100 * d.below_share)} %)` : "—"]];
      for (const [k, v] of rows) {
        const tr = t.insertRow(); tr.insertCell().textContent = k; tr.insertCell().textContent = v;
      }
      panel.append(t);
      const max = Math.max(1, ...d.histogram);
      const hist = document.createElement("div");
      hist.className = "histogram";
      d.histogram.forEach((n, i) => {
        const row = document.createElement("div");
        const label = i < 12 ? `${(i * 0.25).toFixed(2)}–${((i + 1) * 0.25).toFixed(2)} m` : "≥ 3 m";
        const bar = document.createElement("span");
        bar.className = "bar"; bar.style.width = `${Math.round(120 * n / max)}px`;
        row.append(label + " ", bar, ` ${n}`);
        hist.append(row);
      });
      panel.append(hist);
    }
    panel.hidden = false;
  });
  map.on("mouseenter", "road-stats", () => { map.getCanvas().style.cursor = "pointer"; });
  map.on("mouseleave", "road-stats", () => { map.getCanvas().style.cursor = ""; });
  window.portalMap = map;
})();
