// The header search box suggests names as you type: one request 200 ms after typing stops,
// ↓/↑ move through them, Enter opens the highlighted one, Escape closes the list.
// Without this script the box is a plain search form.

// Each bound box and how to stop it: its timer and its listener on the document outlive the box.
const bound = new Map();

function within(root, selector) {
  const found = [...root.querySelectorAll(selector)];
  return root.matches?.(selector) ? [root, ...found] : found;
}

function bind(box, list) {
  const listeners = new AbortController();
  const signal = listeners.signal;
  let timer = null;
  let active = -1;
  let latest = 0;

  const options = () => list.querySelectorAll("[role=option]");
  const close = () => {
    list.hidden = true;
    list.replaceChildren();
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
    active = -1;
  };
  const highlight = (index) => {
    const items = options();
    items.forEach((item, i) => item.setAttribute("aria-selected", i === index ? "true" : "false"));
    active = index;
    box.setAttribute("aria-activedescendant", items[index].id);
  };
  const show = (suggestions) => {
    list.replaceChildren();
    suggestions.forEach((suggestion, i) => {
      const item = document.createElement("li");
      item.id = "site-search-suggestion-" + i;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      const link = document.createElement("a");
      link.href = suggestion.url;
      link.tabIndex = -1;
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = suggestion.label;
      const detail = document.createElement("span");
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

  box.addEventListener("input", () => {
    clearTimeout(timer);
    const query = box.value.trim();
    if (query.length < 2) {
      latest += 1;
      close();
      return;
    }
    timer = setTimeout(() => {
      const ticket = ++latest;
      fetch(box.dataset.suggestUrl + "?q=" + encodeURIComponent(query), { headers: { Accept: "application/json" }, signal })
        .then((response) => (response.ok ? response.json() : { suggestions: [] }))
        .then((data) => {
          if (ticket === latest) {
            show(data.suggestions || []);
          }
        })
        .catch(close);
    }, 200);
  }, { signal });
  box.addEventListener("keydown", (event) => {
    const items = options();
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
  }, { signal });
  box.ownerDocument.addEventListener("click", (event) => {
    if (!box.form.contains(event.target)) {
      close();
    }
  }, { signal });

  return () => {
    clearTimeout(timer);
    listeners.abort();
  };
}

export function init(root = document) {
  // A box that left the page (swapped out by a navigation) stops its timer and listeners.
  for (const [box, stop] of bound) {
    if (!box.isConnected) {
      stop();
      bound.delete(box);
    }
  }
  for (const box of within(root, "#site-search-q")) {
    const list = box.ownerDocument.getElementById(box.getAttribute("aria-controls"));
    if (list && !bound.has(box)) {
      bound.set(box, bind(box, list));
    }
  }
}

init();
// Boosted navigation (htmx) announces new content with htmx:load; binding twice is a no-op.
document.addEventListener("htmx:load", (event) => init(event.detail.elt));
