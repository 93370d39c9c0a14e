import net from 'node:net';

export type ProxyMode = 'open' | 'refuse' | 'stall';

/**
 * A loopback TCP proxy a test controls, to take a server away from the code
 * under test without touching the server itself (the machine's PostgreSQL and
 * Redis are shared and must never be stopped).
 *
 * - `open`: forwards bytes both ways.
 * - `refuse` ({@link TcpProxy.cut}): resets every connection and every new one, like a server that is down.
 * - `stall`: connections stay up but no byte moves, like a network partition.
 */
export interface TcpProxy {
  readonly port: number;
  readonly mode: ProxyMode;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** A URL for the proxy built from the target URL (host and port replaced). */
  url(targetUrl: string): string;
  cut(): void;
  stall(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host?: string; port: number }, listenPort = 0): Promise<TcpProxy> {
  const host = target.host ?? '127.0.0.1';
  let mode: ProxyMode = 'open';
  let accepted = 0;
  const pairs = new Set<{ client: net.Socket; upstream?: net.Socket }>();

  const kill = (s: net.Socket | undefined) => {
    if (!s || s.destroyed) return;
    // RST rather than FIN: clients see a dead peer at once.
    if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
    else s.destroy();
  };

  const server = net.createServer((client) => {
    accepted++;
    client.on('error', () => undefined);
    if (mode === 'refuse') {
      kill(client);
      return;
    }
    const pair: { client: net.Socket; upstream?: net.Socket } = { client };
    pairs.add(pair);
    client.on('close', () => {
      pairs.delete(pair);
      kill(pair.upstream);
    });
    if (mode === 'stall') {
      // Accepted, never answered: the connection hangs until restore() or a client timeout.
      client.pause();
      return;
    }
    connectUpstream(pair);
  });

  function connectUpstream(pair: { client: net.Socket; upstream?: net.Socket }) {
    const upstream = net.connect({ host, port: target.port });
    pair.upstream = upstream;
    upstream.on('error', () => kill(pair.client));
    upstream.on('close', () => kill(pair.client));
    upstream.on('data', (chunk) => {
      if (mode === 'open') pair.client.write(chunk);
    });
    pair.client.on('data', (chunk) => {
      if (mode === 'open') upstream.write(chunk);
    });
    pair.client.resume();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    url(targetUrl: string) {
      const u = new URL(targetUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut() {
      mode = 'refuse';
      for (const p of pairs) {
        kill(p.client);
        kill(p.upstream);
      }
      pairs.clear();
    },
    stall() {
      // Bytes in flight are dropped from now on; existing connections stay open.
      mode = 'stall';
    },
    restore() {
      const wasStalled = mode === 'stall';
      mode = 'open';
      if (wasStalled) {
        // A stalled link that comes back has lost bytes: its connections are no longer usable.
        for (const p of pairs) {
          kill(p.client);
          kill(p.upstream);
        }
        pairs.clear();
      }
    },
    async close() {
      mode = 'refuse';
      for (const p of pairs) {
        kill(p.client);
        kill(p.upstream);
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
