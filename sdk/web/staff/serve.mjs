// serve.mjs serves the staff web app (this folder) over HTTP, for a browser
// and for test/console.test.js, with the example page's static file server.
// The app calls the API at ?api=<url> directly (the server's
// NARA_CORS_ORIGINS must include this origin), and the staff login returns
// here: the server's OIDC_REDIRECT_URL names this origin's "/".
//
//   node staff/serve.mjs [host:port]     default 127.0.0.1:5174
import { fileURLToPath } from "node:url";
import { serve as serveFolder } from "../example/serve.mjs";

const root = fileURLToPath(new URL(".", import.meta.url));

/** serve starts the staff app's file server on addr; see example/serve.mjs. */
export function serve(addr = "127.0.0.1:5174") {
  return serveFolder(addr, root);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const api = process.env.NARA_URL ?? "http://127.0.0.1:8080";
  const { origin } = await serve(process.argv[2] ?? process.env.NARA_STAFF_ADDR ?? "127.0.0.1:5174");
  console.log(`serving the staff app on ${origin}/?api=${encodeURIComponent(api)}`);
  console.log(`the API server must allow it and send staff logins back to it:`);
  console.log(`  NARA_CORS_ORIGINS=${origin} OIDC_REDIRECT_URL=${origin}/`);
}
