// serve.mjs serves the example page (this folder) over HTTP, for a browser
// and for test/example.test.js. It is a static file server and nothing more:
// the page calls the API at ?api=<url> directly, which needs that server's
// NARA_CORS_ORIGINS to include this page's origin.
//
//   node example/serve.mjs [host:port]     default 127.0.0.1:5173
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

const exampleRoot = fileURLToPath(new URL(".", import.meta.url));
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".png": "image/png",
};

/**
 * serve starts the file server for the folder root (this one by default) on
 * addr ("host:port"; port 0 picks a free one) and resolves to it with its
 * origin, for example http://127.0.0.1:5173. The staff app (staff/serve.mjs)
 * is served by it too.
 */
export function serve(addr = "127.0.0.1:5173", root = exampleRoot) {
  const [host, port] = splitAddr(addr);
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const file = normalize(join(root, path.endsWith("/") ? path + "index.html" : path));
    if (!file.startsWith(root) || file.split(sep).includes("node_modules") || !(extname(file) in types)) {
      res.writeHead(404).end("not found");
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "Content-Type": types[extname(file)], "Cache-Control": "no-store" }).end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolve({ server, origin: `http://${host}:${actual}` });
    });
  });
}

function splitAddr(addr) {
  const i = addr.lastIndexOf(":");
  return [addr.slice(0, i) || "127.0.0.1", Number(addr.slice(i + 1))];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const api = process.env.NARA_URL ?? "http://127.0.0.1:8080";
  const { origin } = await serve(process.argv[2] ?? process.env.NARA_EXAMPLE_ADDR ?? "127.0.0.1:5173");
  console.log(`serving the example on ${origin}/?api=${encodeURIComponent(api)}`);
  console.log(`the API server must allow it: NARA_CORS_ORIGINS=${origin}`);
}
