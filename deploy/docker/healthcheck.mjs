#!/usr/bin/env node
// Container health check: GET /healthz on the local HTTP service. Slim images
// carry no curl or wget, so Docker's HEALTHCHECK runs this with node.
// Exit 0 when the service answers 2xx within the timeout, 1 otherwise.
//
//   node healthcheck.mjs [url]
//
// The URL defaults to http://127.0.0.1:$DRIFTSTREAM_HTTP_PORT/healthz (port 8080
// when unset), the same variable the service itself binds to.

const port = process.env.DRIFTSTREAM_HTTP_PORT || '8080';
const url = process.argv[2] || `http://127.0.0.1:${port}/healthz`;

try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  if (!res.ok) {
    console.error(`healthcheck: ${url} answered ${res.status}`);
    process.exit(1);
  }
  process.exit(0);
} catch (err) {
  console.error(`healthcheck: ${url} unreachable: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
