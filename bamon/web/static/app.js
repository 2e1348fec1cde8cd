// bamon dashboard: plain JavaScript, served by bamon-web itself (no CDN, no build step).
// State comes from the REST API; /api/v1/events pushes run results so tiles change without
// reloading; the panel layout is kept server-side per user (/api/v1/layout). Panels move by
// dragging their title bar (HTML5 drag and drop) or with the ↑ ↓ buttons (keyboard, touch).
"use strict";

const $ = (sel, root = document) => root.querySelector(sel);
const RANK = { viewer: 0, operator: 1, admin: 2 };
const PANELS = { grid: "Checks", alerts: "Open alerts", deliveries: "Alert deliveries", audit: "Recent changes", add: "Add a check" };
const PANEL_ROLE = { grid: "viewer", alerts: "viewer", deliveries: "viewer", audit: "operator", add: "admin" };
const state = { me: null, checks: [], silences: [], layout: { panels: [], hidden: [] }, filter: { tag: "", status: "" }, socket: null };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== null && value !== undefined && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.me) headers["X-CSRF-Token"] = state.me.csrf;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "same-origin" });
  const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (response.status === 401 && path !== "/api/v1/session") { showLogin(); throw new Error("not logged in"); }
  if (!response.ok) throw new Error(data.error ? `${data.error.message}${data.error.hint ? " — " + data.error.hint : ""}` : response.statusText);
  return data;
}

function toast(text) {
  const node = $("#toast");
  node.textContent = text;
  node.classList.add("show");
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => node.classList.remove("show"), 4000);
}

const may = (role) => state.me && RANK[state.me.role] >= RANK[role];
const ago = (iso) => {
  if (!iso) return "never";
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  return s < 90 ? `${Math.round(s)}s ago` : s < 5400 ? `${Math.round(s / 60)}min ago` : `${Math.round(s / 3600)}h ago`;
};

// --- login ---------------------------------------------------------------------------------
function showLogin() {
  state.me = null;
  for (const id of ["#dashboard", "#detail", "#logout", "#customise", "#panel-menu", "#fleet-link"]) $(id).hidden = true;
  $("#whoami").textContent = "";
  $("#login").hidden = false;
  $("#login-user").focus();
}

$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("#login-error").textContent = "";
  try {
    state.me = await api("POST", "/api/v1/session", { user: $("#login-user").value, password: $("#login-password").value });
    $("#login-password").value = "";
    await start();
  } catch (error) { $("#login-error").textContent = error.message; }
});

$("#logout").addEventListener("click", async () => {
  await api("DELETE", "/api/v1/session").catch(() => {});
  if (state.socket) state.socket.close();
  showLogin();
});

// --- data ----------------------------------------------------------------------------------
// The latest run event per check. The status API reads each check's state file, which may be
// written a moment after the journal record that produced the event: a refresh must not put
// an older run back on screen.
const latestRun = new Map();
const RUN_FIELDS = ["status", "exitCode", "duration", "lastExecution", "consecutiveFailures"];

async function refresh() {
  const page = await api("GET", "/api/v1/scripts?limit=1000");
  for (const check of page.items) {
    const run = latestRun.get(check.name);
    if (run && Date.parse(run.lastExecution) > Date.parse(check.lastExecution || 0) + 999) {
      for (const key of RUN_FIELDS) check[key] = run[key];
    }
  }
  state.checks = page.items;
  render();
}

let refreshTimer = null;
function refreshSoon(delay = 300) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refresh().catch(() => {}), delay);
}

function connect() {
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/events`);
  state.socket = socket;
  socket.onopen = () => { $("#live").className = "live on"; $("#live").textContent = "live"; };
  socket.onclose = () => {
    $("#live").className = "live off"; $("#live").textContent = "offline";
    if (state.me && state.socket === socket) setTimeout(() => { if (state.me) { connect(); refreshSoon(0); } }, 2000);
  };
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "run") {
      latestRun.set(event.check, event);
      const check = state.checks.find((c) => c.name === event.check);
      if (check) for (const key of RUN_FIELDS) check[key] = event[key];
      render();
      refreshSoon();  // output and next run time follow from the status API
    } else if (event.type === "change") { refreshSoon(); }
    else if (event.type === "delivery") { toast(`alert for ${event.check} → ${event.channel}: ${event.answer}`); deliveriesSoon(); }
    else if (event.type === "alert") { toast(event.message); }
  };
}

// --- layout --------------------------------------------------------------------------------
function visiblePanels() {
  const allowed = Object.keys(PANELS).filter((p) => may(PANEL_ROLE[p]));
  const order = state.layout.panels.filter((p) => allowed.includes(p));
  for (const p of allowed) if (!order.includes(p)) order.push(p);
  return order.filter((p) => !state.layout.hidden.includes(p));
}

async function saveLayout(panels, hidden) {
  state.layout = { panels, hidden };
  render();
  await api("PUT", "/api/v1/layout", state.layout).catch((e) => toast(e.message));
}

function movePanel(name, step) {
  const order = visiblePanels().concat(state.layout.hidden);
  const i = order.indexOf(name), j = i + step;
  if (j < 0 || j >= order.length) return;
  [order[i], order[j]] = [order[j], order[i]];
  saveLayout(order, state.layout.hidden);
}

// Dropping a panel on another puts it in that one's place: after it when dragged downwards,
// before it when dragged upwards (as in any sortable list).
function dropPanel(name, target) {
  const order = visiblePanels().concat(state.layout.hidden);
  const i = order.indexOf(name), j = order.indexOf(target);
  if (i < 0 || j < 0 || i === j) return;
  order.splice(i, 1);
  order.splice(j, 0, name);
  saveLayout(order, state.layout.hidden);
}

let dragged = null;  // the panel being dragged: only our own panels are drop targets for it
function draggable(section, name) {
  const handle = section.querySelector("h2");
  handle.setAttribute("draggable", "true");
  handle.title = "drag to move (or use ↑ ↓)";
  handle.addEventListener("dragstart", (event) => {
    dragged = name;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", name);
    event.dataTransfer.setDragImage(section, 16, 16);
    section.classList.add("dragging");
  });
  handle.addEventListener("dragend", () => {
    dragged = null;
    for (const node of document.querySelectorAll(".panel.dragging, .panel.drop-target")) node.classList.remove("dragging", "drop-target");
  });
  // cancelling dragenter makes this panel the drop target; cancelling dragover accepts the drop
  const accept = (event) => {
    if (!dragged || dragged === name) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    section.classList.add("drop-target");
  };
  section.addEventListener("dragenter", accept);
  section.addEventListener("dragover", accept);
  section.addEventListener("dragleave", (event) => { if (!section.contains(event.relatedTarget)) section.classList.remove("drop-target"); });
  section.addEventListener("drop", (event) => {
    event.preventDefault();
    section.classList.remove("drop-target");
    const moved = dragged;
    dragged = null;
    if (moved) dropPanel(moved, name);
  });
  return section;
}

function renderMenu() {
  const menu = $("#panel-menu");
  menu.replaceChildren(el("strong", {}, "Panels: "), ...Object.keys(PANELS).filter((p) => may(PANEL_ROLE[p])).map((p) =>
    el("label", { class: "menu-item" },
      el("input", { type: "checkbox", checked: !state.layout.hidden.includes(p), "data-panel-toggle": p,
        onchange: (e) => saveLayout(visiblePanels().concat(state.layout.hidden).filter((x) => x !== p).concat(p),
          e.target.checked ? state.layout.hidden.filter((x) => x !== p) : state.layout.hidden.concat(p)) }),
      " ", PANELS[p])));
}
$("#customise").addEventListener("click", () => { $("#panel-menu").hidden = !$("#panel-menu").hidden; renderMenu(); });

// --- panels --------------------------------------------------------------------------------
function panel(name, body) {
  return draggable(el("section", { class: "panel", "data-panel": name },
    el("h2", {}, el("span", { class: "title" }, PANELS[name]),
      el("button", { class: "move-up", title: "move up", "aria-label": `move ${PANELS[name]} up`, onclick: () => movePanel(name, -1) }, "↑"),
      el("button", { class: "move-down", title: "move down", "aria-label": `move ${PANELS[name]} down`, onclick: () => movePanel(name, 1) }, "↓"),
      el("button", { class: "hide", title: "hide", "aria-label": `hide ${PANELS[name]}`,
        onclick: () => saveLayout(visiblePanels().filter((x) => x !== name), state.layout.hidden.concat(name)) }, "×")),
    body), name);
}

function gridPanel() {
  const select = (key, options) => el("select", { "aria-label": key, id: `filter-${key}`,
    onchange: (e) => { state.filter[key] = e.target.value; fillGrid(); } },
    el("option", { value: "" }, `any ${key}`), ...options.map((o) => el("option", { value: o, selected: state.filter[key] === o }, o)));
  const node = panel("grid", [
    el("div", { class: "filters" }, select("tag", []), select("status", ["OK", "FAILED", "WARNING", "UNKNOWN", "RUNNING", "DISABLED"])),
    el("div", { class: "grid", id: "tiles" }),
    el("p", { id: "tiles-empty" }),
  ]);
  queueMicrotask(fillGrid);
  return node;
}

// Tiles are updated in place, keyed by check name: a live event must not rebuild what the
// operator is looking at (or typing in), only change what changed.
function fillGrid() {
  const box = $("#tiles"), tagSelect = $("#filter-tag");
  if (!box) return;
  const tags = [...new Set(state.checks.flatMap((c) => c.tags))].sort();
  if (tagSelect.dataset.tags !== tags.join(",")) {
    tagSelect.dataset.tags = tags.join(",");
    tagSelect.replaceChildren(el("option", { value: "" }, "any tag"),
      ...tags.map((t) => el("option", { value: t, selected: state.filter.tag === t }, t)));
  }
  const shown = state.checks.filter((c) => (!state.filter.tag || c.tags.includes(state.filter.tag)) &&
                                           (!state.filter.status || c.status === state.filter.status));
  const existing = new Map([...box.children].map((t) => [t.dataset.name, t]));
  shown.forEach((c, i) => {
    let tile = existing.get(c.name);
    if (!tile) {
      tile = el("a", { href: `#/check/${encodeURIComponent(c.name)}`, "data-name": c.name },
        el("div", { class: "name" }, c.name), el("div", { class: "meta when" }), el("div", { class: "meta took" }));
    }
    tile.className = `tile status-${c.status}`;
    tile.dataset.status = c.status;
    tile.querySelector(".when").textContent = `${c.status} · ${ago(c.lastExecution)}`;
    tile.querySelector(".took").textContent = c.duration === null ? "" : `${c.duration.toFixed(2)}s`;
    if (box.children[i] !== tile) box.insertBefore(tile, box.children[i] || null);
    existing.delete(c.name);
  });
  for (const gone of existing.values()) gone.remove();
  $("#tiles-empty").textContent = shown.length ? "" : state.checks.length ? "No check matches." : "No checks yet.";
}

function alertsPanel() {
  const failing = state.checks.filter((c) => c.status === "FAILED" || c.status === "WARNING");
  const silence = (body, label) => el("button", { class: "silence", "data-check": body.check, onclick: async () => {
    try { await api("POST", "/api/v1/silences", { for: "1h", reason: "from the dashboard", ...body }); toast(`${label} silenced for 1h`); loadSilences(); }
    catch (error) { toast(error.message); } } }, "Silence 1h");
  const silences = el("ul", { class: "list", id: "silences" }, state.silences.map((s) => el("li", {},
    `🔕 ${s.check || "tag " + s.tag} until ${new Date(s.until * 1000).toLocaleTimeString()} ${s.reason ? "— " + s.reason : ""} `,
    may("operator") ? el("button", { onclick: async () => {
      await api("DELETE", `/api/v1/silences/${s.id}`).catch((e) => toast(e.message)); loadSilences(); } }, "End") : null)));
  return panel("alerts", [
    failing.length ? el("ul", { class: "list" }, failing.map((c) => el("li", {},
      el("span", { class: `badge status-${c.status}` }, c.severity), " ",
      el("a", { href: `#/check/${encodeURIComponent(c.name)}` }, c.name), ` — ${c.error || c.status}, ${c.consecutiveFailures}× in a row `,
      may("operator") ? silence({ check: c.name }, c.name) : null)))
      : el("p", {}, "Nothing is failing."),
    silences,
  ]);
}

// Silences live in root's alert state: each read is a helper process, so they are loaded on
// start, after a change and with the 30 s resync, not on every live event.
async function loadSilences() {
  state.silences = (await api("GET", "/api/v1/silences").catch(() => ({ items: [] }))).items;
  const alerts = $('#dashboard [data-panel="alerts"]');
  if (alerts) alerts.replaceWith(alertsPanel());
}

function auditPanel() {
  const list = el("ul", { class: "list" }, el("li", {}, "…"));
  api("GET", "/api/v1/audit?limit=8").then((page) => list.replaceChildren(...page.items.map((a) =>
    el("li", {}, `${a.time ? new Date(a.time * 1000).toLocaleString() : ""} · ${a.user} ${a.action} ${a.check || ""} (${a.via})`))))
    .catch(() => {});
  return panel("audit", list);
}

function scriptForm(initial, submit, label) {
  const field = (name, text, value, attrs = {}) => el("label", {}, text, el("input", { name, value: value ?? "", ...attrs }));
  const form = el("form", { class: "script-form" },
    initial ? null : field("name", "Name", "", { required: true, pattern: "[A-Za-z0-9_.\\-]{1,64}" }),
    el("label", {}, "Command", el("textarea", { name: "command", rows: 2, required: true }, initial ? initial.command : "")),
    field("interval", "Interval (30, 5min, 1h)", initial ? initial.interval : "60"),
    field("description", "Description", initial ? initial.description : ""),
    field("tags", "Tags (comma separated)", initial ? initial.tags.join(", ") : ""),
    el("button", { class: "primary", type: "submit" }, label));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const body = { command: data.command };
    if (data.name) body.name = data.name;
    if (data.interval) body.interval = /^\d+$/.test(data.interval) ? Number(data.interval) : data.interval;
    if (data.description) body.description = data.description;
    const tags = (data.tags || "").split(",").map((t) => t.trim()).filter(Boolean);
    if (tags.length) body.tags = tags;
    try { await submit(body); } catch (error) { toast(error.message); }
  });
  return form;
}

function addPanel() {
  return panel("add", scriptForm(null, async (body) => {
    await api("POST", "/api/v1/scripts", body);
    toast(`added ${body.name}`);
    refreshSoon(0);
  }, "Add"));
}

// --- alert deliveries ----------------------------------------------------------------------
// Every alert each channel was sent and where it stands: delivered, failed (refused for good or
// given up) or queued in the outbox, with how often the outbox retried it.
function deliveryItem(d, withCheck) {
  const when = new Date(d.time).toLocaleString();
  const facts = [d.kind, d.rule ? `rule ${d.rule}` : null, when, d.retries ? `retried ${d.retries}×` : null,
    d.outcome === "queued" && d.nextTry ? `next try ${new Date(d.nextTry).toLocaleTimeString()}` : null].filter(Boolean);
  return el("li", { class: "delivery", "data-alert": d.alert, "data-check": d.check, "data-channel": d.channel,
                    "data-outcome": d.outcome, "data-retries": d.retries },
    el("span", { class: `badge outcome-${d.outcome}` }, d.outcome), " ",
    withCheck ? [el("a", { href: `#/check/${encodeURIComponent(d.check)}` }, d.check), " → "] : null,
    el("strong", {}, d.channel), ` · ${facts.join(" · ")}`,
    el("div", { class: "meta" }, d.detail));
}

async function fillDeliveries(list, path, withCheck) {
  try {
    const page = await api("GET", path);
    list.replaceChildren(...(page.items.length ? page.items.map((d) => deliveryItem(d, withCheck))
                                               : [el("li", {}, "No alert has been sent.")]));
  } catch (error) { list.replaceChildren(el("li", { class: "error" }, error.message)); }
}

function deliveriesPanel() {
  const list = el("ul", { class: "list", id: "deliveries" }, el("li", {}, "…"));
  fillDeliveries(list, "/api/v1/deliveries?limit=15", true);
  return panel("deliveries", list);
}

// Deliveries are read from the journal on demand: refreshed when the live feed says one landed.
let deliveriesTimer = null;
function deliveriesSoon() {
  clearTimeout(deliveriesTimer);
  deliveriesTimer = setTimeout(() => {
    const list = $("#deliveries"), own = $("#check-deliveries");
    if (list) fillDeliveries(list, "/api/v1/deliveries?limit=15", true);
    if (own) fillDeliveries(own, `/api/v1/scripts/${encodeURIComponent(own.dataset.check)}/deliveries?limit=50`, false);
  }, 500);
}

const PANEL_VIEWS = { grid: gridPanel, alerts: alertsPanel, deliveries: deliveriesPanel, audit: auditPanel, add: addPanel };

// --- one check -----------------------------------------------------------------------------
function chart(runs, value, colour, label) {
  const w = 300, h = 100, n = runs.length;
  const max = Math.max(...runs.map(value), 0.001);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  runs.forEach((run, i) => {
    const bar = document.createElementNS(svg.namespaceURI, "rect");
    const bh = Math.max(1, (value(run) / max) * (h - 4));
    bar.setAttribute("x", (i * w) / n);
    bar.setAttribute("width", Math.max(1, w / n - 1));
    bar.setAttribute("y", h - bh);
    bar.setAttribute("height", bh);
    bar.setAttribute("fill", colour(run));
    svg.append(bar);
  });
  return svg;
}

// The success rate per bucket across the whole window: bars stand where their bucket lies in
// time, so hours without runs are gaps rather than squeezed out.
function rateChart(data) {
  const w = 300, h = 100, from = Date.parse(data.since), span = Math.max(1, Date.parse(data.until) - from);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  const node = (tag, attrs) => {
    const n = document.createElementNS(svg.namespaceURI, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    return n;
  };
  for (const [k, v] of Object.entries({ viewBox: `0 0 ${w} ${h}`, preserveAspectRatio: "none", class: "chart",
    role: "img", "aria-label": `success rate per ${data.bucket} over ${data.window}` })) svg.setAttribute(k, v);
  svg.append(node("line", { x1: 0, x2: w, y1: 4, y2: 4, class: "full" }));  // 100 %
  const width = Math.max(1, ((data.bucketSeconds * 1000) / span) * w - 0.5);
  for (const b of data.buckets) {
    const x = Math.max(0, ((Date.parse(b.start) - from) / span) * w);
    const bh = Math.max(1, b.successRate * (h - 4));
    const colour = b.successRate >= 0.99 ? "#1f8a3b" : b.successRate >= 0.9 ? "#e69500" : "#c62828";
    const bar = node("rect", { x, y: h - bh, width: Math.min(width, w - x), height: bh, fill: colour,
      "data-start": b.start, "data-rate": b.successRate, "data-runs": b.runs });
    const tip = node("title", {});
    tip.textContent = `${b.start}: ${(100 * b.successRate).toFixed(1)} % of ${b.runs} runs`;
    bar.append(tip);
    svg.append(bar);
  }
  return svg;
}

async function fillSuccessRate(box, name, span) {
  try {
    const data = await api("GET", `/api/v1/scripts/${encodeURIComponent(name)}/success-rate?window=${span}`);
    const since = new Date(data.since).toLocaleString();
    const summary = data.runs ? `${(100 * data.successRate).toFixed(1)} % of ${data.runs} run${data.runs === 1 ? "" : "s"} succeeded since ${since} (bars: per ${data.bucket})`
                              : `No runs since ${since}.`;
    box.replaceChildren(rateChart(data), el("p", { id: "success-summary" }, summary, data.note ? ` — ${data.note}` : ""));
  } catch (error) { box.replaceChildren(el("p", { class: "error" }, error.message)); }
}

function successPanel(name) {
  const box = el("div", {}, el("p", {}, "…"));
  const select = el("select", { id: "success-window", "aria-label": "window", onchange: (e) => fillSuccessRate(box, name, e.target.value) },
    ...[["1h", "last hour"], ["24h", "last 24 hours"], ["7d", "last 7 days"], ["30d", "last 30 days"]].map(([value, text]) =>
      el("option", { value, selected: value === "24h" }, text)));
  fillSuccessRate(box, name, "24h");
  return el("div", { class: "panel", id: "success-chart" }, el("h2", {}, el("span", { class: "title" }, "Success rate"), select), box);
}

async function showCheck(name) {
  const detail = $("#detail");
  $("#dashboard").hidden = true;
  detail.hidden = false;
  detail.replaceChildren(el("p", {}, "Loading…"));
  let check, history;
  try {
    [check, history] = await Promise.all([api("GET", `/api/v1/scripts/${encodeURIComponent(name)}`),
                                          api("GET", `/api/v1/scripts/${encodeURIComponent(name)}/history?limit=100`)]);
  } catch (error) { detail.replaceChildren(el("p", { class: "error" }, error.message), el("a", { href: "#/" }, "Back")); return; }
  const runs = history.items.slice().reverse();
  const ok = runs.filter((r) => r.ok).length;
  const act = (label, fn, cls = "") => el("button", { class: cls, id: label.toLowerCase().replace(/\W+/g, "-"), onclick: async () => {
    try { await fn(); } catch (error) { toast(error.message); } } }, label);
  const path = `/api/v1/scripts/${encodeURIComponent(name)}`;
  detail.replaceChildren(
    el("p", {}, el("a", { href: "#/" }, "← All checks")),
    el("h1", {}, name, " ", el("span", { class: `badge status-${check.status}`, id: "detail-status" }, check.status)),
    el("div", { class: "actions" },
      may("operator") ? act("Run now", async () => { await api("POST", `/api/v1/execute/${encodeURIComponent(name)}`); toast(`${name} started`); }, "primary") : null,
      may("operator") ? act(check.enabled ? "Disable" : "Enable", async () => {
        await api("POST", `${path}/${check.enabled ? "disable" : "enable"}`); showCheck(name); }) : null,
      may("admin") ? act("Delete", async () => {
        if (!confirm(`Remove ${name}?`)) return;
        await api("DELETE", path); location.hash = "#/"; }, "danger") : null),
    el("div", { class: "panel" }, el("dl", {}, [
      ["Command", check.command], ["Schedule", check.schedule || `every ${check.interval}s`], ["Last run", ago(check.lastExecution)],
      ["Next run", check.nextExecution ? new Date(check.nextExecution).toLocaleString() : "—"],
      ["Exit code", check.exitCode ?? "—"], ["Tags", check.tags.join(", ") || "—"], ["Description", check.description || "—"],
    ].map(([k, v]) => [el("dt", {}, k), el("dd", {}, String(v))]).flat())),
    el("div", { class: "panel", id: "history-chart" },
      el("h2", {}, `Duration of the last ${runs.length} runs`),
      runs.length ? chart(runs, (r) => r.duration, (r) => (r.ok ? "#1f8a3b" : "#c62828"), "run durations") : el("p", {}, "No runs yet."),
      el("p", {}, runs.length ? `Success rate: ${((100 * ok) / runs.length).toFixed(1)} % (${ok} of ${runs.length})` : "")),
    successPanel(name),
    el("div", { class: "panel" }, el("h2", {}, "Alert deliveries"), (() => {
      const list = el("ul", { class: "list", id: "check-deliveries", "data-check": name }, el("li", {}, "…"));
      fillDeliveries(list, `${path}/deliveries?limit=50`, false);
      return list;
    })()),
    el("div", { class: "panel" }, el("h2", {}, "Recent output"), el("pre", { id: "output" }, [check.output].flat().join("\n") || "(none)")),
    may("admin") ? el("div", { class: "panel" }, el("h2", {}, "Edit"), scriptForm(check, async (body) => {
      await api("PUT", path, body); toast(`saved ${name}`); showCheck(name); }, "Save")) : null);
}

// --- the fleet: every host's checks from Prometheus (/api/v1/fleet), no bamon server ---------
async function showFleet() {
  const detail = $("#detail");
  $("#dashboard").hidden = true;
  detail.hidden = false;
  if (!detail.querySelector("#fleet")) {
    const failedOnly = el("input", { type: "checkbox", id: "fleet-failed", onchange: () => showFleet() });
    detail.replaceChildren(
      el("p", {}, el("a", { href: "#/" }, "← This host")),
      el("h1", {}, "Fleet"),
      el("div", { class: "filters" }, el("label", { class: "inline" }, failedOnly, " failures and stale hosts only")),
      el("p", { id: "fleet-summary" }, "Loading…"),
      el("div", { class: "panel", id: "fleet" }));
  }
  const only = $("#fleet-failed").checked;
  let doc;
  try { doc = await api("GET", `/api/v1/fleet${only ? "?failed=1" : ""}`); }
  catch (error) { $("#fleet-summary").replaceChildren(el("span", { class: "error" }, error.message)); $("#fleet").replaceChildren(); return; }
  const stale = doc.hosts.filter((h) => h.stale).length;
  const failing = doc.rows.filter((r) => r.failing).length;
  $("#fleet-summary").textContent = `${doc.hosts.length} host(s), ${doc.rows.length} check(s): ${failing} failing, ` +
    `${stale} host(s) stale — from ${doc.prometheus}`;
  const cell = (text) => el("td", {}, text);
  $("#fleet").replaceChildren(doc.rows.length ? el("table", { class: "fleet" },
    el("thead", {}, el("tr", {}, ["Host", "Check", "Status", "Last run", "Reason"].map((h) => el("th", {}, h)))),
    el("tbody", {}, doc.rows.map((r) => el("tr", { "data-host": r.host, "data-check": r.check, "data-status": r.status },
      cell(r.host), cell(r.check), el("td", {}, el("span", { class: `badge status-${r.status}` }, r.status)),
      cell(ago(r.lastRun)), cell(r.reason || ""))))) : el("p", {}, only ? "Nothing is failing, no host is stale." : "No bamon metrics in Prometheus."));
}

// --- rendering and routing -----------------------------------------------------------------
function render() {
  if (!state.me) return;
  const route = decodeURIComponent(location.hash.replace(/^#\//, ""));
  if (route === "fleet") return;  // the fleet page refreshes on its own timer, not on this host's events
  if (route.startsWith("check/")) {
    const status = $("#detail-status");
    const check = state.checks.find((c) => c.name === route.slice(6));
    if (status && check) { status.textContent = check.status; status.className = `badge status-${check.status}`; }
    return;
  }
  $("#detail").hidden = true;
  const dashboard = $("#dashboard");
  dashboard.hidden = false;
  const order = visiblePanels();
  const shown = [...dashboard.children].map((p) => p.dataset.panel);
  if (shown.join() !== order.join()) {  // the layout changed: build the panels
    dashboard.replaceChildren(...order.map((p) => PANEL_VIEWS[p]()));
    return;
  }
  fillGrid();  // only the data changed
  const alerts = dashboard.querySelector('[data-panel="alerts"]');
  if (alerts) alerts.replaceWith(alertsPanel());
}

window.addEventListener("hashchange", () => {
  const route = decodeURIComponent(location.hash.replace(/^#\//, ""));
  if (route.startsWith("check/")) showCheck(route.slice(6)); else if (route === "fleet") showFleet(); else render();
});

// A safety net beside the live feed: resync every 30 s (cheap: the status is cached and ETagged).
setInterval(() => { if (state.me && !document.hidden) { refreshSoon(0); loadSilences(); } }, 30000);
// The fleet page asks Prometheus again every 15 s while it is open.
setInterval(() => { if (state.me && !document.hidden && location.hash === "#/fleet") showFleet(); }, 15000);

async function start() {
  $("#login").hidden = true;
  $("#logout").hidden = false;
  $("#customise").hidden = false;
  $("#fleet-link").hidden = false;
  $("#whoami").textContent = `${state.me.user} (${state.me.role})`;
  state.layout = await api("GET", "/api/v1/layout");
  await refresh();
  loadSilences();
  connect();
  const route = decodeURIComponent(location.hash.replace(/^#\//, ""));
  if (route.startsWith("check/")) showCheck(route.slice(6)); else if (route === "fleet") showFleet();
}

api("GET", "/api/v1/session").then((me) => { state.me = me; return start(); }).catch(() => showLogin());
