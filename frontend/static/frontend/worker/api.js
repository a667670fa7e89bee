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
    get: (url) => call("GET", url),
    post: (url, body) => call("POST", url, body ?? {}),
  };
}

// Retry what a flaky link may have lost: network errors and gateway errors, never a 4xx.
export async function withRetry(action, { attempts = 4, delayMs = 700, onRetry } = {}) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await action();
    } catch (err) {
      const transient = err instanceof NetworkError || (err instanceof ApiError && err.status >= 502);
      if (!transient || attempt >= attempts) throw err;
      if (onRetry) onRetry(attempt);
      await new Promise((resolve) => setTimeout(resolve, delayMs * attempt));
    }
  }
}
