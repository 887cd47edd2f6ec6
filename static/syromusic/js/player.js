// The player. Its two <audio> elements live here, in script, and its bar outside #page, which is all that
// htmx swaps when the listener navigates: the music never stops while they browse. One element plays, the
// other loads the next song, and they swap roles at each change, so the gap between songs is short.
//
// The queue is kept in localStorage (it survives a reload), per listener; a logged-in listener's also on
// the server (PUT /api/v1/me/queue/), so it resumes in another browser. The last write wins.
// Other modules (queue, lyrics, visualizer panels) use window.syroPlayer and the syro:* events.

document.documentElement.classList.add("js");

const MAX_SONGS = 1000; // PlayQueue.MAX_SONGS
const PRELOAD_AFTER_S = 1; // start loading the next song once this one has played this long
const SEEK_STEP_S = 5;
const VOLUME_STEP = 0.1;
const RESTART_AFTER_S = 3; // "previous" past this point restarts the song instead
const SAVE_POSITION_EVERY_MS = 2000; // to localStorage
const PUSH_POSITION_EVERY_MS = 30000; // to the server, while playing
const PUSH_DELAY_MS = 1000; // after a change of the queue, to the server
const PUSH_RETRY_MS = 5000; // after the server answered it could not take it now
const SETTINGS_KEY = "syro:player-settings";
const PANELS = ["queue", "lyrics", "visualizer"];

const root = document.getElementById("player");
const part = (name) => root?.querySelector(`[data-player="${name}"]`);

const elements = [new Audio(), new Audio()];
for (const element of elements) {
  element.preload = "auto";
}
let active = 0; // the index in `elements` of the one playing now
let entryKeys = 0; // a queue entry's identity: the same song may be queued twice
let tracks = []; // [{key, ...TRACK}]
let index = -1;
let shuffle = false;
let unshuffled = null; // entry keys in the order before shuffling, to go back to
let repeat = "off"; // off | all | one
let details = null;
let detailsRequest = null;
let listener = null; // user pk ("" anonymous), known once the page says so
let loginURL = "/accounts/login/";
let mayListen = false;
let dataSaver = false; // the listener's Profile.data_saver, as the page says
let dirty = false; // a change not yet on the server
let syncedAt = null; // the server's updated_at we last read or wrote
let pushTimer = null;
let lastLocalSave = 0;
let lastPush = 0;
let pendingPosition = null; // seconds to seek to once the current song's metadata is in
let leaving = false; // logging out
let changes = 0; // counts the listener's changes: an answer that comes back after one is out of date
let failures = 0; // songs that failed to play in a row: all of them failing must not loop for ever
const OWNER_KEY = "syro:player-listener"; // whose queue this browser last kept
const settings = loadSettings();

// What each file's extension is, for canPlayType. A file this browser cannot play (Ogg or FLAC in some,
// ALAC in most) is played as a copy the server makes; with the data saver on, every song is.
const FILE_TYPES = {
  mp3: "audio/mpeg",
  flac: "audio/flac",
  ogg: 'audio/ogg; codecs="vorbis"',
  opus: 'audio/ogg; codecs="opus"',
  m4a: "audio/mp4",
  wav: "audio/wav",
};
// The song file's URL, /audio/<id>/<hash>.<ext>, and its copies' (views/media.py audio_transcoded).
const FILE_URL = /^(\/audio\/[0-9]+\/[0-9a-f]{16})\.([a-z0-9]+)$/;
const DATA_SAVER_KBPS = 96;
const COPY_KBPS = { opus: 128, mp3: 192 }; // for a format the browser cannot play, data saver off

const current = () => elements[active];
const standby = () => elements[1 - active];
const track = () => (index >= 0 ? tracks[index] : null);
const storageKey = () => `syro:player:${listener || "anonymous"}`;

function emit(name, detail) {
  document.dispatchEvent(new CustomEvent(`syro:${name}`, { detail }));
}

function clock(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) {
    seconds = 0;
  }
  const whole = Math.floor(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = String(whole % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${rest}` : `${minutes}:${rest}`;
}

function announce(text) {
  // Outside #player: a hidden player would silence it.
  const region = document.querySelector('[data-player="announce"]');
  if (!region) {
    return;
  }
  // Emptied first, so the same words said twice are announced twice.
  region.textContent = "";
  requestAnimationFrame(() => {
    region.textContent = text;
  });
}

function loadSettings() {
  const defaults = { volume: 1, muted: false, minimized: false, panel: null };
  try {
    return { ...defaults, ...JSON.parse(localStorage.getItem(SETTINGS_KEY) || "{}") };
  } catch {
    return defaults;
  }
}

function saveSettings() {
  try {
    localStorage.setItem(SETTINGS_KEY, JSON.stringify(settings));
  } catch {
    // Storage full or refused: the settings last for this page only.
  }
}

function csrfToken() {
  return document.querySelector('#page input[name="csrfmiddlewaretoken"]')?.value || "";
}

async function getJSON(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) {
    throw new Error(`${response.status} ${response.statusText}`.trim());
  }
  return response.json();
}

function tracksURL(ids) {
  return `/player/tracks/?ids=${ids.join(",")}`;
}

async function fetchTracks(ids) {
  const found = [];
  for (let start = 0; start < ids.length; start += MAX_SONGS) {
    const answer = await getJSON(tracksURL(ids.slice(start, start + MAX_SONGS)));
    found.push(...answer.tracks);
  }
  return found;
}

// Persistence: the browser, then the server.

function snapshot() {
  return {
    tracks: tracks.map(({ key, ...rest }) => rest),
    index,
    position: current().src ? current().currentTime : pendingPosition || 0,
    shuffle,
    unshuffled: unshuffled && unshuffled.map((key) => tracks.findIndex((entry) => entry.key === key)),
    repeat,
    dirty,
    syncedAt,
  };
}

function saveLocal() {
  lastLocalSave = Date.now();
  if (listener === null) {
    return;
  }
  try {
    localStorage.setItem(storageKey(), JSON.stringify(snapshot()));
  } catch {
    // A full storage keeps the queue for this page only.
  }
}

function restoreLocal() {
  let saved = null;
  try {
    saved = JSON.parse(localStorage.getItem(storageKey()) || "null");
  } catch {
    saved = null;
  }
  if (!saved || !Array.isArray(saved.tracks)) {
    setQueue([], -1, 0);
    dirty = false;
    syncedAt = null;
    return;
  }
  shuffle = Boolean(saved.shuffle);
  repeat = ["off", "all", "one"].includes(saved.repeat) ? saved.repeat : "off";
  setQueue(saved.tracks, saved.index, saved.position || 0);
  unshuffled = Array.isArray(saved.unshuffled)
    ? saved.unshuffled.map((at) => tracks[at]?.key).filter((key) => key !== undefined)
    : null;
  dirty = Boolean(saved.dirty);
  syncedAt = saved.syncedAt || null;
}

function changed({ push = true } = {}) {
  changes += 1;
  if (push && listener) {
    dirty = true;
    schedulePush(PUSH_DELAY_MS);
  }
  saveLocal();
}

function schedulePush(delay) {
  clearTimeout(pushTimer);
  pushTimer = setTimeout(push, delay);
}

function queueBody() {
  const ids = tracks.map((entry) => entry.id);
  return JSON.stringify({
    songs: ids,
    current: index >= 0 ? index : null,
    position_ms: index >= 0 ? Math.floor((current().src ? current().currentTime : pendingPosition || 0) * 1000) : 0,
  });
}

// One PUT at a time, so that they reach the server in the order they were made (it keeps the last one it
// gets): a push asked for while one is in flight follows it, with the state as it is then. Two at once also
// made SQLite answer 503 ("database table is locked"). Leaving the page (keepalive) cannot wait.
let pushing = null;

function push(options = {}) {
  clearTimeout(pushTimer);
  if (pushing && !options.keepalive) {
    return pushing.then(() => push(options));
  }
  const sending = send(options).finally(() => {
    if (pushing === sending) {
      pushing = null;
    }
  });
  pushing = sending;
  return sending;
}

async function send({ keepalive = false } = {}) {
  clearTimeout(pushTimer);
  if (!listener || leaving) {
    return;
  }
  const token = csrfToken();
  if (!token) {
    return;
  }
  lastPush = Date.now();
  const forListener = listener;
  const generation = changes;
  try {
    const response = await fetch("/api/v1/me/queue/", {
      method: "PUT",
      body: queueBody(),
      keepalive,
      credentials: "same-origin",
      signal: AbortSignal.timeout(15000),
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
    });
    if (response.ok && forListener === listener) {
      const answer = await response.json();
      // A change made while this was on its way is not on the server yet.
      dirty = changes !== generation;
      syncedAt = answer.updated_at;
      saveLocal();
    } else if ((response.status >= 500 || response.status === 429) && !keepalive) {
      // The server is busy or briefly away (back online, several writes meet it at once): again, a little later.
      schedulePush(PUSH_RETRY_MS);
    }
  } catch {
    // Offline or the page is going away: `dirty` stays, the next change or load pushes again.
  }
}

async function pull() {
  if (!listener) {
    return;
  }
  const forListener = listener;
  const generation = changes;
  let answer;
  try {
    answer = await getJSON("/api/v1/me/queue/");
  } catch {
    return;
  }
  if (forListener !== listener) {
    return;
  }
  if (dirty) {
    push();
    return;
  }
  if (answer.updated_at === syncedAt || answer.updated_at === null) {
    return;
  }
  // Another browser wrote since this one last did: take its queue (the last write wins).
  const playing = !current().paused;
  let found;
  try {
    found = await fetchTracks(answer.songs);
  } catch {
    return;
  }
  // The listener chose something meanwhile: theirs is newer, and goes to the server.
  if (forListener !== listener || changes !== generation || (playing && !current().paused && answer.songs.length === 0)) {
    return;
  }
  const byId = new Map(found.map((item) => [item.id, item]));
  // A song deleted since drops out; the current one is found by its place among those that remain.
  const kept = answer.songs.map((id, at) => ({ track: byId.get(id), at })).filter((item) => item.track);
  const currentAt = answer.current === null ? -1 : kept.findIndex((item) => item.at >= answer.current);
  shuffle = false;
  unshuffled = null;
  setQueue(kept.map((item) => item.track), currentAt, (answer.position_ms || 0) / 1000);
  syncedAt = answer.updated_at;
  dirty = false;
  saveLocal();
}

// A queue kept in the browser may be old: songs renamed, a file rescanned (its address holds its hash).
async function refreshTracks() {
  const forListener = listener;
  const generation = changes;
  let found;
  try {
    found = await fetchTracks([...new Set(tracks.map((entry) => entry.id))]);
  } catch {
    return;
  }
  if (forListener !== listener || changes !== generation) {
    return;
  }
  const byId = new Map(found.map((item) => [item.id, item]));
  const now = track();
  const wasAudio = now?.audio;
  const nowKey = now?.key;
  tracks = tracks.filter((entry) => byId.has(entry.id)).map((entry) => ({ ...entry, ...byId.get(entry.id) }));
  index = nowKey === undefined ? -1 : tracks.findIndex((entry) => entry.key === nowKey);
  if (index < 0 && tracks.length && nowKey !== undefined) {
    index = 0;
  }
  if (track() && (track().key !== nowKey || track().audio !== wasAudio) && current().paused) {
    load.lastKey = undefined;
    load({ autoplay: false, position: track().key === nowKey ? api.currentTime : 0 });
  }
  saveLocal();
  queueChanged();
}

// The queue.

function withKeys(list) {
  return list.map((item) => ({ ...item, key: ++entryKeys }));
}

function queueChanged() {
  const copy = tracks.map((entry) => ({ ...entry }));
  emit("queuechange", { tracks: copy, index });
  render();
}

// Replaces the queue without playing: the song at `at` is made current, paused at `position`.
function setQueue(list, at, position) {
  for (const element of elements) {
    element.pause();
  }
  tracks = withKeys(list.slice(0, MAX_SONGS));
  index = tracks.length ? Math.min(Math.max(at ?? 0, 0), tracks.length - 1) : -1;
  unshuffled = null;
  load({ autoplay: false, position });
  queueChanged();
}

function playable(at) {
  return Boolean(tracks[at]?.audio);
}

// The entry after (step 1) or before (step -1) `from` that has audio, following repeat-all; -1 if none.
function neighbour(from, step) {
  for (let tries = 1; tries <= tracks.length; tries += 1) {
    let at = from + step * tries;
    if (at < 0 || at >= tracks.length) {
      if (repeat !== "all") {
        return -1;
      }
      at = ((at % tracks.length) + tracks.length) % tracks.length;
    }
    if (playable(at)) {
      return at;
    }
  }
  return -1;
}

// The URL to play an entry from: its file, or a transcoded copy of it.
function source(entry) {
  const file = new URL(entry.audio, location.href);
  const match = FILE_URL.exec(file.pathname);
  if (!match) {
    return file.href;
  }
  const playable = FILE_TYPES[match[2]] && current().canPlayType(FILE_TYPES[match[2]]) !== "";
  if (playable && !dataSaver) {
    return file.href;
  }
  const format = current().canPlayType(FILE_TYPES.opus) !== "" ? "opus" : "mp3";
  const kbps = dataSaver ? DATA_SAVER_KBPS : COPY_KBPS[format];
  return new URL(`${match[1]}/${kbps}.${format}`, location.href).href;
}

function load({ autoplay, position = 0 }) {
  const entry = track();
  const previousId = load.lastKey;
  load.lastKey = entry?.key;
  if (!entry || !entry.audio) {
    current().removeAttribute("src");
    current().load();
    details = null;
    emit("trackchange", { track: entry ? { ...entry } : null });
    renderTrack();
    return;
  }
  const wanted = source(entry);
  if (standby().src === wanted && standby().src !== current().src && !standby().error) {
    // The next song is already loading: switch to it.
    current().pause();
    active = 1 - active;
  } else if (current().src !== wanted) {
    current().src = wanted;
  }
  const element = current();
  for (const other of elements) {
    if (other !== element) {
      other.pause();
    }
  }
  pendingPosition = position || null;
  if (position && element.readyState >= 1) {
    element.currentTime = position;
    pendingPosition = null;
  } else if (!position && element.currentTime) {
    element.currentTime = 0;
  }
  applyVolume();
  if (autoplay) {
    element.play().catch((error) => playFailed(error, entry));
  }
  if (previousId !== entry.key) {
    loadDetails(entry);
    emit("trackchange", { track: { ...entry } });
    if (autoplay) {
      announce(`Now playing: ${entry.title} by ${entry.artist}`);
    }
  }
  renderTrack();
  updateMediaSession();
}

async function loadDetails(entry) {
  details = null;
  detailsRequest?.abort();
  const request = new AbortController();
  detailsRequest = request;
  try {
    const response = await fetch(`/player/tracks/${entry.id}/`, {
      signal: request.signal, credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (!response.ok) {
      throw new Error(String(response.status));
    }
    const answer = await response.json();
    if (track()?.key !== entry.key) {
      return;
    }
    details = answer;
  } catch (error) {
    if (error.name === "AbortError" || track()?.key !== entry.key) {
      return;
    }
    details = { id: entry.id, lyrics: "", synced_lyrics: null, peaks: [], liked: null };
  }
  emit("details", { track: { ...entry }, details });
  renderTrack();
  drawWave();
}

function playAt(at, { autoplay = true } = {}) {
  if (at < 0 || at >= tracks.length) {
    return;
  }
  index = at;
  load({ autoplay });
  changed();
  queueChanged();
}

function next({ ended = false } = {}) {
  if (index < 0) {
    return;
  }
  if (ended && repeat === "one") {
    current().currentTime = 0;
    current().play().catch(() => {});
    return;
  }
  const at = neighbour(index, 1);
  if (at < 0) {
    if (ended) {
      // The end of the queue: stop at the start of the last song, as a listener expects.
      current().pause();
      current().currentTime = 0;
      announce("The end of the queue.");
      changed();
    }
    return;
  }
  playAt(at);
}

function previous() {
  if (index < 0) {
    return;
  }
  if (current().currentTime > RESTART_AFTER_S) {
    seek(0);
    return;
  }
  const at = neighbour(index, -1);
  if (at < 0) {
    seek(0);
    return;
  }
  playAt(at);
}

function seek(seconds) {
  const element = current();
  if (!element.src) {
    return;
  }
  const duration = Number.isFinite(element.duration) ? element.duration : track()?.duration_ms / 1000 || 0;
  const target = Math.max(0, Math.min(seconds, duration || seconds));
  if (element.readyState >= 1) {
    element.currentTime = target;
  } else {
    pendingPosition = target;
  }
  emitTime();
  saveLocal();
}

function play() {
  if (index < 0) {
    const first = neighbour(-1, 1);
    if (first >= 0) {
      playAt(first);
    }
    return;
  }
  if (!playable(index)) {
    next();
    return;
  }
  const entry = track();
  current().play().catch((error) => playFailed(error, entry));
}

// The browser refused to start (no click yet: autoplay rules), or the file cannot be played.
function playFailed(error, entry) {
  if (error?.name === "NotAllowedError") {
    announce("Press play to start.");
  } else if (error?.name === "NotSupportedError") {
    skipFailed(entry);
  }
}

// `entry` failed: skip to the next playable one, once (the error event and play()'s refusal both say so).
function skipFailed(entry) {
  if (!entry || track()?.key !== entry.key) {
    return;
  }
  failures += 1;
  announce(`“${entry.title}” cannot be played; skipping it.`);
  const at = neighbour(index, 1);
  if (failures < tracks.length && at >= 0 && at !== index) {
    playAt(at);
  } else {
    announce(`“${entry.title}” cannot be played.`);
  }
}

function pause() {
  current().pause();
}

function toggle() {
  if (current().paused) {
    play();
  } else {
    pause();
  }
}

function shuffled(list) {
  const copy = [...list];
  for (let at = copy.length - 1; at > 0; at -= 1) {
    const other = Math.floor(Math.random() * (at + 1));
    [copy[at], copy[other]] = [copy[other], copy[at]];
  }
  return copy;
}

function setShuffle(on) {
  if (on === shuffle) {
    return;
  }
  shuffle = on;
  const now = track();
  if (on) {
    // What has played stays; what comes next is mixed. Turning it off brings back the order.
    unshuffled = tracks.map((entry) => entry.key);
    const upcoming = shuffled(tracks.slice(index + 1));
    tracks = [...tracks.slice(0, index + 1), ...upcoming];
  } else if (unshuffled) {
    const byKey = new Map(tracks.map((entry) => [entry.key, entry]));
    const ordered = unshuffled.map((key) => byKey.get(key)).filter(Boolean);
    const added = tracks.filter((entry) => !unshuffled.includes(entry.key));
    tracks = [...ordered, ...added];
    unshuffled = null;
  }
  index = now ? tracks.findIndex((entry) => entry.key === now.key) : -1;
  preloadNext();
  announce(on ? "Shuffle on" : "Shuffle off");
  changed();
  queueChanged();
}

function setRepeat(mode) {
  repeat = mode;
  preloadNext();
  announce(`Repeat: ${mode}`);
  changed({ push: false });
  render();
}

function playTracks(list, { start = 0, shuffle: mix = false } = {}) {
  const usable = list.slice(0, MAX_SONGS);
  if (!usable.some((item) => item.audio)) {
    announce("Nothing here can be played.");
    return;
  }
  for (const element of elements) {
    element.pause();
  }
  shuffle = false;
  unshuffled = null;
  tracks = withKeys(usable);
  index = Math.min(Math.max(start, 0), tracks.length - 1);
  if (mix) {
    const playables = tracks.map((entry, at) => (entry.audio ? at : -1)).filter((at) => at >= 0);
    index = playables[Math.floor(Math.random() * playables.length)];
    const first = tracks[index];
    const rest = tracks.filter((entry) => entry !== first);
    unshuffled = tracks.map((entry) => entry.key);
    tracks = [first, ...shuffled(rest)];
    index = 0;
    shuffle = true;
  }
  if (!playable(index)) {
    index = neighbour(index, 1);
  }
  load.lastKey = undefined;
  load({ autoplay: true });
  changed();
  queueChanged();
}

function insert(list, at, verb) {
  const room = MAX_SONGS - tracks.length;
  if (room <= 0) {
    announce(`The queue is full (${MAX_SONGS} songs).`);
    return;
  }
  const entries = withKeys(list.slice(0, room));
  tracks.splice(at, 0, ...entries);
  if (unshuffled) {
    unshuffled.push(...entries.map((entry) => entry.key));
  }
  const names = entries.length === 1 ? `“${entries[0].title}”` : `${entries.length} songs`;
  announce(`${names} ${verb}.`);
  if (index < 0) {
    index = neighbour(-1, 1);
    load({ autoplay: true });
  }
  preloadNext();
  changed();
  queueChanged();
}

function playNext(list) {
  insert(list, index + 1, "will play next");
}

function enqueue(list) {
  insert(list, tracks.length, "added to the queue");
}

function move(from, to) {
  if (from === to || from < 0 || to < 0 || from >= tracks.length || to >= tracks.length) {
    return;
  }
  const now = track();
  const [entry] = tracks.splice(from, 1);
  tracks.splice(to, 0, entry);
  index = now ? tracks.indexOf(now) : -1;
  if (unshuffled) {
    unshuffled = tracks.map((item) => item.key);
  }
  preloadNext();
  changed();
  queueChanged();
}

function remove(at) {
  if (at < 0 || at >= tracks.length) {
    return;
  }
  const wasCurrent = at === index;
  const playing = !current().paused;
  const [entry] = tracks.splice(at, 1);
  if (unshuffled) {
    unshuffled = unshuffled.filter((key) => key !== entry.key);
  }
  if (at < index) {
    index -= 1;
  } else if (wasCurrent) {
    if (!tracks.length) {
      index = -1;
    } else {
      index = Math.min(index, tracks.length - 1);
    }
    load({ autoplay: playing });
  }
  preloadNext();
  changed();
  queueChanged();
}

function clear() {
  for (const element of elements) {
    element.pause();
  }
  tracks = [];
  index = -1;
  unshuffled = null;
  load({ autoplay: false });
  announce("The queue is empty.");
  changed();
  queueChanged();
}

function preloadNext() {
  const at = repeat === "one" ? index : neighbour(index, 1);
  const entry = tracks[at];
  const other = standby();
  if (!entry || at === index || (current().paused && current().currentTime === 0)) {
    return;
  }
  const wanted = source(entry);
  if (other.src !== wanted) {
    other.src = wanted;
    other.load();
  }
}

// Volume.

function applyVolume() {
  for (const element of elements) {
    element.volume = settings.volume;
    element.muted = settings.muted;
  }
}

function setVolume(volume) {
  settings.volume = Math.round(Math.max(0, Math.min(1, volume)) * 100) / 100;
  if (settings.volume > 0) {
    settings.muted = false;
  }
  applyVolume();
  saveSettings();
  render();
}

function setMuted(muted) {
  settings.muted = muted;
  applyVolume();
  saveSettings();
  render();
}

// The bar.

function render() {
  if (!root) {
    return;
  }
  root.hidden = !mayListen && !tracks.length;
  root.dataset.minimized = String(settings.minimized);
  const playingNow = !current().paused;
  const play = part("play");
  play.setAttribute("aria-label", playingNow ? "Pause" : "Play");
  play.firstElementChild.textContent = playingNow ? "⏸" : "▶";
  play.disabled = !tracks.some((entry) => entry.audio);
  part("previous").disabled = index < 0;
  part("next").disabled = index < 0 || neighbour(index, 1) < 0;
  part("shuffle").setAttribute("aria-pressed", String(shuffle));
  const repeatButton = part("repeat");
  repeatButton.dataset.repeat = repeat;
  repeatButton.setAttribute("aria-label", `Repeat: ${repeat}`);
  repeatButton.setAttribute("aria-pressed", String(repeat !== "off"));
  repeatButton.firstElementChild.textContent = repeat === "one" ? "🔂" : "🔁";
  const mute = part("mute");
  const silent = settings.muted || settings.volume === 0;
  mute.setAttribute("aria-pressed", String(silent));
  mute.setAttribute("aria-label", silent ? "Unmute" : "Mute");
  mute.firstElementChild.textContent = silent ? "🔇" : "🔊";
  const volume = part("volume");
  volume.value = String(Math.round(settings.volume * 100));
  volume.setAttribute("aria-valuetext", `${Math.round(settings.volume * 100)}%${settings.muted ? ", muted" : ""}`);
  const minimize = part("minimize");
  minimize.setAttribute("aria-expanded", String(!settings.minimized));
  minimize.setAttribute("aria-label", settings.minimized ? "Expand the player" : "Minimize the player");
  minimize.firstElementChild.textContent = settings.minimized ? "▴" : "▾";
  for (const name of PANELS) {
    const open = settings.panel === name && !settings.minimized;
    const panel = document.getElementById(`player-${name}`);
    if (panel.hidden === open) {
      panel.hidden = !open;
      emit("panel", { name, open });
    }
    root.querySelector(`[data-panel-toggle="${name}"]`).setAttribute("aria-expanded", String(open));
  }
  markRows();
}

// A link of the bar pointing elsewhere: a new element, which htmx then boosts (it reads an address once,
// when it first sees a link), so following it swaps #page like any other link and the music goes on.
function relink(name, href, text) {
  const old = part(name);
  if ((old.getAttribute("href") || undefined) === href && (text === undefined || old.textContent === text)) {
    return;
  }
  const link = old.cloneNode(true);
  if (href) {
    link.setAttribute("href", href);
  } else {
    link.removeAttribute("href");
  }
  if (text !== undefined) {
    link.textContent = text;
  }
  const focused = document.activeElement === old;
  old.replaceWith(link);
  window.htmx?.process(link);
  if (focused) {
    link.focus();
  }
}

function renderTrack() {
  if (!root) {
    return;
  }
  const entry = track();
  const cover = part("cover");
  relink("title", entry?.url, entry ? entry.title : "Nothing playing");
  relink("artist", entry?.artist_url, entry ? entry.artist : "");
  relink("cover-link", entry?.album_url);
  part("cover").src = (entry && entry.cover) || cover.dataset.placeholder || cover.src;
  const like = part("like");
  like.hidden = !listener || !entry;
  const liked = Boolean(details?.liked);
  like.setAttribute("aria-pressed", String(liked));
  like.setAttribute("aria-label", entry ? `${liked ? "Unlike" : "Like"} ${entry.title}` : "Like");
  like.firstElementChild.textContent = liked ? "♥" : "♡";
  renderTime();
  render();
}

function renderTime() {
  const element = current();
  const duration = Number.isFinite(element.duration) ? element.duration : (track()?.duration_ms || 0) / 1000;
  const now = pendingPosition ?? element.currentTime ?? 0;
  part("elapsed").textContent = clock(now);
  part("total").textContent = clock(duration);
  const seekInput = part("seek");
  if (!seekInput.matches(":active")) {
    seekInput.max = String(duration || 0);
    seekInput.value = String(now);
  }
  seekInput.setAttribute("aria-valuetext", `${clock(now)} of ${clock(duration)}`);
  drawWave();
}

// The seek bar's background: the song's waveform peaks, the part already played in the accent colour.
function drawWave() {
  const canvas = part("wave");
  if (!canvas || !canvas.isConnected) {
    return;
  }
  const ratio = window.devicePixelRatio || 1;
  const width = Math.round(canvas.clientWidth * ratio);
  const height = Math.round(canvas.clientHeight * ratio);
  if (!width || !height) {
    return;
  }
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const context = canvas.getContext("2d");
  context.clearRect(0, 0, width, height);
  const peaks = details?.peaks?.length ? details.peaks : null;
  const element = current();
  const duration = Number.isFinite(element.duration) ? element.duration : 0;
  const done = duration ? (pendingPosition ?? element.currentTime) / duration : 0;
  const styles = getComputedStyle(canvas);
  const played = styles.getPropertyValue("--wave-played").trim() || "#5b21b6";
  const rest = styles.getPropertyValue("--wave-rest").trim() || "#888";
  const bars = Math.max(1, Math.floor(width / (3 * ratio)));
  const barWidth = Math.max(1, width / bars - ratio);
  for (let bar = 0; bar < bars; bar += 1) {
    let level = 0.25;
    if (peaks) {
      const from = Math.floor((bar * peaks.length) / bars);
      const to = Math.max(from + 1, Math.floor(((bar + 1) * peaks.length) / bars));
      level = Math.max(...peaks.slice(from, to)) / 255;
    }
    const barHeight = Math.max(ratio * 2, level * height);
    context.fillStyle = bar / bars < done ? played : rest;
    context.fillRect((bar * width) / bars, (height - barHeight) / 2, barWidth, barHeight);
  }
}

// Song rows on the page: the one playing is marked.
function markRows(scope = document) {
  const id = track()?.id;
  const playingNow = !current().paused;
  for (const row of scope.querySelectorAll("#page [data-song-id]")) {
    const now = String(id) === row.dataset.songId;
    row.classList.toggle("now-playing", now);
    const button = row.querySelector("[data-play-song]");
    if (button) {
      const title = button.dataset.title || button.getAttribute("aria-label").replace(/^(Play|Pause) /, "");
      button.dataset.title = title;
      button.setAttribute("aria-label", `${now && playingNow ? "Pause" : "Play"} ${title}`);
      button.firstElementChild.textContent = now && playingNow ? "⏸" : "▶";
    }
  }
}

// Media Session: the system's media keys, lock screen and notification.

function updateMediaSession() {
  if (!("mediaSession" in navigator)) {
    return;
  }
  const entry = track();
  if (!entry) {
    navigator.mediaSession.metadata = null;
    return;
  }
  const artwork = entry.artwork ? [{ src: new URL(entry.artwork, location.href).href, sizes: "600x600" }] : [];
  navigator.mediaSession.metadata = new MediaMetadata({
    title: entry.title, artist: entry.artist, album: entry.album, artwork,
  });
}

function updatePositionState() {
  const element = current();
  if (!("mediaSession" in navigator) || !Number.isFinite(element.duration) || element.duration <= 0) {
    return;
  }
  try {
    navigator.mediaSession.setPositionState({
      duration: element.duration,
      playbackRate: element.playbackRate || 1,
      position: Math.min(element.currentTime, element.duration),
    });
  } catch {
    // A position past the duration while a new song loads: the next update corrects it.
  }
}

function bindMediaSession() {
  if (!("mediaSession" in navigator)) {
    return;
  }
  const handlers = {
    play,
    pause,
    previoustrack: previous,
    nexttrack: () => next(),
    seekto: (event) => seek(event.seekTime),
    seekbackward: (event) => seek(current().currentTime - (event.seekOffset || SEEK_STEP_S)),
    seekforward: (event) => seek(current().currentTime + (event.seekOffset || SEEK_STEP_S)),
  };
  for (const [action, handler] of Object.entries(handlers)) {
    try {
      navigator.mediaSession.setActionHandler(action, handler);
    } catch {
      // This browser does not know that action.
    }
  }
}

// Events of the two audio elements; only the current one's count.

let lastTimeEmit = 0;

function emitTime() {
  const element = current();
  emit("timeupdate", { currentTime: pendingPosition ?? element.currentTime, duration: element.duration || 0 });
  renderTime();
}

function bindElement(element) {
  const ifCurrent = (handler) => (event) => {
    if (element === current()) {
      handler(event);
    }
  };
  element.addEventListener("loadedmetadata", ifCurrent(() => {
    if (pendingPosition !== null) {
      element.currentTime = Math.min(pendingPosition, element.duration || pendingPosition);
      pendingPosition = null;
    }
    renderTime();
  }));
  element.addEventListener("timeupdate", ifCurrent(() => {
    const now = Date.now();
    if (now - lastTimeEmit >= 200 || element.paused) {
      lastTimeEmit = now;
      emitTime();
      updatePositionState();
    }
    if (element.currentTime > PRELOAD_AFTER_S) {
      preloadNext();
    }
    if (now - lastLocalSave > SAVE_POSITION_EVERY_MS) {
      saveLocal();
    }
    if (listener && !element.paused && now - lastPush > PUSH_POSITION_EVERY_MS) {
      push();
    }
  }));
  element.addEventListener("seeked", ifCurrent(emitTime));
  element.addEventListener("play", ifCurrent(() => {
    emit("state", { playing: true });
    if ("mediaSession" in navigator) {
      navigator.mediaSession.playbackState = "playing";
    }
    render();
  }));
  element.addEventListener("pause", ifCurrent(() => {
    emit("state", { playing: false });
    if ("mediaSession" in navigator) {
      navigator.mediaSession.playbackState = "paused";
    }
    saveLocal();
    if (listener) {
      push();
    }
    render();
  }));
  element.addEventListener("ended", ifCurrent(() => next({ ended: true })));
  element.addEventListener("error", ifCurrent(() => {
    const entry = track();
    // Only if the element still holds this song's file: an old error must not skip the next song.
    if (entry?.audio && element.getAttribute("src") && element.src === source(entry)) {
      skipFailed(entry);
    }
  }));
  element.addEventListener("playing", ifCurrent(() => {
    failures = 0;
  }));
}

// What the page asks for: play buttons, queue menus, context buttons.

async function tracksFor(button) {
  if (button.dataset.playContext) {
    return { list: (await getJSON(button.dataset.playContext)).tracks, start: 0 };
  }
  const id = button.dataset.playSong || button.dataset.queueNext || button.dataset.queueAdd;
  const scope = button.dataset.playSong ? button.closest("[data-play-list]") : null;
  const buttons = scope ? [...scope.querySelectorAll("[data-play-song]")] : [button];
  const ids = buttons.map((item) => item.dataset.playSong || id);
  const list = await fetchTracks(ids.slice(0, MAX_SONGS));
  // The row clicked, not the first row of the same song (a playlist may hold it twice); ids the server
  // no longer knows drop out of `list`, so count only those before it that came back.
  const known = new Set(list.map((item) => String(item.id)));
  const start = ids.slice(0, Math.max(0, buttons.indexOf(button))).filter((item) => known.has(item)).length;
  return { list, start };
}

async function onPageClick(event) {
  const button = event.target.closest?.("[data-play-song], [data-play-context], [data-queue-next], [data-queue-add]");
  if (!button || !button.closest("#page")) {
    return;
  }
  event.preventDefault();
  if (!mayListen) {
    // Only listeners may play: the login page, then back here.
    const next = encodeURIComponent(location.pathname + location.search).replace(/%2F/g, "/");
    window.location.assign(`${loginURL}?next=${next}`);
    return;
  }
  if (button.dataset.playSong && String(track()?.id) === button.dataset.playSong) {
    toggle();
    return;
  }
  button.closest("details")?.removeAttribute("open");
  let found;
  try {
    found = await tracksFor(button);
  } catch (error) {
    announce(`The songs could not be loaded (${error.message}).`);
    return;
  }
  if (button.dataset.queueNext) {
    playNext(found.list);
  } else if (button.dataset.queueAdd) {
    enqueue(found.list);
  } else {
    playTracks(found.list, { start: found.start, shuffle: button.hasAttribute("data-shuffle") });
  }
}

async function toggleLike() {
  const entry = track();
  if (!entry || !listener || !details) {
    return;
  }
  const liked = !details.liked;
  const response = await fetch(`/api/v1/me/likes/songs/${entry.id}/`, {
    method: liked ? "PUT" : "DELETE",
    credentials: "same-origin",
    headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
  }).catch(() => null);
  if (!response?.ok) {
    announce("The like could not be saved.");
    return;
  }
  if (track()?.key === entry.key) {
    details = { ...details, liked };
    renderTrack();
  }
  announce(liked ? `Liked “${entry.title}”.` : `No longer liked: “${entry.title}”.`);
}

function togglePanel(name) {
  settings.panel = settings.panel === name ? null : name;
  if (settings.panel) {
    settings.minimized = false;
  }
  saveSettings();
  render();
  if (settings.panel) {
    document.getElementById(`player-${name}`).querySelector(".panel-body")?.focus?.({ preventScroll: true });
  }
}

function onBarClick(event) {
  const control = event.target.closest("button");
  if (!control || !root.contains(control)) {
    return;
  }
  const name = control.dataset.player;
  if (control.dataset.panelToggle) {
    togglePanel(control.dataset.panelToggle);
  } else if (control.dataset.panelClose) {
    togglePanel(control.dataset.panelClose);
    root.querySelector(`[data-panel-toggle="${control.dataset.panelClose}"]`).focus();
  } else if (name === "play") {
    toggle();
  } else if (name === "next") {
    next();
  } else if (name === "previous") {
    previous();
  } else if (name === "shuffle") {
    setShuffle(!shuffle);
  } else if (name === "repeat") {
    setRepeat({ off: "all", all: "one", one: "off" }[repeat]);
  } else if (name === "mute") {
    if (settings.volume === 0) {
      setVolume(0.5);
    } else {
      setMuted(!settings.muted);
    }
  } else if (name === "like") {
    toggleLike();
  } else if (name === "minimize") {
    settings.minimized = !settings.minimized;
    saveSettings();
    render();
  } else if (name === "help") {
    part("help-dialog").showModal();
  } else if (name === "help-close") {
    part("help-dialog").close();
  }
}

// Keyboard shortcuts, anywhere but in a field (and space not on a button or link, which it presses).
function onKey(event) {
  if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || !root || root.hidden) {
    return;
  }
  const target = event.target;
  if (target.closest?.("input, textarea, select, [contenteditable=''], [contenteditable='true']")) {
    return;
  }
  if (event.key === "?") {
    part("help-dialog").showModal();
    event.preventDefault();
    return;
  }
  if (index < 0 && event.key !== "m" && event.key !== "M") {
    return;
  }
  if (event.key === " " && !target.closest?.("button, a, summary, [role=button], [tabindex]:not(main)")) {
    toggle();
  } else if (event.key === "ArrowLeft") {
    if (event.shiftKey) {
      previous();
    } else {
      seek(current().currentTime - SEEK_STEP_S);
    }
  } else if (event.key === "ArrowRight") {
    if (event.shiftKey) {
      next();
    } else {
      seek(current().currentTime + SEEK_STEP_S);
    }
  } else if (event.shiftKey && event.key === "ArrowUp") {
    setVolume(settings.volume + VOLUME_STEP);
    announce(`Volume ${Math.round(settings.volume * 100)}%`);
  } else if (event.shiftKey && event.key === "ArrowDown") {
    setVolume(settings.volume - VOLUME_STEP);
    announce(`Volume ${Math.round(settings.volume * 100)}%`);
  } else if (event.key === "m" || event.key === "M") {
    setMuted(!settings.muted);
    announce(settings.muted ? "Muted" : "Sound on");
  } else {
    return;
  }
  event.preventDefault();
}

// Logging out: the queue and the place in the song go to the server first, while the session lasts.
function onConfirm(event) {
  if (!listener || !event.detail.elt?.matches?.("form[data-logout]")) {
    return;
  }
  event.preventDefault();
  const enough = new Promise((done) => setTimeout(done, 3000)); // a slow server must not hold the logout
  // Other modules' last writes wait with the queue's, within the same limit (listens.js: the songs heard).
  const queueSaved = push();
  const writes = [queueSaved];
  emit("logout", { queueSaved, waitUntil: (promise) => writes.push(promise) });
  Promise.race([Promise.allSettled(writes), enough]).finally(() => {
    leaving = true; // no more writes: the session ends with this request
    event.detail.issueRequest(true);
  });
}

// A session may end without the "Log out" button (it expired; a logout in another tab or the admin): the
// first page that says so, even in a fresh tab, removes the previous listener's queue from this browser.
function forgetOthers(who) {
  try {
    const owner = localStorage.getItem(OWNER_KEY);
    if (owner && owner !== who) {
      localStorage.removeItem(`syro:player:${owner}`);
    }
    if (who) {
      localStorage.setItem(OWNER_KEY, who);
    } else {
      localStorage.removeItem(OWNER_KEY);
    }
  } catch {
    // No storage: nothing was kept.
  }
}

// Who is listening: the page says (#page-state); it changes when they log in or out.
function readPage() {
  const state = document.getElementById("page-state");
  if (!state) {
    return;
  }
  const who = state.dataset.listener || "";
  mayListen = state.dataset.mayListen === "1";
  dataSaver = state.dataset.dataSaver === "1";
  loginURL = state.dataset.loginUrl || loginURL;
  forgetOthers(who);
  if (who === listener) {
    render();
    return;
  }
  const before = listener;
  const keepPlaying = before === "" && who && !current().paused;
  if (before) {
    // Logged out (or another listener): what was theirs leaves this browser and stops. (Its last state
    // went to the server before the logout: see onConfirm.)
    try {
      localStorage.removeItem(storageKey());
    } catch {
      // Nothing stored.
    }
  }
  listener = who;
  leaving = false;
  if (keepPlaying) {
    // Logged in while listening: the music goes on and becomes this listener's queue.
    changed();
  } else {
    restoreLocal();
    if (listener) {
      pull().then(() => tracks.length && !dirty && refreshTracks());
    } else if (tracks.length) {
      refreshTracks();
    }
  }
  if (!mayListen) {
    pause();
  }
  render();
  renderTrack();
}

function start() {
  if (!root) {
    return;
  }
  part("cover").dataset.placeholder = part("cover").getAttribute("src");
  elements.forEach(bindElement);
  applyVolume();
  bindMediaSession();
  root.addEventListener("click", onBarClick);
  document.addEventListener("click", onPageClick);
  document.addEventListener("keydown", onKey);
  document.addEventListener("htmx:confirm", onConfirm);
  const seekInput = part("seek");
  seekInput.addEventListener("input", () => seek(Number(seekInput.value)));
  const volume = part("volume");
  volume.addEventListener("input", () => setVolume(Number(volume.value) / 100));
  document.addEventListener("htmx:historyRestore", readPage);
  document.addEventListener("htmx:load", (event) => {
    if (event.detail.elt.id === "page" || event.detail.elt.querySelector?.("#page-state")) {
      readPage();
    }
    markRows(event.detail.elt.closest?.("#page") ? document : event.detail.elt);
  });
  window.addEventListener("pagehide", () => {
    saveLocal();
    if (listener && dirty) {
      push({ keepalive: true });
    }
  });
  // A change made offline (its PUT failed, `dirty` stayed) reaches the server as soon as the network is back.
  window.addEventListener("online", () => {
    if (listener && dirty) {
      push();
    }
  });
  new ResizeObserver(drawWave).observe(part("wave"));
  readPage();
  window.syroPlayer = api;
  emit("ready", {});
}

const api = {
  get elements() {
    return [...elements];
  },
  get audio() {
    return current();
  },
  get track() {
    return track() ? { ...track() } : null;
  },
  get details() {
    return details;
  },
  get playing() {
    return !current().paused;
  },
  get currentTime() {
    return pendingPosition ?? current().currentTime;
  },
  get duration() {
    return Number.isFinite(current().duration) ? current().duration : (track()?.duration_ms || 0) / 1000;
  },
  get queue() {
    return { tracks: tracks.map((entry) => ({ ...entry })), index };
  },
  get shuffle() {
    return shuffle;
  },
  get repeat() {
    return repeat;
  },
  seek,
  play,
  pause,
  toggle,
  next: () => next(),
  previous,
  playAt: (at) => playAt(at),
  move,
  remove,
  clear,
  playTracks,
  playNext,
  enqueue,
  announce,
  setShuffle,
  setRepeat,
  sync: push,
};

start();
