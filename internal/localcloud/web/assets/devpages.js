// The dev loop's pages (functions, queues, tables): each polls its JSON every
// 2 s and redraws. Data is put in the DOM as text, never as HTML.
"use strict";

(function () {
  const { $, el, status } = window.usersapiDOM;

  const ms = (ns) => (ns / 1e6).toFixed(ns < 1e7 ? 2 : 0) + " ms";
  const num = (n) => el("td", { class: "num" }, String(n));
  const ago = (t) => {
    const s = Math.max(0, (Date.now() - new Date(t).getTime()) / 1000);
    return s < 90 ? Math.round(s) + " s ago" : Math.round(s / 60) + " min ago";
  };

  async function poll(url, draw) {
    try {
      const r = await fetch(url, { cache: "no-store" });
      const data = await r.json();
      if (!r.ok) throw new Error(data.error || r.status);
      draw(data);
      status("updated " + new Date().toTimeString().slice(0, 8), true);
    } catch (e) {
      status("cannot read " + url + ": " + e.message, false);
    }
  }

  function every(url, draw) {
    poll(url, draw);
    setInterval(() => poll(url, draw), 2000);
  }

  // --- /_local/functions ---
  function drawFunctions(data) {
    const body = $("#functions tbody");
    body.replaceChildren();
    const logs = $("#logs");
    logs.replaceChildren();
    for (const f of data.functions) {
      const s = f.stats;
      const reload = f.lastReload ? `${ago(f.lastReload.saved)}, in ${(f.lastReload.took_ns / 1e9).toFixed(1)} s` : "not since start";
      const errors = num(s.errors);
      if (s.errors > 0) errors.classList.add("bad");
      body.append(el("tr", { "data-function": f.name },
        el("td", {}, el("strong", {}, f.name), el("div", { class: "muted" }, `${f.memoryMB} MB, timeout ${f.timeoutSeconds} s`)),
        num(s.warm), num(s.coldStarts), num(s.invocations), errors,
        num(s.invocations ? ms(s.p50_ns) : "–"), num(s.invocations ? ms(s.p99_ns) : "–"),
        el("td", { class: "nowrap" }, reload)));
      logs.append(el("details", { class: "log" },
        el("summary", {}, f.name + " ", el("span", { class: "muted" }, `${(s.logs || []).length} lines`)),
        el("pre", {}, (s.logs || []).join("\n") || "(nothing logged yet)")));
    }
  }

  // --- /_local/queues ---
  function drawQueues(data) {
    const body = $("#queues tbody");
    body.replaceChildren();
    const dls = $("#dead-letters");
    dls.replaceChildren();
    for (const q of data.queues) {
      body.append(el("tr", { "data-queue": q.id },
        el("td", {}, el("strong", {}, q.id), el("div", { class: "muted mono" }, q.name),
          q.source ? el("span", { class: "chip" }, "dead letters of " + q.source) : null),
        num(q.visible), num(q.inFlight), num(q.delayed), el("td", {}, q.deadLetterQueue || "")));
      if (!q.source) continue;
      const section = el("section", {}, el("h3", {}, `${q.id}: ${q.messages.length} message${q.messages.length === 1 ? "" : "s"}`));
      if (q.messages.length) {
        const t = el("table", { class: "dead-letters" }, el("thead", {}, el("tr", {},
          el("th", {}, "Message"), el("th", {}, "Group"), el("th", { class: "num" }, "Receives"), el("th", {}, "First failure"), el("th", {}, "Body"))));
        const tb = el("tbody");
        for (const m of q.messages) {
          tb.append(el("tr", {}, el("td", { class: "mono" }, m.messageId), el("td", { class: "mono" }, m.groupId || ""),
            num(m.receiveCount), el("td", { class: "nowrap" }, m.firstFailure ? new Date(m.firstFailure).toLocaleString() : ""),
            el("td", {}, el("pre", { class: "body" }, m.body))));
        }
        t.append(tb);
        section.append(t);
      }
      dls.append(section);
    }
  }

  async function redrive() {
    const out = $("#redrive-result");
    try {
      const r = await fetch("/_local/dlq/redrive", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
      const data = await r.json();
      if (!r.ok) throw new Error(data.error || r.status);
      out.textContent = `redriven: ${data.redriven} message${data.redriven === 1 ? "" : "s"}`;
    } catch (e) {
      out.textContent = "redrive failed: " + e.message;
    }
    poll("/_local/queues/data", drawQueues);
  }

  // --- /_local/tables ---
  let page = 0;
  function drawTables(data) {
    const body = $("#tables tbody");
    body.replaceChildren();
    const pick = $("#table-pick");
    const chosen = pick.value;
    if (!pick.options.length) {
      // The first load takes ?table=, ?key= and ?q= from the address, so a search can be linked.
      const want = new URLSearchParams(location.search);
      for (const t of data.tables) pick.append(el("option", { value: t.id }, t.id));
      if (data.tables.length) pick.value = data.tables.some((t) => t.id === want.get("table")) ? want.get("table") : data.tables[0].id;
      $("#key").value = want.get("key") || "";
      $("#q").value = want.get("q") || "";
      loadItems();
    } else {
      pick.value = chosen;
    }
    for (const t of data.tables) {
      body.append(el("tr", { "data-table": t.id },
        el("td", {}, el("strong", {}, t.id), el("div", { class: "muted mono" }, t.name)),
        el("td", { class: "mono" }, t.keys.join(", ")),
        el("td", {}, ...t.indexes.map((i) => el("div", { class: "mono" }, `${i.name}: ${i.keys.join(", ")} (${i.projection})`))),
        el("td", {}, t.stream), el("td", { class: "mono" }, t.ttl), num(t.itemCount)));
    }
  }

  async function loadItems() {
    const id = $("#table-pick").value;
    if (!id) return;
    const params = new URLSearchParams({ key: $("#key").value.trim(), q: $("#q").value.trim(), page: String(page) });
    try {
      const r = await fetch(`/_local/tables/${encodeURIComponent(id)}/items?${params}`, { cache: "no-store" });
      const data = await r.json();
      if (!r.ok) throw new Error(data.error || r.status);
      const pages = Math.max(1, Math.ceil(data.matched / data.pageSize));
      $("#items-table").textContent = id;
      $("#items-count").textContent = `${data.matched} item${data.matched === 1 ? "" : "s"}${data.truncated ? " (the first 20,000 read)" : ""}, newest first; page ${page + 1} of ${pages}`;
      $("#prev").disabled = page === 0;
      $("#next").disabled = page + 1 >= pages;
      const list = $("#items");
      list.replaceChildren();
      for (const it of data.items) {
        const compact = JSON.stringify(it);
        list.append(el("details", { class: "item" },
          el("summary", {}, el("code", {}, String(it[data.hashKey] ?? "")), " ",
            el("code", { class: "muted" }, compact.length > 160 ? compact.slice(0, 160) + "…" : compact)),
          el("pre", {}, JSON.stringify(it, null, 2))));
      }
    } catch (e) {
      $("#items-count").textContent = "cannot read the items: " + e.message;
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    if ($("#functions")) every("/_local/functions/data", drawFunctions);
    if ($("#queues")) {
      every("/_local/queues/data", drawQueues);
      $("#redrive").addEventListener("click", redrive);
    }
    if ($("#tables")) {
      every("/_local/tables/data", drawTables);
      $("#item-filter").addEventListener("submit", (e) => { e.preventDefault(); page = 0; loadItems(); });
      $("#table-pick").addEventListener("change", () => { page = 0; loadItems(); });
      $("#prev").addEventListener("click", () => { page = Math.max(0, page - 1); loadItems(); });
      $("#next").addEventListener("click", () => { page++; loadItems(); });
    }
  });
})();
