// The ESDH page: browse datasets, preview and download them, browse runs and their reports.
// Plain JavaScript over the /v1 API; the API key (when the server wants one) travels only in the X-API-Key header.
"use strict";

(() => {
  const KEY = "esdh.apiKey";
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;

  // -- small DOM helpers ----------------------------------------------------------------------------------

  function h(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else if (value !== null && value !== undefined && value !== false) node.setAttribute(name, value);
    }
    node.append(...children.flat());
    return node;
  }

  function s(tag, attrs = {}, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs)) {
      if (name === "text") node.textContent = value;
      else node.setAttribute(name, value);
    }
    node.append(...children.flat());
    return node;
  }

  const show = (node, visible = true) => { node.hidden = !visible; };
  const plural = (n, word) => `${n.toLocaleString()} ${word}${n === 1 ? "" : "s"}`;
  const cellText = (v) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));

  function say(message, kind = "info") {
    const status = $("status");
    status.textContent = message;
    status.className = kind;
    show(status, Boolean(message));
  }

  // -- the API: key prompt, error envelope ----------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.status = status;
      this.code = code;
      this.details = details;
    }
  }

  async function errorOf(response) {
    let code = "error";
    let message = `${response.status} ${response.statusText}`.trim();
    let details = null;
    try {
      const body = await response.json();
      if (body && body.error) ({ code, message, details } = body.error);
    } catch (_) { /* not the JSON envelope: keep the status line */ }
    return new ApiError(response.status, code, message, details);
  }

  let keyPrompt = null; // one prompt at a time, shared by every call that met a 401

  function askKey(message) {
    keyPrompt = keyPrompt || new Promise((resolve, reject) => {
      const dialog = $("key-dialog");
      const form = $("key-form");
      const input = $("key-input");
      const finish = (outcome) => {
        form.removeEventListener("submit", submit);
        dialog.removeEventListener("cancel", cancel);
        keyPrompt = null;
        outcome();
      };
      const submit = (event) => {
        event.preventDefault();
        const key = input.value.trim();
        if (!key) return;
        sessionStorage.setItem(KEY, key);
        input.value = "";
        dialog.close();
        finish(resolve);
      };
      const cancel = () => finish(() => reject(new ApiError(401, "unauthorized", "an API key is needed to continue")));
      $("key-message").textContent = message;
      form.addEventListener("submit", submit);
      dialog.addEventListener("cancel", cancel);
      dialog.showModal();
      input.focus();
    });
    return keyPrompt;
  }

  async function call(path, params = {}) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      for (const v of [].concat(value)) if (v !== "" && v !== null && v !== undefined) query.append(name, v);
    }
    const url = query.toString() ? `${path}?${query}` : path;
    for (;;) {
      const key = sessionStorage.getItem(KEY);
      const response = await fetch(url, { headers: key ? { "X-API-Key": key } : {}, cache: "no-store" });
      if (response.ok) return response;
      const error = await errorOf(response);
      if (response.status !== 401) throw error;
      sessionStorage.removeItem(KEY);
      await askKey(key ? `That key was not accepted (${error.message}). Enter another.`
        : `This server needs an API key (${error.message}). It is kept for this browser tab only.`);
    }
  }

  const json = async (path, params) => (await call(path, params)).json();

  let latest = 0; // a finished action clears the status only if no later one has taken it over

  async function act(busy, work) {
    const mine = ++latest;
    say(busy);
    try {
      const done = await work();
      if (done || mine === latest) say(done || "");
    } catch (error) {
      const text = error instanceof ApiError ? `${error.message} (${error.status} ${error.code})` : error.message;
      say(text || String(error), "error");
    }
  }

  // -- datasets -------------------------------------------------------------------------------------------

  let current = null; // the selected dataset's description

  async function loadDatasets() {
    const { datasets } = await json("/v1/datasets");
    const list = $("dataset-list");
    list.replaceChildren(...datasets.map((d) => h("li", {},
      h("button", { type: "button", class: "dataset", "data-name": d.name,
                    onclick: () => act(`Loading ${d.name}…`, () => selectDataset(d.name)) },
        h("strong", { text: d.title || d.name }),
        h("span", { class: "meta", text: `${d.name} ${d.version} · ${plural(d.tables.length, "table")}` })))));
    return datasets.length ? "" : "No datasets on this server.";
  }

  async function selectDataset(name) {
    const d = await json(`/v1/datasets/${enc(name)}`);
    current = d;
    for (const b of document.querySelectorAll("button.dataset")) {
      b.setAttribute("aria-current", b.dataset.name === name ? "true" : "false");
    }
    $("dataset-title").textContent = d.title || d.name;
    $("dataset-meta").textContent = [`${d.name} ${d.version}`, `seed ${d.seed}`, d.as_of && `as of ${d.as_of}`,
      d.versions && d.versions.length > 1 && `versions: ${d.versions.join(", ")}`].filter(Boolean).join(" · ");
    $("dataset-description").textContent = d.description || "";
    $("diagram-box").replaceChildren(diagram(d.tables, d.relations || [], d.name));
    $("tables").replaceChildren(...d.tables.map(tableDetails));
    const names = d.tables.map((t) => h("option", { value: t.name, text: t.name }));
    $("preview-table").replaceChildren(...names.map((o) => o.cloneNode(true)));
    $("generate-table").replaceChildren(h("option", { value: "", text: "All tables (ZIP)" }), ...names);
    $("generate-table").value = d.tables[0] ? d.tables[0].name : "";
    $("preview-seed").placeholder = $("generate-seed").placeholder = String(d.seed);
    $("preview").replaceChildren();
    $("preview-meta").textContent = "";
    show($("dataset-detail"));
    return "";
  }

  function tableDetails(t) {
    const pk = (t.primary_key || []).join(", ");
    return h("details", { class: "table-columns" },
      h("summary", {}, h("strong", { text: t.name }),
        ` ${Number(t.rows).toLocaleString()} rows · ${t.columns.length} columns${pk ? ` · key ${pk}` : ""}`),
      h("div", { class: "scroll" }, h("table", {},
        h("thead", {}, h("tr", {}, ["Column", "Type", "Generator", "Description"].map((c) => h("th", { text: c })))),
        h("tbody", {}, t.columns.map((c) => h("tr", {},
          h("td", {}, h("code", { text: c.name })), h("td", { text: cellText(c.type) }),
          h("td", { text: c.generator || [c.kind, c.source].filter(Boolean).join(": ") }),
          h("td", { text: cellText(c.description) })))))));
  }

  // Boxes in columns by dependency depth (a table sits right of every table it refers to), one arrow per
  // referring pair of tables, from the referring table to the one it refers to.
  function diagram(tables, relations, dataset) {
    const known = new Set(tables.map((t) => t.name));
    const edges = new Map();
    for (const r of relations) {
      if (!known.has(r.from_table) || !known.has(r.to_table)) continue;
      const id = `${r.from_table}\u0000${r.to_table}`;
      if (!edges.has(id)) edges.set(id, { from: r.from_table, to: r.to_table, items: [], kinds: new Set() });
      edges.get(id).kinds.add(r.kind);
      edges.get(id).items.push(r.from_column
        ? `${r.from_table}.${r.from_column} → ${r.to_table}.${r.to_column} (${r.kind})`
        : `${r.from_table}: rows per ${r.to_table} (${r.kind})`);
    }
    const parents = new Map(tables.map((t) => [t.name, []]));
    for (const e of edges.values()) if (e.from !== e.to) parents.get(e.from).push(e.to);
    const depth = new Map();
    const visit = (name, path) => {
      if (depth.has(name)) return depth.get(name);
      if (path.has(name)) return 0; // a cycle: place it at the start rather than loop
      path.add(name);
      const d = Math.max(0, ...parents.get(name).map((p) => visit(p, path) + 1));
      path.delete(name);
      depth.set(name, d);
      return d;
    };
    tables.forEach((t) => visit(t.name, new Set()));

    const W = Math.max(150, 8 * Math.max(...tables.map((t) => t.name.length)) + 28);
    const H = 50, GX = 90, GY = 30, PAD = 24;
    const columns = [];
    for (const t of tables) (columns[depth.get(t.name)] = columns[depth.get(t.name)] || []).push(t);
    const box = new Map();
    columns.forEach((col, d) => col.forEach((t, i) => box.set(t.name,
      { x: PAD + d * (W + GX), y: PAD + i * (H + GY), t })));
    const width = PAD * 2 + columns.length * (W + GX) - GX;
    const height = PAD * 2 + Math.max(...columns.map((c) => c.length)) * (H + GY) - GY;

    // Spread the ends of the arrows along each box's side so that they do not overlap
    const ends = new Map([...box.keys()].map((n) => [n, { out: [], in: [] }]));
    for (const e of edges.values()) if (e.from !== e.to) { ends.get(e.from).out.push(e); ends.get(e.to).in.push(e); }
    for (const { out, in: into } of ends.values()) { // ends ordered like the boxes at their other side: fewer crossings
      out.sort((p, q) => box.get(p.to).y - box.get(q.to).y);
      into.sort((p, q) => box.get(p.from).y - box.get(q.from).y);
    }
    const at = (list, e, b) => b.y + (H * (list.indexOf(e) + 1)) / (list.length + 1);

    const lanes = new Map(); // arrows already running along the lane above each row
    const arrows = [...edges.values()].map((e) => {
      const a = box.get(e.from), b = box.get(e.to);
      let d;
      if (e.from === e.to) {
        d = `M${a.x + W - 40},${a.y} C${a.x + W - 40},${a.y - 22} ${a.x + W + 22},${a.y - 22} ${a.x + W},${a.y + 12}`;
      } else {
        const x1 = a.x, y1 = at(ends.get(e.from).out, e, a), x2 = b.x + W, y2 = at(ends.get(e.to).in, e, b);
        if (x1 - x2 <= GX) { // neighbouring columns: one curve across the gap
          const bend = Math.max(40, (x1 - x2) / 2);
          d = `M${x1},${y1} C${x1 - bend},${y1} ${x2 + bend},${y2} ${x2 + 6},${y2}`;
        } else { // further: along the free lane above the row, so that no box hides the arrow
          const lane = a.y - GY / 2 + ((lanes.get(a.y) || 0) % 5 - 2) * 4;
          lanes.set(a.y, (lanes.get(a.y) || 0) + 1);
          const m1 = x1 - GX / 2, m2 = x2 + GX / 2;
          d = `M${x1},${y1} C${(x1 + m1) / 2},${y1} ${(x1 + m1) / 2},${lane} ${m1},${lane} L${m2},${lane} `
            + `C${(m2 + x2) / 2},${lane} ${(m2 + x2) / 2},${y2} ${x2 + 6},${y2}`;
        }
      }
      const only = e.kinds.size === 1 && e.kinds.has("lookup") ? " lookup-only" : "";
      return s("path", { class: `relation${e.kinds.has("parent") ? " parent" : ""}${only}`, d,
                         "marker-end": "url(#arrow)", "data-from": e.from, "data-to": e.to },
        s("title", { text: e.items.join("\n") }));
    });
    const boxes = [...box.values()].map(({ x, y, t }) => s("g", { class: "table", "data-table": t.name },
      s("title", { text: t.description || t.name }),
      s("rect", { x, y, width: W, height: H, rx: 6 }),
      s("text", { x: x + 12, y: y + 21, class: "name", text: t.name }),
      s("text", { x: x + 12, y: y + 39, class: "sub",
                  text: `${Number(t.rows).toLocaleString()} rows · ${t.columns.length} cols` })));

    return s("svg", { id: "diagram", viewBox: `0 0 ${width} ${height}`, width, height, role: "img",
                      "aria-labelledby": "diagram-title" },
      s("title", { id: "diagram-title", text: `Tables of ${dataset} and the relations between them` }),
      s("defs", {}, s("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 9,
                                  markerHeight: 9, markerUnits: "userSpaceOnUse", orient: "auto-start-reverse" },
        s("path", { d: "M0,0 L10,5 L0,10 z" }))),
      arrows, boxes);
  }

  async function preview() {
    const table = $("preview-table").value;
    const body = await json(`/v1/datasets/${enc(current.name)}/tables/${enc(table)}/preview`,
                            { rows: $("preview-rows").value, seed: $("preview-seed").value });
    $("preview-meta").textContent = `${body.rows.length} rows of ${body.table}, seed ${body.seed ?? current.seed}`;
    $("preview").replaceChildren(h("table", {},
      h("thead", {}, h("tr", {}, body.columns.map((c) => h("th", { scope: "col", text: c })))),
      h("tbody", {}, body.rows.map((row) => h("tr", {}, body.columns.map((c) => row[c] === null
        ? h("td", { class: "null", text: "null" }) : h("td", { text: cellText(row[c]) })))))));
    return "";
  }

  function filenameOf(response, fallback) {
    const header = response.headers.get("Content-Disposition") || "";
    const star = header.match(/filename\*\s*=\s*[^']*'[^']*'([^;]+)/i);
    if (star) return decodeURIComponent(star[1].trim());
    const plain = header.match(/filename\s*=\s*"?([^";]+)"?/i);
    return plain ? plain[1].trim() : fallback;
  }

  async function generate() {
    const table = $("generate-table").value;
    const format = $("generate-format").value;
    const rows = $("generate-rows").value;
    // rows=T=N: for one table that table, for the ZIP each table that does not have rows per a parent
    const roots = current.tables.filter((t) => !t.parent).map((t) => t.name);
    const response = await call(`/v1/datasets/${enc(current.name)}/generate`, {
      format, table, seed: $("generate-seed").value,
      rows: rows ? (table ? [table] : roots).map((t) => `${t}=${rows}`) : [] });
    const blob = await response.blob();
    const name = filenameOf(response, `${current.name}${table ? `-${table}.${format}` : ".zip"}`);
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    return `Downloaded ${name} (${blob.size.toLocaleString()} bytes)`;
  }

  // -- runs -----------------------------------------------------------------------------------------------

  const verdict = (v) => h("span", { class: `verdict ${v || "none"}`, text: v || "–" });

  async function loadRuns() {
    const { runs } = await json("/v1/runs");
    if (!runs.length) {
      $("runs").replaceChildren(h("p", { text: "No runs in this server's registry yet." }));
      return "";
    }
    const total = (counts) => Object.values(counts || {}).reduce((a, b) => a + b, 0).toLocaleString();
    $("runs").replaceChildren(h("table", { id: "runs-table" },
      h("thead", {}, h("tr", {}, ["Dataset", "Version", "Status", "Source", "Rows", "Validation", "Drift",
                                  "Finished", ""].map((c) => h("th", { scope: "col", text: c })))),
      h("tbody", {}, runs.map((r) => h("tr", {},
        h("td", { text: r.dataset }), h("td", {}, h("code", { text: r.version })), h("td", { text: r.status }),
        h("td", { text: r.source }), h("td", { class: "num", text: total(r.row_counts) }),
        h("td", {}, verdict(r.validation)),
        h("td", {}, verdict(r.drift), r.against ? ` vs ${r.against}` : ""),
        h("td", { text: r.finished_at || "" }),
        h("td", {}, h("button", { type: "button", "aria-label": `Open run ${r.dataset} ${r.version}`,
                                  onclick: () => act("Opening the run…", () => openRun(r.dataset, r.version)),
                                  text: "Open" })))))));
    return "";
  }

  async function openRun(dataset, version) {
    const body = await json(`/v1/runs/${enc(dataset)}/${enc(version)}`);
    const run = body.run || {};
    $("run-title").textContent = `${dataset} ${version}`;
    const rows = Object.entries(run.row_counts || {}).map(([t, n]) => `${t} ${n.toLocaleString()}`).join(", ");
    const facts = { status: run.status, source: run.source, seed: run.seed, validation: run.validation,
                    drift: run.drift && `${run.drift}${run.against ? ` against ${run.against}` : ""}`,
                    finished: run.finished_at, rows };
    $("run-facts").replaceChildren(...Object.entries(facts).filter(([, v]) => v !== undefined && v !== null && v !== "")
      .flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: String(v) })]));
    const reports = (body.reports || []).filter((r) => (r.format || r.path.split(".").pop()) === "html");
    $("run-reports").replaceChildren(...(reports.length ? reports.map((r) => h("button", {
      type: "button", onclick: () => act(`Opening the ${r.name} report…`, () => openReport(dataset, version, r)),
      text: `Open ${r.name} report` })) : [h("p", { text: "This run has no reports." })]));
    $("run-files").replaceChildren(...(body.files || []).map((f) => h("li", {}, h("code", { text: f }))));
    show($("report-frame"), false);
    show($("run-detail"));
    return "";
  }

  async function openReport(dataset, version, report) {
    const path = report.url && report.url.startsWith("/") ? report.url
      : `/v1/runs/${enc(dataset)}/${enc(version)}/files/${report.path.split("/").map(enc).join("/")}`;
    const html = await (await call(path)).text();
    const frame = $("report-frame");
    frame.title = `${report.name} report of ${dataset} ${version}`;
    frame.srcdoc = html; // sandboxed without scripts: the report is shown, never run
    show(frame);
    frame.scrollIntoView({ block: "start" });
    return "";
  }

  // -- views ----------------------------------------------------------------------------------------------

  function view(name) {
    for (const v of ["datasets", "runs"]) {
      $(`tab-${v}`).setAttribute("aria-pressed", String(v === name));
      show($(`view-${v}`), v === name);
    }
    if (name === "runs") act("Loading runs…", loadRuns);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("tab-datasets").addEventListener("click", () => view("datasets"));
    $("tab-runs").addEventListener("click", () => view("runs"));
    const onSubmit = (form, busy, work) => $(form).addEventListener("submit", (event) => {
      event.preventDefault();
      act(busy, work);
    });
    onSubmit("preview-form", "Generating a preview…", preview);
    onSubmit("generate-form", "Generating…", generate);
    window.addEventListener("unhandledrejection", (e) => say(String((e.reason && e.reason.message) || e.reason),
                                                             "error"));
    act("Loading datasets…", loadDatasets);
  });
})();
