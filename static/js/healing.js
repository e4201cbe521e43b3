/* The healing page: choosing a project shows it at once (the Show button stays for keyboard and no-JS use). */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("select[data-healing-autosubmit]") && target.form) target.form.submit();
  });
})();
