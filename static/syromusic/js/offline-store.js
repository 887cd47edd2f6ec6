// The listens waiting to be sent (listens.js), kept in IndexedDB (database `syro`, store `listens`, one record
// per listen, keyed by its client id) so that months offline fit and a closed tab loses nothing.
//
// listens.js reads and writes its pending list synchronously (a page that is closing cannot wait), so this
// keeps a copy in memory, loaded at start, and writes each change through to IndexedDB. Records are added
// and deleted one by one, never rewritten as a whole list: two tabs never overwrite each other's listens.
// A listen another tab has sent may still be in this tab's copy and be sent again: the server knows it by
// its client id and counts it once.
//
// A page that is closing may be gone before IndexedDB has written a new listen: each one is also noted at once
// in localStorage (`syro:listens-unsaved:<client id>`) until IndexedDB has it, and the next page moves what is
// noted there into IndexedDB. Events that an older listens.js kept in localStorage (`syro:listens:<who>`) too.
//
// window.syroOfflineStore = {ready, pending(who), write(who, list), reload(), written()}.

const DB_NAME = "syro";
const DB_VERSION = 1;
// As saved.js and sw-saved.js: each opener creates every store of the database.
const STORES = { saved: "key", listens: "client_id" };
const LEGACY_PREFIX = "syro:listens:";
const UNSAVED_PREFIX = "syro:listens-unsaved:";

let database = null;
let copy = new Map(); // client_id -> {client_id, listener, seq, item}
let seq = 0; // keeps the order listens were made in
const sent = new Set(); // client ids this tab dropped: a reload must not bring them back
let writing = Promise.resolve();

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

// One change at a time, in the order made; a refused write (no IndexedDB, storage full) loses only itself.
function write(work) {
  writing = writing.then(async () => {
    const db = await openDatabase();
    await new Promise((resolve, reject) => {
      const transaction = db.transaction("listens", "readwrite");
      work(transaction.objectStore("listens"));
      transaction.oncomplete = resolve;
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }).catch(() => {});
  return writing;
}

async function readAll() {
  const db = await openDatabase();
  return new Promise((resolve, reject) => {
    const request = db.transaction("listens").objectStore("listens").getAll();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function pending(who) {
  return [...copy.values()].filter((entry) => entry.listener === who).sort((a, b) => a.seq - b.seq)
    .map((entry) => entry.item);
}

// The listener's pending list is now `list`: the listens new to it are added, the ones gone from it deleted.
function writeList(who, list) {
  const keep = new Set(list.map((item) => item.client_id));
  const gone = pending(who).filter((item) => !keep.has(item.client_id)).map((item) => item.client_id);
  const added = list.filter((item) => !copy.has(item.client_id))
    .map((item) => ({ client_id: item.client_id, listener: who, seq: (seq += 1), item }));
  for (const id of gone) {
    copy.delete(id);
    sent.add(id);
  }
  for (const entry of added) {
    copy.set(entry.client_id, entry);
  }
  for (const entry of added) {
    note(entry);
  }
  if (gone.length || added.length) {
    write((store) => {
      gone.forEach((id) => store.delete(id));
      added.forEach((entry) => store.put(entry));
    }).then(() => added.forEach(unnote));
  }
}

// What other tabs added since: merged in, in the order they were made.
async function reload() {
  await writing;
  let records;
  try {
    records = await readAll();
  } catch {
    return;
  }
  for (const entry of records) {
    if (!copy.has(entry.client_id) && !sent.has(entry.client_id)) {
      copy.set(entry.client_id, entry);
    }
    seq = Math.max(seq, entry.seq || 0);
  }
}

function note(entry) {
  try {
    localStorage.setItem(UNSAVED_PREFIX + entry.client_id, JSON.stringify(entry));
  } catch {
    // No room: IndexedDB alone keeps it.
  }
}

function unnote(entry) {
  try {
    localStorage.removeItem(UNSAVED_PREFIX + entry.client_id);
  } catch {
    // Nothing noted.
  }
}

// What the last page noted but IndexedDB may not have written: written now (a listen already there is the same).
function moveUnsaved() {
  try {
    for (const key of Object.keys(localStorage)) {
      if (!key.startsWith(UNSAVED_PREFIX)) {
        continue;
      }
      const entry = JSON.parse(localStorage.getItem(key) || "null");
      localStorage.removeItem(key); // before writeList notes it again, until written
      if (entry?.item?.client_id && !copy.has(entry.client_id)) {
        writeList(entry.listener, [...pending(entry.listener), entry.item]);
      }
    }
  } catch {
    // No localStorage: nothing noted.
  }
}

function moveLegacy() {
  try {
    for (const key of Object.keys(localStorage)) {
      if (!key.startsWith(LEGACY_PREFIX)) {
        continue;
      }
      const list = JSON.parse(localStorage.getItem(key) || "[]");
      if (Array.isArray(list)) {
        const who = key.slice(LEGACY_PREFIX.length);
        writeList(who, [...pending(who), ...list.filter((item) => item?.client_id)]);
      }
      localStorage.removeItem(key);
    }
  } catch {
    // No localStorage: nothing to move.
  }
}

const ready = reload().then(() => {
  moveUnsaved();
  moveLegacy();
});
window.addEventListener("online", () => reload());

window.syroOfflineStore = { ready, pending, write: writeList, reload, written: () => writing };
