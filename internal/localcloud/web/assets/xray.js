// The local X-Ray page: draws the service map of /_local/xray/map as SVG and
// lists the traces of /_local/xray/traces. No library; nothing is loaded but
// from this server. Data is put in the DOM as text, never as HTML.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const COL = 170, ROW = 150, R = 26, PAD = 50;

  const { $, el } = window.usersapiDOM;

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  async function getJSON(url) {
    const r = await fetch(url, { cache: "no-store" });
    if (!r.ok) throw new Error(url + " answered " + r.status);
    return r.json();
  }

  function ms(v) {
    if (v >= 1000) return (v / 1000).toFixed(2) + " s";
    if (v >= 10) return v.toFixed(0) + " ms";
    return v.toFixed(1) + " ms";
  }

  function plural(n, word) {
    return n + " " + word + (n === 1 ? "" : "s");
  }

  // kind maps a node's type to its class and the short label in its circle.
  function kind(node) {
    const t = node.type || "";
    if (t === "client") return ["client", "client"];
    if (t === "AWS::ApiGateway::Stage") return ["api", "API"];
    if (t === "AWS::Lambda::Function") return ["lambda", "\u03bb"];
    if (t.startsWith("AWS::SQS")) return ["sqs", "SQS"];
    if (t.startsWith("AWS::DynamoDB")) return ["ddb", "DDB"];
    if (t.startsWith("AWS::Events")) return ["eb", "EB"];
    return ["other", node.name.slice(0, 3)];
  }

  function health(s) {
    if (s.faults > 0) return "faults";
    if (s.errors > 0 || s.throttles > 0) return "errors";
    return "";
  }

  function failures(s) {
    const parts = [];
    if (s.errors) parts.push(plural(s.errors, "error"));
    if (s.throttles) parts.push(plural(s.throttles, "throttle"));
    if (s.faults) parts.push(plural(s.faults, "fault"));
    return parts.join(" · ");
  }

  // layout places nodes in columns by rank and, within a column, near the
  // rows of their callers.
  function layout(m) {
    const cols = new Map();
    for (const n of m.nodes) {
      if (!cols.has(n.rank)) cols.set(n.rank, []);
      cols.get(n.rank).push(n);
    }
    const pos = new Map();
    [...cols.keys()].sort((a, b) => a - b).forEach((rank, col) => {
      const nodes = cols.get(rank);
      for (const n of nodes) {
        const rows = m.edges.filter((e) => e.to === n.name && pos.has(e.from)).map((e) => pos.get(e.from).row);
        n.bary = rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : 0;
      }
      nodes.sort((a, b) => a.bary - b.bary || a.name.localeCompare(b.name));
      const used = new Set();
      for (const n of nodes) {
        let row = Math.max(0, Math.floor(n.bary + 0.5));
        while (used.has(row)) row++;
        used.add(row);
        pos.set(n.name, { col, row, x: PAD + R + 50 + col * COL, y: PAD + R + row * ROW });
      }
    });
    return pos;
  }

  // ports spreads the ends of the edges at each side of a node apart.
  function ports(m, pos) {
    const out = new Map(), inn = new Map();
    const spread = (groups, key, other) => {
      for (const list of groups.values()) {
        list.sort((a, b) => pos.get(a[other]).y - pos.get(b[other]).y);
        list.forEach((e, i) => { e[key] = (i - (list.length - 1) / 2) * 9; });
      }
    };
    for (const e of m.edges) {
      if (!out.has(e.from)) out.set(e.from, []);
      if (!inn.has(e.to)) inn.set(e.to, []);
      out.get(e.from).push(e);
      inn.get(e.to).push(e);
    }
    spread(out, "dy1", "to");
    spread(inn, "dy2", "from");
  }

  function bezier(p0, p1, p2, p3, t) {
    const u = 1 - t;
    return u * u * u * p0 + 3 * u * u * t * p1 + 3 * u * t * t * p2 + t * t * t * p3;
  }

  function drawMap(m) {
    const root = $("#map");
    root.replaceChildren();
    $("#map-summary").textContent = m.nodes.length
      ? `${plural(m.traces, "trace")} kept · ${plural(m.nodes.length, "service")} · ${plural(m.edges.length, "edge")}` +
        (m.dropped ? ` · ${m.dropped} unreadable datagrams` : "")
      : "No traces yet: send a request to the API, and its services appear here.";
    drawEdgeTable(m);
    if (!m.nodes.length) {
      root.setAttribute("width", 0);
      root.setAttribute("height", 0);
      return;
    }
    const pos = layout(m);
    ports(m, pos);
    let w = 0, h = 0;
    for (const p of pos.values()) {
      w = Math.max(w, p.x + R + 90);
      h = Math.max(h, p.y + R + 56);
    }
    root.setAttribute("width", w);
    root.setAttribute("height", h);
    root.setAttribute("viewBox", `0 0 ${w} ${h}`);

    const defs = svg("defs");
    for (const [id, color] of [["arrow", "#94a3b8"], ["arrow-errors", "#b7791f"], ["arrow-faults", "#c62828"]]) {
      const mk = svg("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
      mk.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: color }));
      defs.append(mk);
    }
    root.append(defs);

    const edges = svg("g", { class: "edges" });
    const labels = svg("g", { class: "labels" });
    for (const e of m.edges) {
      const a = pos.get(e.from), b = pos.get(e.to);
      if (!a || !b) continue;
      const bad = health(e);
      const x1 = a.x + R + 3, y1 = a.y + e.dy1, x2 = b.x - R - 5, y2 = b.y + e.dy2;
      const dx = Math.max(40, Math.abs(x2 - x1) / 2);
      const c1 = x1 + dx, c2 = x2 - dx;
      const path = svg("path", {
        class: "edge " + bad,
        d: `M${x1},${y1} C${c1},${y1} ${c2},${y2} ${x2},${y2}`,
        "marker-end": `url(#arrow${bad ? "-" + bad : ""})`,
      });
      const detail = `${e.from} → ${e.to}: ${plural(e.count, "call")}, avg ${ms(e.avg_ms)}, p50 ${ms(e.p50_ms)}, p99 ${ms(e.p99_ms)}` +
        (failures(e) ? ", " + failures(e) : "");
      path.append(svg("title", {}, detail));
      edges.append(path);

      // The label: above a level edge, on a slanted one past its middle
      // (clear of the caller's name).
      const lines = [`${e.count}× · ${ms(e.avg_ms)}`];
      const fail = failures(e);
      if (fail) lines.push(fail);
      const level = Math.abs(y2 - y1) < 12;
      const t = level ? 0.5 : 0.62;
      const mx = bezier(x1, c1, c2, x2, t), my = bezier(y1, y1, y2, y2, t);
      const bw = Math.max(...lines.map((l) => l.length)) * 6.3 + 10, bh = 14 * lines.length + 4;
      const top = level ? my - bh - 3 : my - bh / 2;
      const g = svg("g", { class: "edge-label" });
      g.append(svg("title", {}, detail));
      g.append(svg("rect", { x: mx - bw / 2, y: top, width: bw, height: bh, rx: 4 }));
      lines.forEach((line, i) => {
        g.append(svg("text", { x: mx, y: top + 14 * (i + 1) - 2, "text-anchor": "middle", class: i > 0 ? "bad" : "" }, line));
      });
      labels.append(g);
    }
    root.append(edges);

    for (const n of m.nodes) {
      const p = pos.get(n.name);
      const [cls, icon] = kind(n);
      const g = svg("g", { class: "node " + cls, transform: `translate(${p.x},${p.y})` });
      g.append(svg("title", {}, `${n.name} (${n.type})`));
      const bad = health(n);
      if (bad) g.append(svg("circle", { class: "health " + bad, r: R + 5 }));
      g.append(svg("circle", { class: "body", r: R }));
      g.append(svg("text", { class: "icon" }, icon));
      g.append(svg("text", { class: "name", y: R + 17 }, n.name));
      const stats = n.name === "client" ? plural(n.count, "request") : `${n.count}× · avg ${ms(n.avg_ms)}`;
      g.append(svg("text", { class: "stats", y: R + 32 }, stats));
      const fail = failures(n);
      if (fail) g.append(svg("text", { class: "stats bad", y: R + 46 }, fail));
      root.append(g);
    }
    root.append(labels);
  }

  // drawEdgeTable lists every edge with all its numbers.
  function drawEdgeTable(m) {
    const body = $("#edges tbody");
    body.replaceChildren();
    for (const e of m.edges) {
      const cls = health(e) ? "bad" : "";
      body.append(el("tr", {},
        el("td", {}, e.from + " → " + e.to),
        el("td", { class: "num" }, String(e.count)),
        el("td", { class: "num" }, ms(e.avg_ms)),
        el("td", { class: "num" }, ms(e.p50_ms)),
        el("td", { class: "num" }, ms(e.p99_ms)),
        el("td", { class: "num " + (e.errors ? cls : "") }, String(e.errors)),
        el("td", { class: "num " + (e.faults ? cls : "") }, String(e.faults)),
        el("td", { class: "num " + (e.throttles ? cls : "") }, String(e.throttles))));
    }
    $("#edges").hidden = !m.edges.length;
  }

  // Traces.

  let selected = new URLSearchParams(location.search).get("trace");

  function filterFromPage() {
    return $("#annotation").value.split(/[\s,&]+/).filter((s) => s.includes("=") || /^\w+$/.test(s));
  }

  function setFilter(list) {
    $("#annotation").value = list.join(" ");
    const q = new URLSearchParams();
    for (const a of list) q.append("annotation", a);
    if (selected) q.set("trace", selected);
    history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q : ""));
  }

  function statusCell(t) {
    if (!t.status) return el("td", {}, t.fault ? "fault" : t.error ? "error" : "");
    return el("td", { class: "status-code s" + String(t.status)[0] }, String(t.status));
  }

  function annotationChips(anns) {
    const out = [];
    for (const k of Object.keys(anns).sort()) {
      for (const v of anns[k]) {
        out.push(el("span", {
          class: "chip ann", title: k + "=" + v + ": click to show the traces with it",
          onclick: (ev) => { ev.stopPropagation(); setFilter([k + "=" + v]); loadTraces(); },
        }, k + "=" + v));
      }
    }
    return out;
  }

  function drawTraces(traces) {
    const body = $("#traces tbody");
    body.replaceChildren();
    const filter = filterFromPage();
    $("#traces-summary").textContent = plural(traces.length, "trace") + (filter.length ? " with " + filter.join(", ") : "");
    if (!traces.length) {
      body.append(el("tr", {}, el("td", { colspan: 6, class: "muted" }, filter.length ? "No trace has these annotations." : "No traces yet.")));
      return;
    }
    for (const t of traces.slice(0, 200)) {
      const when = new Date(t.start);
      const request = t.method ? `${t.method} ${new URL(t.url, location.href).pathname}` : t.entry;
      const row = el("tr", { class: t.id === selected ? "selected" : "", title: t.id, onclick: () => showTrace(t.id) },
        el("td", { class: "mono nowrap" }, when.toTimeString().slice(0, 8)),
        el("td", { class: "request" }, el("span", { class: "mono" }, request)),
        statusCell(t),
        el("td", { class: "num" }, ms(t.duration_ms)),
        el("td", {}, ...t.services.map((s) => el("span", { class: "chip" }, s))),
        el("td", {}, ...annotationChips(t.annotations)));
      body.append(row);
    }
  }

  async function loadTraces() {
    const q = new URLSearchParams();
    for (const a of filterFromPage()) q.append("annotation", a);
    try {
      const data = await getJSON("/_local/xray/traces" + (q.toString() ? "?" + q : ""));
      drawTraces(data.traces);
    } catch (err) {
      $("#traces-summary").textContent = "Could not load the traces: " + err.message;
    }
  }

  async function loadMap() {
    try {
      drawMap(await getJSON("/_local/xray/map"));
    } catch (err) {
      $("#map-summary").textContent = "Could not load the map: " + err.message;
    }
  }

  function segmentClass(s) {
    if (s.origin === "AWS::ApiGateway::Stage") return "api";
    if (s.type !== "subsegment") return "segment";
    if (s.namespace === "aws" || s.namespace === "remote") return "aws";
    return "";
  }

  function causeText(cause) {
    if (!cause || typeof cause !== "object" || !cause.exceptions || !cause.exceptions.length) return "";
    const e = cause.exceptions[0];
    return [e.type, e.message].filter(Boolean).join(": ");
  }

  async function showTrace(id) {
    selected = id;
    setFilter(filterFromPage());
    for (const tr of document.querySelectorAll("#traces tbody tr")) tr.classList.toggle("selected", tr.title === id);
    let t;
    try {
      t = await getJSON("/_local/xray/traces/" + encodeURIComponent(id));
    } catch (err) {
      $("#trace").hidden = false;
      $("#trace-title").textContent = "Trace " + id + " is no longer kept";
      $("#trace-timeline").replaceChildren();
      return;
    }
    $("#trace").hidden = false;
    $("#trace-title").textContent = `Trace ${t.id} · ${ms(t.duration_ms)} · ${plural(t.segment_count, "segment")}`;
    const ids = new Set(t.segments.map((s) => s.id));
    const children = new Map();
    for (const s of t.segments) {
      const p = ids.has(s.parent_id) ? s.parent_id : "";
      if (!children.has(p)) children.set(p, []);
      children.get(p).push(s);
    }
    const t0 = Math.min(...t.segments.map((s) => s.start_time));
    const t1 = Math.max(...t.segments.map((s) => s.end_time || s.start_time));
    const span = Math.max(t1 - t0, 1e-6);
    const rows = [];
    const visit = (parent, depth) => {
      for (const s of children.get(parent) || []) {
        const end = s.end_time || s.start_time;
        const bar = el("div", { class: "span " + segmentClass(s) + " " + (s.fault ? "faults" : s.error || s.throttle ? "errors" : "") });
        bar.style.left = ((s.start_time - t0) / span) * 100 + "%";
        bar.style.width = ((end - s.start_time) / span) * 100 + "%";
        const label = el("div", { class: "label", title: s.id },
          "\u00a0\u00a0".repeat(depth) + s.name + " ",
          el("span", { class: "kind" }, s.origin || (s.namespace ? s.namespace + (s.aws && s.aws.operation ? " " + s.aws.operation : "") : "")));
        label.style.paddingLeft = depth * 14 + "px";
        const row = el("div", { class: "row" }, label, el("div", { class: "num mono" }, s.in_progress ? "…" : ms((end - s.start_time) * 1000)),
          el("div", { class: "track" }, bar));
        if (s.annotations && Object.keys(s.annotations).length) {
          const anns = {};
          for (const [k, v] of Object.entries(s.annotations)) anns[k] = [String(v)];
          const chips = el("div", { class: "anns" }, ...annotationChips(anns));
          chips.style.paddingLeft = depth * 14 + 18 + "px";
          row.append(chips);
        }
        const c = causeText(s.cause);
        if (c) row.append(el("div", { class: "cause" }, c));
        rows.push(row);
        visit(s.id, depth + 1);
      }
    };
    visit("", 0);
    $("#trace-timeline").replaceChildren(...rows);
  }

  function refresh() {
    loadMap();
    loadTraces();
  }

  document.addEventListener("DOMContentLoaded", () => {
    const q = new URLSearchParams(location.search);
    $("#annotation").value = q.getAll("annotation").join(" ");
    $("#filter").addEventListener("submit", (ev) => {
      ev.preventDefault();
      setFilter(filterFromPage());
      loadTraces();
    });
    $("#clear").addEventListener("click", () => {
      setFilter([]);
      loadTraces();
    });
    refresh();
    if (selected) showTrace(selected);
    setInterval(() => {
      if ($("#refresh").checked) refresh();
    }, 3000);
  });
})();
