// moat's console: pages over the REST API (/api/v1) and nothing else.
"use strict";
let csrf = null;
let hash = null;          // the config's, for If-Match
let policy = null;        // the moat show --json document
let confirmTimer = null;
let holdChanges = false;  // the Apply's summary stays until the next visit
const RULES_PAGE = 1000;  // rules drawn at once (a policy may have 100,000)
let rulesFrom = 1;        // the first rule of the Policies page
let rulesTotal = 0;       // the policy's rules, all pages

const $ = (sel) => document.querySelector(sel);

function text(el, s) { el.textContent = s; return el; }

// A cell with one button: its text, its name for screen readers, its act.
function actionCell(row, label, name, fn) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.setAttribute("aria-label", name);
  b.addEventListener("click", fn);
  cell(row, "").appendChild(b);
  return b;
}

function cell(row, s) {
  const td = document.createElement("td");
  td.textContent = s === null || s === undefined ? "" : String(s);
  row.appendChild(td);
  return td;
}

async function api(method, path, body, extra) {
  const h = Object.assign({ "Content-Type": "application/json" }, extra || {});
  if (csrf && method !== "GET") h["X-CSRF-Token"] = csrf;
  let r;
  try {
    r = await fetch("/api/v1/" + path, {
      method, headers: h, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    // No answer at all: the gateway (or the way to it) is down.
    return { status: 0, data: { error: "The gateway cannot be reached." } };
  }
  const data = await r.json().catch(() => ({}));
  if (r.status === 401 && path !== "login") showLogin("Your session ended: log in again.");
  return { status: r.status, data };
}

function showLogin(why) {
  csrf = null;
  $("#nav").hidden = true;
  document.querySelectorAll(".page").forEach((p) => { p.hidden = true; });
  $("#login").hidden = false;
  text($("#login-error"), why || "");
}

function address(a) {
  if (a.type === "object") return a.name;
  if (a.type === "host") return a.address;
  if (a.type === "network") return a.address + "/" + (a.mask || a.prefix);
  if (a.type === "range") return a.first + "-" + a.last;
  return "?";
}

function side(s) {
  const list = s.addresses.map(address).join(", ");
  return (s.match === "exclude" ? "not " : "") + list;
}

// ---- pages --------------------------------------------------------------

async function loadPolicy() {
  const r = await api("GET", "policy?first=" + rulesFrom + "&count=" + RULES_PAGE);
  if (r.status !== 200) return r;
  policy = r.data.policy;
  rulesTotal = r.data.rules_total ?? policy.rules.length;
  hash = r.data.hash;
  // Past the last rule (the last page's rules deleted): its last page.
  if (policy.rules.length === 0 && rulesFrom > 1) {
    rulesFrom = rulesPageOf(rulesTotal);
    return loadPolicy();
  }
  drawPager();
  const findings = {};
  for (const d of r.data.diagnostics || []) (findings[d.line] = findings[d.line] || []).push(d);
  const body = $("#rules tbody");
  body.textContent = "";
  for (const rule of policy.rules) {
    const tr = document.createElement("tr");
    if (!rule.enabled) tr.className = "disabled";
    cell(tr, rule.number);
    cell(tr, rule.action);
    cell(tr, rule.interface);
    cell(tr, side(rule.source));
    cell(tr, side(rule.destination));
    cell(tr, rule.services.match === "any" ? "any" : rule.services.names.join(", "));
    cell(tr, rule.schedule || "");
    cell(tr, rule.gateway || "");
    cell(tr, rule.log ? "yes" : "");
    cell(tr, rule.comment);
    const f = cell(tr, (findings[rule.line] || []).map((d) => d.message).join("; "));
    if ((findings[rule.line] || []).some((d) => d.severity === "warning")) f.className = "finding";
    const act = cell(tr, "");
    for (const [label, fn] of [["Edit", () => editRule(rule)], ["Up", () => moveRule(rule.number, -1)],
      ["Down", () => moveRule(rule.number, 1)], ["Delete", () => deleteRule(rule.number)]]) {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.setAttribute("aria-label", label + " rule " + rule.number);
      b.addEventListener("click", fn);
      act.appendChild(b);
    }
    body.appendChild(tr);
  }
  for (const sel of ["#rule-form select[name=interface]", "#test-form select[name=in]"]) {
    const s = $(sel);
    s.textContent = "";
    for (const i of policy.interfaces) {
      const o = document.createElement("option");
      o.textContent = i.name;
      s.appendChild(o);
    }
  }
  return r;
}

// "Rules 1,001-2,000 of 100,000", and the ways to the other pages.
function drawPager() {
  const last = Math.min(rulesTotal, rulesFrom + RULES_PAGE - 1);
  $("#rules-pager").hidden = rulesTotal <= RULES_PAGE;
  text($("#rules-shown"), rulesTotal === 0 ? "No rules" : "Rules " + rulesFrom.toLocaleString("en") +
    "\u2013" + last.toLocaleString("en") + " of " + rulesTotal.toLocaleString("en"));
  $("#rules-first").disabled = $("#rules-prev").disabled = rulesFrom === 1;
  $("#rules-next").disabled = $("#rules-last").disabled = last >= rulesTotal;
}

// The page that holds rule n (1: the first page).
function rulesPageOf(n) {
  const m = Math.min(Math.max(1, n), Math.max(1, rulesTotal));
  return m - (m - 1) % RULES_PAGE;
}

function goRules(n) {
  rulesFrom = rulesPageOf(n);
  loadPolicy();
}

function editRule(rule) {
  const f = $("#rule-form");
  text($("#rule-form-title"), "Edit policy " + rule.number);
  f.number.value = rule.number;
  f.action.value = rule.action;
  f.interface.value = rule.interface;
  f.src_match.value = rule.source.match;
  f.dst_match.value = rule.destination.match;
  const any = (s) => (s.addresses.length === 1 && s.addresses[0].name === "ANY" ? "" :
    s.addresses.map(address).join(" "));
  f.src.value = any(rule.source);
  f.dst.value = any(rule.destination);
  f.services.value = rule.services.match === "any" ? "" : rule.services.names.join(" ");
  f.schedule.value = rule.schedule || "";
  f.gateway.value = rule.gateway || "";
  f.log.checked = rule.log;
  f.enabled.checked = rule.enabled;
  f.comment.value = rule.comment || "";
  f.position.value = "";
}

function words(s) { return s.split(/[\s,]+/).filter((w) => w.length > 0); }

async function saveRule(e) {
  e.preventDefault();
  const f = e.target;
  const rule = {
    action: f.action.value, interface: f.interface.value,
    source: { match: f.src_match.value, addresses: words(f.src.value) },
    destination: { match: f.dst_match.value, addresses: words(f.dst.value) },
    services: words(f.services.value), schedule: f.schedule.value.trim() || null,
    gateway: f.gateway.value.trim() || null, log: f.log.checked,
    comment: f.comment.value, enabled: f.enabled.checked,
  };
  const n = f.number.value;
  const body = { rule };
  if (!n && f.position.value) body.position = Number(f.position.value);
  const r = n ? await api("PUT", "rules/" + n, body, { "If-Match": hash }) :
    await api("POST", "rules", body, { "If-Match": hash });
  if (r.status !== 200) {
    const d = (r.data.diagnostics || []).filter((x) => x.severity === "error");
    text($("#rule-error"), (r.data.error || "not saved") + (d.length ? ": " + d.map((x) => x.message).join("; ") : ""));
    return;
  }
  text($("#rule-error"), "");
  f.reset();
  f.number.value = "";
  text($("#rule-form-title"), "Add a policy");
  banner();
  loadPolicy();
}

async function moveRule(n, by) {
  const to = n + by;
  if (to < 1 || to > rulesTotal) return;
  await api("POST", "rules/" + n + "/move", { to }, { "If-Match": hash });
  banner();
  loadPolicy();
}

async function deleteRule(n) {
  if (!window.confirm("Delete policy " + n + "?")) return;
  await api("DELETE", "rules/" + n, {}, { "If-Match": hash });
  banner();
  loadPolicy();
}

// The status without the counters (reading a 100,000-rule table's takes a
// second), or with the busiest `counters` of them.
async function banner(counters) {
  const r = await api("GET", "status?counters=" + (counters || 0));
  if (r.status !== 200) return r;
  const b = $("#banner");
  b.hidden = !r.data.unapplied_changes;
  text(b, "The saved config has changes that are not applied yet.");
  return r;
}

// A counter in moat's words: "rule 2", "forward 1", "forward 1 accept",
// "nat source 3", "one-to-one 1"; its kernel name when the config in force
// has no such entry (or it is not an entry's).
function counterName(c) {
  if (c.rule) return "rule " + c.rule;
  if (c.forward) return "forward " + c.forward + (c.name.endsWith("_accept") ? " accept" : "");
  if (c.nat_source) return "nat source " + c.nat_source;
  if (c.one_to_one) return "one-to-one " + c.one_to_one;
  return c.name;
}

const HITS_SHOWN = 1000;   // the Dashboard's busiest counters

async function loadDashboard() {
  const r = await banner(HITS_SHOWN);
  if (!r || r.status !== 200) return;
  // Right after an Apply, what it changed stays on the page.
  if (!holdChanges) loadChanges();
  holdChanges = false;
  const dl = $("#applied");
  dl.textContent = "";
  const a = r.data.applied;
  const add = (k, v) => {
    const dt = document.createElement("dt"); dt.textContent = k; dl.appendChild(dt);
    const dd = document.createElement("dd"); dd.textContent = v; dl.appendChild(dd);
  };
  if (r.data.pending && $("#confirm").hidden)
    countdown(Date.now() + r.data.pending.seconds_left * 1000);
  add("Applied", a ? "entry " + a.entry + " (" + a.what + "), " + new Date(a.time * 1000).toLocaleString() : "nothing");
  if (a && a.drift === "changed") add("Warning", "the kernel's table was changed by hand since");
  const ha = r.data.ha;
  if (ha) {
    add("HA pair", "this node (" + ha.address + ") is " + ha.state + "; the peer " +
      ha.peer.address + " is " + (ha.peer.state || "not heard") + (ha.peer.hash
        ? (ha.same_policy ? "; both run the same policy" : "; they run different policies") : ""));
    if (ha.push) add("Last sync", "entry " + ha.push.entry + " sent to the peer: " + ha.push.result);
  }
  const feeds = r.data.feeds || [];
  if (feeds.length) {
    const bad = feeds.filter((x) => x.result !== "ok");
    add("Objects that follow the world", feeds.length + " (" + (feeds.length - bad.length) + " ok" +
      (bad.length ? ", " + bad.length + " not: " + bad.map((x) => x.name).join(", ") : "") +
      "): see Objects");
  }
  const gws = r.data.gateways;
  if (gws && gws.gateways) {
    for (const g of gws.gateways)
      add("Gateway " + g.name, g.state + " (via " + g.via + " on " + g.interface +
        (g.loss !== null ? ", loss " + Math.round(g.loss) + "%" : "") +
        (g.latency_ms !== null ? ", latency " + g.latency_ms.toFixed(1) + " ms" : "") +
        (g.since ? ", since " + new Date(g.since * 1000).toLocaleString() : "") + ")");
    for (const grp of gws.groups || [])
      add("Group " + grp.name, "traffic through " + (grp.active.length ? grp.active.join(", ") : "none"));
  }
  // Other tables' base chains that can change what moat decides (an empty
  // one that accepts cannot): a packet meets them too.
  if (r.data.other_tables_error)
    add("Other tables", "could not be read (" + r.data.other_tables_error + ")");
  if (r.data.other_tables_more)
    add("Other tables", r.data.other_tables_more + " more base chains, not read");
  for (const o of r.data.other_tables || []) {
    if (!o.effect) continue;
    add("Other table", o.family + " " + o.table + " " + o.chain + " (" + o.type + " at " + o.hook +
      (o.device ? " of " + o.device : "") + ", priority " + o.priority +
      (o.policy ? ", policy " + o.policy : "") + ", " + o.rules + (o.rules === 1 ? " rule" : " rules") +
      "): " + o.effect);
  }
  const hits = $("#hits tbody");
  hits.textContent = "";
  const shown = (r.data.counters || []).length, all = r.data.counters_total || shown;
  text($("#hits-note"), all > shown ? "The " + shown.toLocaleString("en") + " busiest of " +
    all.toLocaleString("en") + " counters, in the policy's order (moat status lists all)." : "");
  for (const c of r.data.counters || []) {
    const tr = document.createElement("tr");
    // a rule's, forward's, NAT rule's counter is named by the entry's id
    // in the kernel; its number in the config in force says which
    cell(tr, counterName(c)); cell(tr, c.packets); cell(tr, c.bytes);
    hits.appendChild(tr);
  }
  const m = $("#mail");
  m.textContent = "";
  const mail = r.data.mail;
  const addm = (k, v) => {
    const dt = document.createElement("dt"); dt.textContent = k; m.appendChild(dt);
    const dd = document.createElement("dd"); dd.textContent = v; m.appendChild(dd);
  };
  if (mail) {
    addm("Engine", (mail.engine || "not loaded") + (mail.signatures ? ", " + mail.signatures + " signatures" : ""));
    addm("Messages", mail.messages + " (" + mail.clean + " clean, " + mail.virus + " virus)");
    addm("Last virus", mail.last_virus || "none");
    if (mail.tls)
      addm("Mail over TLS", mail.tls.both + " both legs, " + mail.tls.client + " client only, " +
        mail.tls.server + " next hop only, " + mail.tls.none + " none; " +
        mail.tls.passthrough_sessions + " passthrough sessions; " + mail.tls.deferred.total +
        " recipients deferred for TLS policy");
  } else addm("Scanner", "no figures yet");
}

// The confirm countdown runs against the gateway's own deadline: the
// gateway reverts by itself, whether or not this page can reach it.
let confirmDeadline = 0;

function clock(t) { return new Date(t).toLocaleTimeString(); }

function countdown(deadline) {
  confirmDeadline = deadline;
  $("#confirm").hidden = false;
  clearInterval(confirmTimer);
  const tick = () => {
    const left = Math.max(0, Math.round((confirmDeadline - Date.now()) / 1000));
    text($("#countdown"), left);
    if (left <= 0) {
      clearInterval(confirmTimer);
      $("#confirm").hidden = true;
      text($("#apply-result"), "Not confirmed in time: the gateway puts the previous ruleset back by itself.");
      afterLapse();
    }
  };
  tick();
  confirmTimer = setInterval(tick, 1000);
}

// After a lapse: what the gateway did, once it can be reached (every 3 s).
async function afterLapse() {
  const r = await api("GET", "status?counters=0");
  if (r.status === 0) {
    text($("#lapse"), "The gateway cannot be reached from here: it reverted at " +
      clock(confirmDeadline) + " unless a confirm reached it. Trying again…");
    setTimeout(afterLapse, 3000);
    return;
  }
  if (r.status !== 200) return;
  if (r.data.pending) {           // its watchdog has not run yet
    setTimeout(afterLapse, 1000);
    return;
  }
  const a = r.data.applied;
  text($("#lapse"), a && a.what === "revert"
    ? "The gateway reverted: entry " + a.entry + " (revert), " + clock(a.time * 1000) + "."
    : "The gateway says: entry " + (a ? a.entry + " (" + a.what + ")" : "none") + " is in force.");
  text($("#apply-result"), "Not confirmed in time: the previous ruleset is back.");
  loadDashboard();
}

// What an Apply of the saved config changes, against the config in force:
// the flows whose verdict or NAT changes (moat diff), region by region.
async function loadChanges() {
  const r = await api("GET", "changes");
  const ol = $("#changes");
  ol.textContent = "";
  if (r.status !== 200) {
    text($("#changes-summary"), r.data.error || "cannot say what Apply changes");
    return;
  }
  text($("#changes-summary"), r.data.summary);
  const d = r.data.diff;
  if (!d) return;
  for (const c of d.changes.slice(0, 100)) {
    const li = document.createElement("li");
    const head = document.createElement("strong");
    head.textContent = "on " + c.interface + " from " + c.source + " to " + c.destination + ", " +
      c.service + (c.time ? ", " + c.time : "") + ": " + c.before.verdict + " \u2192 " + c.after.verdict;
    li.appendChild(head);
    const ul = document.createElement("ul");
    const line = (k, v) => { const x = document.createElement("li"); x.textContent = k + v; ul.appendChild(x); };
    const f = c.before.flow;
    line("e.g. ", c.interface + " " + f.src + " \u2192 " + f.dst + " " + f.protocol +
      (f.port !== undefined ? "/" + f.port : f.type !== undefined ? " type " + f.type : ""));
    line("now: ", c.before.reason);
    line("after Apply: ", c.after.reason);
    li.appendChild(ul);
    ol.appendChild(li);
  }
  if (d.changes.length > 100)
    ol.appendChild(text(document.createElement("li"), "… and " + (d.changes.length - 100) +
      " more regions (moat diff lists them all)"));
  for (const i of d.interfaces_only_old.concat(d.interfaces_only_new))
    ol.appendChild(text(document.createElement("li"), "interface " + i + " is in only one of them: its flows are not compared"));
  if (!d.complete)
    ol.appendChild(text(document.createElement("li"), "incomplete: too many regions to list here (moat diff lists them all)"));
}

async function apply() {
  const secs = Number($("#confirm-secs").value) || 60;
  text($("#lapse"), "");
  await loadChanges();    // said before it loads, as moat apply does
  const r = await api("POST", "apply", { confirm: secs });
  text($("#apply-result"), r.status === 200 ? r.data.message : (r.data.error || "not applied"));
  if (r.status !== 200) return;
  text($("#changes-summary"), "Applied: " + $("#changes-summary").textContent);
  countdown(Date.now() + secs * 1000);
  holdChanges = true;
  loadDashboard();
}

async function confirmApply() {
  const r = await api("POST", "confirm", {});
  if (r.status === 0) {
    // Keep counting: the gateway will revert unless a confirm gets through.
    text($("#apply-result"), "The gateway cannot be reached to confirm: unless a confirm " +
      "reaches it before " + clock(confirmDeadline) + ", it reverts by itself.");
    return;
  }
  clearInterval(confirmTimer);
  $("#confirm").hidden = true;
  text($("#apply-result"), r.status === 200 ? "Confirmed." : (r.data.error || "not confirmed"));
  loadDashboard();
}

async function runTest(e) {
  e.preventDefault();
  const f = e.target;
  const r = await api("POST", "test", { in: f.in.value, src: f.src.value, dst: f.dst.value, service: f.service.value });
  if (r.status !== 200) {
    text($("#test-result"), r.data.error || "no answer");
    return;
  }
  // What the kernel decides before any rule, beside the rules' verdict.
  const res = r.data.result;
  text($("#test-result"), res.before_rules ? res.reason + "\nbut " + res.before_rules : res.reason);
}

async function runProbe() {
  const f = $("#test-form");
  text($("#probe-result"), "connecting…");
  const r = await api("POST", "probe", { dst: f.dst.value, service: f.service.value });
  text($("#probe-result"), r.status === 200 ? r.data.message : (r.data.error || "no answer"));
}

async function loadLogs() {
  const fw = await api("GET", "log");
  const body = $("#fwlog tbody");
  body.textContent = "";
  for (const x of (fw.data.records || []).slice(-200).reverse()) {
    const tr = document.createElement("tr");
    cell(tr, new Date(x.time).toLocaleString());
    cell(tr, x.action);
    cell(tr, x.rule !== null ? "rule " + x.rule + (x.line ? " (line " + x.line + ")" : "") : "default of " + x.interface);
    cell(tr, x.in || x.in_device);
    cell(tr, x.src + (x.sport !== null ? ":" + x.sport : ""));
    cell(tr, x.dst + (x.dport !== null ? ":" + x.dport : ""));
    cell(tr, (x.proto !== null ? x.proto : "protocol not seen") + (x.tcp_flags ? " " + x.tcp_flags : ""));
    body.appendChild(tr);
  }
  const ml = await api("GET", "mail-log");
  const mb = $("#maillog tbody");
  mb.textContent = "";
  for (const x of (ml.data.records || []).slice(-200).reverse()) {
    const tr = document.createElement("tr");
    cell(tr, new Date(x.time).toLocaleString());
    cell(tr, x.verdict + (x.signature ? " " + x.signature : ""));
    cell(tr, x.from); cell(tr, x.client); cell(tr, x.reply);
    mb.appendChild(tr);
  }
}

async function loadHistory() {
  const r = await api("GET", "history");
  const body = $("#entries tbody");
  body.textContent = "";
  for (const e of (r.data.entries || []).slice().reverse()) {
    const tr = document.createElement("tr");
    cell(tr, e.entry); cell(tr, new Date(e.time * 1000).toLocaleString());
    cell(tr, e.what); cell(tr, e.hash);
    actionCell(tr, "Restore", "Restore entry " + e.entry, async () => {
      // With a confirm, as an apply: the Policies page's countdown.
      const secs = Number($("#confirm-secs").value) || 60;
      const x = await api("POST", "rollback", { entry: e.entry, confirm: secs });
      window.alert(x.status === 200 ? x.data.message : x.data.error);
      if (x.status === 200) {
        // The Dashboard holds the countdown and its Confirm.
        countdown(Date.now() + secs * 1000);
        text($("#apply-result"), x.data.message);
        location.hash = "#dashboard";
        return;
      }
      loadHistory();
    });
    body.appendChild(tr);
  }
  const au = $("#audit tbody");
  au.textContent = "";
  for (const a of (r.data.audit || []).slice().reverse()) {
    const tr = document.createElement("tr");
    cell(tr, new Date(a.time * 1000).toLocaleString()); cell(tr, a.user); cell(tr, a.what); cell(tr, a.detail);
    au.appendChild(tr);
  }
}

async function loadConfig() {
  const r = await api("GET", "config");
  if (r.status !== 200) return;
  hash = r.data.hash;
  $("#config-text").value = r.data.text;
}

async function saveConfig() {
  const r = await api("PUT", "config", { text: $("#config-text").value }, { "If-Match": hash });
  const d = (r.data.diagnostics || []).map((x) => "line " + x.line + ":" + x.column + ": " + x.severity + ": " + x.message);
  text($("#config-result"), (r.status === 200 ? "Saved." : (r.data.error || "not saved")) + (d.length ? "\n" + d.join("\n") : ""));
  if (r.status === 200) hash = r.data.hash;
  banner();
}

function entryText(e) {
  const list = e.ports || e.types;
  return e.protocol + (list && list !== "any" ? " " + list.join(",") : "");
}

// ---- objects: addresses, and the ones that follow the world ---------------

// A time of the gateway's (seconds since the epoch) as "2026-12-04 18:20:01",
// and how far it is from now.
// Today's times as 18:20:01; others with their date (and the whole in a
// tooltip).
function stamp(t, whole) {
  const d = new Date(t * 1000);
  const p = (n) => String(n).padStart(2, "0");
  const day = d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate());
  const time = p(d.getHours()) + ":" + p(d.getMinutes()) + ":" + p(d.getSeconds());
  if (whole) return day + " " + time;
  return d.toDateString() === new Date().toDateString() ? time : day + " " + time.slice(0, 5);
}

function fromNow(t) {
  const s = Math.round(t - Date.now() / 1000);
  const a = Math.abs(s);
  const v = a < 90 ? a + " s" : a < 5400 ? Math.round(a / 60) + " min" :
    a < 129600 ? Math.round(a / 3600) + " h" : Math.round(a / 86400) + " d";
  return s >= 0 ? "in " + v : v + " ago";
}

function whenCell(tr, t, extra) {
  const td = cell(tr, "");
  td.className = "when";
  if (t === null || t === undefined) {
    td.textContent = extra || "never";
    return td;
  }
  td.title = stamp(t, true);
  td.appendChild(document.createTextNode(stamp(t)));
  td.appendChild(document.createElement("br"));
  const ago = document.createElement("span");
  ago.className = "ago";
  ago.textContent = fromNow(t);
  td.appendChild(ago);
  return td;
}

// Seconds as the language writes a duration (86400: 1d).
function duration(s) {
  for (const [n, u] of [[86400, "d"], [3600, "h"], [60, "m"]])
    if (s % n === 0) return s / n + u;
  return s + "s";
}

function feedSource(o) {
  return o.kind === "url" ? o.url : (o.hosts || o.countries || []).join(" ");
}

const RESULTS = {
  ok: "ok", partial: "partly: a name failed", error: "failed", pending: "not yet",
};

function feedRow(o) {
  const tr = document.createElement("tr");
  const st = o.state;
  const bad = st && (st.result === "error" || st.result === "partial");
  if (bad) tr.className = "failing";
  cell(tr, o.name);
  cell(tr, o.kind);
  const src = cell(tr, feedSource(o));
  src.className = "source";
  const extra = o.kind !== "url" ? [] : [
    o.refresh !== 86400 ? "every " + duration(o.refresh) : "",
    o.max !== 1000000 ? "at most " + o.max.toLocaleString("en") + " entries" : ""].filter((x) => x);
  if (extra.length) src.appendChild(text(document.createElement("span"), " (" + extra.join(", ") + ")")).className = "ago";
  if (!o.applied) {
    const u = document.createElement("span");
    u.className = "unapplied";
    u.textContent = st ? "changed since applied: the gateway still follows " + st.source :
      "saved, not applied yet: the gateway does not follow it";
    src.appendChild(u);
  }
  const n4 = cell(tr, st ? st.v4 : "");
  const n6 = cell(tr, st ? st.v6 : "");
  n4.className = n6.className = "num";
  if (st) {
    n4.title = n6.title = st.entries + " entries read, as " + (st.v4 + st.v6) + " set elements";
    n4.setAttribute("aria-label", st.v4 + " IPv4 set elements");
    n6.setAttribute("aria-label", st.v6 + " IPv6 set elements");
  }
  const last = whenCell(tr, st ? st.last_refresh : null);
  if (st) {
    const r = document.createElement("span");
    r.className = "result-" + st.result;
    r.textContent = (bad ? "⚠ " : "") + (RESULTS[st.result] || st.result) +
      (st.result === "partial" && st.failing > 1 ? " (" + st.failing + " names)" : "");
    last.appendChild(document.createTextNode(" "));
    last.appendChild(r);
  }
  // A country object is read again when its database file changes
  // (looked at every 10 s), not at a time.
  if (o.kind === "country" && st && st.result === "ok")
    cell(tr, "when the GeoIP file changes").className = "ago";
  else
    whenCell(tr, st ? st.next_refresh : null, st ? "not planned" : "");
  const err = cell(tr, "");
  if (st && st.error) {
    err.className = "error-text";
    err.appendChild(document.createTextNode(st.error));
    if (st.error_time) {
      const w = document.createElement("span");
      w.className = "ago";
      w.textContent = " (" + stamp(st.error_time) + ")";
      w.title = stamp(st.error_time, true);
      err.appendChild(w);
    }
  }
  objectActions(tr, o);
  return tr;
}

// Edit and Delete, named for the object they act on.
function objectActions(tr, o) {
  const act = cell(tr, "");
  act.className = "actions";
  for (const [label, fn] of [["Edit", () => editObject(o)],
    ["Delete", () => deleteNamed("objects", o.name, "#object-result")]]) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.setAttribute("aria-label", label + " object " + o.name);
    b.addEventListener("click", fn);
    act.appendChild(b);
  }
}

async function loadObjects() {
  await loadPolicy();
  await drawObjects();
  drawServices();
}

// The objects and their states (GET objects), drawn anew; the form is
// left as it is.
async function drawObjects() {
  const r = await api("GET", "objects");
  if (r.status !== 200 && !policy) return;
  const objects = r.status === 200 ? r.data.objects : policy.objects;
  const ob = $("#objects-table tbody");
  ob.textContent = "";
  const fb = $("#feeds-table tbody");
  fb.textContent = "";
  const plain = objects.filter((x) => !x.builtin && !x.kind);
  for (const o of plain) {
    const tr = document.createElement("tr");
    cell(tr, o.name);
    cell(tr, o.members.map(address).join(", "));
    objectActions(tr, o);
    ob.appendChild(tr);
  }
  $("#objects-table").hidden = plain.length === 0;
  text($("#objects-none"), plain.length ? "" : "None yet: define one below (kind: addresses).");
  const feeds = objects.filter((x) => x.kind);
  for (const o of feeds) fb.appendChild(feedRow(o));
  $("#feeds-table").hidden = feeds.length === 0;
  text($("#feeds-none"), feeds.length ? "" : "None yet: define one below (kind: host names, a list at a URL, countries).");
}

// The services, under the objects.
function drawServices() {
  const sb = $("#services-table tbody");
  sb.textContent = "";
  for (const x of policy.services.filter((y) => !y.builtin)) {
    const tr = document.createElement("tr");
    cell(tr, x.name);
    cell(tr, x.entries.map(entryText).join("; "));
    actionCell(tr, "Delete", "Delete service " + x.name, () => deleteNamed("services", x.name, "#service-result"));
    sb.appendChild(tr);
  }
}

function said(r, el) {
  const d = (r.data.diagnostics || []).filter((x) => x.severity === "error");
  text($(el), (r.status === 200 ? "Saved." : (r.data.error || "not saved")) +
    (d.length ? " " + d.map((x) => x.message).join("; ") : ""));
  if (r.status === 200) hash = r.data.hash;
}

async function deleteNamed(kind, name, el) {
  if (!window.confirm("Delete " + name + "?")) return;
  said(await api("DELETE", kind + "/" + encodeURIComponent(name), {}, { "If-Match": hash }), el);
  banner();
  route();
}

// The object form's fields for its kind: only those shown, and needed.
const KIND_FIELD = { address: "members", fqdn: "hosts", url: "url", country: "countries" };

function showKind() {
  const f = $("#object-form");
  for (const d of f.querySelectorAll("[data-kind]")) d.hidden = d.dataset.kind !== f.kind.value;
  for (const [k, name] of Object.entries(KIND_FIELD)) f[name].required = k === f.kind.value;
}

function clearFieldErrors() {
  for (const e of document.querySelectorAll("#object-form .field-error")) e.textContent = "";
  for (const i of document.querySelectorAll("#object-form [aria-invalid]")) i.removeAttribute("aria-invalid");
}

function editObject(o) {
  const f = $("#object-form");
  f.reset();
  clearFieldErrors();
  text($("#object-result"), "");
  text($("#object-form-title"), "Edit object " + o.name);
  f.name.value = o.name;
  f.kind.value = o.kind || "address";
  if (!o.kind) f.members.value = o.members.map(address).join(" ");
  if (o.kind === "fqdn") f.hosts.value = o.hosts.join(" ");
  if (o.kind === "country") f.countries.value = o.countries.join(" ");
  if (o.kind === "url") {
    f.url.value = o.url;
    f.refresh.value = o.refresh === 86400 ? "" : duration(o.refresh);
    f.max.value = o.max === 1000000 ? "" : o.max;
  }
  showKind();
  f.name.focus();
}

function newObject() {
  const f = $("#object-form");
  f.reset();
  clearFieldErrors();
  text($("#object-result"), "");
  text($("#object-form-title"), "Define an object");
  showKind();
}

// The object as the API takes it: moat show --json's shape for its kind.
function objectBody(f) {
  const kind = f.kind.value;
  if (kind === "address") return { members: { match: "include", addresses: words(f.members.value) } };
  if (kind === "fqdn") return { kind, hosts: words(f.hosts.value) };
  if (kind === "country") return { kind, countries: words(f.countries.value) };
  const body = { kind, url: f.url.value.trim() };
  const rf = f.refresh.value.trim();
  if (rf) body.refresh = /^[0-9]+$/.test(rf) ? Number(rf) : rf;
  const mx = f.max.value.trim();
  if (mx) body.max = /^[0-9]+$/.test(mx) ? Number(mx) : mx;
  return body;
}

// An error at its field: the editor's (400, "field") or the parse's (422,
// diagnostics with "field" and, in a list, "index": the word it is about).
function fieldError(f, field, index, msg) {
  const el = $("#object-err-" + field);
  if (!el || !f[field]) return false;
  const w = index !== undefined && index !== null ? words(f[field].value)[index] : null;
  const line = (w ? w + ": " : "") + msg;
  el.textContent = el.textContent ? el.textContent + "; " + line : line;
  f[field].setAttribute("aria-invalid", "true");
  return true;
}

async function saveObject(e) {
  e.preventDefault();
  const f = e.target;
  clearFieldErrors();
  const r = await api("PUT", "objects/" + encodeURIComponent(f.name.value), objectBody(f),
    { "If-Match": hash });
  banner();
  if (r.status === 200) {
    hash = r.data.hash;
    newObject();
    text($("#object-result"), "Saved: apply it from the Dashboard.");
    loadObjects();
    return;
  }
  // The rest (a rule that cannot use the object, say) under the form.
  const rest = [];
  const atField = r.data.field && fieldError(f, r.data.field, null, r.data.error);
  for (const d of (r.data.diagnostics || []).filter((x) => x.severity === "error"))
    if (!d.field || !fieldError(f, d.field, d.index, d.message)) rest.push(d.message);
  text($("#object-result"), (atField || f.querySelector("[aria-invalid=true]") ?
    "Not saved: see the marked field." : (r.data.error || "Not saved.")) +
    (rest.length ? " " + rest.join("; ") : ""));
  const bad = f.querySelector("[aria-invalid=true]");
  if (bad) bad.focus();
}

// "tcp 80,443 udp 53 icmp echo-request gre" as entries.
function parseEntries(s) {
  const out = [];
  for (const w of words(s.replace(/,\s+/g, ","))) {
    if (/^[a-z]+[0-9]*$/.test(w) && !/^[0-9]/.test(w) && w.indexOf("-") < 0) out.push({ protocol: w });
    else if (out.length) {
      const last = out[out.length - 1];
      const key = /^(icmp|icmpv6)$/.test(last.protocol) ? "types" : "ports";
      last[key] = (last[key] || []).concat(w.split(","));
    }
  }
  return out;
}

async function saveService(e) {
  e.preventDefault();
  const f = e.target;
  said(await api("PUT", "services/" + encodeURIComponent(f.name.value),
    { entries: parseEntries(f.entries.value) }, { "If-Match": hash }), "#service-result");
  banner();
  loadObjects();
}

async function loadInterfaces() {
  await loadPolicy();
  const masq = new Set((policy.nat || []).filter((n) => n.type === "masquerade").map((n) => n.interface));
  const body = $("#interfaces-table tbody");
  body.textContent = "";
  for (const i of policy.interfaces) {
    const tr = document.createElement("tr");
    cell(tr, i.name); cell(tr, i.device);
    cell(tr, i.dynamic ? "dynamic" : i.addresses.join(", "));
    cell(tr, i.default);
    const m = document.createElement("input");
    m.type = "checkbox";
    m.checked = masq.has(i.name);
    m.setAttribute("aria-label", "Masquerade on " + i.name);
    m.addEventListener("change", async () => {
      said(await api(m.checked ? "PUT" : "DELETE", "nat/" + encodeURIComponent(i.name), {},
        { "If-Match": hash }), "#iface-result");
      banner();
      loadInterfaces();
    });
    cell(tr, "").appendChild(m);
    actionCell(tr, "Delete", "Delete interface " + i.name, () => deleteNamed("interfaces", i.name, "#iface-result"));
    body.appendChild(tr);
  }
  loadGateways();
  loadForwards();
  loadNat();
}

// Gateways and groups: the config's, with moatd's state beside each.
async function loadGateways() {
  const st = await api("GET", "status?counters=0");
  const live = {};
  const gs = st.status === 200 && st.data.gateways ? st.data.gateways : null;
  for (const g of (gs && gs.gateways) || []) live[g.name] = g;
  const body = $("#gateways-table tbody");
  body.textContent = "";
  const gws = policy.gateways || [];
  for (const g of gws) {
    const tr = document.createElement("tr");
    const l = live[g.name];
    cell(tr, g.name); cell(tr, g.interface); cell(tr, g.via); cell(tr, g.monitor);
    cell(tr, g.loss + "%, " + g.latency + " ms");
    cell(tr, l ? l.state + (l.loss !== null ? ", loss " + Math.round(l.loss) + "%" : "") +
      (l.latency_ms !== null ? ", " + l.latency_ms.toFixed(1) + " ms" : "") : "not probed (apply it)");
    if (l && l.state === "down") tr.className = "failing";
    actionCell(tr, "Delete", "Delete gateway " + g.name, () => deleteNamed("gateways", g.name, "#gateway-result"));
    body.appendChild(tr);
  }
  $("#gateways-table").hidden = gws.length === 0;
  text($("#gateways-none"), gws.length ? "" :
    "None: the system's routes carry the traffic. Define a gateway per link below, then a group of them for failover.");
  const active = {};
  for (const g of (gs && gs.groups) || []) active[g.name] = g.active;
  const gb = $("#gwgroups-table tbody");
  gb.textContent = "";
  for (const g of policy.gateway_groups || []) {
    const tr = document.createElement("tr");
    cell(tr, g.name);
    cell(tr, g.members.map((m) => m.gateway + " (" + m.tier + ")").join(", "));
    cell(tr, active[g.name] ? active[g.name].join(", ") || "none" : "not probed");
    actionCell(tr, "Delete", "Delete gateway group " + g.name, () => deleteNamed("gateway-groups", g.name, "#gwgroup-result"));
    gb.appendChild(tr);
  }
  $("#gwgroups-table").hidden = (policy.gateway_groups || []).length === 0;
  const d = policy.default_gateway || {};
  $("#defgw-form").names.value = ["ipv4", "ipv6"].filter((k) => d[k] && !d[k].implied)
    .map((k) => d[k].name).join(" ");
  const sel = $("#gateway-form select[name=interface]");
  sel.textContent = "";
  for (const i of policy.interfaces) {
    const o = document.createElement("option");
    o.textContent = i.name;
    sel.appendChild(o);
  }
}

async function saveGateway(e) {
  e.preventDefault();
  const f = e.target;
  const body = { interface: f.interface.value, via: f.via.value.trim() };
  if (f.monitor.value.trim()) body.monitor = f.monitor.value.trim();
  if (f.loss.value) body.loss = Number(f.loss.value);
  if (f.latency.value) body.latency = Number(f.latency.value);
  said(await api("PUT", "gateways/" + encodeURIComponent(f.name.value), body, { "If-Match": hash }),
    "#gateway-result");
  banner();
  loadInterfaces();
}

async function saveGwGroup(e) {
  e.preventDefault();
  const f = e.target;
  const members = words(f.members.value).map((w) => {
    const [g, t] = w.split(":");
    return t ? { gateway: g, tier: Number(t) } : { gateway: g };
  });
  said(await api("PUT", "gateway-groups/" + encodeURIComponent(f.name.value), { members },
    { "If-Match": hash }), "#gwgroup-result");
  banner();
  loadInterfaces();
}

async function saveDefaultGw(e) {
  e.preventDefault();
  said(await api("PUT", "default-gateway", { names: words(e.target.names.value) }, { "If-Match": hash }),
    "#defgw-result");
  banner();
  loadInterfaces();
}

function loadForwards() {
  const body = $("#forwards-table tbody");
  body.textContent = "";
  for (const f of policy.forwards || []) {
    const tr = document.createElement("tr");
    cell(tr, f.number); cell(tr, f.interface);
    cell(tr, f.services.names.join(", ")); cell(tr, f.to.map(address).join(", "));
    actionCell(tr, "Delete", "Delete port forward " + f.number, async () => {
      if (!window.confirm("Delete port forward " + f.number + "?")) return;
      said(await api("DELETE", "forwards/" + f.number, {}, { "If-Match": hash }), "#forward-result");
      banner();
      loadInterfaces();
    });
    body.appendChild(tr);
  }
  const sel = $("#forward-form select[name=interface]");
  sel.textContent = "";
  for (const i of policy.interfaces) {
    const o = document.createElement("option");
    o.textContent = i.name;
    sel.appendChild(o);
  }
}

// A list of address elements as moat show --json gives them, as words.
function sideWords(side) { return side && side.addresses ? side.addresses.map(address) : []; }
function sideText(side) {
  const w = sideWords(side);
  return (side && side.match === "exclude" ? "all but " : "") + (w.length ? w.join(", ") : "any");
}

// An interface select, its choice kept.
function nicSelect(sel) {
  const was = sel.value;
  sel.textContent = "";
  for (const i of policy.interfaces) {
    const o = document.createElement("option");
    o.textContent = i.name;
    sel.appendChild(o);
  }
  if (was) sel.value = was;
}

// A NAT form's answer: saved (true), or the errors at their fields (the
// editor's 400 "field", the parse's diagnostics with "field" and "index").
function natErrors(f, prefix, r, el) {
  for (const e of f.querySelectorAll(".field-error")) e.textContent = "";
  for (const i of f.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
  if (r.status === 200) {
    hash = r.data.hash;
    text($(el), "Saved: apply it from the Dashboard.");
    return true;
  }
  const rest = [];
  const mark = (field, index, msg) => {
    const box = $("#" + prefix + "-err-" + field);
    if (!box || !f[field]) return false;
    const w = index !== undefined && index !== null ? words(f[field].value || "")[index] : null;
    const line = (w ? w + ": " : "") + msg;
    box.textContent = box.textContent ? box.textContent + "; " + line : line;
    f[field].setAttribute("aria-invalid", "true");
    return true;
  };
  const atField = r.data.field && mark(r.data.field, null, r.data.error);
  for (const d of (r.data.diagnostics || []).filter((x) => x.severity === "error"))
    if (!d.field || !mark(d.field, d.index, d.message)) rest.push(d.message);
  text($(el), (atField || f.querySelector("[aria-invalid=true]") ? "Not saved: see the marked field." :
    (r.data.error || "Not saved.")) + (rest.length ? " " + rest.join("; ") : ""));
  const bad = f.querySelector("[aria-invalid=true]");
  if (bad) bad.focus();
  return false;
}

function smallButton(td, label, name, fn) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.setAttribute("aria-label", name);
  b.addEventListener("click", fn);
  td.appendChild(b);
}

// The outbound NAT rules and the 1:1 lines, under the port forwards.
function loadNat() {
  const rules = (policy.nat || []).filter((n) => n.type === "source");
  const ones = (policy.nat || []).filter((n) => n.type === "one-to-one");
  const body = $("#natsrc-table tbody");
  body.textContent = "";
  for (const n of rules) {
    const tr = document.createElement("tr");
    cell(tr, n.number); cell(tr, n.interface);
    cell(tr, sideText(n.source)); cell(tr, sideText(n.destination));
    cell(tr, n.services.match === "any" ? "any" : n.services.names.join(", "));
    cell(tr, typeof n.translate === "string" ? n.translate : n.translate.map(address).join(", "));
    const td = cell(tr, "");
    td.className = "actions";
    smallButton(td, "Edit", "Edit outbound NAT rule " + n.number, () => editNatSource(n));
    if (n.number > 1)
      smallButton(td, "Up", "Move outbound NAT rule " + n.number + " up",
        () => moveNatSource(n.number, n.number - 1));
    smallButton(td, "Delete", "Delete outbound NAT rule " + n.number, async () => {
      if (!window.confirm("Delete outbound NAT rule " + n.number + "?")) return;
      said(await api("DELETE", "nat-source/" + n.number, {}, { "If-Match": hash }), "#natsrc-result");
      banner();
      loadInterfaces();
    });
    body.appendChild(tr);
  }
  $("#natsrc-table").hidden = rules.length === 0;
  const ob = $("#one-table tbody");
  ob.textContent = "";
  for (const n of ones) {
    const tr = document.createElement("tr");
    cell(tr, n.number); cell(tr, n.interface);
    cell(tr, n.public.map(address).join(", ")); cell(tr, n.inside.map(address).join(", "));
    cell(tr, n.reflection ? "on" : "off");
    actionCell(tr, "Delete", "Delete 1:1 NAT " + n.number, async () => {
      if (!window.confirm("Delete 1:1 NAT " + n.number + "?")) return;
      said(await api("DELETE", "one-to-one/" + n.number, {}, { "If-Match": hash }), "#one-result");
      banner();
      loadInterfaces();
    });
    ob.appendChild(tr);
  }
  $("#one-table").hidden = ones.length === 0;
  nicSelect($("#natsrc-form select[name=interface]"));
  nicSelect($("#one-form select[name=interface]"));
  showTranslate();
}

function showTranslate() {
  const f = $("#natsrc-form");
  f.translate.disabled = f.how.value !== "address";
  f.translate.required = f.how.value === "address";
}

function newNatSource() {
  const f = $("#natsrc-form");
  const on = f.interface.value;   // the next rule is likely on the same
  f.reset();
  if (on) f.interface.value = on;
  f.n.value = "";
  f.position.disabled = false;
  text($("#natsrc-form-title"), "Add an outbound NAT rule");
  natErrors(f, "natsrc", { status: 0, data: {} }, "#natsrc-result");
  text($("#natsrc-result"), "");
  nicSelect(f.interface);
  showTranslate();
}

function editNatSource(n) {
  const f = $("#natsrc-form");
  newNatSource();
  text($("#natsrc-form-title"), "Edit outbound NAT rule " + n.number);
  f.n.value = n.number;
  f.interface.value = n.interface;
  f.source.value = sideWords(n.source).join(" ");
  f.source_not.checked = n.source.match === "exclude";
  const any = n.destination.match === "include" && sideWords(n.destination).join() === "ANY";
  f.destination.value = any ? "" : sideWords(n.destination).join(" ");
  f.destination_not.checked = n.destination.match === "exclude";
  f.services.value = n.services.match === "any" ? "" : n.services.names.join(" ");
  if (typeof n.translate === "string") f.how.value = n.translate;
  else { f.how.value = "address"; f.translate.value = n.translate.map(address).join(" "); }
  f.position.disabled = true;
  showTranslate();
  f.source.focus();
}

async function moveNatSource(n, to) {
  said(await api("POST", "nat-source/" + n + "/move", { to }, { "If-Match": hash }), "#natsrc-result");
  banner();
  loadInterfaces();
}

async function saveNatSource(e) {
  e.preventDefault();
  const f = e.target;
  const body = {
    interface: f.interface.value,
    source: { match: f.source_not.checked ? "exclude" : "include", addresses: words(f.source.value) },
    services: words(f.services.value),
    translate: f.how.value === "address" ? words(f.translate.value) : f.how.value,
  };
  if (words(f.destination.value).length || f.destination_not.checked)
    body.destination = { match: f.destination_not.checked ? "exclude" : "include",
      addresses: words(f.destination.value) };
  const pos = f.position.value.trim();
  if (!f.n.value && pos) body.position = /^[0-9]+$/.test(pos) ? Number(pos) : pos;
  const r = f.n.value ? await api("PUT", "nat-source/" + f.n.value, body, { "If-Match": hash }) :
    await api("POST", "nat-source", body, { "If-Match": hash });
  banner();
  if (natErrors(f, "natsrc", r, "#natsrc-result")) {
    const msg = $("#natsrc-result").textContent;
    await loadPolicy();
    loadNat();
    newNatSource();
    text($("#natsrc-result"), msg);
  }
}

async function saveOne(e) {
  e.preventDefault();
  const f = e.target;
  const r = await api("POST", "one-to-one", { interface: f.interface.value, public: f.public.value.trim(),
    inside: f.inside.value.trim(), reflection: f.reflection.checked }, { "If-Match": hash });
  banner();
  if (natErrors(f, "one", r, "#one-result")) {
    const msg = $("#one-result").textContent;
    const on = f.interface.value;
    f.reset();
    f.interface.value = on;
    await loadPolicy();
    loadNat();
    text($("#one-result"), msg);
  }
}

async function saveForward(e) {
  e.preventDefault();
  const f = e.target;
  said(await api("POST", "forwards", { interface: f.interface.value, services: words(f.services.value),
    to: words(f.to.value) }, { "If-Match": hash }), "#forward-result");
  banner();
  loadInterfaces();
}

async function saveInterface(e) {
  e.preventDefault();
  const f = e.target;
  const body = { device: f.device.value, dynamic: f.dynamic.checked, addresses: words(f.addresses.value) };
  if (f.default.value) body.default = f.default.value;
  said(await api("PUT", "interfaces/" + encodeURIComponent(f.name.value), body, { "If-Match": hash }),
    "#iface-result");
  banner();
  loadInterfaces();
}

async function loadAntivirus() {
  await loadPolicy();
  const av = policy.antivirus;
  const f = $("#av-form");
  // Without a block yet: the language's defaults.
  const defaults = { smtp_other_scanning: false, smtp_local_scanning: true, smtp_outgoing_scanning: true };
  for (const k of Object.keys(defaults))
    f[k].checked = av ? av[k] : defaults[k];
  f.on_scan_failure.value = av ? av.on_scan_failure : "tempfail";
  f.max_message_size.value = av ? av.max_message_size : 52428800;
  f.smtp_relay_to.value = av ? av.smtp_relay_to : "127.0.0.1:10026";
  f.engine.value = av ? av.engine : "clamav";
  f.engine_path.value = av ? av.engine_path : "/var/lib/clamav";
  f.signature_reload.value = av ? av.signature_reload : "auto";
  f.scan_timeout.value = av ? av.scan_timeout : 120;
  f.ignore_signatures.value = av ? av.ignore_signatures.join("\n") : "";
  f.smtp_intercept_tls.value = av ? av.smtp_intercept_tls : "terminate";
  f.smtp_tls_passthrough_from.value = av && av.smtp_tls_passthrough_from || "";
  f.smtp_tls_upstream.value = av ? av.smtp_tls_upstream : "dane";
  f.smtp_relay_require_tls.checked = av ? av.smtp_relay_require_tls : false;
  // The paths, shown only: the parent refuses them from the console.
  const paths = $("#av-tls-paths");
  paths.textContent = "";
  for (const [k, label, none] of [
    ["smtp_tls_certificate", "Certificate", "a self-signed one of the gateway's"],
    ["smtp_tls_key", "Key", "the self-signed certificate's"],
    ["smtp_tls_ca_file", "Extra CA file", "none (the system's CAs)"],
    ["dnssec_trust_anchor", "DNSSEC trust anchor", "/usr/share/dns/root.key"]]) {
    const dt = document.createElement("dt"); dt.textContent = label; paths.appendChild(dt);
    const dd = document.createElement("dd"); dd.textContent = av && av[k] || none; paths.appendChild(dd);
  }
  loadTlsFigures();
}

// Mail over TLS in figures (GET status, mail.tls): since start and in total.
async function loadTlsFigures() {
  const r = await api("GET", "status?counters=0");
  const body = $("#av-tls-figures tbody");
  body.textContent = "";
  const t = r.status === 200 && r.data.mail && r.data.mail.tls;
  text($("#av-tls-none"), t ? "" : "No figures yet: moatd's SMTP proxy has not reported.");
  $("#av-tls-figures").hidden = !t;
  if (!t) return;
  const s = t.since_start;
  const rows = [
    ["Messages, TLS on both legs", (x) => x.both],
    ["Messages, the client's leg only", (x) => x.client],
    ["Messages, the next hop's leg only", (x) => x.server],
    ["Messages, no TLS", (x) => x.none],
    ["Passthrough sessions (not scanned)", (x) => x.passthrough_sessions],
    ["Passthrough bytes", (x) => x.passthrough_bytes],
    ["Next hop verified by DANE", (x) => x.verified.dane],
    ["Next hop verified by MTA-STS", (x) => x.verified.mta_sts],
    ["Next hop verified by a CA", (x) => x.verified.ca],
    ["Recipients deferred for TLS policy", (x) => x.deferred.total],
    ["… DANE not met", (x) => x.deferred.dane],
    ["… MTA-STS not met", (x) => x.deferred.mta_sts],
    ["… verify not met", (x) => x.deferred.verify],
  ];
  for (const [label, get] of rows) {
    const tr = document.createElement("tr");
    const th = document.createElement("th");
    th.scope = "row";
    th.textContent = label;
    tr.appendChild(th);
    cell(tr, get(s)); cell(tr, get(t));
    body.appendChild(tr);
  }
}

async function saveAntivirus(e) {
  e.preventDefault();
  const f = e.target;
  const settings = {
    smtp_other_scanning: f.smtp_other_scanning.checked,
    smtp_local_scanning: f.smtp_local_scanning.checked,
    smtp_outgoing_scanning: f.smtp_outgoing_scanning.checked,
    on_scan_failure: f.on_scan_failure.value,
    max_message_size: Number(f.max_message_size.value),
    smtp_relay_to: f.smtp_relay_to.value,
    engine: f.engine.value, engine_path: f.engine_path.value,
    signature_reload: f.signature_reload.value,
    scan_timeout: Number(f.scan_timeout.value),
    ignore_signatures: f.ignore_signatures.value.split(/\s+/).filter((x) => x),
    smtp_intercept_tls: f.smtp_intercept_tls.value,
    smtp_tls_passthrough_from: f.smtp_tls_passthrough_from.value.trim() || null,
    smtp_tls_upstream: f.smtp_tls_upstream.value,
    smtp_relay_require_tls: f.smtp_relay_require_tls.checked,
  };
  const r = await api("PUT", "antivirus", { settings }, { "If-Match": hash });
  const d = (r.data.diagnostics || []).filter((x) => x.severity !== "note");
  text($("#av-result"), (r.status === 200 ? "Saved: apply it from the Dashboard." : (r.data.error || "not saved")) +
    (d.length ? " " + d.map((x) => x.message).join("; ") : ""));
  if (r.status === 200) hash = r.data.hash;
  banner();
}

async function showDiff(e) {
  e.preventDefault();
  const f = e.target;
  const r = await api("GET", "diff?from=" + Number(f.from.value) + "&to=" + Number(f.to.value));
  text($("#diff"), r.status === 200 ? r.data.lines.join("\n") : (r.data.error || "no answer"));
}

const loaders = { dashboard: loadDashboard, policies: loadPolicy, troubleshooting: loadPolicy,
  antivirus: loadAntivirus, objects: loadObjects, interfaces: loadInterfaces,
  logs: loadLogs, history: loadHistory, config: loadConfig };

function route() {
  if (!csrf) return;
  const page = (location.hash || "#dashboard").slice(1);
  document.querySelectorAll(".page").forEach((p) => { p.hidden = p.id !== page; });
  // From the keyboard, the next Tab goes on in the page just opened.
  const h = document.querySelector("#" + page + " h2");
  if (h && document.activeElement && document.activeElement.closest("nav")) {
    h.tabIndex = -1;
    h.focus();
  }
  if (loaders[page]) loaders[page]();
}

// ---- wiring -------------------------------------------------------------

$("#login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const r = await api("POST", "login", { user: f.get("user"), password: f.get("password") });
  if (r.status !== 200) {
    text($("#login-error"), r.data.error || "login failed");
    return;
  }
  csrf = r.data.csrf;
  text($("#who"), r.data.user);
  $("#login").hidden = true;
  $("#nav").hidden = false;
  route();
});
$("#rule-form").addEventListener("submit", saveRule);
$("#rules-first").addEventListener("click", () => goRules(1));
$("#rules-prev").addEventListener("click", () => goRules(rulesFrom - RULES_PAGE));
$("#rules-next").addEventListener("click", () => goRules(rulesFrom + RULES_PAGE));
$("#rules-last").addEventListener("click", () => goRules(rulesTotal));
$("#rules-goto").addEventListener("submit", (e) => {
  e.preventDefault();
  const n = Number(e.target.rule.value);
  if (Number.isInteger(n) && n >= 1) goRules(n);
});
$("#rule-cancel").addEventListener("click", () => {
  $("#rule-form").reset();
  $("#rule-form").number.value = "";
  text($("#rule-form-title"), "Add a policy");
});
$("#apply").addEventListener("click", apply);
$("#confirm").addEventListener("click", confirmApply);
$("#test-form").addEventListener("submit", runTest);
$("#probe").addEventListener("click", runProbe);
$("#config-save").addEventListener("click", saveConfig);
$("#av-form").addEventListener("submit", saveAntivirus);
$("#object-form").addEventListener("submit", saveObject);
$("#object-form").kind.addEventListener("change", showKind);
$("#object-new").addEventListener("click", newObject);
showKind();
$("#iface-form").addEventListener("submit", saveInterface);
$("#gateway-form").addEventListener("submit", saveGateway);
$("#gwgroup-form").addEventListener("submit", saveGwGroup);
$("#defgw-form").addEventListener("submit", saveDefaultGw);
$("#forward-form").addEventListener("submit", saveForward);
$("#natsrc-form").addEventListener("submit", saveNatSource);
$("#natsrc-form select[name=how]").addEventListener("change", showTranslate);
$("#natsrc-new").addEventListener("click", newNatSource);
$("#one-form").addEventListener("submit", saveOne);
$("#service-form").addEventListener("submit", saveService);
$("#diff-form").addEventListener("submit", showDiff);
window.addEventListener("hashchange", route);
setInterval(() => { if (csrf && location.hash === "#logs") loadLogs(); }, 3000);
// The feed objects' states move on by themselves (a list fetched, a name
// looked up again).
setInterval(() => { if (csrf && location.hash === "#objects") drawObjects(); }, 10000);
