// The live view of harness serve: polls the control API (relative URLs, so it works
// at the control server's root and under /_harness/ on the site) and redraws.
// Every text goes in through textContent; nothing comes from anywhere else.
"use strict";

const REFRESH_MS = 2000;
const state = { zone: "UTC", now: null, selected: null, seen: {}, messages: [] };

function $(id) { return document.getElementById(id); }

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store", headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function changed(key, data) {
  const text = JSON.stringify(data);
  if (state.seen[key] === text) return false;
  state.seen[key] = text;
  return true;
}

function formatTime(iso, withSeconds = true) {
  if (!iso) return "";
  const when = new Date(iso);
  const options = { timeZone: state.zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (withSeconds) options.second = "2-digit";
  const day = { timeZone: state.zone, year: "numeric", month: "2-digit", day: "2-digit" };
  const today = state.now ? new Date(state.now) : new Date();
  let text = new Intl.DateTimeFormat("en-GB", options).format(when);
  const sameDay = new Intl.DateTimeFormat("en-GB", day).format(when) ===
    new Intl.DateTimeFormat("en-GB", day).format(today);
  if (!sameDay) text = new Intl.DateTimeFormat("en-GB", day).format(when) + " " + text;
  return text;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// ------------------------------------------------------------------ status
async function refreshStatus() {
  const status = await getJson("control/status");
  state.zone = status.clock.timezone || "UTC";
  state.now = status.clock.now;
  const clock = $("clock");
  const mode = status.clock.mode;
  const offset = status.clock.offset_seconds;
  let note = mode;
  if (mode === "offset") note = `offset ${offset >= 0 ? "+" : ""}${offset} s`;
  clock.replaceChildren(
    formatTime(status.clock.now) + " " + state.zone,
    el("span", { class: mode === "real" ? "mode" : "mode off" }, note),
  );
  if (changed("status", [status.services, status.seed])) {
    $("seed-name").textContent = status.seed.name || status.seed.source || "demo";
    const rows = [];
    for (const [name, url] of Object.entries(status.services)) {
      rows.push(el("dt", {}, name), el("dd", {}, url));
    }
    $("services").replaceChildren(...rows);
  }
}

// ------------------------------------------------------------------- users
async function refreshUsers() {
  const data = await getJson("control/users");
  if (!changed("users", [data, state.zone])) return;
  fill($("users").tBodies[0], data.users.map((user) => el("tr", { "data-extension": user.extension },
    el("td", {}, user.extension),
    el("td", {}, user.name),
    el("td", {}, user.email || "no mailbox"),
    el("td", { class: "presence" },
      el("span", { class: `badge st-${user.status}` }, user.status.replace(/_/g, " "))),
    el("td", { class: "time return-time" }, formatTime(user.return_time, false)),
    el("td", { class: "set-by" }, user.set_by),
    el("td", { class: "time" }, formatTime(user.since)),
  )));
}

// ---------------------------------------------------------------- timeline
async function refreshTimeline() {
  const box = $("timeline");
  const width = Math.max(600, Math.min(4000, Math.floor(box.clientWidth || 1200)));
  const params = new URLSearchParams({ width: String(width) });
  const span = Number($("window").value || 0);
  if (span && state.now) {
    const now = new Date(state.now).getTime();
    params.set("from", new Date(now - span * 1000).toISOString());
    params.set("to", new Date(now + Math.min(span / 4, 1800) * 1000).toISOString());
  }
  const svgResponse = await fetch(`control/timeline.svg?${params}`, { cache: "no-store" });
  if (!svgResponse.ok) throw new Error(`timeline: HTTP ${svgResponse.status}`);
  const text = await svgResponse.text();
  if (changed("timeline", text)) {
    const doc = new DOMParser().parseFromString(text, "image/svg+xml");
    if (doc.querySelector("parsererror")) throw new Error("timeline: not SVG");
    box.replaceChildren(document.importNode(doc.documentElement, true));
  }
}

// ------------------------------------------------------------------ faults
const UNTIL_CLEARED_MS = 3000 * 24 * 3600 * 1000;
async function refreshFaults() {
  const data = await getJson("control/faults");
  if (!changed("faults", [data, state.now && state.now.slice(0, 19)])) return;
  const now = state.now ? new Date(state.now).getTime() : Date.now();
  const items = data.faults.map((fault) => {
    const start = new Date(fault.start).getTime(), end = new Date(fault.end).getTime();
    // A `first N` fault that has acted N times acts no more, whatever its window says.
    const spent = fault.first != null && fault.acted >= fault.first;
    const active = start <= now && now < end && !spent;
    const when = spent ? `spent: its first ${fault.first}` : active ? "active"
      : (end <= now ? "ended" : "scheduled");
    // No duration in the control API: in force until cleared (a ten-year window).
    const until = end - start >= UNTIL_CLEARED_MS ? "until cleared" : formatTime(fault.end);
    return el("li", { class: active ? "active" : "" },
      `${fault.service} ${fault.kind}: ${formatTime(fault.start)} - ${until} (${when}, acted on ${fault.acted} of ${fault.seen} requests)`);
  });
  $("faults").replaceChildren(...(items.length ? items : [el("li", { class: "muted" }, "none")]));
}

// ---------------------------------------------------------------- requests
async function refreshRequests() {
  const service = $("service-filter").value;
  const query = new URLSearchParams({ limit: "100" });
  if (service) query.set("service", service);
  const data = await getJson(`control/activity?${query}`);
  if (!changed("requests", [data, service])) return;
  fill($("requests").tBodies[0], data.activity.map((row) => el("tr", {},
    el("td", { class: "time" }, formatTime(row.at)),
    el("td", {}, row.service),
    el("td", {}, row.summary),
    el("td", {}, row.mailbox || ""),
    el("td", {}, row.account || ""),
    el("td", { class: row.status >= 400 ? "num bad" : "num" }, row.status),
    el("td", { class: row.fault ? "bad" : "" }, row.fault || ""),
  )));
}

// -------------------------------------------------------------------- mail
function mailUrl(id, tail = "") {
  return `api/mail/messages/${encodeURIComponent(id)}${tail}`;
}

async function refreshMail() {
  const data = await getJson("api/mail/messages");
  if (!changed("mail", data)) return;
  state.messages = data.messages.slice().reverse();  // newest first, like an inbox
  $("mail-count").textContent = `${data.messages.length} message(s)`;
  fill($("messages").tBodies[0], state.messages.map((message) => {
    const row = el("tr", { "data-id": message.id, class: message.id === state.selected ? "selected" : "" },
      el("td", { class: "time" }, formatTime(message.received)),
      el("td", {}, message.mailbox),
      el("td", {}, message.sender),
      el("td", { class: "subject" }, message.subject || "(no subject)"),
      el("td", { class: "num" }, message.size),
    );
    row.addEventListener("click", () => showMessage(message.id));
    return row;
  }));
  if (state.selected && !data.messages.some((m) => m.id === state.selected)) {
    state.selected = null;
    $("message").replaceChildren(el("p", { class: "muted" }, "Select a message."));
  }
}

async function showMessage(id) {
  state.selected = id;
  for (const row of $("messages").tBodies[0].rows) {
    row.classList.toggle("selected", row.dataset.id === id);
  }
  const message = await getJson(mailUrl(id));
  const wanted = ["From", "To", "Cc", "Date", "Subject", "Message-ID"];
  const main = message.headers.filter(([name]) => wanted.includes(name));
  const headerTable = (rows) => el("table", {}, ...rows.map(([name, value]) =>
    el("tr", {}, el("th", {}, name), el("td", {}, value))));
  const envelope = message.smtp
    ? `SMTP: MAIL FROM:<${message.smtp.mail_from}> RCPT TO:${message.smtp.rcpt_tos.map((r) => `<${r}>`).join(" ")}` +
      ` via ${message.smtp.listener}${message.smtp.tls ? " (TLS)" : ""}${message.smtp.login ? `, login ${message.smtp.login}` : ""}`
    : "";
  const texts = message.text_parts.map((part) => el("div", {},
    el("div", { class: "muted" }, part.content_type + (part.charset ? `; charset=${part.charset}` : "")),
    el("pre", {}, part.text)));
  const attachments = message.attachments.map((a) => el("li", {},
    el("a", { href: mailUrl(id, `/attachments/${a.index}`), download: a.filename || `attachment-${a.index}` },
      a.filename || `attachment ${a.index}`),
    ` ${a.content_type}, ${a.size} bytes`));
  $("message").replaceChildren(...[
    el("h3", {}, message.subject || "(no subject)"),
    headerTable(main),
    envelope ? el("p", { class: "muted" }, envelope) : null,
    el("details", {}, el("summary", {}, `All headers (${message.headers.length})`), headerTable(message.headers)),
    ...texts,
    attachments.length ? el("div", {}, el("strong", {}, "Attachments"), el("ul", { class: "attachments" }, ...attachments)) : null,
    message.defects.length ? el("p", { class: "muted" }, `Parser defects: ${message.defects.join(", ")}`) : null,
    el("p", { class: "links" }, el("a", { href: mailUrl(id, "/raw"), download: "message.eml" }, "Download raw (.eml)")),
  ].filter((node) => node !== null));
}

// -------------------------------------------------------------------- loop
async function refresh() {
  const connection = $("connection");
  try {
    await refreshStatus();
    await Promise.all([refreshUsers(), refreshTimeline(), refreshFaults(), refreshRequests(), refreshMail()]);
    connection.textContent = `updated ${formatTime(state.now)}`;
    connection.classList.remove("down");
  } catch (error) {
    connection.textContent = `cannot reach the harness: ${error.message}`;
    connection.classList.add("down");
  }
}

let timer = null;
function schedule() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    if (!document.hidden) await refresh();
    schedule();
  }, REFRESH_MS);
}

$("window").addEventListener("change", () => { delete state.seen.timeline; refresh(); });
$("service-filter").addEventListener("change", refresh);
document.addEventListener("visibilitychange", () => { if (!document.hidden) refresh(); });
refresh().then(schedule);
