// Offline mode in the page: registers the service worker (/sw.js; the worker is static/syromusic/sw.js), shows
// the header's offline indicator while the network is gone, and offers "Update now" when a deploy's new worker
// waits. It tells the worker what only the page knows:
// - who is listening (#page-state), on every page: the worker keeps each listener's pages apart, and drops
//   the others' when someone else (or nobody) is logged in;
// - a new browser session (no `syro_sw_session` cookie yet: it has no expiry, so the browser drops it when it
//   closes): a logged-in listener's pages are kept for one session only;
// - a logout: the private pages and the saved music go before the session ends (player.js waits for it).
// Runs once per full load (the header it draws in is redrawn after each htmx swap).

const SESSION_COOKIE = "syro_sw_session";
const ANSWER_WITHIN_MS = 1000; // a logout never waits longer for the worker
const UPDATE_CHECK_EVERY_MS = 15 * 60 * 1000; // htmx swaps are not navigations: the browser would not check

const supported = "serviceWorker" in navigator && window.isSecureContext;
let offline = !navigator.onLine;
let registration = null;
let updating = false;
let checkedAt = Date.now();
let loggingOut = null;

// Send a message to the active worker; resolves with its answer, or null when none comes in time.
function ask(message, within = ANSWER_WITHIN_MS) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), within);
    navigator.serviceWorker.ready.then((ready) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => {
        clearTimeout(timer);
        resolve(event.data);
      };
      ready.active.postMessage(message, [channel.port2]);
    });
  });
}

function updateWaiting() {
  // A first install passes through "waiting" too, with no worker active yet: nothing to update then.
  return Boolean(registration?.waiting && registration.active);
}

function render() {
  const indicator = document.querySelector("[data-offline-indicator]");
  if (indicator) {
    indicator.hidden = !offline;
    const text = offline ? "Offline: showing the pages and music kept on this device" : "";
    if (indicator.textContent !== text) {
      indicator.textContent = text;
    }
  }
  const notice = document.querySelector("[data-update-notice]");
  if (notice) {
    notice.hidden = !updateWaiting();
  }
}

function setOffline(value) {
  offline = value;
  render();
}

function tellListener() {
  const state = document.getElementById("page-state");
  if (state) {
    // The offline page has none: it is the same for everyone, and says nothing of who is listening.
    // sentAt: the worker may hear of a newer page before this message (it learns from pages too).
    ask({ type: "listener", listener: state.dataset.listener || "", sentAt: Date.now() });
  }
}

function startsSession() {
  if (document.cookie.split("; ").some((cookie) => cookie.startsWith(`${SESSION_COOKIE}=`))) {
    return false;
  }
  const secure = location.protocol === "https:" ? "; Secure" : "";
  document.cookie = `${SESSION_COOKIE}=1; path=/; SameSite=Lax${secure}`;
  return true;
}

function onPage() {
  if (document.querySelector("[data-offline-page]")) {
    offline = true;
  }
  tellListener();
  render();
  if (registration && Date.now() - checkedAt > UPDATE_CHECK_EVERY_MS) {
    checkedAt = Date.now();
    registration.update().catch(() => {}); // offline, or the server is away: the next page tries again
  }
}

function onClick(event) {
  if (!event.target.closest?.("[data-update-now]") || !registration?.waiting) {
    return;
  }
  updating = true;
  registration.waiting.postMessage({ type: "skip-waiting" });
}

async function start() {
  const url = document.querySelector('meta[name="syro-service-worker"]')?.content;
  if (!supported || !url) {
    return;
  }
  if (startsSession()) {
    ask({ type: "new-session" });
  }
  window.addEventListener("offline", () => setOffline(true));
  window.addEventListener("online", () => setOffline(false));
  document.addEventListener("htmx:sendError", () => setOffline(true));
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === "offline" || event.data?.type === "online") {
      setOffline(event.data.type === "offline");
    }
  });
  // The logout form's submit comes first (capture), player.js's htmx:confirm next: it holds the logout
  // (at most 3 s) until the worker has answered, or ANSWER_WITHIN_MS has passed.
  document.addEventListener("submit", (event) => {
    if (event.target.matches?.("form[data-logout]")) {
      loggingOut = ask({ type: "logout" });
    }
  }, true);
  document.addEventListener("syro:logout", (event) => {
    event.detail.waitUntil(loggingOut || ask({ type: "logout" }));
    loggingOut = null;
  });
  document.addEventListener("htmx:load", (event) => {
    if (event.detail.elt.id === "page") {
      onPage();
    }
  });
  document.addEventListener("click", onClick);
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (updating) {
      location.reload();
    }
  });
  onPage();
  try {
    registration = await navigator.serviceWorker.register(url, { scope: "/" });
  } catch {
    return; // no worker (storage refused, a private window): the site works online as before
  }
  if (!registration) {
    return; // a browser that blocks workers may answer with nothing at all: online as before
  }
  // A new worker may be installing already (register() checks for one): "Update now" once it waits.
  registration.installing?.addEventListener("statechange", render);
  registration.addEventListener("updatefound", () => {
    registration.installing?.addEventListener("statechange", render);
  });
  render();
}

start();
