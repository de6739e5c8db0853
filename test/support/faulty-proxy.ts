import { createServer, request, type IncomingMessage, type Server } from 'node:http';

/**
 * A loopback HTTP proxy in front of a real object-store server that injects faults into
 * chosen requests: an error status (throttling, 503) instead of forwarding, or forwarding and
 * then cutting the connection before the client sees the response (a "lost response": the
 * write happened, the client cannot know), or holding a request until the test lets it go. Tests assert on counts of requests, never on time.
 */
export interface Fault {
  /** Which requests: method and the raw request URL (path and query). */
  match: (method: string, url: string) => boolean;
  /** How many matching requests get the fault; later ones pass through. */
  times: number;
  /**
   * An error answer; 'drop-response'; or `hold`: the request waits for the returned promise
   * before it is forwarded, so a test can let another writer act at exactly that point.
   */
  fault: { status: number; headers?: Record<string, string>; body?: string } | 'drop-response' | { hold: () => Promise<void> };
  /** Matching requests seen so far (faulted or not). */
  seen?: number;
}

export interface FaultyProxy {
  endpoint: string;
  faults: Fault[];
  /** Every request, as "METHOD url". */
  requests: string[];
  close(): Promise<void>;
}

export async function startFaultyProxy(upstream: string): Promise<FaultyProxy> {
  const up = new URL(upstream);
  const faults: Fault[] = [];
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const method = req.method!;
      requests.push(`${method} ${req.url}`);
      let fault: Fault['fault'] | undefined;
      for (const f of faults) {
        if (!f.match(method, req.url!)) continue;
        f.seen = (f.seen ?? 0) + 1;
        if (f.seen <= f.times) {
          fault = f.fault;
          break;
        }
      }
      if (fault !== undefined && typeof fault === 'object' && 'hold' in fault) {
        await fault.hold();
        fault = undefined;
      }
      if (fault !== undefined && fault !== 'drop-response') {
        res.writeHead(fault.status, fault.headers);
        res.end(fault.body);
        return;
      }
      const upRes = await forward(up, req, body);
      const upBody: Buffer[] = [];
      for await (const c of upRes) upBody.push(c as Buffer);
      if (fault === 'drop-response') {
        // The upstream did the work; the client sees a connection reset.
        req.socket.destroy();
        return;
      }
      const headers = { ...upRes.headers };
      // A HEAD answer's Content-Length is the object's size, not the (empty) body's.
      if (method !== 'HEAD') {
        delete headers['transfer-encoding'];
        headers['content-length'] = String(Buffer.concat(upBody).length);
      }
      res.writeHead(upRes.statusCode!, headers);
      res.end(Buffer.concat(upBody));
    })().catch(() => req.socket.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    faults,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

function forward(up: URL, req: IncomingMessage, body: Buffer): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers };
    delete headers['transfer-encoding'];
    headers['content-length'] = String(body.length);
    const r = request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers }, resolve);
    r.on('error', reject);
    r.end(body);
  });
}
