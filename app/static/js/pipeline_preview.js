// The dry run of a dataset pipeline on the pipelines page: the form's source and settings
// are read as a run would (nothing is saved), and the inferred schema and the first 20
// features are shown under the form.
(function () {
  const button = document.getElementById("dataset-preview");
  const out = document.getElementById("dataset-preview-result");
  if (!button || !out) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;

  function cell(row, text) { row.insertCell().textContent = text == null ? "" : String(text); }

  function render(doc) {
    out.textContent = "";
    const head = document.createElement("p");
    head.textContent = `${doc.slug}: ${doc.geometry_type}, EPSG:${doc.srid}, ` +
      `${doc.schema.length} columns; the first ${doc.features.features.length} features:`;
    const schema = document.createElement("table");
    schema.className = "preview-schema";
    for (const [name, type] of doc.schema) { const r = schema.insertRow(); cell(r, name); cell(r, type); }
    const rows = document.createElement("table");
    rows.className = "preview-features";
    const h = rows.createTHead().insertRow();
    for (const [name] of doc.schema) cell(h, name);
    cell(h, "geometry");
    for (const f of doc.features.features) {
      const r = rows.insertRow();
      for (const [name] of doc.schema) cell(r, f.properties[name]);
      const c = f.geometry && f.geometry.coordinates;
      cell(r, f.geometry ? (f.geometry.type === "Point" ? `${c[0].toFixed(5)}, ${c[1].toFixed(5)}` : f.geometry.type) : "none");
    }
    out.append(head, schema, rows);
    out.hidden = false;
  }

  button.addEventListener("click", async () => {
    const form = button.form;
    out.hidden = false;
    out.textContent = "Reading the source…";
    const body = new FormData(form);
    body.set("kind", "dataset");
    const resp = await fetch(button.dataset.url, {
      method: "POST", body, headers: { "X-CSRFToken": csrf, Accept: "application/json" } });
    const doc = await resp.json();
    if (!resp.ok) { out.textContent = (doc.error && doc.error.message) || "The dry run failed."; return; }
    render(doc);
  });
})();
