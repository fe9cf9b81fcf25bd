// What every page's script builds its DOM with: $ finds an element, el makes
// one (data goes in as text, never as HTML; on* attributes become listeners),
// status sets the bar's status chip. Loaded before the page's own script.
"use strict";

window.usersapiDOM = (function () {
  const $ = (sel) => document.querySelector(sel);

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") e.className = v;
      else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c);
    return e;
  }

  function status(text, ok) {
    const s = $("#status");
    s.textContent = text;
    s.className = "status " + (ok ? "ok" : "bad");
  }

  return { $, el, status };
})();
