// Installs the service worker that keeps the app shell on the phone (frontend/worker/pwa.py).
// It lives at /sw.js, scope "/": the workers' pages are at the root (/, /label/, /history/ ...).
// Registered after load, so it never competes with the first task for the network.
if ("serviceWorker" in navigator) {
  window.addEventListener("load", () => {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch((error) => {
      // Private browsing or an old browser: the pages work as before, from the network.
      console.warn("Service worker not installed:", error);
    });
  });
}
