import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { TributaryError } from '../errors.js';
import { readPackageFile } from '../storage/package-file.js';
import type { DashboardFeed } from './dashboard-feed.js';
import { DASHBOARD_HTML } from './dashboard-page.js';
import type { Health, ProbeResult } from './health.js';

export interface OpsServerOptions {
  port: number;
  /** Interface to bind (default 127.0.0.1; 0.0.0.0 for a pod's probes and Prometheus). */
  host?: string;
  /** /metrics in the Prometheus text format. */
  registry?: Registry;
  /** /healthz and /readyz. */
  health?: Health;
  /** / (the page), /api/state and /events: only when the dashboard was asked for. */
  dashboard?: DashboardFeed;
  /**
   * Whether the server alone keeps the process running (`tributary dashboard`). Otherwise it is
   * unref'd: a `run` process ends when its queries do, whatever is connected.
   */
  keepAlive?: boolean;
}

/** uPlot's files, served from the installed package (no CDN: the page works offline). */
const ASSETS: Record<string, { specifier: string; type: string }> = {
  '/assets/uPlot.iife.min.js': { specifier: 'uplot/dist/uPlot.iife.min.js', type: 'text/javascript; charset=utf-8' },
  '/assets/uPlot.min.css': { specifier: 'uplot/dist/uPlot.min.css', type: 'text/css; charset=utf-8' },
};

/**
 * One HTTP server per process for operating it: Prometheus metrics, liveness and readiness
 * probes, and (when asked) the live dashboard with its server-sent events. node:http is enough
 * for a handful of GET routes; no framework.
 */
export class OpsServer {
  private readonly sse = new Set<ServerResponse>();
  private readonly assets = new Map<string, Uint8Array>();

  private constructor(
    private readonly server: Server,
    private readonly opts: OpsServerOptions,
  ) {}

  static async start(opts: OpsServerOptions): Promise<OpsServer> {
    const server = createServer();
    const ops = new OpsServer(server, opts);
    server.on('request', (req, res) => void ops.handle(req, res));
    const host = opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(new TributaryError('IO', `cannot serve metrics on ${host}:${opts.port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.code === 'EACCES' ? 'permission denied' : e.message}`, { port: opts.port, host, errno: e.code }, { cause: e })),
      );
      server.listen(opts.port, host, () => resolve());
    });
    if (!opts.keepAlive) server.unref();
    return ops;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    const a = this.server.address() as AddressInfo;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${a.port}/`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'only GET\n');
      const { registry, health, dashboard } = this.opts;
      if (path === '/metrics' && registry) return send(res, 200, registry.contentType, await registry.metrics());
      if (path === '/healthz' && health) return probe(res, health.liveness());
      if (path === '/readyz' && health) return probe(res, health.readiness());
      if (dashboard) {
        if (path === '/' || path === '/index.html') return send(res, 200, 'text/html; charset=utf-8', DASHBOARD_HTML);
        if (path === '/api/state') return send(res, 200, 'application/json', JSON.stringify(await dashboard.state()));
        if (path === '/events') return this.events(req, res, dashboard);
        const asset = ASSETS[path];
        if (asset) {
          let bytes = this.assets.get(path);
          if (!bytes) this.assets.set(path, (bytes = await readPackageFile(asset.specifier)));
          return send(res, 200, asset.type, bytes, { 'cache-control': 'max-age=3600' });
        }
      }
      const routes = [registry && '/metrics', health && '/healthz', health && '/readyz', dashboard && '/ (dashboard)'].filter(Boolean).join(', ');
      send(res, 404, 'text/plain', `not found: ${path} (this server has ${routes}${dashboard ? '' : '; the dashboard is off unless asked for: --dashboard'})\n`);
    } catch (e) {
      send(res, 500, 'text/plain', `${(e as Error).message}\n`);
    }
  }

  /** Server-sent events: every update of the feed, until the page goes away or the server closes. */
  private events(req: IncomingMessage, res: ServerResponse, feed: DashboardFeed): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(': connected\n\n');
    if (!this.opts.keepAlive) req.socket.unref();
    this.sse.add(res);
    const unsubscribe = feed.subscribe((event, data) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
    res.on('close', () => {
      unsubscribe();
      this.sse.delete(res);
    });
  }

  async close(): Promise<void> {
    for (const res of this.sse) res.end();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function send(res: ServerResponse, status: number, type: string, body: string | Uint8Array, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.length), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

/** 200 or 503 with the reasons as JSON: probes read the status, people read the body. */
function probe(res: ServerResponse, r: ProbeResult): void {
  send(res, r.ok ? 200 : 503, 'application/json', JSON.stringify({ status: r.ok ? 'ok' : 'unavailable', ...r }) + '\n');
}
