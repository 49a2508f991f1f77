// JSON calls to the daemon. The CSRF token comes from login / GET /api/v1/session and goes
// with every state-changing call; the session itself is an HttpOnly cookie.
let csrf = '';
let onUnauthorized = () => {};

export function setCsrf(token) {
  csrf = token ?? '';
}

export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new ApiError(res.status, data?.error ?? 'HTTP', data?.message ?? res.statusText);
    if (res.status === 401 && !path.startsWith('/api/v1/session') && path !== '/api/v1/setup') {
      onUnauthorized();
    }
    throw err;
  }
  return data;
}

/** GET that answers null when the route does not exist (a module not merged yet). */
export async function optional(path) {
  try {
    return await api('GET', path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}
