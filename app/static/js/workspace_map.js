// A workspace's published map: the portal's own streets underneath, the map's datapoint
// layers (its style.json: sources, layers) on top, a popup with the public properties.
(function () {
  const el = document.getElementById('map');
  const map = new maplibregl.Map({ container: el, style: el.dataset.baseStyle,
                                   center: [10.80, 59.92], zoom: 12, hash: true });
  map.on('load', async () => {
    const style = await (await fetch(el.dataset.mapStyle)).json();
    for (const [id, source] of Object.entries(style.sources)) map.addSource('ws-' + id, source);
    const ids = [];
    for (const layer of style.layers) {
      if (layer.type === 'background') continue;
      map.addLayer({ ...layer, source: 'ws-' + layer.source });
      ids.push(layer.id);
    }
    window.workspaceMap = map;
    window.workspaceLayers = ids;
    el.dataset.ready = '1';
    map.on('click', (e) => {
      const hit = map.queryRenderedFeatures(e.point, { layers: ids })[0];
      if (!hit) return;
      const rows = Object.entries(hit.properties)
        .map(([k, v]) => `<tr><th>${k}</th><td>${String(v).replace(/</g, '&lt;')}</td></tr>`);
      new maplibregl.Popup().setLngLat(e.lngLat)
        .setHTML(`<table>${rows.join('')}</table>`).addTo(map);
    });
  });
})();
