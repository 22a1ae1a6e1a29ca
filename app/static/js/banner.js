// The "Data update running" banner on every page: polls the active runs and shows
// phase, elapsed time and ETA; hides itself when nothing runs.
(function () {
  const banner = document.getElementById("update-banner");
  if (!banner) return;
  const fmt = (s) => {
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return (h ? h + " h " : "") + (h || m ? m + " min " : "") + sec + " s";
  };
  async function refresh() {
    let active = [];
    try {
      const resp = await fetch("/api/pipelines/active", { headers: { Accept: "application/json" } });
      if (resp.ok) active = (await resp.json()).active;
    } catch (e) { /* offline for a moment: keep the last state */ return; }
    if (!active.length) { banner.hidden = true; banner.textContent = ""; return; }
    banner.hidden = false;
    banner.textContent = "";
    for (const run of active) {
      const line = document.createElement("div");
      line.className = "banner-run";
      const items = run.total ? ` (${run.done.toLocaleString()} / ${run.total.toLocaleString()})`
        : (run.done ? ` (${run.done.toLocaleString()})` : "");
      const eta = run.eta_seconds === null ? "ETA unknown" : "ETA " + fmt(run.eta_seconds);
      line.textContent = `Data update running — ${run.pipeline}: phase ${run.phase_index}/${run.phase_count} ` +
        `${run.phase}${items}, elapsed ${fmt(run.elapsed_seconds)}, ${eta}`;
      banner.appendChild(line);
    }
  }
  refresh();
  setInterval(refresh, 2000);
})();
