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

  // The header search box suggests names as you type: one request 200 ms after typing stops,
  // ↓/↑ move through them, Enter opens the highlighted one, Escape closes the list.
  // Without this script the box is a plain search form.
  var box = document.getElementById("site-search-q");
  var list = document.getElementById("site-search-suggestions");
  if (box && list) {
    var timer = null;
    var active = -1;
    var latest = 0;
    var options = function () {
      return list.querySelectorAll("[role=option]");
    };
    var close = function () {
      list.hidden = true;
      list.replaceChildren();
      box.setAttribute("aria-expanded", "false");
      box.removeAttribute("aria-activedescendant");
      active = -1;
    };
    var highlight = function (index) {
      var items = options();
      items.forEach(function (item, i) {
        item.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      box.setAttribute("aria-activedescendant", items[index].id);
    };
    var show = function (suggestions) {
      list.replaceChildren();
      suggestions.forEach(function (suggestion, i) {
        var item = document.createElement("li");
        item.id = "site-search-suggestion-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        var link = document.createElement("a");
        link.href = suggestion.url;
        link.tabIndex = -1;
        var label = document.createElement("span");
        label.className = "label";
        label.textContent = suggestion.label;
        var detail = document.createElement("span");
        detail.className = "meta";
        detail.textContent = suggestion.detail;
        link.append(label, " ", detail);
        item.append(link);
        list.append(item);
      });
      active = -1;
      list.hidden = suggestions.length === 0;
      box.setAttribute("aria-expanded", suggestions.length ? "true" : "false");
      box.removeAttribute("aria-activedescendant");
    };
    box.addEventListener("input", function () {
      clearTimeout(timer);
      var query = box.value.trim();
      if (query.length < 2) {
        latest += 1;
        close();
        return;
      }
      timer = setTimeout(function () {
        var ticket = ++latest;
        fetch(box.dataset.suggestUrl + "?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" } })
          .then(function (response) {
            return response.ok ? response.json() : { suggestions: [] };
          })
          .then(function (data) {
            if (ticket === latest) {
              show(data.suggestions || []);
            }
          })
          .catch(close);
      }, 200);
    });
    box.addEventListener("keydown", function (event) {
      var items = options();
      if (event.key === "ArrowDown" && items.length) {
        event.preventDefault();
        highlight((active + 1) % items.length);
      } else if (event.key === "ArrowUp" && items.length) {
        event.preventDefault();
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter" && active >= 0) {
        event.preventDefault();
        window.location.assign(items[active].querySelector("a").href);
      } else if (event.key === "Escape" && !list.hidden) {
        // The first Escape closes the list and keeps the text (a search box would clear it).
        event.preventDefault();
        event.stopPropagation();
        close();
      }
    });
    document.addEventListener("click", function (event) {
      if (!box.form.contains(event.target)) {
        close();
      }
    });
  }

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
