/* Error pages: the events list's "select every event" box. Every page works without this file. */
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

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setupSelectAll);
  } else {
    setupSelectAll();
  }
})();
