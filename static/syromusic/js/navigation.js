// Navigation without reloading the page: htmx (hx-boost on #page and #player) fetches the next page and swaps
// #page only, so the player outside it keeps playing. This module keeps what a full load did right:
// - what is not one of our pages (the admin, the API and its docs, files and downloads) loads in full;
// - a response that is not a page of ours (a plain-text error, a proxy's page) loads in full, or is shown;
// - the focus moves to the new page's content, as a screen reader expects after a page load;
// - when the network fails, the browser loads the page itself (and says why);
// - #page is aria-busy while the next page loads (for assistive technology, and for tests to wait on).

function busy(on) {
  const page = document.getElementById("page");
  if (page && on) {
    page.setAttribute("aria-busy", "true");
  } else if (page) {
    page.removeAttribute("aria-busy");
  }
}

function fullLoadPrefixes() {
  return (document.getElementById("page")?.dataset.fullLoad || "").split(/\s+/).filter(Boolean);
}

function wantsFullLoad(path) {
  let url;
  try {
    url = new URL(path, location.href);
  } catch {
    return true;
  }
  if (url.origin !== location.origin) {
    return true;
  }
  // A path ending in a file name (an export, an audio file, a cover) is a download, not a page.
  return fullLoadPrefixes().some((prefix) => url.pathname.startsWith(prefix)) || /\.[A-Za-z0-9]{2,5}$/.test(url.pathname);
}

document.addEventListener("htmx:beforeRequest", (event) => {
  const { boosted, requestConfig } = event.detail;
  if (boosted && requestConfig.verb === "get" && wantsFullLoad(requestConfig.path)) {
    event.preventDefault();
    location.assign(requestConfig.path);
    return;
  }
  if (boosted) {
    busy(true);
  }
});

// Back and forward ask the server for the page again (no snapshots are kept): busy until it is in.
document.addEventListener("htmx:historyCacheMiss", () => busy(true));
for (const done of ["htmx:historyRestore", "htmx:historyCacheMissLoadError", "htmx:responseError", "htmx:afterRequest"]) {
  document.addEventListener(done, (event) => {
    // A boosted request that swapped replaced #page with a new one, never busy; one that did not ends here.
    if (done !== "htmx:afterRequest" || !event.detail.successful || event.detail.failed) {
      busy(false);
    }
  });
}

document.addEventListener("htmx:beforeSwap", (event) => {
  const { xhr, boosted, requestConfig } = event.detail;
  if (!boosted) {
    return;
  }
  const isPage = (xhr.getResponseHeader("Content-Type") || "").startsWith("text/html") && xhr.responseText.includes('id="page"');
  if (isPage) {
    return;
  }
  event.detail.shouldSwap = false;
  if (requestConfig.verb === "get") {
    location.assign(xhr.responseURL || requestConfig.path);
    return;
  }
  // A form's answer that is not a page (a plain-text refusal): say it where the page's content was.
  const main = document.getElementById("content");
  if (main) {
    const heading = document.createElement("h1");
    heading.textContent = `The server answered ${xhr.status} ${xhr.statusText}`.trim();
    const body = document.createElement("pre");
    body.className = "server-answer";
    // An HTML answer (Django's CSRF refusal, a proxy's error page) is shown as its text, not its source.
    const html = (xhr.getResponseHeader("Content-Type") || "").startsWith("text/html");
    let text = xhr.responseText;
    if (html) {
      const parsed = new DOMParser().parseFromString(text, "text/html");
      parsed.querySelectorAll("style, script, head").forEach((element) => element.remove());
      text = parsed.body.textContent;
    }
    body.textContent = text.replace(/\n\s*\n+/g, "\n\n").trim().slice(0, 2000);
    main.replaceChildren(heading, body);
    main.focus();
  }
});

for (const failure of ["htmx:sendError", "htmx:timeout"]) {
  document.addEventListener(failure, (event) => {
    const config = event.detail.requestConfig;
    if (event.detail.boosted && config?.verb === "get") {
      location.assign(config.path);
    }
  });
}

document.addEventListener("htmx:afterSettle", (event) => {
  if (event.target.id === "page") {
    document.getElementById("content")?.focus({ preventScroll: true });
  }
});
