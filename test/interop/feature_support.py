"""Helpers for the table-feature tests (test_clustering.py, test_variant.py, the stream of
test_column_mapping.py): a JSON API on loopback for `tributary run --format http-json`, the
number of files a Spark query read, and an independent decoder of the Variant binary encoding
(written from apache/parquet-format's VariantEncoding.md; PySpark 3.5 has none, and delta-rs
returns variants as their raw bytes)."""

import contextlib
import decimal
import json
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@contextlib.contextmanager
def json_api(pages):
    """Serves pages of records at http://127.0.0.1:<port>/records?page=N (1-based; past the last
    page an empty array). Records are JSON texts, sent as written, so every digit arrives."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            q = parse_qs(urlparse(self.path).query)
            n = int(q.get("page", ["1"])[0])
            body = ("[" + ",".join(pages[n - 1]) + "]" if 1 <= n <= len(pages) else "[]").encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/records"
    finally:
        server.shutdown()
        server.server_close()


def files_read(df):
    """Runs the query and returns the number of files its scan read (the FileSourceScanExec
    "number of files read" metric, after Delta's data skipping)."""
    df.collect()
    total = 0

    def walk(node):
        nonlocal total
        if "AdaptiveSparkPlanExec" in node.getClass().getSimpleName():
            walk(node.executedPlan())
            return
        m = node.metrics()
        if node.getClass().getSimpleName() == "FileSourceScanExec" and m.contains("numFiles"):
            total += m.get("numFiles").get().value()
        it = node.children().iterator()
        while it.hasNext():
            walk(it.next())

    walk(df._jdf.queryExecution().executedPlan())
    return total


# ---------------------------------------------------------------------------------------------
# Variant binary encoding -> Python values with exact numbers: int for integers, Decimal (with
# its scale) for decimals, float for doubles and floats.


def _le(b, pos, n):
    return int.from_bytes(b[pos : pos + n], "little")


def variant_to_python(metadata, value):
    metadata, value = bytes(metadata), bytes(value)
    assert metadata[0] & 0x0F == 1, "metadata version"
    osz = (metadata[0] >> 6) + 1
    n = _le(metadata, 1, osz)
    offs = [_le(metadata, 1 + osz + i * osz, osz) for i in range(n + 1)]
    start = 1 + osz + (n + 1) * osz
    keys = [metadata[start + offs[i] : start + offs[i + 1]].decode("utf-8") for i in range(n)]

    def dec(pos):
        h = value[pos]
        basic, hdr = h & 3, h >> 2
        if basic == 1:
            return value[pos + 1 : pos + 1 + hdr].decode("utf-8")
        if basic in (2, 3):
            large = (hdr >> (4 if basic == 2 else 2)) & 1
            idsz = ((hdr >> 2) & 3) + 1 if basic == 2 else 0
            osz_ = (hdr & 3) + 1
            cnt = _le(value, pos + 1, 4 if large else 1)
            ids = pos + 1 + (4 if large else 1)
            offs_ = ids + cnt * idsz
            data = offs_ + (cnt + 1) * osz_
            items = [dec(data + _le(value, offs_ + i * osz_, osz_)) for i in range(cnt)]
            if basic == 3:
                return items
            return {keys[_le(value, ids + i * idsz, idsz)]: items[i] for i in range(cnt)}
        if hdr == 0:
            return None
        if hdr in (1, 2):
            return hdr == 1
        if hdr in (3, 4, 5, 6):
            k = [1, 2, 4, 8][hdr - 3]
            return int.from_bytes(value[pos + 1 : pos + 1 + k], "little", signed=True)
        if hdr == 7:
            return struct.unpack("<d", value[pos + 1 : pos + 9])[0]
        if hdr == 14:
            return struct.unpack("<f", value[pos + 1 : pos + 5])[0]
        if hdr in (8, 9, 10):
            k = [4, 8, 16][hdr - 8]
            unscaled = int.from_bytes(value[pos + 2 : pos + 2 + k], "little", signed=True)
            return decimal.Decimal(unscaled).scaleb(-value[pos + 1])
        if hdr == 16:
            ln = _le(value, pos + 1, 4)
            return value[pos + 5 : pos + 5 + ln].decode("utf-8")
        raise AssertionError(f"variant type {hdr} not expected in these tests")

    return dec(0)


def exact_json(text):
    """JSON text as Python values with exact numbers (ints; Decimals keep their digits and scale;
    numbers with an exponent as floats, which is what a variant makes of them)."""

    def number(s):
        return float(s) if "e" in s.lower() else decimal.Decimal(s)

    return json.loads(text, parse_float=number, parse_int=int)


def exact_form(v):
    """A form that compares numbers by kind and exact digits: 1.50 != 1.5, 1 != 1.0."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, int):
        return ("int", v)
    if isinstance(v, decimal.Decimal):
        # A decimal of scale 0 is an integer (parse_json keeps integers beyond a long that way).
        return ("int", int(v)) if v.as_tuple().exponent == 0 else ("dec", format(v, "f"))
    if isinstance(v, float):
        return ("dbl", v)
    if isinstance(v, list):
        return [exact_form(x) for x in v]
    if isinstance(v, dict):
        return {k: exact_form(x) for k, x in v.items()}
    raise AssertionError(f"unexpected {type(v)}")
