// Privacy zones on a map: existing zones drawn as circles; a click fills the form's centre.
(function () {
  const el = document.getElementById("zone-map");
  if (!el) return;
  const zones = JSON.parse(el.dataset.zones || "[]");
  const form = document.getElementById("zone-form");
  function circle(lon, lat, r) {
    const pts = [];
    for (let i = 0; i <= 48; i++) {
      const a = 2 * Math.PI * i / 48;
      pts.push([lon + (r / (111320 * Math.cos(lat * Math.PI / 180))) * Math.cos(a), lat + (r / 110540) * Math.sin(a)]);
    }
    return { type: "Feature", geometry: { type: "Polygon", coordinates: [pts] }, properties: {} };
  }
  const first = zones[0];
  const map = portalMiniMap(el, { center: first ? [first.lon, first.lat] : [10.75, 59.91],
                                  zoom: first ? 13 : 11 });
  map.on("load", () => {
    map.addSource("zones", { type: "geojson", data: { type: "FeatureCollection", features: zones.map((z) => circle(z.lon, z.lat, z.radius_m)) } });
    map.addLayer({ id: "zones", type: "fill", source: "zones", paint: { "fill-color": "#7b3294", "fill-opacity": 0.3 } });
  });
  map.on("click", (e) => {
    form.elements.lat.value = e.lngLat.lat.toFixed(6);
    form.elements.lon.value = e.lngLat.lng.toFixed(6);
  });
})();
