// The platform's JSON API as the pages call it, with the session cookie and the CSRF header: the
// browser goes through exactly the endpoints a script would, so the two cannot disagree. The
// server's error comes back as an ApiError (status, code, message, field), a lost connection as
// a NetworkError. withRetry is the one retry loop of the pages: backoff, the server's retry_after
// on a 429, and no counting of tries while the phone is offline (it waits for the connection).

import { gettext, interpolate } from "./i18n.js";

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || interpolate(gettext("The server answered %(status)s."), { status }, true));
    this.status = status;
    this.code = error.code || "";
    this.field = error.field || "";
    this.retryAfterMs = Number(error.retry_after_ms) || 0; // on a 429: when to ask again
  }
}

export class NetworkError extends Error {}

// The token of Django's {% csrf_token %}: every page that posts renders one.
export function csrfToken() {
  return document.querySelector("[name=csrfmiddlewaretoken]").value;
}

// One request: the body (if any) sent as JSON, the answer parsed as JSON; null for a 204.
export async function request(method, url, { body, token = csrfToken() } = {}) {
  let response;
  try {
    response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: {
        Accept: "application/json",
        "Content-Type": "application/json",
        "X-CSRFToken": token,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new NetworkError(gettext("No connection to the server."));
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data.error || {});
  return data;
}

// get and post with the page's CSRF token. With retryReads (the labelling page), reading is
// tried again quietly after a 5xx or a lost connection, as it is idempotent; pages that poll
// leave that to their next tick.
export function makeApi({ retryReads = false } = {}) {
  const token = csrfToken();
  const get = (url) => request("GET", url, { token });
  return {
    get: retryReads ? (url) => withRetry(() => get(url), { attempts: 3, serverErrors: true }) : get,
    post: (url, body) => request("POST", url, { body: body ?? {}, token }),
  };
}

// Worth another try: a lost connection or a gateway error; a 429 that says when to come back
// (soon); and, for a request that is safe to repeat (serverErrors), any 5xx. Never another 4xx:
// the server has decided.
export function isTransient(err, { serverErrors = false } = {}) {
  if (err instanceof NetworkError) return true;
  if (!(err instanceof ApiError)) return false;
  if (err.status === 429) return err.retryAfterMs > 0 && err.retryAfterMs <= MAX_DELAY_MS;
  return err.status >= 502 || (serverErrors && err.status >= 500);
}

const MAX_DELAY_MS = 30_000;

// The first wait between tries; a test may shorten it through localStorage (no server setting).
export function retryDelayMs() {
  return Number(localStorage.getItem("sebenzai.retryDelayMs")) || 500;
}

// Resolves when the browser is back online, or after ms (navigator.onLine can miss a return).
export function untilOnline(ms) {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      window.removeEventListener("online", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    window.addEventListener("online", done);
  });
}

// Retries with exponential backoff (0.5 s, 1 s, 2 s by default). While the phone is offline a
// lost connection does not use up a try: the loop waits for the connection, however long.
// onRetry(attempt, of, waitMs, offline) lets the page say what it is doing.
export async function withRetry(action, { attempts = 4, delayMs = retryDelayMs(), serverErrors = false, onRetry } = {}) {
  for (let attempt = 1; ; ) {
    try {
      return await action();
    } catch (err) {
      if (!isTransient(err, { serverErrors })) throw err;
      if (err instanceof NetworkError && !navigator.onLine) {
        if (onRetry) onRetry(attempt, attempts - 1, 0, true);
        await untilOnline(MAX_DELAY_MS);
        continue;
      }
      if (attempt >= attempts) throw err;
      const wait = Math.min(Math.max(delayMs * 2 ** (attempt - 1), err.retryAfterMs || 0), MAX_DELAY_MS);
      if (onRetry) onRetry(attempt, attempts - 1, wait, false);
      await new Promise((resolve) => setTimeout(resolve, wait));
      attempt += 1;
    }
  }
}
