// What the listener heard, reported to their history (POST /api/v1/me/listens/). Logged-in listeners only.
//
// Each start of a song is a "play session": its own id (made here, so the server can tell a retried batch
// from a new one), the song, when it began to play, and the media time really played, summed from the
// audio element's timeupdate steps. A seek adds nothing (the step across it is skipped), a pause adds
// nothing (the media time stands still), and a faster playbackRate does not add more than the music played.
// Whether a listen counts is the server's rule (SyroMusic/listening/counts.py), not decided here.
//
// A session ends when its song ends, another entry plays, the queue is cleared, the listener logs out or
// leaves the page. It then waits in IndexedDB (offline-store.js) until the server has answered 2xx, so a
// reload, a lost network or a closed tab loses nothing; a repeat is harmless (the server dedups by id).
// It talks to player.js only through window.syroPlayer and the syro:* events, like the panels.

const ENDPOINT = "/api/v1/me/listens/";
const CLIENT = "SyroMusic web";
const BATCH = 100; // the endpoint's limit per request
// Under a second heard is a click-through (a skip straight past the song, a double-click on a row): an
// event not worth storing, so it is dropped here and never sent.
const MIN_HEARD_MS = 1000;
// Between two timeupdate events (every 15-250 ms) the media time moves a little; more than this (at
// playbackRate 1) is a jump the seeking events did not show, and is not counted.
const MAX_STEP_S = 2;
// A jump back to the first second of the song playing, from past it, is the song starting again
// ("previous" after 3 s, the seek bar at 0): a new listen.
const RESTART_S = 1;
const MAX_PENDING = 10000; // months offline: the oldest go first rather than filling the storage
// A listen that ends goes a moment later, not at once: songs skipped in a row go in one request, and the
// player's own save of the queue (at a pause, and a second after a change) does not meet a second writer.
const FLUSH_DELAY_MS = 2000;
const RETRY_FIRST_MS = 5000;
const RETRY_MAX_MS = 5 * 60 * 1000;
const KEEPALIVE_BYTES = 60000; // browsers allow 64 KiB of keepalive bodies in flight per page
const OWNER_KEY = "syro:listens-listener"; // whose events this browser last kept

let listener = null; // user pk, "" when anonymous; null until the page says
let leaving = false; // logging out: the session ends with that request
let session = null; // {client_id, song, key, started_at, heard (s), element}
let last = null; // the media time at the last step counted; null after a seek
let seekFrom = null; // where the song was when a seek began
let flushing = null;
let queued = null;
// Client ids on their way with keepalive: pagehide, then visibilitychange, must not send them twice. (An
// ordinary request is cancelled when the page goes, so what it carries goes again with keepalive.)
const inFlight = new Set();
let retries = 0;
let retryTimer = null;
let soonTimer = null;

const player = () => window.syroPlayer;

// The pending events' store: IndexedDB, through offline-store.js (a copy in memory, read and written at once).
function readPending(who) {
  return window.syroOfflineStore.pending(who);
}

function writePending(who, list) {
  window.syroOfflineStore.write(who, list.slice(-MAX_PENDING));
}

const unsent = (who) => readPending(who).filter((item) => !inFlight.has(item.client_id));

function dropPending(who, clientIds) {
  const gone = new Set(clientIds);
  writePending(who, readPending(who).filter((item) => !gone.has(item.client_id)));
}

function uuid() {
  if (crypto.randomUUID) {
    return crypto.randomUUID();
  }
  // randomUUID exists in secure contexts only (https, localhost): a plain-http site gets a version 4 UUID too.
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// As player.js: the page's form token (the CSRF cookie is HttpOnly).
function csrfToken() {
  return document.querySelector('#page input[name="csrfmiddlewaretoken"]')?.value || "";
}

// Sessions.

function startSession(element) {
  const entry = player()?.track;
  if (!listener || leaving || !entry?.id || element !== player().audio || element.paused) {
    return;
  }
  session = { client_id: uuid(), song: entry.id, key: entry.key, started_at: new Date().toISOString(), heard: 0, element };
  last = element.seeking ? null : element.currentTime;
  seekFrom = null;
}

// Adds the media time played since the last step.
function step(element) {
  if (!session || session.element !== element || element.seeking) {
    return;
  }
  const now = element.currentTime;
  if (last !== null) {
    const delta = now - last;
    if (delta > 0 && delta <= MAX_STEP_S * (element.playbackRate || 1)) {
      session.heard += delta;
    }
  }
  last = now;
}

// The session so far as the server takes it.
function figures(ended) {
  return {
    client_id: ended.client_id,
    song: ended.song,
    started_at: ended.started_at,
    heard_ms: Math.round(ended.heard * 1000),
    client: CLIENT,
  };
}

// Ends the session: what was heard since the last timeupdate is added, and the event waits to be sent.
function endSession({ keep = true } = {}) {
  if (!session) {
    return false;
  }
  step(session.element);
  const ended = figures(session);
  session = null;
  last = null;
  seekFrom = null;
  if (!keep || !listener || ended.heard_ms < MIN_HEARD_MS) {
    return false;
  }
  writePending(listener, [...readPending(listener), ended]);
  return true;
}

function onTimeUpdate(event) {
  const element = event.target;
  if (!session && !element.paused) {
    // Playing without a session: logged in while listening, or back from the browser's page cache.
    startSession(element);
    return;
  }
  step(element);
}

function onPlaying(event) {
  const element = event.target;
  if (session && session.element === element && session.key === player().track?.key) {
    return; // resumed after a pause or a stall: the same listen goes on
  }
  if (endSession()) {
    flushSoon();
  }
  startSession(element);
}

function onSeeking(event) {
  if (session && session.element === event.target) {
    seekFrom = last;
    last = null;
  }
}

function onSeeked(event) {
  const element = event.target;
  if (!session || session.element !== element) {
    return;
  }
  const from = seekFrom;
  seekFrom = null;
  last = element.currentTime;
  if (from !== null && from > RESTART_S && element.currentTime < RESTART_S && session.heard * 1000 >= MIN_HEARD_MS) {
    // The song starts again (repeat one restarts through 'ended'; this is "previous" or the seek bar).
    if (endSession()) {
      flushSoon();
    }
    startSession(element);
  }
}

function onEnded(event) {
  if (session && session.element === event.target && endSession()) {
    flushSoon();
  }
}

function onTrackChange(event) {
  // Another entry of the queue (next, previous, a row's play, the queue cleared: track null).
  if (session && event.detail.track?.key !== session.key && endSession()) {
    flushSoon();
  }
}

// Sending.

// What in a 400 answer points at items (the API's problem JSON: {"errors": {"listens": {"3": {...}}}}):
// their client ids; else the whole batch.
async function refused(response, batch) {
  let errors = null;
  try {
    errors = await response.json();
  } catch {
    errors = null;
  }
  const items = (errors?.errors || errors)?.listens;
  if (items && typeof items === "object" && !Array.isArray(items)) {
    const bad = Object.keys(items).map((at) => batch[Number(at)]).filter(Boolean);
    if (bad.length) {
      console.warn("Listens refused by the server, dropped:", bad, items);
      return bad.map((item) => item.client_id);
    }
  }
  // Sent again it would be refused again: drop it rather than loop.
  console.warn("A batch of listens refused by the server, dropped:", batch, errors);
  return batch.map((item) => item.client_id);
}

// One POST. "sent": the server has them (recorded, duplicates or skipped alike); "dropped": some refused,
// the rest still pending; "retry": try again later (offline, throttled, server trouble, signed out).
async function post(who, batch, { keepalive = false } = {}) {
  const token = csrfToken();
  if (!token) {
    return { outcome: "retry" };
  }
  const ids = keepalive ? batch.map((item) => item.client_id) : [];
  ids.forEach((id) => inFlight.add(id));
  try {
    return await answered(who, batch, await fetch(ENDPOINT, {
      method: "POST",
      body: JSON.stringify({ listens: batch }),
      keepalive,
      credentials: "same-origin",
      signal: keepalive ? undefined : AbortSignal.timeout(15000),
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
    }));
  } catch {
    return { outcome: "retry" };
  } finally {
    ids.forEach((id) => inFlight.delete(id));
  }
}

async function answered(who, batch, response) {
  if (response.ok) {
    dropPending(who, batch.map((item) => item.client_id));
    return { outcome: "sent" };
  }
  if (response.status === 400) {
    dropPending(who, await refused(response, batch));
    return { outcome: "dropped" };
  }
  return { outcome: "retry", after: Number(response.headers.get("Retry-After")) * 1000 || 0 };
}

function retryLater(after = 0) {
  clearTimeout(retryTimer);
  const delay = Math.max(after, Math.min(RETRY_FIRST_MS * 2 ** retries, RETRY_MAX_MS));
  retries += 1;
  retryTimer = setTimeout(() => flush(), delay);
}

function succeeded() {
  retries = 0;
  clearTimeout(retryTimer);
}

async function sendPending() {
  const who = listener;
  // Each round sends the oldest batch; a batch refused in part leaves the rest to the next round.
  for (let rounds = 0; rounds < 50 && who && who === listener && !leaving; rounds += 1) {
    const batch = unsent(who).slice(0, BATCH);
    if (!batch.length) {
      succeeded();
      return;
    }
    const answer = await post(who, batch);
    if (answer.outcome === "retry") {
      retryLater(answer.after);
      return;
    }
  }
}

// The page is going: batches go at once (keepalive), within what the browser lets outlive the page.
function sendNow() {
  const who = listener;
  if (!who || leaving) {
    return Promise.resolve();
  }
  const pending = unsent(who);
  const sending = [];
  let bytes = 0;
  for (let start = 0; start < pending.length; start += BATCH) {
    const batch = pending.slice(start, start + BATCH);
    bytes += JSON.stringify(batch).length + 20;
    if (bytes > KEEPALIVE_BYTES) {
      break; // the rest goes from the next page
    }
    sending.push(post(who, batch, { keepalive: true }));
  }
  return Promise.all(sending).then((answers) => {
    const retry = answers.find((answer) => answer.outcome === "retry");
    if (retry) {
      retryLater(retry.after); // the page stayed after all (a hidden tab, a logout that failed)
    }
  });
}

function flushSoon() {
  soonTimer ??= setTimeout(() => {
    soonTimer = null;
    flush();
  }, FLUSH_DELAY_MS);
}

// One flush at a time (a flush asked for meanwhile follows it once); keepalive ones go at once.
function flush({ keepalive = false } = {}) {
  if (keepalive) {
    return sendNow();
  }
  if (!flushing) {
    flushing = sendPending().finally(() => {
      flushing = null;
    });
    return flushing;
  }
  queued ||= flushing.then(() => {
    queued = null;
    return flush();
  });
  return queued;
}

// Who is listening: the page says (#page-state); it changes when they log in or out.
function readListener() {
  const who = document.getElementById("page-state")?.dataset.listener;
  if (who === undefined) {
    return;
  }
  if (who === listener) {
    leaving = false;
    return;
  }
  // Another listener, or none: the previous one's session and unsent events leave this browser (they were
  // sent before the logout if the server answered in time); they are never sent as someone else.
  endSession({ keep: false });
  try {
    const owner = localStorage.getItem(OWNER_KEY);
    if (owner && owner !== who) {
      writePending(owner, []);
    }
    if (who) {
      localStorage.setItem(OWNER_KEY, who);
    } else {
      localStorage.removeItem(OWNER_KEY);
    }
  } catch {
    // No storage: nothing was kept.
  }
  listener = who;
  leaving = false;
  retries = 0;
  clearTimeout(retryTimer);
  if (listener) {
    flush(); // left from the last visit
  }
}

// Logging out (player.js waits for this, within its limit): the last events go while the session lasts,
// after the queue's last save (one write at a time: SQLite refuses two at once).
function onLogout(event) {
  if (!listener) {
    return;
  }
  endSession();
  const sent = event.detail.queueSaved.then(() => flush({ keepalive: true }));
  event.detail.waitUntil(sent.finally(() => {
    leaving = true;
  }));
}

function start() {
  for (const element of player().elements) {
    element.addEventListener("timeupdate", onTimeUpdate);
    element.addEventListener("playing", onPlaying);
    element.addEventListener("seeking", onSeeking);
    element.addEventListener("seeked", onSeeked);
    element.addEventListener("ended", onEnded);
  }
  document.addEventListener("syro:trackchange", onTrackChange);
  document.addEventListener("syro:logout", onLogout);
  document.addEventListener("htmx:afterSettle", readListener);
  document.addEventListener("htmx:historyRestore", readListener);
  window.addEventListener("online", () => flush());
  window.addEventListener("pageshow", readListener);
  window.addEventListener("pagehide", () => {
    endSession();
    flush({ keepalive: true });
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") {
      flush({ keepalive: true });
    }
  });
  readListener();
  window.syroListens = {
    pending: () => (listener ? readPending(listener) : []),
    flush: () => flush(),
    current: () => (session ? figures(session) : null),
  };
}

// The pending events are read from IndexedDB first (offline-store.js, loaded before this module).
const begin = () => window.syroOfflineStore.ready.then(start);
if (window.syroPlayer) {
  begin();
} else {
  document.addEventListener("syro:ready", begin, { once: true });
}
