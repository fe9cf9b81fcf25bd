// The dashboard page: the template's CloudWatch dashboards, each widget at its
// place on a 24-column grid, metric widgets as inline SVG line charts. Data is
// put in the DOM as text, never as HTML.
"use strict";

(function () {
  const { $, el } = window.usersapiDOM;
  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = ["#2563eb", "#ea7a0c", "#16a34a", "#db2777", "#7c3aed", "#0f766e", "#b91c1c", "#475569"];

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

  // chart draws lines (left and right axes) over their common time range.
  function chart(lines) {
    const W = 460, H = 170, L = 44, R = 44, T = 8, B = 22;
    const s = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img" });
    const pts = lines.flatMap((l) => l.points);
    if (!pts.length) return s;
    const t0 = Math.min(...pts.map((p) => Date.parse(p.t))), t1 = Math.max(...pts.map((p) => Date.parse(p.t)), t0 + 10000);
    const top = (right) => Math.max(1e-9, ...lines.filter((l) => !!l.right === right).flatMap((l) => l.points.map((p) => p.v)));
    const maxL = top(false), maxR = top(true);
    const x = (t) => L + ((Date.parse(t) - t0) / (t1 - t0)) * (W - L - R);
    s.append(svg("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }));
    s.append(svg("text", { x: L - 4, y: T + 8, class: "tick", "text-anchor": "end" }, fmt(maxL)));
    s.append(svg("text", { x: L - 4, y: H - B, class: "tick", "text-anchor": "end" }, "0"));
    if (lines.some((l) => l.right)) s.append(svg("text", { x: W - R + 4, y: T + 8, class: "tick" }, fmt(maxR)));
    s.append(svg("text", { x: L, y: H - 6, class: "tick" }, new Date(t0).toTimeString().slice(0, 8)));
    s.append(svg("text", { x: W - R, y: H - 6, class: "tick", "text-anchor": "end" }, new Date(t1).toTimeString().slice(0, 8)));
    lines.forEach((l, i) => {
      const m = l.right ? maxR : maxL;
      const y = (v) => H - B - (v / m) * (H - B - T);
      const color = COLORS[i % COLORS.length];
      const d = l.points.map((p, j) => `${j ? "L" : "M"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
      if (l.points.length > 1) s.append(svg("path", { d, stroke: color, class: "series" }));
      for (const p of l.points) s.append(svg("circle", { cx: x(p.t).toFixed(1), cy: y(p.v).toFixed(1), r: 2.5, fill: color }));
    });
    return s;
  }

  function widget(w) {
    const box = el("section", { class: "widget " + w.type, "data-title": w.title || "" });
    box.style.gridColumn = `${w.x + 1} / span ${w.width}`;
    box.style.gridRow = `${w.y + 1} / span ${w.height}`;
    if (w.title) box.append(el("h3", {}, w.title));
    if (w.type === "text") box.append(el("p", {}, (w.markdown || "").replace(/\*\*/g, "")));
    const lines = w.lines || [];
    if (lines.length) {
      box.append(chart(lines));
      const legend = el("ul", { class: "legend" });
      lines.forEach((l, i) => {
        const last = l.points.length ? fmt(l.points[l.points.length - 1].v) : "no data yet";
        legend.append(el("li", {}, el("span", { class: "swatch", "data-color": i % COLORS.length }),
          `${l.label} (${l.stat}${l.right ? ", right" : ""}): ${last}`));
      });
      box.append(legend);
    } else if (w.type === "metric" && !(w.missing || []).length) {
      box.append(el("p", { class: "muted" }, "no data yet"));
    }
    for (const m of w.missing || []) box.append(el("p", { class: "missing" }, "Not filled locally: " + m + "."));
    return box;
  }

  async function load() {
    const s = $("#status");
    try {
      const r = await fetch("/_local/dashboard/data", { cache: "no-store" });
      const data = await r.json();
      if (!r.ok) throw new Error(data.error || r.status);
      const root = $("#dashboards");
      root.replaceChildren();
      for (const d of data.dashboards) {
        const grid = el("div", { class: "dashboard" });
        for (const w of d.widgets) grid.append(widget(w));
        root.append(el("h2", {}, d.id + " ", el("span", { class: "muted mono" }, d.name)), grid);
      }
      s.textContent = "updated " + new Date().toTimeString().slice(0, 8);
      s.className = "status ok";
    } catch (e) {
      s.textContent = "cannot read the dashboard: " + e.message;
      s.className = "status bad";
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    load();
    setInterval(load, 5000);
  });
})();
