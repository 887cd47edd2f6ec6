// The lyrics panel of the player: the song playing, its synced lyrics as lines to click (the line sung now
// marked and kept in view), or its plain lyrics as text, or a clear "no lyrics" state.
// It talks to player.js only through window.syroPlayer and the syro:* events (modules never import each other).
// It does its work only while the panel is open; opening it renders what is playing then.

const root = document.querySelector("[data-lyrics-root]");
const panel = root?.closest(".player-panel");
const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
// After the listener scrolls the lyrics themselves, following the song waits this long, so they can read ahead.
const MANUAL_SCROLL_PAUSE_MS = 4000;

let open = false;
let shownKey = null; // what is drawn now ("id:details" etc.), so reopening the panel does not redraw for nothing
let times = []; // the synced lines' start times (ms), ascending, parallel to `buttons`
let buttons = [];
let currentLine = -1;
let scrolledByHandAt = 0;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function clock(ms) {
  const seconds = Math.floor(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

// The song's title and artist at the top: the lyrics say which song they belong to.
function heading(track) {
  const head = element("div", "lyrics-song");
  // A heading under the panel's own <h2>, so a screen reader can jump to the song.
  head.append(element("h3", "lyrics-title", track.title), element("p", "lyrics-artist", track.artist));
  return head;
}

function status(text) {
  return element("p", "lyrics-status", text);
}

function show(...nodes) {
  times = [];
  buttons = [];
  currentLine = -1;
  root.replaceChildren(...nodes);
  root.scrollTop = 0;
}

function syncedList(lines) {
  const hint = element("p", "visually-hidden", "Choose a line to play the song from there.");
  hint.id = "lyrics-hint";
  const list = element("ol", "lyrics-lines");
  list.setAttribute("aria-label", "Synced lyrics");
  list.setAttribute("aria-describedby", hint.id);
  for (const [ms, text] of lines) {
    const button = element("button", "lyrics-line");
    button.type = "button";
    button.dataset.ms = String(ms);
    if (text.trim()) {
      button.textContent = text;
    } else {
      // An empty LRC line marks an instrumental break: a button needs a name all the same.
      button.append(element("span", "", "♪"), element("span", "visually-hidden", ` Instrumental, ${clock(ms)}`));
      button.firstChild.setAttribute("aria-hidden", "true");
    }
    const item = element("li");
    item.append(button);
    list.append(item);
    times.push(ms);
    buttons.push(button);
  }
  return [hint, list];
}

function render() {
  const player = window.syroPlayer;
  const track = player?.track;
  const details = player?.details;
  root.removeAttribute("aria-busy");
  if (!track) {
    shownKey = "none";
    show(status("Nothing playing."));
    return;
  }
  if (!track.audio) {
    // player.js loads no details for a song without audio: waiting for them would never end.
    shownKey = `${track.key}:silent`;
    show(heading(track), status(`No lyrics: ${track.title} cannot be played.`));
    return;
  }
  if (!details || details.id !== track.id) {
    shownKey = `${track.key}:loading`;
    root.setAttribute("aria-busy", "true");
    show(heading(track), status("Loading lyrics…"));
    return;
  }
  const key = `${track.key}:${track.id}`;
  if (key === shownKey) {
    // A hidden panel loses its scroll position: bring the line sung now back into view.
    follow(player.currentTime, { smooth: false, force: true });
    return;
  }
  shownKey = key;
  const synced = Array.isArray(details.synced_lyrics) ? details.synced_lyrics : [];
  if (synced.length) {
    const [hint, list] = syncedList(synced);
    root.replaceChildren(heading(track), hint, list);
    root.scrollTop = 0;
    currentLine = -1;
    follow(player.currentTime, { smooth: false });
  } else if (details.lyrics && details.lyrics.trim()) {
    // textContent, never HTML: lyrics are text a staff member typed; CSS keeps their line breaks.
    show(heading(track), element("p", "lyrics-plain", details.lyrics));
  } else {
    show(heading(track), status(`No lyrics for ${track.title}.`));
  }
}

// The index of the last line that starts at or before `ms`, -1 before the first (binary search: long songs).
function lineAt(ms) {
  let low = 0;
  let high = times.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (times[middle] <= ms) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

function follow(seconds, { smooth = true, force = false } = {}) {
  if (!buttons.length) {
    return;
  }
  const at = lineAt(Math.round(seconds * 1000));
  if (at === currentLine) {
    if (force && buttons[at]) {
      centre(buttons[at], false);
    }
    return;
  }
  const before = buttons[currentLine];
  if (before) {
    before.removeAttribute("aria-current");
    before.classList.remove("is-current");
  }
  currentLine = at;
  buttons.forEach((button, position) => button.classList.toggle("is-past", position < at));
  const now = buttons[at];
  if (!now) {
    return;
  }
  now.setAttribute("aria-current", "true");
  now.classList.add("is-current");
  if (Date.now() - scrolledByHandAt > MANUAL_SCROLL_PAUSE_MS) {
    centre(now, smooth);
  }
}

// Scrolls the panel body (its own scroll box), never the page: scrollIntoView would move the page too.
function centre(line, smooth) {
  const box = root.getBoundingClientRect();
  const place = line.getBoundingClientRect();
  const top = root.scrollTop + (place.top - box.top) - (root.clientHeight - place.height) / 2;
  root.scrollTo({ top: Math.max(0, top), behavior: smooth && !reducedMotion.matches ? "smooth" : "auto" });
}

function onClick(event) {
  const button = event.target.closest?.(".lyrics-line");
  if (!button || !root.contains(button)) {
    return;
  }
  const ms = Number(button.dataset.ms);
  window.syroPlayer.seek(ms / 1000);
  // Marked at once; the seek's own timeupdate confirms it.
  follow(ms / 1000);
}

function start() {
  if (!root || !panel) {
    return;
  }
  // player.js focuses the panel body on opening: it must be focusable, by script only.
  root.tabIndex = -1;
  root.addEventListener("click", onClick);
  for (const name of ["wheel", "touchmove"]) {
    root.addEventListener(name, () => {
      scrolledByHandAt = Date.now();
    }, { passive: true });
  }
  document.addEventListener("syro:panel", (event) => {
    if (event.detail.name !== "lyrics") {
      return;
    }
    open = event.detail.open;
    if (open) {
      render();
    }
  });
  document.addEventListener("syro:trackchange", () => {
    if (open) {
      render();
    } else {
      shownKey = null;
    }
  });
  document.addEventListener("syro:details", () => {
    if (open) {
      render();
    } else {
      shownKey = null;
    }
  });
  document.addEventListener("syro:timeupdate", (event) => {
    if (open) {
      follow(event.detail.currentTime);
    }
  });
  // The panel may have been opened (a setting kept from the last visit) before this module ran.
  open = !panel.hidden;
  if (open) {
    render();
  } else {
    show(status("Nothing playing."));
  }
}

if (window.syroPlayer) {
  start();
} else {
  document.addEventListener("syro:ready", start, { once: true });
}
