/* Argus web UI: small progressive enhancements. Every page works without this file.
   Loaded from a file (never inline) because the Content-Security-Policy allows 'self' scripts only. */
(function () {
  "use strict";

  document.documentElement.classList.remove("no-js");
  document.documentElement.classList.add("js");

  // Narrow screens: the main navigation folds behind the Menu button.
  function setupNavToggle() {
    var button = document.querySelector("[data-nav-toggle]");
    if (!button) return;
    var panel = document.getElementById(button.getAttribute("aria-controls"));
    button.addEventListener("click", function () {
      var open = button.getAttribute("aria-expanded") === "true";
      button.setAttribute("aria-expanded", String(!open));
      panel.classList.toggle("is-open", !open);
    });
  }

  // The user menu is a <details>: close it on a click elsewhere or on Escape.
  function setupUserMenu() {
    function openMenus() {
      return document.querySelectorAll("details.user-menu[open]");
    }
    document.addEventListener("click", function (event) {
      openMenus().forEach(function (menu) {
        if (!menu.contains(event.target)) menu.removeAttribute("open");
      });
    });
    document.addEventListener("keydown", function (event) {
      if (event.key !== "Escape") return;
      openMenus().forEach(function (menu) {
        menu.removeAttribute("open");
        menu.querySelector("summary").focus();
      });
    });
  }

  // Forms with data-confirm ask first. Capture phase, so that a declined form never reaches htmx.
  function setupConfirm() {
    document.addEventListener("submit", function (event) {
      var form = event.target;
      var message = form.getAttribute && form.getAttribute("data-confirm");
      if (message && !window.confirm(message)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    }, true);
  }

  function selectContents(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  // Buttons with data-copy-target copy the text of that element (the new API key).
  function setupCopy() {
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-copy-target]");
      if (!button) return;
      var source = document.getElementById(button.getAttribute("data-copy-target"));
      if (!source) return;
      var text = source.textContent.trim();
      var label = button.textContent;
      function show(message) {
        button.textContent = message;
        window.setTimeout(function () { button.textContent = label; }, 2000);
      }
      function fallback() {
        selectContents(source);
        var copied = false;
        try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
        show(copied ? (button.getAttribute("data-copied-label") || "Copied") : "Selected: press Ctrl+C");
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () {
          show(button.getAttribute("data-copied-label") || "Copied");
        }, fallback);
      } else {
        fallback();
      }
    });
  }

  // Signup: suggest an address from the organization's name and preview the full URL.
  function slugify(text) {
    return text.toLowerCase()
      .normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^[^a-z]+/, "")
      .slice(0, 40)
      .replace(/-+$/, "");
  }

  function setupSignup() {
    var form = document.querySelector("[data-signup-form]");
    if (!form) return;
    var name = form.querySelector("[name=organization_name]");
    var slug = form.querySelector("[data-slug-input]");
    var preview = form.querySelector("[data-address-preview]");
    if (!name || !slug || !preview) return;
    var template = preview.getAttribute("data-address-template");
    var typedByHand = slug.value !== "";
    function update() {
      preview.textContent = template.replace("__slug__", slug.value.trim().toLowerCase() || "your-team");
    }
    name.addEventListener("input", function () {
      if (typedByHand) return;
      slug.value = slugify(name.value);
      update();
    });
    slug.addEventListener("input", function () {
      typedByHand = slug.value !== "";
      update();
    });
  }

  // After a refused submit, put the cursor in the first field that needs attention.
  function focusFirstError() {
    var field = document.querySelector(".has-error input, .has-error select, .has-error textarea");
    if (field) field.focus();
  }

  // Close codes that reconnecting cannot fix (apps/organizations/websocket.py).
  var FATAL_CLOSE = {4401: "Sign in again to see live updates.", 4403: "Your role no longer allows this.",
                     4404: "Live updates are not available here."};

  // A live socket (run pages, the errors list): reconnects with backoff and hands snapshots and deltas
  // to its owner's `snapshot(message)` and `event(message)`. The server's first message (`snapshot`,
  // or `ready` on /ws/events/) says the socket is subscribed. `closeTexts` overrides FATAL_CLOSE's texts.
  function LiveSocket(path, owner, statusNode, closeTexts) {
    this.closeTexts = closeTexts || {};
    this.path = path;
    this.owner = owner;
    this.statusNode = statusNode;
    this.delay = 1000;
    this.stopped = false;
    this.connect();
  }

  LiveSocket.prototype.status = function (text, state) {
    if (!this.statusNode) return;
    this.statusNode.hidden = false;
    this.statusNode.textContent = text;
    this.statusNode.setAttribute("data-state", state);
  };

  LiveSocket.prototype.connect = function () {
    var self = this;
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try {
      socket = new WebSocket(scheme + window.location.host + this.path);
    } catch (error) {
      this.retry();
      return;
    }
    this.socket = socket;
    socket.addEventListener("message", function (event) {
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      // "Live" once the server has subscribed this socket (its first message), not when it opens.
      if (message.type === "snapshot" || message.type === "ready") {
        self.delay = 1000;
        self.status("Live", "live");
      }
      if (message.type === "snapshot" && self.owner.snapshot) self.owner.snapshot(message);
      else if (message.type === "event") self.owner.event(message);
    });
    socket.addEventListener("close", function (event) {
      if (self.stopped) return;
      if (FATAL_CLOSE[event.code]) {
        self.status(self.closeTexts[event.code] || FATAL_CLOSE[event.code], "off");
        return;
      }
      self.retry();
    });
  };

  LiveSocket.prototype.retry = function () {
    var self = this;
    this.status("Reconnecting…", "reconnecting");
    // Exponential backoff with jitter, so a restarted server isn't hit by every page at once.
    var wait = this.delay * (0.75 + Math.random() / 2);
    this.delay = Math.min(this.delay * 2, 30000);
    window.setTimeout(function () { self.connect(); }, wait);
  };

  window.Argus = {LiveSocket: LiveSocket};

  function start() {
    focusFirstError();
    setupNavToggle();
    setupUserMenu();
    setupConfirm();
    setupCopy();
    setupSignup();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
