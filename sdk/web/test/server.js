// The live server the tests talk to: sdk/scripts/with-server.sh starts one
// and sets NARA_URL.
export const baseUrl = process.env.NARA_URL;
if (!baseUrl) {
  throw new Error("NARA_URL is not set: run the tests through sdk/scripts/with-server.sh (make sdk-test-web)");
}

/** unauthenticated is the Connect protocol's answer to a missing or expired session. */
export function unauthenticated() {
  return new Response(JSON.stringify({ code: "unauthenticated", message: "session expired" }), {
    status: 401,
    headers: { "Content-Type": "application/json" },
  });
}

/** bearer returns the token a request carried, or undefined. */
export function bearer(init) {
  const value = new Headers(init?.headers).get("Authorization");
  return value?.startsWith("Bearer ") ? value.slice("Bearer ".length) : undefined;
}

/**
 * passOn sends a request to the live server without its Authorization header,
 * for tests that play the session server themselves: the demo server refuses
 * tokens it did not issue, even on public services.
 */
export function passOn(input, init) {
  const headers = new Headers(init?.headers);
  headers.delete("Authorization");
  return globalThis.fetch(input, { ...init, headers });
}
