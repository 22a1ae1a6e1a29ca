// /admin/map: the legend swatches take their colours (no inline styles under our CSP),
// picking a colour chooses the one-colour style, and ↑/↓ move a layer within its group
// (they rewrite the order fields the form sends).
(function () {
  for (const sw of document.querySelectorAll(".map-admin .swatch[data-colour]")) {
    sw.style.background = sw.dataset.colour;
  }
  for (const row of document.querySelectorAll("tr[data-layer]")) {
    const p = `layer-${row.dataset.layer}`;
    const colour = row.querySelector(`input[name="${p}-colour"]`);
    const mode = row.querySelector(`select[name="${p}-style"]`);
    colour.addEventListener("input", () => { mode.value = "colour"; });
    row.querySelector(".up").onclick = () => move(row, -1);
    row.querySelector(".down").onclick = () => move(row, 1);
  }

  function move(row, step) {
    const other = step < 0 ? row.previousElementSibling : row.nextElementSibling;
    if (!other) return;
    if (step < 0) other.before(row); else other.after(row);
    [...row.parentElement.children].forEach((tr, i) => {
      tr.querySelector("input.order[name$='-order']").value = String(i);
    });
  }
})();
