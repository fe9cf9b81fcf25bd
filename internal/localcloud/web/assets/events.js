// The live events page: shows each event that the local EventBridge accepts,
// from the Server-Sent Events of /_local/events/stream, newest first; an
// event that does not match its detail-type's schema in api/asyncapi.yaml is
// marked with the reason, a replayed one with its replay's name. Data is put
// in the DOM as text, never as HTML.
"use strict";

(function () {
  const MAX = 300;
  const { $, el, status } = window.usersapiDOM;
  let total = 0;

  function applyFilter() {
    const want = $("#type").value.trim().toLowerCase();
    let shown = 0;
    for (const a of document.querySelectorAll("#events .event")) {
      const hide = want !== "" && !a.dataset.type.toLowerCase().includes(want);
      a.hidden = hide;
      if (!hide) shown++;
    }
    $("#count").textContent = total
      ? `${total} event${total === 1 ? "" : "s"} since this page opened` + (want ? `, ${shown} shown` : "")
      : "no events yet: create or change a user";
  }

  function add(ev, fresh) {
    total++;
    const when = new Date(ev.time);
    const head = el("header", {},
      el("span", { class: "mono muted" }, when.toTimeString().slice(0, 8)),
      el("span", { class: "type" }, ev["detail-type"]),
      el("span", { class: "mono" }, ev.source),
      el("span", { class: "chip" }, "bus " + ev.bus));
    for (const r of ev.rules || []) head.append(el("span", { class: "chip" }, "rule " + r));
    if (ev["replay-name"]) head.append(el("span", { class: "chip replayed" }, "replay " + ev["replay-name"]));
    if (ev.schemaMismatch) head.append(el("span", { class: "chip mismatch" }, "schema mismatch"));
    if (ev.trace_id) {
      head.append(el("a", { href: "/_local/xray?trace=" + encodeURIComponent(ev.trace_id), class: "mono" }, "trace " + ev.trace_id));
    }
    const compact = JSON.stringify(ev.detail);
    const body = el("details", {},
      el("summary", {}, el("code", { class: "muted" }, compact.length > 140 ? compact.slice(0, 140) + "…" : compact)),
      el("pre", {}, JSON.stringify(ev.detail, null, 2)));
    const reason = ev.schemaMismatch ? el("p", { class: "reason" }, ev.schemaMismatch) : null;
    const article = el("article", { class: "event" + (fresh ? " new" : "") + (reason ? " mismatch" : ""), title: ev.id }, head, reason, body);
    article.dataset.type = ev["detail-type"] || "";
    article.dataset.schema = reason ? "mismatch" : "ok";
    const list = $("#events");
    list.prepend(article);
    while (list.children.length > MAX) list.lastElementChild.remove();
    applyFilter();
  }

  document.addEventListener("DOMContentLoaded", () => {
    let live = false; // the backlog is over
    const src = new EventSource("/_local/events/stream");
    src.onopen = () => status("live", true);
    src.onerror = () => {
      live = false;
      status("reconnecting…", false);
    };
    src.addEventListener("put", (m) => {
      let ev;
      try {
        ev = JSON.parse(m.data);
      } catch (_) {
        return;
      }
      if (document.querySelector(`#events .event[title="${CSS.escape(ev.id)}"]`)) return; // sent again after a reconnect
      add(ev, live);
    });
    src.addEventListener("live", () => {
      live = true;
    });
    $("#type").addEventListener("input", applyFilter);
    $("#clear").addEventListener("click", () => {
      $("#events").replaceChildren();
      total = 0;
      applyFilter();
    });
    applyFilter();
  });
})();
