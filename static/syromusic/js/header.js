// The phone header's two disclosures (search, menu): opening one closes the other, and opening the search puts the
// cursor in its field. Without this module both still open and close (they are plain <details>).

const bound = new WeakSet();

function within(root, selector) {
  const found = [...root.querySelectorAll(selector)];
  return root.matches?.(selector) ? [root, ...found] : found;
}

// Wide screens show the disclosures' contents inline through ::details-content. A browser without it keeps the
// buttons there (site.css) and would show the menu and the search only after a click: open them on wide screens.
const wide = window.matchMedia("(min-width: 40.0625rem)");
const inlineByCss = CSS.supports("selector(::details-content)");

function openWhenWide(details) {
  if (!inlineByCss && wide.matches) {
    details.open = true;
  }
}

export function init(root = document) {
  for (const details of within(root, "details[data-header-disclosure]")) {
    if (bound.has(details)) {
      continue;
    }
    bound.add(details);
    openWhenWide(details);
    details.addEventListener("toggle", () => {
      if (!details.open || wide.matches) {
        return;
      }
      for (const other of details.parentElement.querySelectorAll("details[data-header-disclosure][open]")) {
        if (other !== details) {
          other.open = false;
        }
      }
      // Only on a phone, where the summary is the visible way in: on a wide screen the contents show inline anyway.
      if (details.querySelector("summary").offsetParent !== null) {
        details.querySelector("input[type=search]")?.focus();
      }
    });
  }
}

init();
wide.addEventListener("change", () => document.querySelectorAll("details[data-header-disclosure]").forEach(openWhenWide));
// Boosted navigation (htmx) announces new content with htmx:load; binding twice is a no-op.
document.addEventListener("htmx:load", (event) => init(event.detail.elt));
