// moat's console: the REST API (/api/v1) only.
"use strict";
let csrf = null;

async function api(method, path, body, headers) {
  const h = Object.assign({ "Content-Type": "application/json" }, headers || {});
  if (csrf && method !== "GET") h["X-CSRF-Token"] = csrf;
  const r = await fetch("/api/v1/" + path, { method, headers: h,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin" });
  const data = await r.json().catch(() => ({}));
  return { status: r.status, data };
}

async function showDashboard() {
  const s = await api("GET", "status");
  document.getElementById("login").hidden = true;
  document.getElementById("dashboard").hidden = false;
  document.getElementById("status").textContent = JSON.stringify(s.data, null, 2);
}

document.getElementById("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const r = await api("POST", "login", { user: f.get("user"), password: f.get("password") });
  if (r.status !== 200) {
    document.getElementById("login-error").textContent = r.data.error || "login failed";
    return;
  }
  csrf = r.data.csrf;
  document.getElementById("who").textContent = r.data.user;
  showDashboard();
});
