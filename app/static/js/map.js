// The map: every catalog layer as vector tiles from our own server (the style comes from
// /styles/portal.json, the layer panel and legend from /api/layers), so the portal works
// offline; an external basemap style can be set (PORTAL_BASEMAP_STYLE_URL).
// The URL keeps the view: #c=lon,lat&z=zoom&l=visible,layers&from=&to=&mine=1
(function () {
  const el = document.getElementById("map");
  const loggedIn = el.dataset.user === "1";
  const hash = new URLSearchParams(window.location.hash.slice(1));
  const center = (hash.get("c") || "10.78,59.915").split(",").map(Number);
  const zoom = Number(hash.get("z") || 13);
  const state = {
    layers: hash.has("l") ? new Set(hash.get("l").split(",").filter(Boolean)) : null,
    from: hash.get("from") || "", to: hash.get("to") || "",
    mine: loggedIn && hash.get("mine") === "1",
  };
  let catalog = [];  // [{title, layers: [...]}]
  let style = null;

  const map = new maplibregl.Map({ container: "map", center, zoom, hash: false,
                                   style: { version: 8, sources: {}, layers: [] } });
  map.addControl(new maplibregl.NavigationControl(), "top-right");
  window.portalMap = map;

  function rideQuery() {
    const q = new URLSearchParams();
    if (state.from) q.set("from", state.from);
    if (state.to) q.set("to", state.to);
    if (state.mine) q.set("mine", "1");
    const s = q.toString();
    return s ? "?" + s : "";
  }

  function tilesOf(source) {
    return source.url.replace(/\/tilejson\.json$/, "/{z}/{x}/{y}.mvt") + rideQuery();
  }

  function writeUrl() {
    const c = map.getCenter();
    const q = new URLSearchParams();
    q.set("c", `${c.lng.toFixed(5)},${c.lat.toFixed(5)}`);
    q.set("z", map.getZoom().toFixed(2));
    q.set("l", [...state.layers].join(","));
    for (const k of ["from", "to"]) if (state[k]) q.set(k, state[k]);
    if (state.mine) q.set("mine", "1");
    history.replaceState(null, "", "#" + q.toString().replace(/%2C/g, ","));
  }

  function styleLayersOf(layerId) {
    // the map's own layers too: live.js adds layers of catalog layers (drawn from the
    // live stream) with the same metadata, so one checkbox shows and hides both
    const layers = (map.getStyle() && map.getStyle().layers) || style.layers;
    return layers.filter((l) => l.metadata && l.metadata["portal:layer"] === layerId)
      .map((l) => l.id);
  }

  function applyVisibility() {
    for (const group of catalog) {
      for (const layer of group.layers) {
        const on = state.layers.has(layer.id) ? "visible" : "none";
        for (const id of styleLayersOf(layer.id)) {
          if (map.getLayer(id)) map.setLayoutProperty(id, "visibility", on);
        }
      }
    }
    renderLegend();
    writeUrl();
    window.dispatchEvent(new CustomEvent("portal:layers", { detail: state.layers }));
  }

  function applyFilters() {
    for (const [id, src] of Object.entries(style.sources)) {
      const s = map.getSource(id);
      if (s && s.setTiles) s.setTiles([tilesOf(src)]);
    }
    writeUrl();
  }

  // --- the panel: layers by group, filters, legend ------------------------------------------
  const panel = document.createElement("aside");
  panel.className = "layer-panel";
  panel.innerHTML = `<button type="button" class="panel-toggle" aria-expanded="true">Layers</button>
    <div class="panel-body"><div class="groups"></div>
    <fieldset class="filters"><legend>Ride filters</legend>
      <label>From <input type="date" name="from"></label>
      <label>To <input type="date" name="to"></label>
      ${loggedIn ? '<label><input type="checkbox" name="mine"> my data only</label>' : ""}
    </fieldset>
    <div class="legend"></div></div>`;
  el.parentElement.append(panel);
  const body = panel.querySelector(".panel-body");
  const toggle = panel.querySelector(".panel-toggle");
  toggle.onclick = () => {
    body.hidden = !body.hidden;
    toggle.setAttribute("aria-expanded", String(!body.hidden));
  };
  if (window.matchMedia("(max-width: 640px)").matches) toggle.onclick();
  for (const name of ["from", "to"]) {
    const input = panel.querySelector(`input[name=${name}]`);
    input.value = state[name];
    input.onchange = () => { state[name] = input.value; applyFilters(); };
  }
  const mineBox = panel.querySelector("input[name=mine]");
  if (mineBox) {
    mineBox.checked = state.mine;
    mineBox.onchange = () => { state.mine = mineBox.checked; applyFilters(); };
  }

  function renderPanel() {
    const groups = panel.querySelector(".groups");
    groups.textContent = "";
    for (const group of catalog) {
      // a group the arrangement collapses shows its title only, until it is opened
      const fs = document.createElement("fieldset");
      fs.dataset.group = group.id;
      if (group.collapsed) fs.classList.add("collapsed");
      const lg = document.createElement("legend");
      const opener = document.createElement("button");
      opener.type = "button";
      opener.className = "group-toggle";
      opener.textContent = group.title;
      opener.setAttribute("aria-expanded", String(!group.collapsed));
      opener.onclick = () => {
        fs.classList.toggle("collapsed");
        opener.setAttribute("aria-expanded", String(!fs.classList.contains("collapsed")));
      };
      lg.append(opener);
      fs.append(lg);
      for (const layer of group.layers) {
        const label = document.createElement("label");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.name = "layer";
        box.value = layer.id;
        box.checked = state.layers.has(layer.id);
        box.onchange = () => {
          if (box.checked) state.layers.add(layer.id); else state.layers.delete(layer.id);
          applyVisibility();
        };
        label.append(box, " " + layer.title);
        fs.append(label);
      }
      groups.append(fs);
    }
  }

  function renderLegend() {
    const legend = panel.querySelector(".legend");
    legend.textContent = "";
    for (const group of catalog) {
      for (const layer of group.layers) {
        if (!state.layers.has(layer.id) || !(layer.legend.length || layer.legend_text)) continue;
        const h = document.createElement("h4");
        h.textContent = layer.title;
        legend.append(h);
        if (layer.legend_text) {
          const p = document.createElement("p");
          p.className = "legend-text";
          p.textContent = layer.legend_text;
          legend.append(p);
        }
        for (const [colour, text] of layer.legend) {
          const row = document.createElement("div");
          const sw = document.createElement("span");
          sw.className = "swatch";
          sw.style.background = colour;
          row.append(sw, " " + text);
          legend.append(row);
        }
      }
    }
  }

  // --- popups and side panels --------------------------------------------------------------
  const side = document.createElement("div");
  side.className = "road-panel";
  side.hidden = true;
  el.parentElement.append(side);

  function showSide(title, nodes) {
    side.textContent = "";
    const close = document.createElement("button");
    close.textContent = "×";
    close.className = "close";
    close.onclick = () => { side.hidden = true; };
    const h = document.createElement("h3");
    h.textContent = title;
    side.append(close, h, ...nodes);
    side.hidden = false;
  }

  function table(rows) {
    const t = document.createElement("table");
    for (const [k, v] of rows) {
      if (v === undefined || v === null || v === "") continue;
      const tr = t.insertRow();
      tr.insertCell().textContent = k;
      const td = tr.insertCell();
      if (v instanceof Node) td.append(v); else td.textContent = v;
    }
    return t;
  }

  function link(href, text) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  async function roadPanel(wayId) {
    const resp = await fetch(`/api/roads/${wayId}`, { headers: { Accept: "application/json" } });
    if (!resp.ok) return;
    const data = await resp.json();
    const nodes = [];
    for (const d of data.directions) {
      nodes.push(table([
        ["Direction", d.direction > 0 ? "along the way" : d.direction < 0 ? "against the way" : "unknown"],
        ["Passes", d.passes], ["Events", d.events],
        ["Mean / median", d.events ? `${d.distance_mean.toFixed(2)} m / ${d.distance_median.toFixed(2)} m` : "—"],
        ["Min / max", d.events ? `${d.distance_min.toFixed(2)} m / ${d.distance_max.toFixed(2)} m` : "—"],
        ["Below " + (d.legal_minimum || "") + " m", d.events ? `${d.below_minimum} (${Math.round(100 * d.below_share)} %)` : "—"]]));
      const max = Math.max(1, ...d.histogram);
      const hist = document.createElement("div");
      hist.className = "histogram";
      d.histogram.forEach((n, i) => {
        const row = document.createElement("div");
        const label = i < 12 ? `${(i * 0.25).toFixed(2)}–${((i + 1) * 0.25).toFixed(2)} m` : "≥ 3 m";
        const bar = document.createElement("span");
        bar.className = "bar";
        bar.style.width = `${Math.round(120 * n / max)}px`;
        row.append(label + " ", bar, ` ${n}`);
        hist.append(row);
      });
      nodes.push(hist);
    }
    showSide(data.road.name || `${data.road.highway} (way ${data.road.osm_id})`, nodes);
  }

  const POPUPS = {
    road: (f) => roadPanel(f.id),
    event: (f) => showSide("Overtaking event", [table([
      ["Time", f.properties.time], ["Distance", `${f.properties.distance_left} m`],
      ["Legal minimum", `${f.properties.legal_minimum} m`],
      ["Speed", f.properties.speed != null ? `${f.properties.speed} km/h` : ""],
      ["Too close", f.properties.too_close ? "yes" : "no"]])]),
    stop: (f) => showSide(f.properties.name || "(no name)", [table([
      ["OSM", f.properties.id], ["Kind", f.properties.kind], ["Ref", f.properties.ref],
      ["Operator", f.properties.operator]])]),
    official_stop: (f) => showSide(f.properties.name || f.properties.stop_id, [table([
      ["Id", f.properties.stop_id], ["Platform", f.properties.platform_code],
      ["Is", f.properties.level === "place" ? "a stop place" : "a platform"],
      ["Mode", f.properties.mode], ["Operator", f.properties.operator],
      ["Source", f.properties.source],
      ["Review", link(`/stops/problems?q=${encodeURIComponent(f.properties.stop_id)}`, "problems")]])]),
    match: (f) => showSide("Stop match", [table([
      ["Official", `${f.properties.official_name || ""} (${f.properties.official_id})`],
      ["OSM", `${f.properties.osm_name || ""} (${f.properties.osm_key})`],
      ["Method", `${f.properties.method} / ${f.properties.stage}`],
      ["Score", f.properties.score], ["Distance", `${f.properties.distance_m} m`],
      ["Review", link(`/stops/problems?q=${encodeURIComponent(f.properties.official_id)}`, "review this stop")]])]),
    problem: (f) => showSide("Stop problem", [table([
      ["Type", f.properties.type], ["Priority", f.properties.priority],
      ["Official", f.properties.official_id], ["OSM", f.properties.osm_key],
      ["Review", link(`/stops/problems?q=${encodeURIComponent(f.properties.official_id || f.properties.osm_key || "")}`, "review")]])]),
    // a published dataset: whatever columns it has
    dataset: (f) => showSide(f.properties.name || f.properties.title || `Feature ${f.id}`,
      [table(Object.entries(f.properties))]),
    ride: (f) => showSide(f.properties.title || `Ride ${f.id}`, [table([
      ["Recorded", f.properties.recorded_at], ["Length", `${f.properties.length_m} m`],
      ["Events", f.properties.events], ["Open", link(`/rides/${f.id}`, "the ride")]])]),
  };

  // the fields an admin chose for a layer's popup (/admin/map), in their order
  function fieldsPopup(layer) {
    return (f) => showSide(layer.title, [table(layer.popup_fields.map(
      (name) => [name, f.properties[name]]))]);
  }

  window.portalMap.popups = POPUPS;  // live.js adds its panels (sensor, station)
  window.portalMap.showSide = showSide;
  window.portalMap.table = table;

  function wirePopups() {
    for (const group of catalog) {
      for (const layer of group.layers) {
        const open = layer.popup_fields.length ? fieldsPopup(layer) : POPUPS[layer.popup];
        if (!open) continue;
        for (const id of styleLayersOf(layer.id)) {
          map.on("click", id, (e) => open(e.features[0]));
          map.on("mouseenter", id, () => { map.getCanvas().style.cursor = "pointer"; });
          map.on("mouseleave", id, () => { map.getCanvas().style.cursor = ""; });
        }
      }
    }
  }

  // --- loading -------------------------------------------------------------------------------
  async function load() {
    const [styleResp, layersResp] = await Promise.all([
      fetch("/styles/portal.json"), fetch("/api/layers")]);
    style = await styleResp.json();
    catalog = (await layersResp.json()).groups;
    if (!state.layers) {
      state.layers = new Set(catalog.flatMap((g) => g.layers.filter((l) => l.visible)
        .map((l) => l.id)));
    }
    for (const src of Object.values(style.sources)) {
      src.tiles = [tilesOf(src)];
      src.maxzoom = 16;
      src.attribution = "© OpenStreetMap contributors";
    }
    let base = { version: 8, sources: {}, layers: [] };
    if (el.dataset.basemap) {
      try {
        base = await (await fetch(el.dataset.basemap)).json();
      } catch (err) {
        console.warn("external basemap unavailable, using our own", err);
      }
    }
    const merged = Object.assign({}, base, {
      sources: Object.assign({}, base.sources, Object.fromEntries(
        Object.entries(style.sources).map(([k, v]) => [k, { type: "vector", tiles: v.tiles,
          maxzoom: v.maxzoom, attribution: v.attribution }]))),
      layers: (base.layers.length ? base.layers : [style.layers[0]])
        .concat(style.layers.slice(1)),
    });
    map.setStyle(merged);
    map.once("styledata", () => {
      renderPanel();
      applyVisibility();
      wirePopups();
      el.dataset.ready = "1";
    });
  }

  map.on("moveend", () => { if (state.layers) writeUrl(); });
  load();
})();
