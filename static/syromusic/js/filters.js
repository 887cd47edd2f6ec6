// Filter forms apply as soon as a choice changes; the Apply button stays for keyboard and no-JS users.

const bound = new WeakSet();

function within(root, selector) {
  const found = [...root.querySelectorAll(selector)];
  return root.matches?.(selector) ? [root, ...found] : found;
}

export function init(root = document) {
  for (const form of within(root, "form[data-autosubmit]")) {
    if (bound.has(form)) {
      continue;
    }
    bound.add(form);
    form.addEventListener("change", (event) => {
      if (event.target.matches("select")) {
        form.requestSubmit();
      }
    });
  }
}

init();
// Boosted navigation (htmx) announces new content with htmx:load; binding twice is a no-op.
document.addEventListener("htmx:load", (event) => init(event.detail.elt));
