/* Vow cookie banner: built from the policy's cookies, served by `vow serve`.
   Blocks <script type="text/plain" data-category="…"> until its category is
   accepted, remembers the choice (localStorage) per policy version, honours
   Global Privacy Control, and records the choice in Vow. No dependencies. */
(function () {
  "use strict";
  var CFG = /*VOW_CONFIG*/null;
  var KEY = "vow_consent";
  var doc = document;
  var script = doc.currentScript;
  var base = script && script.src ? script.src.replace(/\/consent\/banner(\/[0-9a-f]+\/banner)?\.js.*$/, "") : "";
  var gpc = navigator.globalPrivacyControl === true;
  var listeners = [];
  var root = null;
  var before = null; // what had focus before the banner took it

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || null; } catch (e) { return null; }
  }
  function save(v) {
    try { localStorage.setItem(KEY, JSON.stringify(v)); } catch (e) { /* private mode */ }
  }
  function device() {
    var s = load();
    if (s && s.device) return s.device;
    var id = window.crypto && crypto.randomUUID ? crypto.randomUUID() :
      String(Date.now()) + Math.random().toString(16).slice(2);
    return "device:" + id;
  }
  function cat(name) {
    for (var i = 0; i < CFG.categories.length; i++) if (CFG.categories[i].name === name) return CFG.categories[i];
    return null;
  }
  function allowed(choices, name) {
    var c = cat(name);
    if (c && c.essential) return true;
    if (c && c.gpc && gpc) return false;
    return !!(choices && choices[name]);
  }

  // Run the blocked scripts whose category is now allowed.
  function apply(choices) {
    var list = doc.querySelectorAll('script[type="text/plain"][data-category]');
    for (var i = 0; i < list.length; i++) {
      var old = list[i];
      if (!allowed(choices, old.getAttribute("data-category"))) continue;
      var s = doc.createElement("script");
      for (var j = 0; j < old.attributes.length; j++) {
        var a = old.attributes[j];
        if (a.name !== "type") s.setAttribute(a.name, a.value);
      }
      s.removeAttribute("data-category");
      s.setAttribute("data-vow-category", old.getAttribute("data-category"));
      if (!old.src) s.text = old.text;
      old.parentNode.replaceChild(s, old);
    }
    for (var k = 0; k < listeners.length; k++) listeners[k](choices);
  }

  // record sends the choice, and the browser's Global Privacy Control
  // signal (a page cannot set Sec-GPC itself), to Vow.
  function record(dev, choices) {
    if (!base || !window.fetch) return;
    fetch(base + "/consent/banner/choice", {
      method: "POST", keepalive: true, mode: "cors",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ device: dev, choices: choices, gpc: gpc })
    }).catch(function () { /* the choice is kept locally; Vow records it next time */ });
  }

  function decide(choices) {
    var dev = device();
    var clean = {};
    for (var i = 0; i < CFG.categories.length; i++) {
      var c = CFG.categories[i];
      if (!c.essential) clean[c.name] = allowed(choices, c.name);
    }
    save({ device: dev, version: CFG.version, choices: clean, at: new Date().toISOString(), gpc: gpc });
    record(dev, clean);
    close();
    apply(clean);
  }

  function all(v) {
    var o = {};
    for (var i = 0; i < CFG.categories.length; i++) o[CFG.categories[i].name] = v;
    return o;
  }

  function el(tag, attrs, text) {
    var e = doc.createElement(tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    if (text) e.textContent = text;
    return e;
  }

  function button(label, id, fn) {
    var b = el("button", { type: "button", id: id, "class": "vow-btn" }, label);
    b.addEventListener("click", fn);
    return b;
  }

  var CSS = "#vow-banner{position:fixed;left:1rem;right:1rem;bottom:1rem;z-index:2147483647;max-width:40rem;margin:0 auto;" +
    "background:#fff;color:#111;border:1px solid #888;border-radius:.5rem;padding:1rem;font:15px/1.4 system-ui,sans-serif;box-shadow:0 4px 20px rgba(0,0,0,.25)}" +
    "#vow-banner h2{font-size:1.1rem;margin:0 0 .5rem}#vow-banner p{margin:.25rem 0}" +
    "#vow-banner .vow-btn{margin:.5rem .5rem 0 0;padding:.5rem 1rem;border:1px solid #111;border-radius:.25rem;background:#fff;color:#111;cursor:pointer;font:inherit}" +
    "#vow-banner .vow-btn:focus-visible,#vow-banner input:focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}" +
    "#vow-banner fieldset{border:0;padding:0;margin:.5rem 0}#vow-banner label{display:block;margin:.25rem 0}" +
    "#vow-banner small{color:#444}";

  function open(customise) {
    close();
    var saved = load();
    var current = saved && saved.choices ? saved.choices : all(false);
    if (!doc.getElementById("vow-style")) {
      var st = el("style", { id: "vow-style" });
      st.textContent = CSS;
      (doc.head || doc.documentElement).appendChild(st);
    }
    root = el("div", { id: "vow-banner", role: "dialog", "aria-modal": "false", "aria-labelledby": "vow-title", "aria-describedby": "vow-text" });
    root.appendChild(el("h2", { id: "vow-title" }, "Cookies on " + CFG.organization));
    before = doc.activeElement;
    root.appendChild(el("p", { id: "vow-text" }, "We use essential cookies to run this site. With your consent we also use optional cookies, listed under Customise. You can change your choice at any time; Escape refuses them."));
    if (gpc) root.appendChild(el("p", { id: "vow-gpc" }, "Your browser sends a Global Privacy Control signal: we treat it as your refusal of " + CFG.gpc.join(", ") + "."));
    var fs = el("fieldset", { id: "vow-categories" });
    fs.appendChild(el("legend", {}, "Cookie categories"));
    for (var i = 0; i < CFG.categories.length; i++) {
      var c = CFG.categories[i];
      var id = "vow-cat-" + c.name;
      var lab = el("label", { "for": id });
      var box = el("input", { type: "checkbox", id: id, name: c.name });
      box.checked = c.essential || allowed(current, c.name);
      if (c.essential || (c.gpc && gpc)) box.disabled = true;
      lab.appendChild(box);
      lab.appendChild(doc.createTextNode(" " + c.title + (c.essential ? " (always on)" : "")));
      if (c.description) lab.appendChild(el("small", {}, " — " + c.description));
      fs.appendChild(lab);
    }
    fs.hidden = !customise;
    root.appendChild(fs);
    var saveBtn = button("Save choices", "vow-save", function () {
      var o = {};
      var boxes = fs.querySelectorAll("input");
      for (var j = 0; j < boxes.length; j++) o[boxes[j].name] = boxes[j].checked;
      decide(o);
    });
    saveBtn.hidden = !customise;
    var custom = button("Customise", "vow-customise", function () {
      fs.hidden = false; saveBtn.hidden = false; custom.hidden = true;
      var first = fs.querySelector("input:not([disabled])");
      (first || saveBtn).focus();
    });
    custom.hidden = !!customise;
    root.appendChild(button("Accept all", "vow-accept", function () { decide(all(true)); }));
    root.appendChild(button("Reject all", "vow-reject", function () { decide(all(false)); }));
    root.appendChild(custom);
    root.appendChild(saveBtn);
    var foot = root.appendChild(el("p", {}, ""));
    if (base) {
      foot.appendChild(el("a", { id: "vow-policy", href: base + "/privacy", target: "_blank", rel: "noopener" }, "Privacy policy"));
      foot.appendChild(doc.createTextNode(" · "));
    }
    foot.appendChild(el("small", { id: "vow-version" }, "Policy version " + CFG.version));
    // Escape is a refusal: closing the banner never consents.
    root.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); decide(all(false)); }
    });
    doc.body.appendChild(root);
    root.querySelector("#vow-accept").focus();
  }

  function close() {
    if (!root) return;
    if (root.parentNode) root.parentNode.removeChild(root);
    root = null;
    // Give focus back where it was — or, if nothing had it, to the page's
    // first control — never let it fall to <body>.
    var to = before && before !== doc.body && doc.contains(before) ? before :
      doc.querySelector('a[href],button:not([disabled]),input:not([disabled]),select,textarea,[tabindex]:not([tabindex="-1"])');
    if (to && to.focus) to.focus();
    before = null;
  }

  window.vowConsent = {
    open: function () { open(true); },
    get: function () { var s = load(); return s && s.version === CFG.version ? s.choices : null; },
    allowed: function (name) { var s = load(); return allowed(s && s.choices, name); },
    onChange: function (fn) { listeners.push(fn); },
    version: CFG.version
  };

  function start() {
    var s = load();
    // A GPC signal is an opt-out in itself: Vow hears it at once, not
    // only once the visitor chooses.
    if (gpc && !(s && s.gpc)) {
      var dev = device();
      save({ device: dev, version: s && s.version, choices: s && s.choices, at: s && s.at, gpc: true });
      record(dev, {});
      s = load();
    }
    if (s && s.version === CFG.version) { apply(s.choices); return; }
    apply(null);
    open(false);
  }
  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", start); else start();
})();
