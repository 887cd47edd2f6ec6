// Save for offline: an album's, a playlist's or the liked songs' audio and covers, kept in this browser so they
// play (and seek) without a network. The service worker answers from that copy (sw-saved.js).
//
// - The files go in the Cache Storage cache `syro-saved-<listener>` ("anon" for a visitor), under their own
//   URLs; so does the collection's track list (/player/tracks/?album=ID…), which the player asks for offline.
//   Audio and cover URLs are content-addressed: a URL already stored is never downloaded again.
// - What is saved is listed in IndexedDB (database `syro`, store `saved`), one record per collection:
//   {key: "album:12", listener, title, url, tracksUrl, tracks: [{id, audio, cover, artwork}], bytes, savedAt}.
// - The server's rules apply: the track list and the files come through the same requests as streaming, and
//   a 403 or 404 is shown, never worked around.
// - On each online visit every saved collection asks for its track list again: new files are downloaded, the
//   ones no longer used deleted, and a collection the listener may no longer see is removed.
// - Logging out forgets the listener's saved music (the worker does it: sw-saved.js forget()).
//
// The buttons (syromusic/_save_offline.html) and the Saved page's list (syromusic/_saved_list.html) are
// hidden without JavaScript, and where the browser cannot keep files (a plain-http site: no Cache Storage).

const DB_NAME = "syro";
const DB_VERSION = 1;
// As sw-saved.js and offline-store.js: each opener creates every store of the database.
const STORES = { saved: "key", listens: "client_id" };
const PERSIST_ASKED_KEY = "syro:storage-persist-asked";
const CACHE_PREFIX = "syro-saved-";

let listener = null; // user pk, "" for a visitor; null until the page says
let database = null;
// Downloads under way, by collection key, whichever page is shown: {key, tracksUrl, tracks, done, total}.
const jobs = new Map();
// What the buttons last said of a collection no longer saved, by key: why saving failed, or that it was removed.
const notes = new Map();
let refreshing = null;

const supported = () => window.isSecureContext && "caches" in window && "indexedDB" in window;
const cacheName = () => `${CACHE_PREFIX}${listener || "anon"}`;

// IndexedDB, in promises.

function openDatabase() {
  database ||= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      for (const [name, keyPath] of Object.entries(STORES)) {
        if (!request.result.objectStoreNames.contains(name)) {
          request.result.createObjectStore(name, { keyPath });
        }
      }
    };
    request.onsuccess = () => {
      // Another tab's newer version of this code wants the database: let it.
      request.result.onversionchange = () => {
        request.result.close();
        database = null;
      };
      resolve(request.result);
    };
    request.onerror = () => reject(request.error);
  });
  return database.catch((error) => {
    database = null;
    throw error;
  });
}

async function inStore(mode, work) {
  const db = await openDatabase();
  return new Promise((resolve, reject) => {
    const transaction = db.transaction("saved", mode);
    const request = work(transaction.objectStore("saved"));
    transaction.oncomplete = () => resolve(request?.result);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}

// This listener's saved collections, the latest saved first.
async function records() {
  const all = await inStore("readonly", (store) => store.getAll());
  return all.filter((record) => record.listener === listener).sort((a, b) => b.savedAt.localeCompare(a.savedAt));
}

const record = async (key) => {
  const found = await inStore("readonly", (store) => store.get(key));
  return found && found.listener === listener ? found : null;
};
const putRecord = (value) => inStore("readwrite", (store) => store.put(value));
// Changes a record only if it is still there: a collection removed while it was being refreshed stays removed.
const updateRecord = (key, change) => inStore("readwrite", (store) => {
  const request = store.get(key);
  request.onsuccess = () => {
    if (request.result) {
      store.put(change(request.result));
    }
  };
  return request;
});
const deleteRecord = (key) => inStore("readwrite", (store) => store.delete(key));

// Words and figures.

function megabytes(bytes) {
  if (bytes >= 1e9) {
    return `${(bytes / 1e9).toFixed(1)} GB`;
  }
  return `${(bytes / 1e6).toFixed(bytes >= 1e7 ? 0 : 1)} MB`;
}

const songs = (count) => `${count} song${count === 1 ? "" : "s"}`;

async function storageLine() {
  if (!navigator.storage?.estimate) {
    return "";
  }
  const { usage = 0, quota = 0 } = await navigator.storage.estimate();
  return quota ? `This site uses ${megabytes(usage)} of the ${megabytes(quota)} this browser allows it.` : "";
}

function emit() {
  document.dispatchEvent(new CustomEvent("syro:saved"));
}

// Downloading.

// The URLs a saved collection keeps: its track list, its songs' audio, their covers.
function urlsOf(item) {
  const urls = new Set([absolute(item.tracksUrl)]);
  for (const entry of item.tracks) {
    for (const url of [entry.audio, entry.cover, entry.artwork]) {
      if (url) {
        urls.add(absolute(url));
      }
    }
  }
  return urls;
}

const absolute = (url) => new URL(url, location.href).href;

// An Error saying what the server answered instead (its status, and its words when it gave some).
async function problem(response) {
  const text = await response.text().catch(() => "");
  let detail;
  try {
    detail = JSON.parse(text).detail || "";
  } catch {
    detail = text.slice(0, 200);
  }
  const error = new Error(`The server answered ${response.status}.${detail ? ` ${detail}` : ""}`);
  error.status = response.status;
  return error;
}

// The track list, as the server gives it to this listener now (an Error with its status and words if not).
async function fetchTracks(tracksUrl) {
  const response = await fetch(tracksUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) {
    throw await problem(response);
  }
  const text = await response.text();
  const full = JSON.parse(text).tracks;
  const list = full.map((entry) => ({ id: entry.id, audio: entry.audio, cover: entry.cover, artwork: entry.artwork }));
  // An album's title comes with its songs: a renamed album is renamed in the list of saved music too.
  return { text, tracks: list, album: full[0]?.album };
}

// One file into the cache, unless it is there already; its size in bytes.
async function keep(cache, url, { required }) {
  const stored = await cache.match(url, { ignoreVary: true });
  if (stored) {
    return (await stored.blob()).size;
  }
  const response = await fetch(url, { credentials: "same-origin" });
  // A whole file only: the worker cuts ranges from it.
  if (response.status !== 200) {
    if (required) {
      throw await problem(response);
    }
    return 0;
  }
  await cache.put(url, response.clone());
  return (await response.blob()).size;
}

// Downloads what the collection's tracks need, song after song, and stores the track list last.
async function download(job, tracksUrl, text) {
  const cache = await caches.open(cacheName());
  const playable = job.tracks.filter((entry) => entry.audio);
  job.total = playable.length;
  job.done = 0;
  update(job.key);
  let bytes = 0;
  const covers = new Set();
  for (const entry of playable) {
    bytes += await keep(cache, absolute(entry.audio), { required: true });
    for (const url of [entry.cover, entry.artwork]) {
      if (url && !covers.has(url)) {
        covers.add(url);
        bytes += await keep(cache, absolute(url), { required: false });
      }
    }
    job.done += 1;
    update(job.key);
  }
  await cache.put(absolute(tracksUrl), new Response(text, { headers: { "Content-Type": "application/json" } }));
  return bytes + text.length;
}

function askPersistence() {
  try {
    if (localStorage.getItem(PERSIST_ASKED_KEY) || !navigator.storage?.persist) {
      return;
    }
    localStorage.setItem(PERSIST_ASKED_KEY, "1");
  } catch {
    return;
  }
  // Asked once: the browser may keep saved music when space runs short (or decide by itself, as Chromium does).
  navigator.storage.persist().catch(() => {});
}

function save(widget) {
  const key = widget.dataset.saveOffline;
  if (jobs.has(key)) {
    return jobs.get(key).promise;
  }
  askPersistence();
  const { tracksUrl, title, url } = widget.dataset;
  const job = { key, tracksUrl, tracks: [], done: 0, total: 0 };
  const who = listener;
  notes.delete(key);
  job.promise = (async () => {
    const { text, tracks } = await fetchTracks(tracksUrl);
    job.tracks = tracks;
    const bytes = await download(job, tracksUrl, text);
    if (who !== listener) {
      return; // logged out meanwhile: what was stored goes with the listener's cache
    }
    const now = new Date().toISOString();
    await putRecord({ key, listener, title, url, tracksUrl, tracks, bytes, savedAt: now, checkedAt: now });
  })().catch((error) => {
    // Never worked around: a 403 or 404 is the server's rule, shown as it is.
    notes.set(key, `Could not save for offline. ${error.status ? error.message : "The network failed."}`);
  }).finally(() => {
    jobs.delete(key);
    update(key);
    emit();
  });
  jobs.set(key, job);
  update(key);
  return job.promise;
}

// Deletes from the cache every file no saved collection (nor a download under way) uses.
async function sweep() {
  const used = new Set();
  for (const item of await records()) {
    urlsOf(item).forEach((url) => used.add(url));
  }
  for (const job of jobs.values()) {
    urlsOf(job).forEach((url) => used.add(url));
  }
  const cache = await caches.open(cacheName());
  for (const request of await cache.keys()) {
    if (!used.has(request.url)) {
      await cache.delete(request);
    }
  }
}

async function remove(key) {
  notes.set(key, "Removed from this browser.");
  await deleteRecord(key);
  await sweep();
  update(key);
  emit();
}

// Each saved collection as the server has it now: new files in, unused ones out, lost ones removed.
async function refreshOne(item) {
  let answer;
  try {
    answer = await fetchTracks(item.tracksUrl);
  } catch (error) {
    if (error.status === 404 || error.status === 403) {
      // Gone, or no longer this listener's to hear (a playlist made private): the copy goes too.
      await deleteRecord(item.key);
    }
    return;
  }
  const job = { key: item.key, tracksUrl: item.tracksUrl, tracks: answer.tracks, done: 0, total: 0, refreshing: true };
  jobs.set(item.key, job);
  try {
    const bytes = await download(job, item.tracksUrl, answer.text);
    const title = item.key.startsWith("album:") && answer.album ? answer.album : item.title;
    const checkedAt = new Date().toISOString();
    await updateRecord(item.key, (now) => ({ ...now, title, tracks: answer.tracks, bytes, checkedAt }));
  } finally {
    jobs.delete(item.key);
  }
}

function refresh() {
  if (!supported() || listener === null || !navigator.onLine) {
    return Promise.resolve();
  }
  refreshing ||= (async () => {
    try {
      const who = listener;
      for (const item of await records()) {
        if (who !== listener) {
          return;
        }
        await refreshOne(item).catch(() => {}); // offline again, or storage refused: next visit
      }
      await sweep();
    } finally {
      refreshing = null;
      document.querySelectorAll("[data-save-offline]").forEach((widget) => update(widget.dataset.saveOffline));
      emit();
    }
  })();
  return refreshing;
}

// The buttons.

function parts(widget) {
  const get = (name) => widget.querySelector(`[data-save="${name}"]`);
  return {
    save: get("save"), saved: get("saved"), remove: get("remove"), progress: get("progress"), status: get("status"),
  };
}

async function update(key) {
  for (const widget of document.querySelectorAll(`[data-save-offline="${CSS.escape(key)}"]`)) {
    await show(widget);
  }
}

async function show(widget) {
  const key = widget.dataset.saveOffline;
  const part = parts(widget);
  const job = jobs.get(key);
  const busy = Boolean(job && !job.refreshing);
  const saved = busy ? null : await record(key).catch(() => null);
  part.save.hidden = Boolean(saved) || busy;
  part.save.disabled = busy;
  part.saved.hidden = !saved;
  part.remove.hidden = !saved;
  part.progress.hidden = !busy;
  if (busy) {
    part.progress.max = job.total || 1;
    part.progress.value = job.done;
    part.status.textContent = job.total
      ? `Saving for offline: ${job.done} of ${songs(job.total)}`
      : "Saving for offline…";
  } else if (saved) {
    const count = saved.tracks.filter((entry) => entry.audio).length;
    part.status.textContent = `${songs(count)}, ${megabytes(saved.bytes)}. ${await storageLine()}`.trim();
  } else {
    part.status.textContent = notes.get(key) || "";
  }
}

async function onClick(event) {
  const button = event.target.closest?.("[data-save], [data-saved-remove]");
  if (!button || !button.closest("#page")) {
    return;
  }
  if (button.dataset.savedRemove) {
    await remove(button.dataset.savedRemove);
    return;
  }
  const widget = button.closest("[data-save-offline]");
  if (button.dataset.save === "save") {
    save(widget);
  } else if (button.dataset.save === "remove") {
    await remove(widget.dataset.saveOffline);
  }
}

// The Saved page's list (and the offline page's).

function item(saved) {
  const li = document.createElement("li");
  li.dataset.savedKey = saved.key;
  const link = document.createElement("a");
  link.href = saved.url;
  link.textContent = saved.title;
  const count = saved.tracks.filter((entry) => entry.audio).length;
  const meta = document.createElement("span");
  meta.className = "meta";
  const day = new Date(saved.savedAt).toLocaleDateString();
  meta.textContent = ` ${songs(count)}, ${megabytes(saved.bytes)}, saved ${day} `;
  const play = document.createElement("button");
  play.type = "button";
  play.className = "button";
  play.dataset.playContext = saved.tracksUrl;
  play.textContent = "Play";
  play.setAttribute("aria-label", `Play ${saved.title}`);
  const drop = document.createElement("button");
  drop.type = "button";
  drop.className = "button";
  drop.dataset.savedRemove = saved.key;
  drop.textContent = "Remove";
  drop.setAttribute("aria-label", `Remove ${saved.title} from this browser`);
  li.append(link, meta, play, " ", drop);
  return li;
}

async function showList(section) {
  const list = section.querySelector('[data-saved="items"]');
  const empty = section.querySelector('[data-saved="empty"]');
  const summary = section.querySelector('[data-saved="summary"]');
  section.querySelector('[data-saved="unsupported"]').hidden = supported();
  if (!supported() || listener === null) {
    return;
  }
  let saved = [];
  try {
    saved = await records();
  } catch {
    saved = [];
  }
  list.replaceChildren(...saved.map(item));
  empty.hidden = saved.length > 0;
  const total = saved.reduce((sum, one) => sum + (one.bytes || 0), 0);
  summary.textContent = saved.length
    ? `${saved.length} saved, ${megabytes(total)}. ${await storageLine()}`.trim()
    : await storageLine();
  summary.hidden = !summary.textContent;
}

function showAll() {
  document.querySelectorAll("#page [data-saved-list]").forEach(showList);
}

// Each page.

function readListener() {
  const who = document.getElementById("page-state")?.dataset.listener;
  if (who === undefined || who === listener) {
    return false;
  }
  listener = who;
  return true;
}

function onLoad(event) {
  const scope = event?.detail?.elt || document;
  const changed = readListener();
  if (supported()) {
    for (const widget of scope.querySelectorAll?.("[data-save-offline]") || []) {
      widget.hidden = false;
      show(widget);
    }
  }
  if (scope.querySelector?.("[data-saved-list]") || scope.matches?.("[data-saved-list]")) {
    showAll();
  }
  if (changed) {
    refresh();
  }
}

function start() {
  document.addEventListener("click", onClick);
  document.addEventListener("htmx:load", onLoad);
  document.addEventListener("syro:saved", showAll);
  window.addEventListener("online", () => refresh());
  onLoad();
  window.syroSaved = {
    save: (key) => save(document.querySelector(`[data-save-offline="${CSS.escape(key)}"]`)),
    remove,
    refresh,
    records: () => records(),
    get busy() {
      return jobs.size > 0 || refreshing !== null;
    },
  };
}

start();
