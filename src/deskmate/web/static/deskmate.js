// Small shared helpers for Deskmate pages (no framework, no CDN).
window.Deskmate = (function () {
  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  async function api(path, options) {
    options = options || {};
    const init = { method: options.method || "GET", credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (options.body !== undefined) { init.headers["Content-Type"] = "application/json"; init.body = JSON.stringify(options.body); }
    const response = await fetch(path, init);
    const text = await response.text();
    const data = text ? JSON.parse(text) : null;
    if (!response.ok) { throw new Error((data && data.detail && JSON.stringify(data.detail)) || response.statusText); }
    return data;
  }
  function socket(path, onMessage, onState) {
    // Reconnects with backoff so a server restart does not leave the desk silent.
    let ws, delay = 500, closed = false;
    function open() {
      const proto = location.protocol === "https:" ? "wss://" : "ws://";
      ws = new WebSocket(proto + location.host + path);
      ws.onopen = function () { delay = 500; onState && onState("live"); };
      ws.onmessage = function (event) { onMessage(JSON.parse(event.data)); };
      ws.onclose = function () { onState && onState("offline"); if (!closed) { setTimeout(open, delay); delay = Math.min(delay * 2, 8000); } };
    }
    open();
    return { send: function (obj) { if (ws.readyState === 1) { ws.send(JSON.stringify(obj)); return true; } return false; },
             close: function () { closed = true; ws.close(); } };
  }
  function timeAgo(iso) {
    const s = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (s < 60) return Math.round(s) + "s"; if (s < 3600) return Math.round(s / 60) + "m";
    if (s < 86400) return Math.round(s / 3600) + "h"; return Math.round(s / 86400) + "d";
  }
  return { esc: esc, api: api, socket: socket, timeAgo: timeAgo };
})();
