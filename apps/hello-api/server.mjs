// hello-api: a tiny HTTP service, built and deployed by the same program that runs it.
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 8080);
const started = Date.now();

export const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({ status: "ok", uptimeSeconds: Math.round((Date.now() - started) / 1000) }),
    );
    return;
  }
  if (url.pathname === "/") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(
      JSON.stringify({
        message: "hello from homebrew-dev",
        revision: process.env.SOURCE_REVISION ?? "dev",
      }),
    );
    return;
  }
  res.writeHead(404, { "content-type": "application/json" });
  res.end(JSON.stringify({ error: "not found" }));
});

if (process.argv[1] && import.meta.url === new URL(process.argv[1], "file://").href) {
  server.listen(port, "0.0.0.0", () => process.stdout.write(`listening on ${port}\n`));
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
