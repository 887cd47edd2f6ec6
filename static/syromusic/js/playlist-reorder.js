// Playlist owners reorder entries by dragging rows; the move is the same POST as the ↓/↑ buttons make.

const bound = new WeakSet();
let dragged = null;

function within(root, selector) {
  const found = [...root.querySelectorAll(selector)];
  return root.matches?.(selector) ? [root, ...found] : found;
}

function bind(row) {
  row.addEventListener("dragstart", (event) => {
    dragged = row;
    row.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row.id);
  });
  row.addEventListener("dragend", () => {
    row.classList.remove("dragging");
    dragged = null;
  });
  row.addEventListener("dragover", (event) => {
    if (dragged && dragged !== row) {
      event.preventDefault();
      row.classList.add("drop-target");
    }
  });
  row.addEventListener("dragleave", () => {
    row.classList.remove("drop-target");
  });
  row.addEventListener("drop", (event) => {
    event.preventDefault();
    row.classList.remove("drop-target");
    if (!dragged || dragged === row) {
      return;
    }
    const body = new FormData();
    body.append("position", row.dataset.position);
    body.append("csrfmiddlewaretoken", dragged.querySelector("input[name=csrfmiddlewaretoken]").value);
    fetch(dragged.dataset.moveUrl, { method: "POST", body, credentials: "same-origin" }).then((response) => {
      if (!response.ok) {
        return;
      }
      // The page again, with the new order: through htmx when it is here, so the player keeps playing.
      if (window.htmx) {
        window.htmx.ajax("GET", window.location.href, { target: "#page", select: "#page", swap: "outerHTML" });
      } else {
        window.location.reload();
      }
    });
  });
}

export function init(root = document) {
  for (const row of within(root, "table.reorderable tr[data-move-url]")) {
    if (!bound.has(row)) {
      bound.add(row);
      bind(row);
    }
  }
}

init();
// Boosted navigation (htmx) announces new content with htmx:load; binding twice is a no-op.
document.addEventListener("htmx:load", (event) => init(event.detail.elt));
