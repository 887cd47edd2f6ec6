// The service worker: SyroMusic keeps working without a network. Served at /sw.js (scope: the whole site) by
// SyroMusic.views.offline, which puts `self.syroConfig` before this source: the version, the offline page, the
// static files to keep. Registered by js/offline.js, which tells it who is listening, of logouts and of new
// browser sessions.
//
// - Hashed static files (their names change with their content) come from the cache first; files without a
//   hash (development) from the network first.
// - Pages (navigations and htmx's page requests) come from the network; each 200 page is kept, and shown when
//   the network fails; a page never kept shows the offline page. A page is kept in the cache of the listener
//   it was made for (its #page-state says whom): a logged-in listener's pages only for this browser session.
// - Audio and covers: the saved copy (sw-saved.js), else the network.
// - Never kept: anything but GET, the admin, the API, accounts, `Cache-Control: no-store`, redirects, errors.
//
// Caches: syro-static-VERSION, syro-pages-anon-VERSION, syro-pages-<listener>-VERSION (deleted with every
// version change), syro-saved-<listener> (no version: saved music outlives a deploy), syro-meta (whom the
// worker serves, across its restarts).

const CONFIG = self.syroConfig;
const VERSION = CONFIG.version;
const STATIC_CACHE = `syro-static-${VERSION}`;
const META_CACHE = "syro-meta";
const LISTENER_KEY = "/__syro/listener";
const NEVER = ["/admin/", "/api/", "/accounts/", "/__debug__/"];
// ManifestStaticFilesStorage names a file name.<12 hex digits>.ext.
const HASHED = /\.[0-9a-f]{12}\.[A-Za-z0-9]+$/;
const PAGE_STATE = /<div id="page-state"[^>]*\sdata-listener="(\d*)"/;

if (CONFIG.saved) {
  importScripts(CONFIG.saved);
}

const pagesCache = (listener) => `syro-pages-${listener || "anon"}-${VERSION}`;
const pageCacheOwner = (name) => /^syro-pages-(.+)-[^-]+$/.exec(name)?.[1];

// Whom the worker serves now ("" nobody logged in). Kept in syro-meta: the browser stops an idle worker.
let listenerNow;
// When that was learnt. Pages and messages race (a page that was loaded before a login may say "nobody" after
// the next page said "alice"): what was learnt from something older than that is out of date.
let learntAt = 0;

async function currentListener() {
  if (listenerNow === undefined) {
    const stored = await (await caches.open(META_CACHE)).match(LISTENER_KEY);
    listenerNow = stored ? await stored.text() : "";
  }
  return listenerNow;
}

// Another listener (or nobody) uses this browser now: what was kept for the others goes.
async function setListener(listener) {
  if (listener === (await currentListener())) {
    return;
  }
  listenerNow = listener;
  await (await caches.open(META_CACHE)).put(LISTENER_KEY, new Response(listener));
  await deletePages((owner) => owner !== "anon" && owner !== listener);
  await self.syroSaved?.forgetOthers(listener);
}

// Learn who is listening from a page (its answer arrived `at`) or a message (sent `at`), unless newer news came.
async function learnListener(listener, at) {
  if (at < learntAt) {
    return;
  }
  learntAt = at;
  await setListener(listener);
}

async function deletePages(whose) {
  for (const name of await caches.keys()) {
    const owner = pageCacheOwner(name);
    if (owner !== undefined && whose(owner)) {
      await caches.delete(name);
    }
  }
}

async function logout() {
  learntAt = Date.now();
  const listener = await currentListener();
  await setListener("");
  // Whatever setListener kept (it was told "" already, by a page in another tab): every private page goes.
  await deletePages((owner) => owner !== "anon");
  if (listener) {
    await self.syroSaved?.forget(listener);
  }
}

const handlers = {
  listener: (message) => learnListener(String(message.listener ?? ""), Number(message.sentAt) || Date.now()),
  logout,
  // A new browser session: the pages kept for logged-in listeners in the last one go.
  "new-session": () => deletePages((owner) => owner !== "anon"),
  "skip-waiting": () => self.skipWaiting(),
  version: () => undefined,
};

// Changes to the caches (messages, pages kept) are made one after another, in the order they came.
let handling = Promise.resolve();

function inTurn(change) {
  handling = handling.then(change, change);
  return handling;
}

// Each message is answered on its port, once handled.
self.addEventListener("message", (event) => {
  const message = event.data || {};
  const handler = handlers[message.type];
  if (!handler) {
    return;
  }
  const answer = inTurn(() => handler(message)).then(
    () => ({ type: message.type, ok: true, version: VERSION }),
    (error) => ({ type: message.type, ok: false, version: VERSION, error: String(error) }),
  );
  event.waitUntil(answer.then((reply) => event.ports[0]?.postMessage(reply)));
});

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(STATIC_CACHE);
    // Past the browser's HTTP cache: this version's files, as the server has them now.
    const urls = [...CONFIG.precache, CONFIG.offline];
    await cache.addAll(urls.map((url) => new Request(url, { cache: "reload", credentials: "omit" })));
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      const kept = name === META_CACHE || name.startsWith("syro-saved-") || name.endsWith(`-${VERSION}`);
      if (name.startsWith("syro-") && !kept) {
        await caches.delete(name);
      }
    }
    await self.clients.claim();
  })());
});

function isPageRequest(request) {
  return request.mode === "navigate" || request.headers.has("HX-Request");
}

async function tell(clientId, message) {
  const client = clientId && (await self.clients.get(clientId));
  client?.postMessage(message);
}

async function staticFile(event, url) {
  const cache = await caches.open(STATIC_CACHE);
  const { request } = event;
  if (HASHED.test(url.pathname)) {
    const kept = await cache.match(request);
    if (kept) {
      return kept;
    }
  }
  try {
    const response = await fetch(request);
    if (response.ok) {
      event.waitUntil(cache.put(request, response.clone()));
    }
    return response;
  } catch (error) {
    const kept = await cache.match(request);
    if (kept) {
      return kept;
    }
    throw error;
  }
}

// Whom a page was made for ("" nobody logged in), or null when it is not one of our pages.
function pageListener(html) {
  const match = PAGE_STATE.exec(html);
  return match ? match[1] : null;
}

function keepable(response) {
  return (
    response.status === 200 &&
    response.type === "basic" &&
    !response.redirected &&
    (response.headers.get("Content-Type") || "").startsWith("text/html") &&
    !/(^|[\s,])no-store($|[\s,])/i.test(response.headers.get("Cache-Control") || "")
  );
}

// `at`: when the page was asked for. Its answer was made with the session of that moment: a logout (or another
// listener's page) learnt after it is newer news, however late the answer comes.
async function keepPage(url, response, at) {
  const listener = pageListener(await response.clone().text());
  if (listener === null) {
    return;
  }
  await inTurn(async () => {
    // The page says who is logged in: the truth, even before offline.js tells.
    await learnListener(listener, at);
    // An out-of-date page (Alice's, asked for before her logout) is not kept: it would bring her cache back.
    // Anonymous pages are nobody's: keeping one is harmless, and it is shown only to nobody logged in.
    if (listener === "" || listener === (await currentListener())) {
      await (await caches.open(pagesCache(listener))).put(url, response);
    }
  });
}

// This browser session is the one the private pages were kept in: its `syro_sw_session` cookie (set by
// offline.js, no expiry) is still there. Where the worker cannot read cookies, it cannot tell: no.
async function sameSession() {
  try {
    return Boolean(await self.cookieStore?.get("syro_sw_session"));
  } catch {
    return false;
  }
}

async function keptPage(url) {
  const listener = await currentListener();
  // Offline, the first page of a new browser session (offline.js has not run yet to say so): the last session's
  // private pages go, and none is shown. Not the anonymous copy either: a page saying "nobody" would make the
  // worker forget the listener's saved music, who is still logged in.
  if (listener && !(await sameSession())) {
    await inTurn(() => deletePages((owner) => owner !== "anon"));
    return null;
  }
  const cache = pagesCache(listener);
  if (!(await caches.has(cache))) {
    return null;
  }
  return (await caches.open(cache)).match(url, { ignoreVary: true });
}

async function page(event, url) {
  const { request } = event;
  const key = url.href;
  const askedAt = Date.now();
  try {
    const response = await fetch(request);
    if (keepable(response)) {
      event.waitUntil(keepPage(key, response.clone(), askedAt));
    }
    event.waitUntil(tell(event.clientId, { type: "online" }));
    return response;
  } catch (error) {
    event.waitUntil(tell(event.clientId, { type: "offline" }));
    const kept = await keptPage(key);
    if (kept) {
      return kept;
    }
    // Only for a page: what else htmx asks for is not shown as one.
    if (request.mode === "navigate" || request.headers.get("HX-Boosted") === "true") {
      const offline = await (await caches.open(STATIC_CACHE)).match(CONFIG.offline);
      if (offline) {
        // A copy without the offline page's own address: htmx would show that address instead of the one asked.
        return new Response(offline.body, { status: offline.status, headers: offline.headers });
      }
    }
    throw error;
  }
}

// A collection's track list (/player/tracks/?album=ID…): the network's, else the copy saved with its songs, so
// that "Play" works offline.
async function trackList(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const saved = await self.syroSaved.response(request, { listener: await currentListener() });
    if (saved) {
      return saved;
    }
    throw error;
  }
}

async function media(request) {
  let saved = null;
  try {
    saved = await self.syroSaved.response(request, { listener: await currentListener() });
  } catch {
    // A saved copy that cannot be read is as good as none: the network may still answer.
  }
  return saved || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const { request } = event;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || request.method !== "GET") {
    return;
  }
  if (url.pathname.startsWith(CONFIG.static)) {
    event.respondWith(staticFile(event, url));
  } else if (self.syroSaved && CONFIG.media.some((prefix) => url.pathname.startsWith(prefix))) {
    event.respondWith(media(request));
  } else if (self.syroSaved && url.pathname === "/player/tracks/" && url.search) {
    event.respondWith(trackList(request));
  } else if (isPageRequest(request) && !NEVER.some((prefix) => url.pathname.startsWith(prefix))) {
    event.respondWith(page(event, url));
  }
});
