// The queue panel: every queued song as a row, the current one marked; play, move, remove and clear,
// by buttons (keyboard) and by dragging a row's handle (pointer events: mouse, touch and pen alike).
// The queue itself lives in player.js (window.syroPlayer); this module only draws it and asks for changes.

const root = document.querySelector("[data-queue-root]");
const panel = root?.closest(".player-panel");

// Built once. A change rebuilds the list in one go (a queue holds up to 1,000 songs), or, for the usual
// one-row changes, touches that row only (patch).
let summary, count, list, empty;
let tracks = [];
let current = -1;
// A render waits while the panel is hidden: a closed panel costs nothing however often the queue changes.
let stale = true;
// After a button moves or removes a row, focus returns to this {key, index, action} (see restoreFocus).
let refocus = null;
let drag = null;

function player() {
  return window.syroPlayer;
}

function clock(milliseconds) {
  const seconds = Math.max(0, Math.round((milliseconds || 0) / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = String(seconds % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(className, action, label, symbol) {
  const node = element("button", className);
  node.type = "button";
  node.dataset.queueAction = action;
  if (label) node.setAttribute("aria-label", label);
  if (symbol) node.append(hidden(symbol));
  return node;
}

function hidden(text) {
  const node = element("span", "", text);
  node.setAttribute("aria-hidden", "true");
  return node;
}

function build() {
  summary = element("div", "queue-summary");
  count = element("p", "queue-count");
  count.id = "player-queue-count";
  const clearButton = button("queue-clear", "clear");
  clearButton.textContent = "Clear the queue";
  clearButton.setAttribute("aria-describedby", count.id);
  summary.append(count, clearButton);
  list = element("ol", "queue-list");
  list.setAttribute("aria-label", "Queued songs");
  // Focusable so that focus has somewhere to go when the last song is removed or the queue cleared.
  empty = element("p", "queue-empty", "The queue is empty. Press play on any song.");
  empty.tabIndex = -1;
  root.replaceChildren(summary, list, empty);
}

// One row, cloned for every song: cloning a finished subtree is much cheaper than building each node.
const rowTemplate = (() => {
  const row = element("li", "queue-row");
  const handle = element("span", "queue-handle", "⠿");
  handle.setAttribute("aria-hidden", "true");
  handle.title = "Drag to reorder";
  const play = button("queue-play", "play");
  const icon = hidden("▶");
  icon.className = "queue-play-icon";
  play.append(icon);
  const meta = element("div", "queue-meta");
  const title = element("span", "queue-title");
  const line = element("span", "queue-line");
  line.append(element("span", "queue-artist"), element("span", "queue-duration"));
  meta.append(title, line);
  row.append(
    handle, play, meta,
    button("queue-button", "up", "", "↑"),
    button("queue-button", "down", "", "↓"),
    button("queue-button", "remove", "", "✕"),
  );
  return row;
})();

function makeRow(track, index, last) {
  const row = rowTemplate.cloneNode(true);
  if (track.key !== undefined) row.dataset.key = track.key;
  const name = track.title;
  const [, play, meta, up, down, remove] = row.children;
  play.setAttribute("aria-label", `Play ${name}`);
  if (track.cover) {
    const cover = element("img", "queue-cover");
    cover.src = track.cover;
    cover.alt = "";
    cover.width = cover.height = 44;
    cover.loading = "lazy";
    cover.decoding = "async";
    play.prepend(cover);
  } else {
    const placeholder = hidden("♪");
    placeholder.className = "queue-cover queue-placeholder";
    play.prepend(placeholder);
  }
  meta.children[0].textContent = name;
  meta.children[1].children[0].textContent = track.artist || "";
  meta.children[1].children[1].textContent = clock(track.duration_ms);
  up.setAttribute("aria-label", `Move ${name} up`);
  down.setAttribute("aria-label", `Move ${name} down`);
  remove.setAttribute("aria-label", `Remove ${name} from the queue`);
  number(row, index, last);
  return row;
}

// A row's place: its index, and whether it can go up or down. aria-disabled, not disabled: a row moved to
// the top keeps focus on its "up" button.
function number(row, index, last) {
  row.dataset.index = index;
  const [, , , up, down] = row.children;
  for (const [control, stuck] of [[up, index === 0], [down, index === last]]) {
    if (stuck) control.setAttribute("aria-disabled", "true");
    else control.removeAttribute("aria-disabled");
  }
}

function summarise() {
  const total = tracks.reduce((sum, track) => sum + (track.duration_ms || 0), 0);
  const size = tracks.length;
  count.textContent = `${size} ${size === 1 ? "song" : "songs"}, ${clock(total)}`;
  summary.hidden = size === 0;
  empty.hidden = size !== 0;
}

function mark(index) {
  current = index;
  const old = list.querySelector(".queue-row[aria-current]");
  if (old) {
    old.removeAttribute("aria-current");
    old.querySelector(".queue-now")?.remove();
  }
  const row = list.children[index];
  if (row) {
    row.setAttribute("aria-current", "true");
    row.querySelector(".queue-meta").prepend(element("span", "queue-now", "Now playing"));
  }
}

function render() {
  stale = false;
  summarise();
  const fragment = document.createDocumentFragment();
  const last = tracks.length - 1;
  tracks.forEach((track, index) => fragment.append(makeRow(track, index, last)));
  const focus = refocus || focused();
  list.replaceChildren(fragment);
  mark(current);
  restoreFocus(focus);
}

// Which row's button has focus, to give it back after the rows change.
function focused() {
  const control = document.activeElement;
  const row = rowOf(control);
  if (!row || !control.dataset.queueAction) return null;
  return { key: row.dataset.key, index: Number(row.dataset.index), action: control.dataset.queueAction };
}

function restoreFocus(focus) {
  refocus = null;
  if (!focus) return;
  // The same entry's same button (a moved row), else the row that took its place (a removed row).
  const row = (focus.key && list.querySelector(`[data-key="${focus.key}"]`))
    || list.children[Math.min(focus.index, list.children.length - 1)];
  const target = row?.querySelector(`[data-queue-action="${focus.action}"]`) || row?.querySelector(".queue-play") || empty;
  if (document.activeElement !== target) target.focus();
}

// Entries carry a key (player.js: the same song may be queued twice); without keys, compare ids.
const identity = (track) => track.key ?? `id${track.id}`;

function sameRun(a, aFrom, b, bFrom, length) {
  for (let at = 0; at < length; at += 1) {
    if (a[aFrom + at] !== b[bFrom + at]) return false;
  }
  return true;
}

// The usual changes (one row moved or removed, or only the current song changed) touch one row of the
// list, not all of them: a keyboard move in a queue of a thousand stays instant. Returns false for any
// other change, which rebuilds the list.
function patch(next) {
  const before = tracks.map(identity);
  const after = next.map(identity);
  const rows = list.children;
  let first = 0;
  while (first < after.length && before[first] === after[first]) first += 1;
  if (after.length === before.length) {
    if (first === after.length) return true;
    let end = after.length - 1;
    while (before[end] === after[end]) end -= 1;
    const span = end - first;
    let from, to;
    if (after[end] === before[first] && sameRun(after, first, before, first + 1, span)) [from, to] = [first, end];
    else if (after[first] === before[end] && sameRun(after, first + 1, before, first, span)) [from, to] = [end, first];
    else return false;
    list.insertBefore(rows[from], to > from ? rows[to].nextSibling : rows[to]);
    for (let at = first; at <= end; at += 1) number(rows[at], at, after.length - 1);
    return true;
  }
  if (after.length === before.length - 1 && sameRun(after, first, before, first + 1, after.length - first)) {
    rows[first].remove();
    for (let at = first; at < after.length; at += 1) number(rows[at], at, after.length - 1);
    if (first > 0) number(rows[first - 1], first - 1, after.length - 1);
    return true;
  }
  return false;
}

function update(detail) {
  const next = detail.tracks || [];
  const index = detail.index ?? -1;
  if (!stale) {
    const focus = refocus || focused();
    if (patch(next)) {
      tracks = next;
      summarise();
      mark(index);
      restoreFocus(focus);
      return;
    }
  }
  tracks = next;
  current = index;
  stale = true;
  if (refocus || !panel || !panel.hidden) render();
}

function rowOf(node) {
  const row = node?.closest?.(".queue-row");
  return row && list.contains(row) ? row : null;
}

function move(from, to, action) {
  const title = tracks[from].title;
  if (action) refocus = { key: list.children[from]?.dataset.key, index: to, action };
  player().move(from, to);
  player().announce(`Moved ${title} to position ${to + 1} of ${tracks.length}`);
}

function onClick(event) {
  const control = event.target.closest("[data-queue-action]");
  if (!control || !root.contains(control) || control.getAttribute("aria-disabled") === "true") return;
  const action = control.dataset.queueAction;
  if (action === "clear") {
    // player.js announces the empty queue itself.
    refocus = { index: 0, action: "none" };
    player().clear();
    return;
  }
  const row = rowOf(control);
  if (!row) return;
  const index = Number(row.dataset.index);
  if (action === "play") {
    player().playAt(index);
  } else if (action === "up" && index > 0) {
    move(index, index - 1, "up");
  } else if (action === "down" && index < tracks.length - 1) {
    move(index, index + 1, "down");
  } else if (action === "remove") {
    const title = tracks[index].title;
    // Focus goes to the row that takes this one's place (or the one before it, or the empty state).
    refocus = { index, action: "remove" };
    player().remove(index);
    player().announce(`Removed ${title} from the queue`);
  }
}

// Dragging: the handle captures the pointer; the row under it becomes the drop target. Dropping on row t
// puts the song AT position t, as in the playlist page's drag and drop.
function targetAt(x, y) {
  const under = rowOf(document.elementFromPoint(x, y));
  if (under) return Number(under.dataset.index);
  const box = list.getBoundingClientRect();
  if (y < box.top) return 0;
  if (y > box.bottom) return tracks.length - 1;
  return drag.to;
}

function showTarget(to) {
  list.querySelector(".drop-before, .drop-after")?.classList.remove("drop-before", "drop-after");
  if (to !== drag.from) list.children[to]?.classList.add(to < drag.from ? "drop-before" : "drop-after");
}

function onPointerDown(event) {
  const handle = event.target.closest(".queue-handle");
  if (!handle || event.button !== 0 || !rowOf(handle)) return;
  event.preventDefault();
  const row = rowOf(handle);
  drag = { pointer: event.pointerId, handle, row, from: Number(row.dataset.index), to: Number(row.dataset.index) };
  handle.setPointerCapture(event.pointerId);
  row.classList.add("dragging");
}

function onPointerMove(event) {
  if (!drag || event.pointerId !== drag.pointer) return;
  // Near the panel's top or bottom edge, scroll it so that a long queue can be crossed in one drag.
  const box = root.getBoundingClientRect();
  const edge = 32;
  if (event.clientY < box.top + edge) root.scrollTop -= edge / 2;
  else if (event.clientY > box.bottom - edge) root.scrollTop += edge / 2;
  drag.to = targetAt(event.clientX, event.clientY);
  showTarget(drag.to);
}

function endDrag(event, drop) {
  if (!drag || event.pointerId !== drag.pointer) return;
  const { from, to, row } = drag;
  row.classList.remove("dragging");
  list.querySelector(".drop-before, .drop-after")?.classList.remove("drop-before", "drop-after");
  drag = null;
  // A row that left the list meanwhile (the queue was replaced mid-drag) has no place to drop to.
  if (drop && to !== from && row.isConnected && Number(row.dataset.index) === from) move(from, to);
}

function start() {
  if (!root) return;
  // player.js focuses the panel's body when the panel opens: a keyboard listener lands in the queue.
  root.tabIndex = -1;
  build();
  const syro = player();
  root.addEventListener("click", onClick);
  root.addEventListener("pointerdown", onPointerDown);
  root.addEventListener("pointermove", onPointerMove);
  root.addEventListener("pointerup", (event) => endDrag(event, true));
  root.addEventListener("pointercancel", (event) => endDrag(event, false));
  // Escape drops nothing, wherever focus is while the pointer drags.
  document.addEventListener("keydown", (event) => {
    if (drag && event.key === "Escape") endDrag({ pointerId: drag.pointer }, false);
  });
  document.addEventListener("syro:queuechange", (event) => update(event.detail));
  // player.js follows a track change with a queue change; this keeps the mark right if it ever does not.
  document.addEventListener("syro:trackchange", () => {
    if (!stale) mark(player().queue.index);
  });
  document.addEventListener("syro:panel", (event) => {
    if (event.detail.name === "queue" && event.detail.open && stale) render();
  });
  update(syro.queue);
}

if (window.syroPlayer) start();
else document.addEventListener("syro:ready", start, { once: true });
