// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  // Filter forms apply as soon as a choice changes; the Apply button stays for keyboard and no-JS users.
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.addEventListener("change", function (event) {
      if (event.target.matches("select")) {
        form.requestSubmit();
      }
    });
  });

  // Escape closes an open disclosure (the header log-in box) and returns focus to its summary.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") {
      return;
    }
    document.querySelectorAll("details[open]").forEach(function (details) {
      details.open = false;
      details.querySelector("summary").focus();
    });
  });
})();
