// A small map over our own streets (no external basemap, so it works offline), for the
// ride, privacy-zone and stop-review pages. bounds: [minLon, minLat, maxLon, maxLat] or
// null, then center/zoom are used.
window.portalMiniMap = function (container, { bounds = null, center, zoom, padding = 30, maxZoom } = {}) {
  return new maplibregl.Map({
    container,
    style: { version: 8, sources: { osm: { type: "vector", tiles: [location.origin + "/tiles/osm/{z}/{x}/{y}.mvt"], maxzoom: 16 } },
             layers: [{ id: "bg", type: "background", paint: { "background-color": "#eceae4" } },
                      { id: "roads", type: "line", source: "osm", "source-layer": "roads", paint: { "line-color": "#fff", "line-width": 2 } }] },
    bounds: bounds ? [[bounds[0], bounds[1]], [bounds[2], bounds[3]]] : undefined,
    center: bounds ? undefined : center, zoom: bounds ? undefined : zoom,
    // an undefined maxZoom would override MapLibre's default with undefined: leave it out
    fitBoundsOptions: maxZoom === undefined ? { padding } : { padding, maxZoom },
  });
};
