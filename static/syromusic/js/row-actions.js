// A song row's menu for a listener: their heart and playlists, fetched when the menu opens (the page itself
// is the same for everyone), and liking or adding to a playlist without leaving the page, so the player
// keeps playing. Without JavaScript, or for a visitor, the menu's links lead to a page that does the same.
// Also the playlist page's text filter of its rows.

const bound = new WeakSet();

function within(root, selector) {
  const found = [...root.querySelectorAll(selector)];
  return root.matches?.(selector) ? [root, ...found] : found;
}

function isListener() {
  return Boolean(document.getElementById("page-state")?.dataset.listener);
}

async function load(menu) {
  const slot = menu.querySelector(".row-actions");
  const response = await fetch(menu.dataset.rowActions, { credentials: "same-origin", headers: { Accept: "text/html" } });
  if (!response.ok) {
    throw new Error(`HTTP ${response.status}`);
  }
  show(slot, await response.text());
}

function show(slot, html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  const fresh = template.content.querySelector(".row-actions");
  if (fresh) {
    slot.replaceWith(fresh);
  }
  return fresh;
}

function say(menu, message) {
  const status = menu.querySelector(".row-menu-status");
  if (status) {
    status.textContent = message;
  }
}

async function onToggle(event) {
  const menu = event.target;
  if (!menu.matches?.("details.row-menu[data-row-actions]") || !menu.open) {
    return;
  }
  // One menu open at a time.
  document.querySelectorAll("details.row-menu[open]").forEach((other) => other !== menu && other.removeAttribute("open"));
  if (!isListener() || menu.querySelector("[data-row-actions-loaded]") || menu.dataset.loading) {
    return;
  }
  menu.dataset.loading = "1";
  try {
    await load(menu);
  } catch {
    // The links stay: they lead to the page that does the same.
  } finally {
    delete menu.dataset.loading;
  }
}

async function onSubmit(event) {
  const form = event.target;
  const menu = form.closest?.("details.row-menu");
  if (!menu || !form.closest("[data-row-actions-loaded]")) {
    return;
  }
  // Handled here, in place: neither a page load nor htmx's boosted navigation.
  event.preventDefault();
  event.stopPropagation();
  const body = new FormData(form, event.submitter);
  if (form.matches(".like-form")) {
    await like(menu, form, body);
  } else {
    await add(menu, form, body);
  }
}

async function like(menu, form, body) {
  const liked = body.get("liked") === "1";
  // The heart's `next` is the menu's own address, so the answer is the menu as it now is.
  const response = await fetch(form.action, { method: "POST", body, credentials: "same-origin" }).catch(() => null);
  if (!response?.ok) {
    say(menu, "The like could not be saved.");
    return;
  }
  const fresh = show(menu.querySelector(".row-actions"), await response.text());
  fresh?.querySelector(".like-button")?.focus();
  const title = menu.querySelector("summary").getAttribute("aria-label").replace(/^More for /, "");
  say(menu, liked ? `Liked “${title}”.` : `No longer liked: “${title}”.`);
}

async function add(menu, form, body) {
  const response = await fetch(form.action, {
    method: "POST", body, credentials: "same-origin", headers: { Accept: "application/json" },
  }).catch(() => null);
  let message = "The song could not be added.";
  if (response) {
    message = (await response.json().catch(() => ({}))).message || message;
  }
  if (response?.ok) {
    try {
      await load(menu);  // the playlist now shows its tick
    } catch {
      // The message below still says it was added.
    }
  }
  // The pressed button was replaced with the menu's new contents: focus its successor (the same playlist's
  // button, or the new-playlist field), never the page's body.
  const playlist = body.get("playlist");
  const successor = playlist
    ? menu.querySelector(`.row-add button[name="playlist"][value="${CSS.escape(playlist)}"]`)
    : menu.querySelector(".row-new input[name='name']");
  (successor || menu.querySelector("summary")).focus();
  say(menu, message);
}

function onClick(event) {
  // A click outside an open menu closes it.
  document.querySelectorAll("details.row-menu[open]").forEach((menu) => {
    if (!menu.contains(event.target)) {
      menu.removeAttribute("open");
    }
  });
}

function filterRows(input) {
  const table = document.getElementById(input.getAttribute("aria-controls"))?.querySelector("table");
  if (!table) {
    return;
  }
  const words = input.value.toLocaleLowerCase().split(/\s+/).filter(Boolean);
  const rows = [...table.tBodies[0].rows].filter((row) => row.dataset.songId);
  let shown = 0;
  for (const row of rows) {
    // The title, artist and album only: not the row's menu ("Like", "Add to playlist…") or a cover's initials.
    const text = [...row.querySelectorAll(".row-title a, [data-filter-text]")]
      .map((cell) => cell.textContent).join(" ").toLocaleLowerCase();
    row.hidden = !words.every((word) => text.includes(word));
    shown += row.hidden ? 0 : 1;
  }
  const status = document.getElementById(input.dataset.filterStatus);
  if (status) {
    status.textContent = words.length ? `${shown} of ${rows.length} songs shown.` : "";
  }
}

export function init(root = document) {
  const doc = root.ownerDocument ?? root;
  if (!bound.has(doc)) {
    bound.add(doc);
    // Captured: `toggle` does not bubble, and a submit must be ours before htmx's boost sees it.
    doc.addEventListener("toggle", onToggle, true);
    doc.addEventListener("submit", onSubmit, true);
    doc.addEventListener("click", onClick);
  }
  for (const input of within(root, "input[data-filter-rows]")) {
    if (bound.has(input)) {
      continue;
    }
    bound.add(input);
    input.closest("[hidden]")?.removeAttribute("hidden");
    input.addEventListener("input", () => filterRows(input));
    filterRows(input);
  }
}

init();
// Boosted navigation (htmx) announces new content with htmx:load; binding twice is a no-op.
document.addEventListener("htmx:load", (event) => init(event.detail.elt));
