// Supervisor floor: every live conversation, riskiest first, updated from the tenant's live channel.
(function () {
  const D = window.Deskmate, esc = D.esc, $ = (id) => document.getElementById(id);
  const rows = new Map();
  function spark(values) {
    if (!values || values.length < 2) return values && values.length ? values[0].toFixed(2) : "—";
    const w = 90, h = 22, step = w / (values.length - 1);
    const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(h / 2 - v * (h / 2 - 2)).toFixed(1)}`).join(" ");
    const last = values[values.length - 1];
    return `<svg width="${w}" height="${h}" role="img" aria-label="sentiment trend, last ${last.toFixed(2)}"><line x1="0" y1="${h / 2}" x2="${w}" y2="${h / 2}" stroke="#e3e6ec"/>
      <polyline fill="none" stroke="${last < -0.2 ? "#c0342b" : last > 0.2 ? "#1a7f4b" : "#2f6fed"}" stroke-width="2" points="${pts}"/></svg>`;
  }
  function render() {
    const list = [...rows.values()].sort((a, b) => b.risk - a.risk);
    $("floor-rows").innerHTML = list.map((r) => `<tr class="clickable" data-id="${r.conversation_id}" tabindex="0">
      <td><span class="pill ${r.risk >= 0.6 ? "bad" : r.risk >= 0.3 ? "warn" : "good"}">${Math.round(r.risk * 100)}</span></td>
      <td>#${r.conversation_id} ${esc(r.subject || "")}</td><td>${esc(r.customer || "—")}</td><td>${esc(r.agent || "unassigned")}</td>
      <td>${esc(r.intent || "not sure yet")}${r.intent_confidence != null ? ` <span class="muted">${Math.round(r.intent_confidence * 100)}%</span>` : ""}</td>
      <td>${spark(r.sentiment)}</td><td>${D.timeAgo(r.started_at)}</td>
      <td>${(r.alerts || []).map((a) => `<div class="alert ${esc(a.severity)}" data-kind="${esc(a.kind)}">${esc(a.reason)}</div>`).join("")}</td></tr>`).join("")
      || `<tr><td colspan="8" class="muted">No live conversations.</td></tr>`;
  }
  async function load() {
    const state = await D.api("/floor/state");
    rows.clear();
    state.items.forEach((r) => rows.set(r.conversation_id, r));
    render();
  }
  $("floor-rows").addEventListener("click", (ev) => {
    const tr = ev.target.closest("tr[data-id]");
    if (tr) location.href = `/desk?c=${tr.dataset.id}&watch=1`;
  });
  $("floor-rows").addEventListener("keydown", (ev) => {
    const tr = ev.target.closest("tr[data-id]");
    if (tr && ev.key === "Enter") location.href = `/desk?c=${tr.dataset.id}&watch=1`;
  });
  // Every message and assist update of the workspace arrives here; the rows are re-read (debounced)
  // so risk is ranked by the server, in one place.
  let pending = null;
  D.socket("/ws/floor", (data) => {
    if (data && data.type === "insight_alert") { $("floor-note").textContent = data.text || "New emerging issue"; }
    if (!pending) pending = setTimeout(() => { pending = null; load(); }, 250);
  }, (s) => $("live-dot").classList.toggle("live", s === "live"));
  load();
  setInterval(load, 30000);
})();
