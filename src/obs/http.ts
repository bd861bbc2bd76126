// /healthz, /readyz and /metrics on a configurable address (127.0.0.1 by default).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean | string>;
}

export interface HttpEndpointsOptions {
  host?: string;
  port?: number;
  readiness: () => Readiness;
  metrics: () => Promise<string>;
  metricsContentType?: string;
}

export class HttpEndpoints {
  private server?: Server;
  constructor(private readonly opts: HttpEndpointsOptions) {}

  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => {
      const url = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET') {
        res.writeHead(405, { allow: 'GET' }).end();
        return;
      }
      if (url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
      } else if (url === '/readyz') {
        const r = this.opts.readiness();
        res.writeHead(r.ready ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(r));
      } else if (url === '/metrics') {
        this.opts.metrics().then(
          (text) =>
            res
              .writeHead(200, { 'content-type': this.opts.metricsContentType ?? 'text/plain; version=0.0.4' })
              .end(text),
          (err: unknown) => res.writeHead(500).end(String(err)),
        );
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 0, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    const a = server.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections?.();
    });
  }
}
