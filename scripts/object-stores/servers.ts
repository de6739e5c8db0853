/**
 * Starts the three local object-store servers the storage tests (and developers) use, each on
 * a free loopback port, and says how to reach them:
 *   - S3: moto in server mode, one request at a time (scripts/object-stores/moto_serial.py), so
 *     that its If-None-Match checks on PutObject and CompleteMultipartUpload are atomic;
 *   - GCS: fake-gcs-server, memory backend (generations, so ifGenerationMatch works);
 *   - Azure Blob: Azurite, in-memory (If-None-Match: 409 BlobAlreadyExists).
 * Binaries come from scripts/object-stores/install.sh (run here first unless told not to).
 *
 *   npx tsx scripts/object-stores/servers.ts    starts them, prints `export` lines, runs until Ctrl-C
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface ObjectStoreEndpoints {
  s3: { endpoint: string; region: string; accessKeyId: string; secretAccessKey: string };
  gcs: { endpoint: string };
  azure: { endpoint: string; account: string; accountKey: string; connectionString: string };
}

export interface RunningObjectStores extends ObjectStoreEndpoints {
  stop(): Promise<void>;
}

/** Runs install.sh (idempotent: instant once installed) and returns the binaries' paths. */
export function installObjectStores(): { moto: string; fakeGcs: string; azurite: string } {
  const out = execFileSync('bash', [path.join(REPO, 'scripts/object-stores/install.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const get = (name: string) => {
    const m = new RegExp(`^${name}=(.*)$`, 'm').exec(out);
    if (!m) throw new Error(`install.sh did not report ${name}`);
    return m[1];
  };
  return { moto: get('MOTO_SERVER'), fakeGcs: get('FAKE_GCS_SERVER'), azurite: get('AZURITE_BLOB') };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

interface Started {
  proc: ChildProcess;
  port: number;
}

/**
 * Starts a server on a free port and waits until it answers HTTP. The port can be taken
 * between choosing and binding (other engineers' tests run here too): a server that exits
 * before answering is started again on another port, a few times.
 */
async function startServer(name: string, command: string, args: (port: number) => string[], probePath: string, env: NodeJS.ProcessEnv = process.env): Promise<Started> {
  let lastOutput = '';
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort();
    const proc = spawn(command, args(port), { stdio: ['ignore', 'pipe', 'pipe'], env, detached: false });
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-4000);
    };
    proc.stdout!.on('data', keep);
    proc.stderr!.on('data', keep);
    let exited = false;
    proc.on('exit', () => {
      exited = true;
    });
    proc.on('error', (e) => {
      exited = true;
      output += `\n${e.message}`;
    });
    // A generous bound on a loaded 2-core machine: moto imports a lot of Python on start.
    for (let i = 0; i < 1200 && !exited; i++) {
      try {
        await fetch(`http://127.0.0.1:${port}${probePath}`, { signal: AbortSignal.timeout(2000) });
        return { proc, port };
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    lastOutput = output;
    if (!exited) {
      proc.kill('SIGKILL');
      break;
    }
  }
  throw new Error(`${name} did not start (${command}); its last output:\n${lastOutput}`);
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    proc.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

/**
 * Starts the three servers. Credentials are made up per run (random), so tests can check that
 * no message ever contains them; Azurite is given its own account with that random key.
 */
export async function startObjectStores(options: { install?: boolean } = {}): Promise<RunningObjectStores> {
  const bin = options.install === false ? fromEnv() : installObjectStores();
  const secretAccessKey = `s3secret${randomBytes(18).toString('hex')}`;
  const accountKey = randomBytes(64).toString('base64');
  const account = 'tributarytest';
  const started: Started[] = [];
  try {
    const results = await Promise.allSettled([
      // moto through moto_serial.py: one request at a time, so its conditional writes are atomic (see there).
      startServer('moto', path.join(path.dirname(bin.moto), 'python'), (p) => [path.join(REPO, 'scripts/object-stores/moto_serial.py'), '127.0.0.1', String(p)], '/moto-api/'),
      startServer('fake-gcs-server', bin.fakeGcs, (p) => ['-scheme', 'http', '-host', '127.0.0.1', '-port', String(p), '-backend', 'memory', '-external-url', `http://127.0.0.1:${p}`, '-public-host', `127.0.0.1:${p}`, '-log-level', 'error'], '/storage/v1/b'),
      startServer(
        'azurite',
        bin.azurite,
        (p) => ['--blobHost', '127.0.0.1', '--blobPort', String(p), '--inMemoryPersistence', '--silent', '--skipApiVersionCheck', '--disableProductStyleUrl'],
        '/',
        { ...process.env, AZURITE_ACCOUNTS: `${account}:${accountKey}` },
      ),
    ]);
    // Every server that did start is stopped again if another did not.
    for (const r of results) if (r.status === 'fulfilled') started.push(r.value);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    const [moto, gcs, azurite] = started;
    const azureEndpoint = `http://127.0.0.1:${azurite.port}/${account}`;
    return {
      s3: { endpoint: `http://127.0.0.1:${moto.port}`, region: 'us-east-1', accessKeyId: 'tributary-test-key-id', secretAccessKey },
      gcs: { endpoint: `http://127.0.0.1:${gcs.port}` },
      azure: {
        endpoint: azureEndpoint,
        account,
        accountKey,
        connectionString: `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${accountKey};BlobEndpoint=${azureEndpoint};`,
      },
      stop: async () => {
        await Promise.all(started.map((s) => stopProcess(s.proc)));
      },
    };
  } catch (e) {
    await Promise.all(started.map((s) => stopProcess(s.proc)));
    throw e;
  }
}

function fromEnv(): { moto: string; fakeGcs: string; azurite: string } {
  const need = (k: string) => {
    const v = process.env[k];
    if (!v) throw new Error(`${k} is not set (run scripts/object-stores/install.sh)`);
    return v;
  };
  return { moto: need('MOTO_SERVER'), fakeGcs: need('FAKE_GCS_SERVER'), azurite: need('AZURITE_BLOB') };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = Date.now();
  const s = await startObjectStores();
  const lines = [
    `# started in ${Date.now() - t0} ms; Ctrl-C stops them`,
    `export AWS_ENDPOINT_URL=${s.s3.endpoint} AWS_ALLOW_HTTP=true AWS_REGION=${s.s3.region} AWS_ACCESS_KEY_ID=${s.s3.accessKeyId} AWS_SECRET_ACCESS_KEY=${s.s3.secretAccessKey}`,
    `export STORAGE_EMULATOR_HOST=${s.gcs.endpoint}`,
    `export AZURE_STORAGE_CONNECTION_STRING='${s.azure.connectionString}'`,
  ];
  console.log(lines.join('\n'));
  const stop = () => void s.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
