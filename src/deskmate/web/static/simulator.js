// Customer simulator: one person can play the customer while watching the agent desk react.
(function () {
  const D = window.Deskmate, esc = D.esc, $ = (id) => document.getElementById(id);
  let socket = null;
  async function loadOptions() {
    const convs = await D.api("/conversations?status=open&limit=200");
    $("sim-conv").insertAdjacentHTML("beforeend", convs.items.map((c) => `<option value="${c.id}">#${c.id} ${esc(c.subject || c.reason || c.channel)}</option>`).join(""));
    const customers = await D.api("/customers?limit=100");
    $("sim-customer").innerHTML = customers.items.map((c) => `<option value="${c.id}">${esc(c.name || c.external_id)}${c.tier ? " (" + esc(c.tier) + ")" : ""}</option>`).join("");
    const wanted = new URLSearchParams(location.search).get("c");
    if (wanted) { $("sim-conv").value = wanted; select(); }
  }
  function renderTranscript(messages) {
    $("sim-transcript").innerHTML = messages.map((m) => m.kind === "action"
      ? `<div class="muted">⚙ ${esc(m.action)}</div>` : `<p><strong>${esc(m.role)}:</strong> ${esc(m.text)}</p>`).join("") || "No messages yet.";
  }
  async function select() {
    const id = $("sim-conv").value;
    $("sim-new").hidden = Boolean(id);
    if (socket) { socket.close(); socket = null; }
    if (!id) { $("sim-transcript").textContent = "A new conversation starts with your first message."; return; }
    const conv = await D.api(`/conversations/${id}`);
    renderTranscript(conv.messages);
    socket = D.socket(`/ws/conversations/${id}`, async (data) => { if (data && data.message) renderTranscript((await D.api(`/conversations/${id}`)).messages); });
  }
  $("sim-conv").addEventListener("change", select);
  $("sim-send").addEventListener("click", async () => {
    const text = $("sim-text").value.trim();
    if (!text) { $("sim-note").textContent = "Type a message first."; return; }
    $("sim-send").disabled = true;
    try {
      let id = $("sim-conv").value;
      if (!id) {
        const conv = await D.api("/conversations", { method: "POST", body: { customer_id: Number($("sim-customer").value) || null, channel: "chat", subject: text.slice(0, 80), messages: [{ role: "customer", text: text }] } });
        $("sim-conv").insertAdjacentHTML("beforeend", `<option value="${conv.id}">#${conv.id} ${esc(conv.subject)}</option>`);
        $("sim-conv").value = conv.id; await select();
      } else {
        await D.api(`/conversations/${id}/messages`, { method: "POST", body: { role: "customer", text: text } });
        renderTranscript((await D.api(`/conversations/${id}`)).messages);
      }
      $("sim-text").value = ""; $("sim-note").textContent = "Sent.";
    } catch (e) { $("sim-note").textContent = "Not sent: " + e.message; }
    finally { $("sim-send").disabled = false; }
  });
  loadOptions();
})();
