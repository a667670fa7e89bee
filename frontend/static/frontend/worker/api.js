// The worker API, called with the session cookie and the CSRF header: the browser goes through
// exactly the endpoints a script would, so the two cannot disagree.

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `The server answered ${status}.`);
    this.status = status;
    this.code = error.code || "";
    this.field = error.field || "";
  }
}

export class NetworkError extends Error {}

export function makeApi(csrfToken) {
  async function call(method, url, body) {
    let response;
    try {
      response = await fetch(url, {
        method,
        credentials: "same-origin",
        headers: {
          Accept: "application/json",
          "Content-Type": "application/json",
          "X-CSRFToken": csrfToken,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new NetworkError("No connection to the server.");
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(response.status, data.error || {});
    return data;
  }
  return {
    // Reading is idempotent: a 5xx or a lost connection is tried again, quietly.
    get: (url) => withRetry(() => call("GET", url), { attempts: 3, serverErrors: true }),
    post: (url, body) => call("POST", url, body ?? {}),
  };
}

// Worth another try: a lost connection or a gateway error, and, for a request that is safe to
// repeat (serverErrors), any 5xx. Never a 4xx: the server has decided.
export function isTransient(err, { serverErrors = false } = {}) {
  if (err instanceof NetworkError) return true;
  return err instanceof ApiError && (err.status >= 502 || (serverErrors && err.status >= 500));
}

// Retries with exponential backoff (0.5 s, 1 s, 2 s by default); onRetry(attempt, of, waitMs)
// lets the page say what it is doing.
export async function withRetry(action, { attempts = 4, delayMs = 500, serverErrors = false, onRetry } = {}) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await action();
    } catch (err) {
      if (!isTransient(err, { serverErrors }) || attempt >= attempts) throw err;
      const wait = delayMs * 2 ** (attempt - 1);
      if (onRetry) onRetry(attempt, attempts - 1, wait);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
