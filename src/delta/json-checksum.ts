import { createHash } from 'node:crypto';

/**
 * The `checksum` of a `_last_checkpoint` file (PROTOCOL.md "JSON checksum"): the MD5 of the JSON
 * canonicalized as `path=value` pairs, where path segments are quoted, percent-encoded keys (or
 * array positions) joined by `+`, string values are quoted and percent-encoded, and the pairs are
 * sorted and joined by `,`; the top-level `checksum` is left out. Spark validates it when it
 * reads `_last_checkpoint` and, on a mismatch, ignores the file. The pairs are sorted as whole
 * `path=value` strings, character by character, because that is what Spark does
 * (`LastCheckpointInfo.treeNodeToChecksum`); the protocol's "sort by path" differs from it only
 * for arrays of ten or more elements, and Spark is the reader that checks.
 */
export function jsonChecksum(value: unknown): string {
  const pairs: string[] = [];
  const walk = (v: unknown, path: string[]) => {
    if (v === undefined) return;
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, String(i)]));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, [...path, encode(k)]);
    else pairs.push(`${path.join('+')}=${typeof v === 'string' ? encode(v) : String(v)}`);
  };
  walk(value, []);
  const canonical = pairs.filter((p) => !p.startsWith('"checksum"=')).sort().join(',');
  return createHash('md5').update(canonical, 'utf8').digest('hex');
}

/** `value` as JSON text with its checksum as the last key, as Spark writes `_last_checkpoint`. */
export function withJsonChecksum(value: Record<string, unknown>): string {
  // Canonicalize what will be written (undefined fields dropped, numbers as JSON prints them).
  const plain = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  delete plain.checksum;
  return JSON.stringify({ ...plain, checksum: jsonChecksum(plain) });
}

/** RFC 3986 unreserved characters stay; every other UTF-8 byte becomes %XX (uppercase). */
function encode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const unreserved = (b >= 0x61 && b <= 0x7a) || (b >= 0x41 && b <= 0x5a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
    out += unreserved ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return `"${out}"`;
}
