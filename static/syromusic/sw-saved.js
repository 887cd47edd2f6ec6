// Saved music, in the service worker (sw.js loads this with importScripts): the answers for audio, covers and
// track lists that saved.js put in the listener's cache `syro-saved-<listener>` ("anon" for a visitor).
//
// The cache is versionless, unlike the worker's others: audio and cover URLs are content-addressed
// (/audio/<id>/<hash>.<ext>), so a changed file is a new URL and a stored answer is never stale. The list of
// what is saved (IndexedDB `syro`, store `saved`) belongs to saved.js; the worker only forgets it on logout.
//
// A media element asks for ranges (`Range: bytes=0-`, then wherever the listener seeks): they are cut from the
// stored whole file (a Blob, read lazily from disk by the browser), so a saved song seeks offline too.

(() => {
  const PREFIX = "syro-saved-";
  const DB_NAME = "syro";
  const DB_VERSION = 1;
  // As saved.js and offline-store.js: every page module and the worker open the same database, so each
  // creates every store it may meet.
  const STORES = { saved: "key", listens: "client_id" };

  const cacheName = (listener) => `${PREFIX}${listener || "anon"}`;

  function openDatabase() {
    return new Promise((resolve, reject) => {
      const request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = () => {
        for (const [name, keyPath] of Object.entries(STORES)) {
          if (!request.result.objectStoreNames.contains(name)) {
            request.result.createObjectStore(name, { keyPath });
          }
        }
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  // The manifest's records of the listeners `gone` says yes to are deleted.
  async function forgetRecords(gone) {
    let db;
    try {
      db = await openDatabase();
    } catch {
      return; // no IndexedDB (a private window may refuse it): nothing was kept
    }
    await new Promise((resolve) => {
      const transaction = db.transaction("saved", "readwrite");
      const request = transaction.objectStore("saved").openCursor();
      request.onsuccess = () => {
        const cursor = request.result;
        if (cursor) {
          if (gone(cursor.value.listener || "")) {
            cursor.delete();
          }
          cursor.continue();
        }
      };
      transaction.oncomplete = resolve;
      transaction.onerror = resolve;
      transaction.onabort = resolve;
    });
    db.close();
  }

  // "bytes=500-999", "bytes=500-", "bytes=-500" -> {start, end} (end inclusive) within a file of `size` bytes;
  // "unsatisfiable" when it starts past the end; null for what is not one plain byte range (answered whole,
  // as HTTP allows a server to do).
  function parseRange(header, size) {
    const match = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header || "");
    if (!match || (match[1] === "" && match[2] === "")) {
      return null;
    }
    let start;
    let end;
    if (match[1] === "") {
      const suffix = Number(match[2]);
      if (suffix === 0) {
        return "unsatisfiable";
      }
      start = Math.max(0, size - suffix);
      end = size - 1;
    } else {
      start = Number(match[1]);
      end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
      if (match[2] !== "" && Number(match[2]) < start) {
        return null; // an invalid range is ignored
      }
    }
    if (start >= size) {
      return "unsatisfiable";
    }
    return { start, end };
  }

  // A transcoded copy of a song's file (/audio/<id>/<hash>/<kbps>.<mp3|opus>: the data saver, views/media.py).
  const COPY = /^\/audio\/([0-9]+)\/([0-9a-f]{16})\/[0-9]+\.(?:mp3|opus)$/;

  async function find(request, listener) {
    const names = listener === undefined
      ? (await caches.keys()).filter((name) => name.startsWith(PREFIX))
      : [cacheName(listener)];
    const copy = COPY.exec(new URL(request.url).pathname);
    for (const name of names) {
      if (!(await caches.has(name))) {
        continue;
      }
      const cache = await caches.open(name);
      // ignoreVary: audio varies on Cookie; the saved copy is this listener's own.
      const found = await cache.match(request.url, { ignoreVary: true });
      if (found) {
        return found;
      }
      if (copy) {
        // The player asks for a smaller copy (the data saver), and the song was saved whole: the saved
        // file plays (it costs no data), as /audio/<id>/<hash>.<ext>.
        const whole = `/audio/${copy[1]}/${copy[2]}.`;
        for (const key of await cache.keys()) {
          if (new URL(key.url).pathname.startsWith(whole)) {
            return cache.match(key, { ignoreVary: true });
          }
        }
      }
    }
    return null;
  }

  async function response(request, { listener } = {}) {
    if (request.method !== "GET" && request.method !== "HEAD") {
      return null;
    }
    const stored = await find(request, listener);
    if (!stored) {
      return null;
    }
    const blob = await stored.blob();
    const size = blob.size;
    const type = stored.headers.get("Content-Type") || blob.type || "application/octet-stream";
    const headers = { "Content-Type": type, "Accept-Ranges": "bytes", "X-Syro-Saved": "1" };
    const range = request.headers.get("Range") ? parseRange(request.headers.get("Range"), size) : null;
    if (range === "unsatisfiable") {
      return new Response(null, {
        status: 416, statusText: "Range Not Satisfiable", headers: { ...headers, "Content-Range": `bytes */${size}` },
      });
    }
    if (!range) {
      return new Response(request.method === "HEAD" ? null : blob, {
        status: 200, headers: { ...headers, "Content-Length": String(size) },
      });
    }
    const part = blob.slice(range.start, range.end + 1, type);
    return new Response(request.method === "HEAD" ? null : part, {
      status: 206,
      statusText: "Partial Content",
      headers: {
        ...headers,
        "Content-Length": String(part.size),
        "Content-Range": `bytes ${range.start}-${range.end}/${size}`,
      },
    });
  }

  // The listener's saved music and its list leave this browser (logging out).
  async function forget(listener) {
    await caches.delete(cacheName(listener));
    await forgetRecords((owner) => owner === (listener || ""));
  }

  // Everyone's but this listener's leave this browser (another listener, or none, is at the keyboard now).
  async function forgetOthers(listener) {
    const mine = cacheName(listener);
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== mine) {
        await caches.delete(name);
      }
    }
    await forgetRecords((owner) => owner !== (listener || ""));
  }

  self.syroSaved = { prefix: PREFIX, cacheName, response, forget, forgetOthers, parseRange };
})();
