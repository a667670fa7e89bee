// Sebenzai's service worker (rendered by frontend/worker/pwa.py): keeps the workers' app shell,
// content-hashed JS, CSS and icons, so the page starts from the phone's own storage. Only those
// URLs are answered from the cache; pages, the API and task images always go to the network.
const SHELL = {{ shell|safe }};
const CACHE = "sebenzai-shell-{{ version }}";
const inShell = new Set(SHELL.map((url) => new URL(url, self.location.href).href));

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  // A deploy renames the shell: drop the previous caches, whose files nothing names any more.
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || !inShell.has(request.url)) return; // the network, untouched
  event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
});
