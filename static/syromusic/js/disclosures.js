// Escape closes an open disclosure (the header log-in box) and returns focus to its summary.

const bound = new WeakSet();

function closeOpenDisclosures(event) {
  if (event.key !== "Escape") {
    return;
  }
  event.currentTarget.querySelectorAll("details[open]").forEach((details) => {
    details.open = false;
    details.querySelector("summary").focus();
  });
}

// One listener on the document serves every disclosure, present and future.
export function init(root = document) {
  const doc = root.ownerDocument ?? root;
  if (!bound.has(doc)) {
    bound.add(doc);
    doc.addEventListener("keydown", closeOpenDisclosures);
  }
}

init();
