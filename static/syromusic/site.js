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

  // Playlist owners reorder entries by dragging rows; the move is the same POST as the ↓/↑ buttons make.
  var dragged = null;
  document.querySelectorAll("table.reorderable tr[data-move-url]").forEach(function (row) {
    row.addEventListener("dragstart", function (event) {
      dragged = row;
      row.classList.add("dragging");
      event.dataTransfer.effectAllowed = "move";
      event.dataTransfer.setData("text/plain", row.id);
    });
    row.addEventListener("dragend", function () {
      row.classList.remove("dragging");
      dragged = null;
    });
    row.addEventListener("dragover", function (event) {
      if (dragged && dragged !== row) {
        event.preventDefault();
        row.classList.add("drop-target");
      }
    });
    row.addEventListener("dragleave", function () {
      row.classList.remove("drop-target");
    });
    row.addEventListener("drop", function (event) {
      event.preventDefault();
      row.classList.remove("drop-target");
      if (!dragged || dragged === row) {
        return;
      }
      var body = new FormData();
      body.append("position", row.dataset.position);
      body.append("csrfmiddlewaretoken", dragged.querySelector("input[name=csrfmiddlewaretoken]").value);
      var source = dragged;
      fetch(source.dataset.moveUrl, { method: "POST", body: body, credentials: "same-origin" }).then(function (response) {
        if (response.ok) {
          window.location.reload();
        }
      });
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
