// The admin health page keeps itself current: every few seconds it reads the page's JSON
// (/api/admin/health, the same report the page was rendered from) and redraws the overall
// state, the components, the pipelines' last runs and the recent errors as the template
// (templates/admin/health.html) draws them. Text goes in as text, never as HTML: messages
// come from logs and from the outside. The daily usage counts change slowly; a reload shows them.
(function () {
  const REFRESH_MS = 5000;
  const link = document.getElementById("health-json");
  const refreshed = document.getElementById("refreshed");
  if (!link || !refreshed) return;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== null && v !== undefined) node.setAttribute(k, v);
    }
    for (const child of children) node.append(child === null || child === undefined ? "" : String(child));
    return node;
  }
  const row = (attrs, ...cells) => {
    const tr = el("tr", attrs);
    for (const c of cells) tr.append(el("td", {}, c));
    return tr;
  };
  const utc = (epoch) => new Date(epoch * 1000).toISOString().slice(0, 19).replace("T", " ");
  const fill = (tbody, rows) => tbody.replaceChildren(...rows);

  function components(report) {
    const rows = [];
    for (const c of report.components) {
      rows.push(row({ id: `component-${c.name}`, class: `state-${c.state}` }, c.name, c.state, c.summary));
      const detail = c.detail || {};
      if (c.name === "scheduler") {
        for (const p of detail.processes || []) {
          const age = p.heartbeat_age_seconds === null ? "gone" : `${p.heartbeat_age_seconds.toFixed(1)} s ago`;
          rows.push(row({ class: `process state-${p.ok ? "ok" : "failed"}` }, "", p.ok ? "beating" : "stopped",
            `${p.worker}: heartbeat ${age}${p.alive ? "" : ", liveness key expired"}`));
        }
      }
      if (c.name === "database" && detail.pool) {
        rows.push(row({}, "", "", `this process's pool: ${detail.pool.checked_out} in use of ` +
          `${detail.pool.size} (+${detail.pool.overflow} overflow)`));
      }
    }
    fill(document.querySelector("#components tbody"), rows);
  }

  function lastRuns(report) {
    const pipelines = report.components.find((c) => c.name === "pipelines");
    const runs = (pipelines && pipelines.detail && pipelines.detail.last_runs) || [];
    document.getElementById("last-runs-section").hidden = !runs.length;
    fill(document.querySelector("#last-runs tbody"), runs.map((r) => row({ class: `run-${r.status}` },
      r.pipeline, r.kind, r.run_id, r.status,
      r.finished_at ? r.finished_at.slice(0, 19).replace("T", " ") : "—", r.message || "")));
  }

  function errors(report) {
    const err = report.errors;
    const detail = err.detail || {};
    const parts = [];
    if (err.state === "warning") parts.push(el("p", { id: "error-rate-warning", class: "notice warning" }, err.summary));
    else if (err.state === "failed") parts.push(el("p", { class: "notice" }, `Errors cannot be read: ${err.summary}`));
    else parts.push(el("p", { id: "error-rate" }, `${err.summary}.`));
    if (detail.rule) parts.push(el("p", {}, el("small", {}, `Rule: ${detail.rule}.`)));
    if (detail.per_minute && detail.per_minute.length) {
      parts.push(el("p", {}, "Errors per minute, the last hour (oldest first): ",
        el("span", { id: "errors-per-minute" }, detail.per_minute.slice(-60).map((m) => m.errors).join(" "))));
    }
    document.getElementById("error-summary").replaceChildren(...parts);
    const newest = detail.newest || [];
    const rows = newest.map((e) => row({}, utc(Math.trunc(e.at)), `${e.role} ${e.process}`, e.logger,
      e.message + (e.exception ? ` (${e.exception})` : ""), e.request_id || ""));
    if (!rows.length) {
      const td = el("td", { colspan: "5" }, "No errors recorded.");
      rows.push(el("tr", {}));
      rows[0].append(td);
    }
    fill(document.querySelector("#errors tbody"), rows);
  }

  async function refresh() {
    let report;
    try {
      const resp = await fetch(link.href, { headers: { Accept: "application/json" } });
      if (!resp.ok) throw new Error(`HTTP ${resp.status}`);
      report = await resp.json();
    } catch (e) {  // the last state stays, saying it is not current
      refreshed.textContent = `Could not refresh (${e.message}); showing the state of ${refreshed.dataset.at || "the page load"}.`;
      return;
    }
    const overall = document.getElementById("overall");
    overall.textContent = report.status;
    overall.className = `state-${report.status}`;
    components(report);
    lastRuns(report);
    errors(report);
    refreshed.dataset.at = new Date().toISOString().slice(11, 19) + " UTC";
    refreshed.textContent = `Updated ${refreshed.dataset.at}.`;
  }
  setInterval(refresh, REFRESH_MS);
})();
