// The map shell: streets and stops from our own PostGIS as vector tiles, no external
// basemap, so the portal works without internet access.
(function () {
  const el = document.getElementById("map");
  const tiles = new URL(el.dataset.tiles, window.location.origin).href.replace(/%7B/g, "{").replace(/%7D/g, "}");
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
                        attribution: "© OpenStreetMap contributors" } },
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
  window.portalMap = map;
})();
