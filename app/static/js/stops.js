// The problems page: one map for the problems listed, official stop (blue) and OSM stop
// (green) joined by a line; "Show on map" zooms to a problem's pair and highlights it.
(function () {
  const el = document.getElementById("stops-map");
  const data = document.getElementById("stops-data");
  if (!el || !data) return;
  const items = JSON.parse(data.textContent);

  const features = [];
  for (const p of items) {
    const props = { id: p.id, type: p.type };
    if (p.official) features.push({ type: "Feature", properties: { ...props, side: "official" }, geometry: { type: "Point", coordinates: p.official } });
    if (p.osm) features.push({ type: "Feature", properties: { ...props, side: "osm" }, geometry: { type: "Point", coordinates: p.osm } });
    if (p.official && p.osm) features.push({ type: "Feature", properties: props, geometry: { type: "LineString", coordinates: [p.official, p.osm] } });
    if (p.official && p.offer) {  // the OSM platform offered for a renamed stop
      features.push({ type: "Feature", properties: { ...props, side: "osm" }, geometry: { type: "Point", coordinates: p.offer } });
      features.push({ type: "Feature", properties: props, geometry: { type: "LineString", coordinates: [p.official, p.offer] } });
    }
    if (!p.official && !p.osm && p.at) features.push({ type: "Feature", properties: { ...props, side: "official" }, geometry: { type: "Point", coordinates: p.at } });
  }
  const points = (p) => [p.official, p.osm, p.offer, p.at].filter(Boolean);
  const bounds = (coords) => coords.reduce((b, c) => [Math.min(b[0], c[0]), Math.min(b[1], c[1]), Math.max(b[2], c[0]), Math.max(b[3], c[1])],
    [Infinity, Infinity, -Infinity, -Infinity]);
  const all = items.flatMap(points);
  const b = all.length ? bounds(all) : null;

  const map = portalMiniMap(el, { bounds: b, center: [8.0, 47.0], zoom: 6, padding: 40,
                                  maxZoom: 17 });

  map.on("load", () => {
    map.addSource("problems", { type: "geojson", data: { type: "FeatureCollection", features } });
    const selected = ["==", ["get", "id"], ["literal", -1]];
    map.addLayer({ id: "pairs", type: "line", source: "problems", filter: ["==", ["geometry-type"], "LineString"],
      paint: { "line-color": "#444", "line-width": 2, "line-dasharray": [2, 1] } });
    map.addLayer({ id: "stops", type: "circle", source: "problems", filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 6, "circle-stroke-color": "#fff", "circle-stroke-width": 1.5,
               "circle-color": ["match", ["get", "side"], "osm", "#1a9641", "#2a6fdb"] } });
    map.addLayer({ id: "selected", type: "circle", source: "problems", filter: selected,
      paint: { "circle-radius": 11, "circle-color": "rgba(0,0,0,0)", "circle-stroke-color": "#d7191c", "circle-stroke-width": 2.5 } });
    map.on("click", "stops", (e) => select(e.features[0].properties.id, false));
    map.on("mouseenter", "stops", () => { map.getCanvas().style.cursor = "pointer"; });
    map.on("mouseleave", "stops", () => { map.getCanvas().style.cursor = ""; });
    // what the map draws, for the page's tests: the stops and the lines joining pairs
    el.dataset.points = String(features.filter((f) => f.geometry.type === "Point").length);
    el.dataset.pairs = String(features.filter((f) => f.geometry.type === "LineString").length);
    el.dataset.ready = "1";
  });

  function select(id, zoom) {
    const p = items.find((x) => x.id === Number(id));
    if (!p) return;
    document.querySelectorAll(".problem.selected").forEach((n) => n.classList.remove("selected"));
    const card = document.getElementById("p" + p.id);
    if (card) {
      card.classList.add("selected");
      if (!zoom) card.scrollIntoView({ behavior: "smooth", block: "nearest" });
    }
    if (map.getLayer("selected")) map.setFilter("selected", ["all", ["==", ["geometry-type"], "Point"], ["==", ["get", "id"], p.id]]);
    if (zoom) {
      const pb = bounds(points(p));
      map.fitBounds([[pb[0], pb[1]], [pb[2], pb[3]]], { padding: 80, maxZoom: 18 });
    }
  }

  document.querySelectorAll(".show-on-map").forEach((button) =>
    button.addEventListener("click", () => select(button.dataset.problem, true)));
})();
