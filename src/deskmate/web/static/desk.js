// The agent desk: queue, live conversation, and the assist panel fed by the conversation's WebSocket.
(function () {
  const D = window.Deskmate, esc = D.esc;
  const root = document.getElementById("desk-app");
  const me = Number(root.dataset.userId), watch = root.dataset.watch === "true";
  const $ = (id) => document.getElementById(id);
  const PLACEHOLDER = /\[[A-Z_]{2,}\]/;  // a suggestion's value the assist could not fill in
  const state = { convId: null, conv: null, seqs: new Set(), socket: null, update: null, shown: new Set(), inserted: null };

  async function feedback(suggestionId, event, extra) {
    if (!state.convId || watch) return;
    try {
      await D.api("/assist/feedback", { method: "POST", body: Object.assign({ conversation_id: state.convId, suggestion_id: suggestionId, event: event }, extra || {}) });
    } catch (e) { console.warn("feedback", e); }
  }

  // ---- queue -------------------------------------------------------------------------
  async function loadQueue() {
    try {
      const page = await D.api("/conversations?status=open&limit=200");
      const mine = page.items.filter((c) => watch || c.agent_id === me || c.agent_id === null);
      $("queue-count").textContent = mine.length;
      $("queue").innerHTML = mine.map((c) => `<button class="queue-item" role="listitem" data-id="${c.id}" aria-current="${c.id === state.convId}">
          <div class="q-name">#${c.id} ${esc(c.subject || c.reason || c.channel)}</div>
          <div class="q-meta">${c.message_count} msgs · ${D.timeAgo(c.started_at)} ago${c.agent_id === null ? " · unassigned" : ""}</div></button>`).join("")
        || `<div class="empty">No open conversations.</div>`;
      if (!state.convId && root.dataset.open) openConversation(Number(root.dataset.open));
    } catch (e) { $("queue").innerHTML = `<div class="empty">${esc(e.message)}</div>`; }
  }
  $("queue").addEventListener("click", (ev) => {
    const item = ev.target.closest(".queue-item");
    if (item) openConversation(Number(item.dataset.id));
  });

  // ---- conversation -------------------------------------------------------------------
  function messageHtml(m) {
    if (m.kind === "action") {
      const vals = Object.entries(m.action_values || {}).map(([k, v]) => `${k}: ${v}`).join(", ");
      return `<div class="msg action" data-seq="${m.seq}">⚙ ${esc(m.action)}${vals ? " (" + esc(vals) + ")" : ""}</div>`;
    }
    return `<div class="msg ${esc(m.role)}" data-seq="${m.seq}">${esc(m.text)}<div class="meta">${esc(m.role)} · ${new Date(m.created_at).toLocaleTimeString()}</div></div>`;
  }
  function appendMessage(m) {
    if (!m || state.seqs.has(m.seq)) return;
    state.seqs.add(m.seq);
    const box = $("messages");
    if (box.querySelector(".empty")) box.innerHTML = "";
    box.insertAdjacentHTML("beforeend", messageHtml(m));
    box.scrollTop = box.scrollHeight;
  }
  async function openConversation(id) {
    if (state.socket) state.socket.close();
    Object.assign(state, { convId: id, seqs: new Set(), update: null, shown: new Set(), inserted: null });
    history.replaceState(null, "", `?c=${id}${watch ? "&watch=1" : ""}`);
    document.querySelectorAll(".queue-item").forEach((el) => el.setAttribute("aria-current", String(Number(el.dataset.id) === id)));
    const conv = await D.api(`/conversations/${id}`);
    state.conv = conv;
    $("conv-title").textContent = `#${conv.id} ${conv.subject || conv.reason || conv.channel}`;
    $("messages").innerHTML = "";
    conv.messages.forEach(appendMessage);
    if (!watch) { $("reply").disabled = false; $("send").disabled = false; $("wrapup-open").disabled = false; $("reply").focus(); }
    state.socket = D.socket(`/ws/conversations/${id}`, onSocket, (s) => $("live-dot").classList.toggle("live", s === "live"));
    try { renderAssist(await D.api(`/conversations/${id}/assist`)); } catch (e) { /* no update yet */ }
  }
  function onSocket(data) {
    if (!data) return;
    if (data.message) appendMessage(data.message);
    const update = data.assist || data.update || (data.intent && data.conversation_id ? data : null);
    if (update && update.conversation_id === state.convId) renderAssist(update);
  }

  // ---- assist panel -------------------------------------------------------------------
  function why(ev) {
    if (!ev) return "";
    const sources = (ev.sources || []).slice(0, 5).map(esc).join(", ");
    return `<div class="why">${esc(ev.text)}${sources ? `<br>Sources: ${sources}` : ""}</div>`;
  }
  function rateButtons(id) {
    return watch ? "" : `<button type="button" data-act="why" data-id="${esc(id)}" aria-label="Why">Why</button>
      <button type="button" data-act="up" data-id="${esc(id)}" aria-label="Helpful" title="Helpful">▲</button>
      <button type="button" data-act="down" data-id="${esc(id)}" aria-label="Not helpful" title="Not helpful">▼</button>
      <button type="button" data-act="dismiss" data-id="${esc(id)}" aria-label="Dismiss">✕</button>`;
  }
  function renderAssist(u) {
    state.update = u;
    const parts = [];
    if (u.alerts && u.alerts.length) {
      parts.push(`<section data-testid="alerts"><h3>Alerts</h3>${u.alerts.map((a) => `<div class="alert ${esc(a.severity)}" data-kind="${esc(a.kind)}"><strong>${esc(a.kind.replace(/_/g, " "))}</strong>: ${esc(a.reason)}</div>`).join("")}</section>`);
    }
    const c = u.context || {};
    if (c.name || c.external_id) {
      const recs = (c.records || []).slice(0, 4).map((r) => `<li>${esc(r.kind)} ${esc(r.external_id)} · ${esc(r.status || "")}${r.amount != null ? " · " + r.amount + " " + esc(r.currency || "") : ""} <span class="muted">(${esc(r.why)})</span></li>`).join("");
      const past = (c.last_contacts || []).slice(0, 3).map((p) => `<li>${new Date(p.started_at).toLocaleDateString()} ${esc(p.reason || "?")} → ${esc(p.outcome || "open")}</li>`).join("");
      parts.push(`<section data-testid="context"><h3>Customer</h3><div><strong>${esc(c.name || c.external_id)}</strong> ${c.tier ? `<span class="pill">${esc(c.tier)}</span>` : ""}
        ${c.lifetime_sentiment != null ? `<span class="pill ${c.lifetime_sentiment < -0.2 ? "bad" : c.lifetime_sentiment > 0.2 ? "good" : ""}">sentiment ${c.lifetime_sentiment.toFixed(2)}</span>` : ""}</div>
        ${(c.notes || []).map((n) => `<div class="muted">${esc(n)}</div>`).join("")}${recs ? `<ul>${recs}</ul>` : ""}${past ? `<div class="muted">Last contacts</div><ul>${past}</ul>` : ""}</section>`);
    }
    const i = u.intent || {};
    parts.push(`<section data-testid="intent"><h3>Intent</h3><div><strong>${esc(i.display || i.label || "not sure yet")}</strong> <span class="muted">${i.confidence != null ? Math.round(i.confidence * 100) + "%" : ""}</span></div>
      <div class="conf-bar"><span style="width:${Math.round((i.confidence || 0) * 100)}%"></span></div></section>`);
    const n = u.next_action;
    if (n && (n.action || (n.checklist || []).length)) {
      parts.push(`<section data-testid="next-action"><h3>Next best action</h3><div class="sugg" data-id="${esc(n.id)}">
        <div class="title">${esc(n.action || "—")}</div><div class="muted">${esc(n.procedure || n.reason || "")}</div>
        ${(n.checklist || []).length ? `<div class="muted">Required by policy</div><ul class="checklist" data-testid="policy-checklist">${n.checklist.map((s) => `<li class="${esc(s.state)}">${{ done: "✓", next: "→", left: "○", skipped: "!" }[s.state] || ""} ${esc(s.action)}</li>`).join("")}</ul>` : ""}
        ${(n.usual || []).length ? `<div class="muted">What agents usually do next (from history, not policy)</div><ul class="checklist usual" data-testid="usual-steps">${n.usual.map((s) => `<li class="${esc(s.state)}">${{ done: "✓", next: "→", left: "○" }[s.state] || ""} ${esc(s.action)} <span class="muted">${s.support} of ${s.total}</span></li>`).join("")}</ul>` : ""}
        ${why(n.evidence)}<div class="actions">${rateButtons(n.id)}</div></div></section>`);
    }
    if (u.knowledge && u.knowledge.length) {
      parts.push(`<section data-testid="knowledge"><h3>Knowledge</h3>${u.knowledge.map((k) => `<div class="sugg" data-id="${esc(k.id)}">
        <div class="title">${esc(k.title)}</div><div class="passage">${esc(k.passage)}</div>${why(k.evidence)}
        <div class="actions"><button type="button" data-act="open" data-id="${esc(k.id)}">Open passage</button>${rateButtons(k.id)}</div></div>`).join("")}</section>`);
    }
    if (u.replies && u.replies.length) {
      parts.push(`<section data-testid="replies"><h3>Suggested replies</h3>${u.replies.map((r, idx) => `<div class="sugg reply" data-id="${esc(r.id)}">
        <div>${esc(r.text)}</div>${r.missing_values && r.missing_values.length ? `<div class="muted">fill in: ${r.missing_values.map(esc).join(", ")}</div>` : ""}${why(r.evidence)}
        <div class="actions">${watch ? "" : `<button type="button" class="primary" data-act="insert" data-id="${esc(r.id)}" title="Alt+${idx + 1}">Insert <span class="kbd">Alt+${idx + 1}</span></button>`}${rateButtons(r.id)}</div></div>`).join("")}</section>`);
    }
    if (u.summary) parts.push(`<section data-testid="summary"><h3>Summary so far</h3><div>${esc(u.summary)}</div></section>`);
    $("assist").innerHTML = parts.join("");
    $("assist").dataset.seq = String(u.message_seq);
    $("assist-timing").textContent = u.timings && u.timings.total != null ? `${u.timings.total.toFixed(0)} ms` : "";
    const ids = [];
    (u.replies || []).forEach((r) => ids.push(r.id)); (u.knowledge || []).forEach((k) => ids.push(k.id));
    if (n && n.action) ids.push(n.id);
    ids.filter((id) => !state.shown.has(id)).forEach((id) => { state.shown.add(id); feedback(id, "shown"); });
  }
  function findReply(id) { return ((state.update && state.update.replies) || []).find((r) => r.id === id); }
  function insertReply(reply) {
    if (!reply || watch) return;
    $("reply").value = reply.text;
    $("reply").focus();
    state.inserted = { id: reply.id, text: reply.text };
    const hole = PLACEHOLDER.exec(reply.text);
    if (hole) { $("reply").setSelectionRange(hole.index, hole.index + hole[0].length); }
    $("composer-note").textContent = hole ? `Fill in ${hole[0]}, then send.` : "Suggestion inserted: edit it, then send.";
    feedback(reply.id, "inserted");
  }
  $("assist").addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-act]");
    if (!btn) return;
    const id = btn.dataset.id, card = btn.closest(".sugg");
    switch (btn.dataset.act) {
      case "insert": insertReply(findReply(id)); break;
      case "why": card.classList.toggle("show-why"); break;
      case "open": card.classList.toggle("open"); break;
      case "up": feedback(id, "rated", { rating: 1 }); btn.disabled = true; break;
      case "down": feedback(id, "rated", { rating: -1 }); btn.disabled = true; break;
      case "dismiss": feedback(id, "dismissed"); card.remove(); break;
    }
  });

  // ---- composer and wrap-up -----------------------------------------------------------
  async function send() {
    const text = $("reply").value.trim();
    if (!text || !state.convId) return;
    const hole = PLACEHOLDER.exec(text);
    if (hole) { $("composer-note").textContent = `Fill in ${hole[0]} before sending.`; return; }
    $("send").disabled = true;
    try {
      const res = await D.api(`/conversations/${state.convId}/messages`, { method: "POST", body: { role: "agent", text: text } });
      if (state.inserted && state.inserted.text.trim() !== text) feedback(state.inserted.id, "edited", { final_text: text });
      state.inserted = null;
      $("reply").value = ""; $("composer-note").textContent = "";
      onSocket(res);
    } catch (e) { $("composer-note").textContent = "Not sent: " + e.message; }
    finally { $("send").disabled = false; }
  }
  if (!watch) {
    $("composer").addEventListener("submit", (ev) => { ev.preventDefault(); send(); });
    $("reply").addEventListener("keydown", (ev) => { if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); send(); } });
    document.addEventListener("keydown", (ev) => {
      if (ev.altKey && ["1", "2", "3"].includes(ev.key)) {
        const r = ((state.update && state.update.replies) || [])[Number(ev.key) - 1];
        if (r) { ev.preventDefault(); insertReply(r); }
      }
    });
    $("wrapup-open").addEventListener("click", async () => {
      const u = state.update || {};
      $("wrapup-summary").value = u.summary || "";
      $("wrapup-reason").value = (state.conv && state.conv.reason) || (u.intent && u.intent.label) || "";
      $("wrapup-outcome").value = "resolved";
      $("wrapup-error").textContent = "";
      const dialog = $("wrapup");
      delete dialog.dataset.ready;
      const touched = new Set();  // what the agent edits while the proposal loads is theirs: never overwritten
      const ids = ["wrapup-summary", "wrapup-reason", "wrapup-outcome"];
      const mark = (ev) => touched.add(ev.target.id);
      ids.forEach((id) => { $(id).addEventListener("input", mark); $(id).addEventListener("change", mark); });
      const propose = (id, value) => { if (value && !touched.has(id)) $(id).value = value; };
      dialog.showModal();
      try {  // the proposed wrap-up: outcomes' post-contact summary and inferred resolution
        const card = await D.api(`/conversations/${state.convId}/scorecard`);
        propose("wrapup-summary", card.summary_text);
        if (!$("wrapup-reason").value) propose("wrapup-reason", card.reason);
        if (["resolved", "unresolved", "escalated", "abandoned"].includes(card.predicted_outcome)) propose("wrapup-outcome", card.predicted_outcome);
      } catch (e) { /* keep the assist summary */ }
      ids.forEach((id) => { $(id).removeEventListener("input", mark); $(id).removeEventListener("change", mark); });
      dialog.dataset.ready = "1";
    });
    $("wrapup-save").addEventListener("click", async (ev) => {
      ev.preventDefault();
      try {
        await D.api(`/conversations/${state.convId}`, { method: "PATCH", body: { status: "closed", outcome: $("wrapup-outcome").value,
          reason: $("wrapup-reason").value.trim() || null, summary: $("wrapup-summary").value.trim() || null } });
        $("wrapup").close();
        if (state.socket) state.socket.close();
        state.convId = null; $("messages").innerHTML = `<div class="empty">Conversation closed.</div>`; $("assist").innerHTML = "";
        ["reply", "send", "wrapup-open"].forEach((x) => { $(x).disabled = true; });
        loadQueue();
      } catch (e) { $("wrapup-error").textContent = e.message; }
    });
  }
  loadQueue();
  setInterval(loadQueue, 5000);
})();
