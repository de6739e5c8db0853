import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/**
 * A loopback server speaking just enough S3 (path style: PutObject, GetObject, HeadObject,
 * ListObjectsV2, DeleteObject, CreateBucket) for S3Store, which IGNORES If-None-Match: a
 * conditional create silently overwrites, as some S3-compatible stores do. It exists to prove
 * that the conditional-write probe refuses such a store instead of losing commits.
 */
export interface FakeS3 {
  endpoint: string;
  /** Requests seen, as "METHOD /path" (no query). */
  requests: string[];
  objects: Map<string, { body: Buffer; meta: Record<string, string>; modified: Date }>;
  close(): Promise<void>;
}

export async function startFakeS3(): Promise<FakeS3> {
  const objects: FakeS3['objects'] = new Map();
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      res.statusCode = 500;
      res.end(String(e));
    });
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url!, 'http://x');
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = rest.map((s) => decodeURIComponent(s)).join('/');
    requests.push(`${req.method} ${url.pathname}`);
    const id = `${decodeURIComponent(bucket)}/${key}`;
    if (req.method === 'PUT' && key === '') return void res.end();
    if (req.method === 'PUT') {
      const meta: Record<string, string> = {};
      for (const [h, v] of Object.entries(req.headers)) if (h.startsWith('x-amz-meta-')) meta[h] = String(v);
      objects.set(id, { body, meta, modified: new Date() }); // If-None-Match ignored on purpose
      res.setHeader('ETag', '"fake"');
      return void res.end();
    }
    if (req.method === 'DELETE') {
      objects.delete(id);
      res.statusCode = 204;
      return void res.end();
    }
    if (req.method === 'GET' && key === '' && url.searchParams.get('list-type') === '2') return list(res, decodeURIComponent(bucket), url.searchParams);
    const o = objects.get(id);
    if (!o) {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'application/xml');
      return void res.end(req.method === 'HEAD' ? undefined : '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
    }
    res.setHeader('Content-Length', o.body.length);
    res.setHeader('Last-Modified', o.modified.toUTCString());
    res.setHeader('ETag', '"fake"');
    for (const [h, v] of Object.entries(o.meta)) res.setHeader(h, v);
    res.end(req.method === 'HEAD' ? undefined : o.body);
  }
  function list(res: ServerResponse, bucket: string, q: URLSearchParams): void {
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter');
    const max = Number(q.get('max-keys') ?? 1000);
    const after = q.get('continuation-token') ?? q.get('start-after') ?? '';
    const keys = [...objects.keys()]
      .filter((k) => k.startsWith(`${bucket}/`))
      .map((k) => k.slice(bucket.length + 1))
      .filter((k) => k.startsWith(prefix) && k > after && !(delimiter && k.slice(prefix.length).includes(delimiter)))
      .sort();
    const page = keys.slice(0, max);
    const truncated = keys.length > max;
    const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    const contents = page
      .map((k) => {
        const o = objects.get(`${bucket}/${k}`)!;
        return `<Contents><Key>${esc(k)}</Key><Size>${o.body.length}</Size><LastModified>${o.modified.toISOString()}</LastModified></Contents>`;
      })
      .join('');
    res.setHeader('Content-Type', 'application/xml');
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${esc(bucket)}</Name><Prefix>${esc(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys>` +
        `<IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${esc(page[page.length - 1])}</NextContinuationToken>` : ''}${contents}</ListBucketResult>`,
    );
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    objects,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
