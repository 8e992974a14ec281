// The dashboard page: reads the server's JSON, draws it, and draws it again whenever the server's event stream
// says the cluster changed. Everything from the cluster is written as text nodes, never parsed as HTML, so a
// name, message or log line containing markup is shown as text.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const READ_ONLY = document.querySelector('meta[name="read-only"]').content === "true";
const main = document.getElementById("main");
const live = document.getElementById("live");
const filters = { search: "", project: "", namespace: "", health: "", sync: "", label: "" };
let mounted = "";   // the route whose skeleton is on the page
let drawing = null; // the current draw, so a burst of changes draws once more at most
let again = false;

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function badge(text) {
  return h("span", { class: `badge s-${String(text).replace(/[^A-Za-z]/g, "")}` }, text || "—");
}

function ago(iso) {
  if (!iso) return "";
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

function table(headers, rows) {
  return h("div", { class: "scroll" }, h("table", {},
    h("thead", {}, h("tr", {}, headers.map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c)))))));
}

function problems(list) {
  return (list || []).map((text) => h("div", { class: "problem", role: "alert" }, text));
}

class ApiError extends Error {
  constructor(message, body) { super(message); this.body = body || {}; }
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(body.error || `HTTP ${response.status}`, body);
  return body;
}

// The last data drawn: a change elsewhere in the cluster that leaves this page's data as it was does not
// redraw it (keyboard focus and selections stay where they are).
let lastDrawn = "";
function unchanged(data) {
  const text = JSON.stringify({ ...data, version: 0 });
  if (text === lastDrawn) return true;
  lastDrawn = text;
  return false;
}

function route() {
  const parts = (location.hash || "#/rollouts").slice(2).split("/").map(decodeURIComponent);
  const page = parts[0] === "applications" ? "applications" : "rollouts";
  return { page, namespace: parts[1], name: parts[2], key: parts.slice(0, 3).join("/") };
}

function confirmAction(text) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
    document.getElementById("confirm-cancel").focus();
  });
}

function say(kind, text) {
  const area = document.getElementById("outcome");
  if (!area) return;
  area.replaceChildren(h("div", { class: kind, role: kind === "problem" ? "alert" : "status" }, text));
}

async function act(r, verb, label, body, question) {
  const what = r.page === "applications" ? "application" : "rollout";
  if (!(await confirmAction(question || `${label} ${what} '${r.name}' in namespace '${r.namespace}'?`))) return;
  const url = `/api/${r.page}/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}/${verb}`;
  try {
    const response = await fetch(url, {
      method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
      body: JSON.stringify(body || {}),
    });
    const answer = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
    if (response.ok) say("notice", answer.message);
    else say("problem", answer.error || `HTTP ${response.status}`);
  } catch (err) {
    say("problem", `the dashboard server did not answer: ${err.message}`);
  }
  schedule();
}

// ----------------------------------------------------------------------------------------------------
// Rollouts

function images(list) {
  return (list || []).map((i) => h("div", {}, i.image, " ", i.tags.map((t) => h("span", { class: "chip" }, t))));
}

// Long lists are drawn a page at a time (a thousand table rows cost Chromium seconds to lay out on a loaded
// laptop); the search and filters apply to the whole list, the pager then shows one page of what matched.
const PAGE_SIZES = [25, 50, 100, 250, 0]; // 0: all
const paging = { rollouts: { page: 0, size: 100 }, applications: { page: 0, size: 100 } };

function pageOf(key, items) {
  const state = paging[key];
  const size = state.size || items.length || 1;
  const pages = Math.max(1, Math.ceil(items.length / size));
  state.page = Math.min(Math.max(0, state.page), pages - 1);
  return { items: items.slice(state.page * size, (state.page + 1) * size), first: state.page * size, pages };
}

function pager(key, total, shown) {
  const state = paging[key];
  const { first, pages } = shown;
  const go = (page) => { state.page = page; schedule(); };
  const range = total ? `${first + 1}–${first + shown.items.length} of ${total}` : "0 of 0";
  return h("nav", { class: "pager", "aria-label": `${key} pages` },
    h("button", { type: "button", "data-page": "previous", disabled: state.page === 0, onclick: () => go(state.page - 1) }, "‹ Previous"),
    h("span", { class: "range", role: "status" }, range, pages > 1 ? ` · page ${state.page + 1} of ${pages}` : ""),
    h("button", { type: "button", "data-page": "next", disabled: state.page >= pages - 1, onclick: () => go(state.page + 1) }, "Next ›"),
    h("label", {}, "Per page ", h("select", {
      "data-page-size": key, onchange: (e) => { state.size = Number(e.target.value); state.page = 0; schedule(); },
    }, PAGE_SIZES.map((n) => h("option", { value: n, selected: state.size === n }, n ? String(n) : "all")))));
}

const rolloutFilter = { search: "", status: "" };

function rolloutMatches(ro) {
  const text = rolloutFilter.search.toLowerCase();
  const hay = [ro.namespace, ro.name, ro.strategy, ro.status, ...ro.images.map((i) => i.image)].join(" ").toLowerCase();
  return (!text || hay.includes(text)) && (!rolloutFilter.status || ro.status === rolloutFilter.status);
}

let lastList = "";
async function drawRollouts(r, region) {
  const data = await getJson(`/api/rollouts${r.namespace ? `?namespace=${encodeURIComponent(r.namespace)}` : ""}`);
  if (!region.querySelector(".filters")) {
    lastList = "";
    region.replaceChildren(h("h1", {}, "Rollouts"), h("div", { class: "filters", role: "search" },
      h("label", {}, "Search", h("input", { id: "rollout-search", type: "search", placeholder: "name, namespace, image",
        value: rolloutFilter.search, oninput: (e) => { rolloutFilter.search = e.target.value; paging.rollouts.page = 0; schedule(); } })),
      h("label", {}, "Status", h("select", { id: "rollout-status",
        onchange: (e) => { rolloutFilter.status = e.target.value; paging.rollouts.page = 0; schedule(); } },
      ["", "Healthy", "Progressing", "Paused", "Degraded"].map((v) => h("option", { value: v, selected: rolloutFilter.status === v }, v || "all"))))),
    h("div", { id: "results" }));
  }
  const key = JSON.stringify([data, rolloutFilter, paging.rollouts]);
  if (key === lastList) return null; // nothing this page shows changed: keep focus and selection where they are
  lastList = key;
  const matched = data.items.filter(rolloutMatches);
  const shown = pageOf("rollouts", matched);
  const rows = shown.items.map((ro) => [
    ro.namespace,
    h("a", { href: `#/rollouts/${encodeURIComponent(ro.namespace)}/${encodeURIComponent(ro.name)}` }, ro.name),
    ro.strategy, badge(ro.status), ro.step, ro.setWeight, ro.actualWeight, ro.ready, images(ro.images),
  ]);
  const listing = data.items.length ? [pager("rollouts", matched.length, shown), table(["Namespace", "Name", "Strategy",
    "Status", "Step", "Set weight", "Actual weight", "Ready", "Images"], rows)] : [h("p", { class: "muted" }, "No Rollouts.")];
  document.getElementById("results").replaceChildren(...problems(data.problems), ...listing);
  return null;
}

function countdown(step) {
  if (!step.pauseSeconds || !step.pauseStarted) return null;
  const end = Date.parse(step.pauseStarted) + step.pauseSeconds * 1000;
  return h("span", { class: "countdown", "data-end": end }, "");
}

function tick() {
  for (const el of document.querySelectorAll(".countdown")) {
    const left = Math.max(0, Math.round((Number(el.dataset.end) - Date.now()) / 1000));
    el.textContent = ` (${left}s left)`;
  }
}

function stepsView(steps) {
  if (!steps.length) return h("p", { class: "muted" }, "No steps.");
  return h("ol", { class: "steps", "aria-label": "Steps" }, steps.map((s) => h("li", {
    class: s.state, "aria-current": s.state === "current" ? "step" : null,
  }, `${s.index + 1}. ${s.text}`, s.state === "current" ? countdown(s) : null)));
}

function scorePlot(measurements) {
  const points = measurements.filter((m) => m.judge && typeof m.judge.score === "number");
  if (!points.length) return null;
  const ns = "http://www.w3.org/2000/svg";
  const width = 360, height = 120, pad = 22;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "plot");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `judge score per measurement: ${points.map((p) => p.judge.score).join(", ")}`);
  const x = (i) => pad + (points.length === 1 ? 0 : (i * (width - 2 * pad)) / (points.length - 1));
  const y = (score) => height - pad - (score / 100) * (height - 2 * pad);
  for (const level of [0, 50, 100]) {
    const line = document.createElementNS(ns, "line");
    Object.entries({ x1: pad, x2: width - pad, y1: y(level), y2: y(level) }).forEach(([k, v]) => line.setAttribute(k, v));
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", 2); label.setAttribute("y", y(level) + 3); label.textContent = String(level);
    svg.append(line, label);
  }
  const poly = document.createElementNS(ns, "polyline");
  poly.setAttribute("points", points.map((p, i) => `${x(i)},${y(p.judge.score)}`).join(" "));
  svg.append(poly);
  points.forEach((p, i) => {
    const dot = document.createElementNS(ns, "circle");
    dot.setAttribute("cx", x(i)); dot.setAttribute("cy", y(p.judge.score)); dot.setAttribute("r", 4);
    dot.setAttribute("class", p.phase);
    const title = document.createElementNS(ns, "title");
    title.textContent = `${p.phase}: score ${p.judge.score} — ${p.message}`;
    dot.append(title);
    svg.append(dot);
  });
  return svg;
}

// One judged metric's intervals, canary against control, from the newest judge measurement (each replays the
// whole window). A rate metric (events out of a total) is drawn as events / total, and its counts are written out.
function seriesPlot(name, s, label) {
  const rate = Array.isArray(s.controlTotal) && Array.isArray(s.canaryTotal);
  const points = (values, totals) => (values || []).map((v, i) => {
    if (v === null || v === undefined) return null;
    if (!rate) return v;
    const total = totals[i];
    return total ? (100 * v) / total : null;
  });
  const control = points(s.control, s.controlTotal), canary = points(s.canary, s.canaryTotal);
  const all = [...control, ...canary].filter((v) => v !== null);
  if (!all.length) return h("p", { class: "muted" }, `${name}: no data in the window yet.`);
  const width = 420, height = 150, left = 44, right = 8, top = 10, bottom = 22;
  const count = Math.max(control.length, canary.length);
  let low = Math.min(...all), high = Math.max(...all);
  if (rate) low = 0;
  if (high === low) { high += 1; low = Math.max(0, low - 1); }
  const x = (i) => left + (count < 2 ? 0 : (i * (width - left - right)) / (count - 1));
  const y = (v) => top + (1 - (v - low) / (high - low)) * (height - top - bottom);
  const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2)) + (rate ? "%" : "");
  const line = (values, cls) => {
    let d = "", pen = "M";
    values.forEach((v, i) => { if (v === null) { pen = "M"; return; } d += `${pen}${x(i).toFixed(1)},${y(v).toFixed(1)} `; pen = "L"; });
    return svg("path", { d, class: cls });
  };
  const sum = (list) => (list || []).reduce((a, b) => a + (b || 0), 0);
  const summary = rate
    ? `control ${sum(s.control)} of ${sum(s.controlTotal)} (${fmt(sum(s.controlTotal) ? (100 * sum(s.control)) / sum(s.controlTotal) : 0)}), ` +
      `canary ${sum(s.canary)} of ${sum(s.canaryTotal)} (${fmt(sum(s.canaryTotal) ? (100 * sum(s.canary)) / sum(s.canaryTotal) : 0)})`
    : `control last ${fmt(control.filter((v) => v !== null).at(-1) ?? 0)}, canary last ${fmt(canary.filter((v) => v !== null).at(-1) ?? 0)}`;
  const picture = svg("svg", { class: "plot series", viewBox: `0 0 ${width} ${height}`, width, role: "img",
      "aria-label": `${name} per ${s.step || "?"} s interval, ${count} intervals: ${summary}; verdict ${label || "?"}` },
    svg("line", { x1: left, x2: width - right, y1: y(low), y2: y(low) }),
    svg("line", { x1: left, x2: width - right, y1: y(high), y2: y(high) }),
    svg("text", { x: 2, y: y(high) + 4 }, fmt(high)), svg("text", { x: 2, y: y(low) + 4 }, fmt(low)),
    svg("text", { x: left, y: height - 6 }, s.start ? new Date(s.start).toLocaleTimeString() : ""),
    svg("text", { x: width - right, y: height - 6, "text-anchor": "end" }, `${count} × ${s.step || "?"} s`),
    line(control, "control"), line(canary, "canary"));
  return h("figure", { class: "series" }, picture, h("figcaption", {},
    h("strong", {}, name), " ", label ? badge(label) : null, " ",
    h("span", { class: "legend control" }, "control"), " ", h("span", { class: "legend canary" }, "canary"),
    h("span", { class: "muted" }, ` · ${rate ? "errors: " : ""}${summary}`)));
}

function judgedSeries(measurements) {
  const newest = [...measurements].reverse().find((m) => m.judge && m.judge.series && Object.keys(m.judge.series).length);
  if (!newest) return null;
  return h("div", { class: "plots", "aria-label": "Judged metrics, canary against control" },
    Object.entries(newest.judge.series).map(([name, s]) => seriesPlot(name, s, newest.judge.metrics[name])));
}

function analysisView(run) {
  return h("div", { class: "card" },
    h("h3", {}, "AnalysisRun ", run.name, " ", badge(run.phase)),
    run.message ? h("p", {}, run.message) : null,
    run.metrics.map((m) => h("div", {},
      h("h4", {}, m.name, " ", badge(m.phase), " ",
        h("span", { class: "muted" }, `✔ ${m.counts.successful} ✖ ${m.counts.failed} ? ${m.counts.inconclusive} ⚠ ${m.counts.error}`)),
      scorePlot(m.measurements), judgedSeries(m.measurements),
      table(["Phase", "Value", "Message", "Started"], m.measurements.map((x) => [
        badge(x.phase), x.judge ? `score ${x.judge.score} ${Object.entries(x.judge.metrics).map(([k, v]) => `${k}: ${v}`).join(", ")}`
          : (x.value ?? ""), x.message, ago(x.startedAt)])))));
}

function revisionView(rev) {
  return h("section", { class: "card", "aria-label": `Revision ${rev.revision}` },
    h("h3", {}, `Revision ${rev.revision}`),
    rev.replicasets.map((rs) => h("div", {},
      h("p", {}, h("strong", {}, rs.name), " ", badge(rs.status), " ", rs.roles.map((t) => h("span", { class: "chip" }, t)),
        h("span", { class: "muted" }, ` ${rs.available}/${rs.replicas} available · ${rs.images.join(", ")}`)),
      rs.pods.length ? table(["Pod", "Status", "Ready", "Restarts", "Age"],
        rs.pods.map((p) => [p.name, badge(p.status), p.ready, p.restarts, ago(p.created)])) : null)),
    rev.analysisruns.map(analysisView));
}

function rolloutActions(r, ro) {
  if (READ_ONLY) return h("p", { class: "muted" }, "Read-only dashboard: actions are disabled.");
  const image = h("input", { id: "set-image", "aria-label": "container=image", placeholder: "container=image", size: 28 });
  const button = (verb, label, cls, body) => h("button", { type: "button", class: cls, "data-action": verb,
    onclick: () => act(r, verb, label, typeof body === "function" ? body() : body) }, label);
  return h("div", { class: "actions", role: "group", "aria-label": "Rollout actions" },
    button("promote", "Promote", "primary"), button("promote-full", "Promote full"),
    button("abort", "Abort", "danger"), button("retry", "Retry"),
    ro.paused ? button("resume", "Resume") : button("pause", "Pause"),
    button("restart", "Restart"), button("undo", "Undo"),
    image, button("set-image", "Set image", "", () => ({ assignment: image.value })));
}

async function drawRollout(r) {
  const url = `/api/rollouts/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}`;
  const ro = await getJson(url);
  if (unchanged(ro)) return null;
  return [
    h("p", {}, h("a", { href: "#/rollouts" }, "← Rollouts")),
    h("h1", {}, ro.name, " ", badge(ro.status)),
    problems(ro.problems),
    h("dl", { class: "facts" },
      h("dt", {}, "Namespace"), h("dd", {}, ro.namespace),
      h("dt", {}, "Message"), h("dd", { id: "message" }, ro.message || "—"),
      h("dt", {}, "Strategy"), h("dd", {}, ro.strategy),
      h("dt", {}, "Step"), h("dd", { id: "step" }, ro.step),
      h("dt", {}, "Set weight"), h("dd", { id: "set-weight" }, ro.setWeight),
      h("dt", {}, "Actual weight"), h("dd", { id: "actual-weight" }, ro.actualWeight),
      h("dt", {}, "Images"), h("dd", {}, images(ro.images)),
      h("dt", {}, "Replicas"), h("dd", {}, `${ro.ready} ready, ${ro.desired} desired, ${ro.upToDate} updated, ${ro.available} available`)),
    rolloutActions(r, ro),
    h("h2", {}, "Steps"), stepsView(ro.steps),
    h("h2", {}, "Revisions"), ro.revisions.map(revisionView),
    h("h2", {}, "Events"), eventsView(ro.events),
  ];
}

function eventsView(events) {
  if (!events.length) return h("p", { class: "muted" }, "No events.");
  return table(["Type", "Reason", "Message", "Count", "Last"],
    events.map((e) => [e.type, e.reason, e.message, e.count, ago(e.last)]));
}

// ----------------------------------------------------------------------------------------------------
// Applications

function matches(app) {
  const text = filters.search.toLowerCase();
  const hay = [app.name, app.namespace, app.repo, app.path, app.commit.message, app.commit.author].join(" ").toLowerCase();
  if (text && !hay.includes(text)) return false;
  for (const key of ["project", "namespace", "health", "sync"]) {
    if (filters[key] && app[key] !== filters[key]) return false;
  }
  if (filters.label) {
    const [key, value] = filters.label.split("=");
    if (!(key in app.labels) || (value !== undefined && app.labels[key] !== value)) return false;
  }
  return true;
}

function filterBar(items) {
  const choices = (key) => [...new Set(items.map((a) => a[key]))].sort();
  const select = (key, label) => h("label", {}, label, h("select", {
    id: `filter-${key}`, onchange: (e) => { filters[key] = e.target.value; paging.applications.page = 0; schedule(); },
  }, h("option", { value: "" }, "all"), choices(key).map((v) => h("option", { value: v, selected: filters[key] === v }, v))));
  const input = (key, label, hint) => h("label", {}, label, h("input", {
    id: `filter-${key}`, type: "search", value: filters[key], placeholder: hint,
    oninput: (e) => { filters[key] = e.target.value; paging.applications.page = 0; schedule(); },
  }));
  return h("div", { class: "filters", role: "search" }, input("search", "Search", "name, repo, commit"),
    select("project", "Project"), select("namespace", "Namespace"), select("health", "Health"),
    select("sync", "Sync"), input("label", "Label", "key=value"));
}

function appTile(app) {
  return h("article", { class: "tile", "aria-label": `Application ${app.name}` },
    h("h2", {}, h("a", { href: `#/applications/${encodeURIComponent(app.namespace)}/${encodeURIComponent(app.name)}` }, app.name)),
    h("p", {}, badge(app.health), " ", badge(app.sync), app.operation ? [" ", h("span", { class: "muted" }, app.operation)] : null),
    h("dl", { class: "facts" },
      h("dt", {}, "Project"), h("dd", {}, app.project),
      h("dt", {}, "Namespace"), h("dd", {}, app.namespace),
      h("dt", {}, "Repository"), h("dd", {}, app.repo, app.path ? ` (${app.path})` : ""),
      h("dt", {}, "Target"), h("dd", {}, app.targetRevision),
      h("dt", {}, "Synced"), h("dd", {}, app.syncedRevision.slice(0, 10) || "—")),
    app.commit.author || app.commit.message ? h("p", { class: "commit" },
      `${app.commit.author} · ${ago(app.commit.date)} ago · `, h("span", { class: "commit-message" }, app.commit.message.split("\n")[0])) : null);
}

async function drawApplications(r, region) {
  const data = await getJson("/api/applications");
  if (!region.querySelector(".filters")) region.replaceChildren(h("h1", {}, "Applications"), filterBar(data.items), h("div", { id: "results" }));
  const matched = data.items.filter(matches);
  const shown = pageOf("applications", matched);
  document.getElementById("results").replaceChildren(...problems(data.problems),
    h("p", { class: "muted", role: "status" }, `${matched.length} of ${data.items.length} Applications`),
    matched.length > shown.items.length || paging.applications.page ? pager("applications", matched.length, shown) : "",
    h("div", { class: "tiles" }, shown.items.map(appTile)));
  return null;
}

function treeView(nodes) {
  return h("ul", {}, nodes.map((n) => h("li", {},
    h("span", { class: "node" }, h("span", { class: "kind" }, n.kind), h("strong", {}, n.name),
      n.health ? badge(n.health) : null, n.status ? badge(n.status) : null,
      n.message ? h("span", { class: "muted" }, n.message) : null),
    n.children.length ? treeView(n.children) : null)));
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs || {})) if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  for (const child of children) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

// The network view: Ingress/HTTPRoute -> Service -> ReplicaSet -> Pod in four columns, each edge labelled with the
// share of traffic it carries (the canary weight the routers have in effect, or the share of ready pods).
function networkView(net) {
  if (!net || !net.nodes.length) return h("p", { class: "muted" }, "No Ingresses, HTTPRoutes or Services in this Application.");
  const colWidth = 300, boxWidth = 180, boxHeight = 30, rowHeight = 44, pad = 8;
  const rows = [0, 0, 0, 0], place = {}, order = {};
  // each column in the order of the nodes feeding it (the mean row of its sources), so edges seldom cross
  const sources = {};
  for (const e of net.edges) (sources[e.target] ||= []).push(e.source);
  for (const column of [0, 1, 2, 3]) {
    const nodes = net.nodes.filter((n) => n.column === column).map((n, i) => {
      const from = (sources[n.id] || []).map((id) => order[id]).filter((v) => v !== undefined);
      return { n, rank: from.length ? from.reduce((a, b) => a + b, 0) / from.length : i };
    }).sort((a, b) => a.rank - b.rank);
    for (const { n } of nodes) {
      order[n.id] = rows[column];
      place[n.id] = { x: pad + column * colWidth, y: pad + rows[column]++ * rowHeight, n };
    }
  }
  const height = pad * 2 + Math.max(...rows) * rowHeight;
  const width = pad * 2 + 3 * colWidth + boxWidth;
  const picture = svg("svg", { class: "network", viewBox: `0 0 ${width} ${height}`, width, role: "img",
    "aria-label": `network: ${net.nodes.length} objects, ${net.edges.length} connections (listed in the table below)` });
  for (const e of net.edges) {
    const a = place[e.source], b = place[e.target];
    if (!a || !b) continue;
    const x1 = a.x + boxWidth, y1 = a.y + boxHeight / 2, x2 = b.x, y2 = b.y + boxHeight / 2, mid = (x1 + x2) / 2;
    const stroke = e.weight === null || e.weight === undefined ? 1.5 : 1 + (4 * e.weight) / 100;
    picture.append(svg("path", { d: `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}`, "stroke-width": stroke,
      class: e.weight === 0 ? "idle" : null }));
    if (e.label) picture.append(svg("text", { x: mid, y: (y1 + y2) / 2 - 4, "text-anchor": "middle", class: "edge" }, e.label));
  }
  for (const { x, y, n } of Object.values(place)) {
    const state = n.missing ? "missing" : n.kind === "Pod" ? (n.ready ? "ready" : "unready") : "";
    const name = n.name.length > 24 ? `${n.name.slice(0, 23)}…` : n.name;
    picture.append(svg("g", { class: `node ${state}` }, svg("title", {}, `${n.kind} ${n.name}${n.status ? ` (${n.status})` : ""}${n.missing ? " — not found" : ""}`),
      svg("rect", { x, y, width: boxWidth, height: boxHeight, rx: 5 }),
      svg("text", { x: x + 6, y: y + 12, class: "kind" }, n.kind),
      svg("text", { x: x + 6, y: y + 25 }, name)));
  }
  const names = Object.fromEntries(net.nodes.map((n) => [n.id, `${n.kind} ${n.name}`]));
  const labelled = net.edges.filter((e) => e.label);
  return [
    net.weights.map((w) => h("p", { class: "weights" }, `Canary weight ${w.canary} of ${w.maxWeight} to ${w.canaryService || "the canary"}, `,
      `${w.maxWeight - w.canary} to ${w.stableService || "the stable"} (read from ${w.source === "routers" ? "the router objects" : "the Rollout's status"})`)),
    h("div", { class: "scroll" }, picture),
    labelled.length ? table(["From", "To", "Traffic"], labelled.map((e) => [names[e.source], names[e.target], e.label])) : null,
  ];
}

// The diff is computed on demand (it renders Git and asks the API server for a dry run), never on every redraw;
// the last one shown stays until the button is pressed again or another Application is opened.
let shownDiff = { key: "", body: null };

function diffLines(text) {
  return h("pre", { class: "diff" }, text.split("\n").map((line) => h("span", {
    class: line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : null,
  }, line, "\n")));
}

function diffView(r, app) {
  const key = `${r.namespace}/${r.name}`;
  const area = h("div", { id: "diff" });
  const show = (body) => area.replaceChildren(...(body.error ? problems([body.error]) : body.resources.length
    ? body.resources.map((c) => h("section", { class: "card", "aria-label": `${c.change} ${c.key}` },
      h("h3", {}, c.key, " ", h("span", { class: "chip" }, c.change)), c.text ? diffLines(c.text) : h("p", { class: "muted" }, "Differs only in fields the comparison ignores.")))
    : [h("p", { class: "muted" }, "No differences: live matches Git.")]));
  const load = async () => {
    area.replaceChildren(h("p", { class: "muted", role: "status" }, "Comparing live objects with Git…"));
    let body;
    try { body = await getJson(`/api/applications/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}/diff`); }
    catch (err) { body = { error: err.message }; }
    shownDiff = { key, body };
    lastDrawn = ""; // the page may have been redrawn meanwhile: draw again, with the diff
    schedule();
  };
  if (shownDiff.key === key && shownDiff.body) show(shownDiff.body);
  return [h("div", { class: "actions" }, h("button", { type: "button", "data-action": "diff", onclick: load },
    app.sync === "OutOfSync" ? "Show diff (OutOfSync)" : "Compare with Git")), area];
}

async function drawApplication(r) {
  const app = await getJson(`/api/applications/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}`);
  if (unchanged(app)) return null;
  const tree = treeView(app.tree);
  tree.classList.add("tree");
  tree.setAttribute("aria-label", "Resource tree");
  return [
    h("p", {}, h("a", { href: "#/applications" }, "← Applications")),
    h("h1", {}, app.name, " ", badge(app.health), " ", badge(app.sync)),
    problems(app.problems),
    app.healthMessage ? h("p", {}, app.healthMessage) : null,
    app.conditions.map((c) => h("div", { class: "problem" }, `${c.type}: ${c.message}`)),
    READ_ONLY ? null : h("div", { class: "actions", role: "group", "aria-label": "Application actions" },
      [["sync", "Sync", "primary"], ["refresh", "Refresh", ""], ["hard-refresh", "Hard refresh", ""]].map(([verb, label, cls]) =>
        h("button", { type: "button", class: cls, "data-action": verb, onclick: () => act(r, verb, label) }, label))),
    h("dl", { class: "facts" },
      h("dt", {}, "Project"), h("dd", {}, app.project),
      h("dt", {}, "Repository"), h("dd", {}, app.repo, app.path ? ` (${app.path})` : ""),
      h("dt", {}, "Target revision"), h("dd", {}, app.targetRevision),
      h("dt", {}, "Synced revision"), h("dd", {}, app.syncedRevision || "—"),
      h("dt", {}, "Destination"), h("dd", {}, `${app.destination.server} / ${app.destination.namespace}`),
      h("dt", {}, "Last commit"), h("dd", { class: "commit-message" }, `${app.commit.author} ${app.commit.date} — ${app.commit.message}`),
      h("dt", {}, "Operation"), h("dd", {}, `${app.operation} ${app.operationMessage}`)),
    h("h2", {}, "Resources"), app.tree.length ? tree : h("p", { class: "muted" }, "No resources."),
    h("h2", {}, "Network"), h("section", { class: "network-view", "aria-label": "Network" }, networkView(app.network)),
    h("h2", {}, "Differences"), diffView(r, app),
    h("h2", {}, "Sync history"), app.history.length ? table(["ID", "Revision", "Deployed", "Author", "Message", ""],
      app.history.map((x, i) => [x.id, x.revision.slice(0, 10), ago(x.deployedAt), x.author, x.message,
        READ_ONLY || i === 0 ? "" : h("button", { type: "button", "data-action": "rollback", "data-id": x.id,
          onclick: () => act(r, "rollback", "Rollback", { id: x.id },
            `Roll application '${r.name}' back to history entry ${x.id} (${x.revision.slice(0, 7)})? Auto-sync must be off.`) },
        "Rollback")])) : h("p", { class: "muted" }, "No syncs yet."),
    h("h2", {}, "Events"), eventsView(app.events),
  ];
}

// ----------------------------------------------------------------------------------------------------
// drawing

async function draw() {
  const r = route();
  for (const page of ["rollouts", "applications"]) {
    const link = document.getElementById(`nav-${page}`);
    if (r.page === page) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const region = document.getElementById("view") || h("div", { id: "view" });
  if (mounted !== r.key) {
    mounted = r.key;
    lastDrawn = "";
    region.replaceChildren();
    main.replaceChildren(region, h("div", { id: "outcome", "aria-live": "polite" }));
  }
  try {
    let content;
    if (r.page === "applications") content = r.name ? await drawApplication(r) : await drawApplications(r, region);
    else content = r.name ? await drawRollout(r) : await drawRollouts(r, region);
    if (content) region.replaceChildren(...content.flat(Infinity).filter((c) => c));
    document.title = `${r.name || (r.page === "applications" ? "Applications" : "Rollouts")} · Rollouts dashboard`;
  } catch (err) {
    lastDrawn = "";
    region.replaceChildren(h("h1", {}, r.name || r.page), ...problems([err.message, ...(err.body?.problems || [])]));
  }
  tick();
}

function schedule() {
  if (drawing) { again = true; return; }
  drawing = draw().finally(() => {
    drawing = null;
    if (again) { again = false; schedule(); }
  });
}

window.addEventListener("hashchange", schedule);
setInterval(tick, 1000);
const events = new EventSource("/api/stream");
events.addEventListener("change", (e) => { live.textContent = `live · v${e.data}`; schedule(); });
events.addEventListener("error", () => { live.textContent = "reconnecting…"; });
schedule();
