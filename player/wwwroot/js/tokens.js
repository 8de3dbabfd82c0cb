// Short-lived access tokens for the page's scripts, from the player's own server (/session/token,
// authorised by the HttpOnly session cookie). Kept in memory only: never in storage, never in a URL.

const audiences = { api: 'cloudstore-api', keyServer: 'cloudstore-keyserver' };
const cache = new Map();
const margin = 60_000;

/** Thrown when the session is over: the page sends the person to the sign-in page. */
export class SignedOut extends Error {}

/** An access token for 'api' or 'keyServer', reused while it has more than a minute to live. */
export async function token(audience) {
  const name = audiences[audience];
  const cached = cache.get(name);
  if (cached && cached.expiresAt - Date.now() > margin) {
    return cached.token;
  }

  // The default cache mode, so that the camera page's preload of the same URL answers the first call; the response is
  // no-store, so the HTTP cache never keeps a token.
  const pending = fetch(`/session/token?audience=${encodeURIComponent(name)}`, { credentials: 'same-origin' })
    .then(async (response) => {
      if (response.status === 401) {
        throw new SignedOut('Your session has ended.');
      }
      if (!response.ok) {
        throw new Error(`The player could not get an access token (${response.status}).`);
      }
      const body = await response.json();
      return { token: body.access_token, expiresAt: Date.parse(body.expires_at) };
    });
  cache.set(name, { token: pending.then((t) => t.token), expiresAt: Date.now() + 2 * margin });
  try {
    const fresh = await pending;
    cache.set(name, { token: fresh.token, expiresAt: fresh.expiresAt });
    return fresh.token;
  } catch (error) {
    cache.delete(name);
    throw error;
  }
}

/** GET JSON from the functions API with the API token; a problem response (RFC 7807) becomes an Error with its text. */
export async function getJson(url) {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${await token('api')}` }, cache: 'no-store' });
  if (!response.ok) {
    throw new Error(await problemText(response));
  }
  return response.json();
}

/** POST JSON to the functions API with the API token; the answer's JSON, or an Error with the problem's text. */
export async function postJson(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { Authorization: `Bearer ${await token('api')}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    cache: 'no-store',
  });
  if (!response.ok) {
    throw new Error(await problemText(response));
  }
  return response.json();
}

async function problemText(response) {
  try {
    const problem = await response.json();
    return [problem.title, problem.detail].filter(Boolean).join(': ') || `The service answered ${response.status}.`;
  } catch {
    return `The service answered ${response.status}.`;
  }
}
