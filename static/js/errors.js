/* Error pages: the events list's "select every event" box, and the live notice of errors received
   since the page loaded (`/ws/events/`, apps/integrations/consumers.py). Every page works without
   this file. */
(function () {
  "use strict";

  function setupSelectAll() {
    document.addEventListener("change", function (event) {
      var box = event.target;
      if (!box.matches || !box.matches("[data-select-all]")) return;
      var form = box.closest("form");
      if (!form) return;
      form.querySelectorAll("[data-select-event]").forEach(function (item) {
        item.checked = box.checked;
      });
    });
  }

  // Counts the errors the trackers sent after the page loaded; "Show them" reloads the list as filtered.
  function NewErrorsNotice(root) {
    this.root = root;
    this.text = root.querySelector("[data-new-errors-text]");
    this.count = 0;
    root.querySelector("[data-new-errors-show]").addEventListener("click", function (event) {
      event.preventDefault();
      window.location.reload();
    });
  }

  NewErrorsNotice.prototype.event = function (message) {
    var payload = message.payload || {};
    this.count += 1;
    var latest = [payload.title, payload.source ? "(" + payload.source + ")" : ""].join(" ").trim();
    this.text.textContent = (this.count === 1 ? "1 new error" : this.count + " new errors") +
      " since this page loaded" + (latest ? ". Latest: " + latest + "." : ".");
    this.root.hidden = false;
  };

  function setup() {
    setupSelectAll();
    var notice = document.querySelector("[data-new-errors]");
    if (notice && "WebSocket" in window) {
      new window.Argus.LiveSocket(notice.getAttribute("data-ws-path"), new NewErrorsNotice(notice),
                                  document.querySelector("[data-live-status]"));
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();
