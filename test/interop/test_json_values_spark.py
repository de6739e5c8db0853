"""Spark's JSON reader judges Tributary's, value by value. The same NDJSON lines (a seeded corpus
of number, string, boolean, date and timestamp spellings, one column set per line) are read by
`spark.read.schema(DDL).json(...)` (PERMISSIVE, with `_corrupt_record`) and appended by `tributary
append --input --schema DDL`, which refuses a whole input at its first bad line: each refused line
is taken out (the message must name it) and the rest appended again, until an append lands.
Spark then reads Tributary's table.

What must hold ("a value lands exactly or is refused; never a different value with exit 0"):
- every line both accept lands as the same value (floats compared bit for bit: -0.0 is not 0.0);
- a line Tributary accepts and Spark does not (null or a corrupt record) is one of the
  leniencies the README documents (`leniency` below names each); anything else is a failure;
- a line Spark accepts and Tributary refuses is allowed (a refusal never changes a value: Spark
  rounds DECIMALs to their scale, overflows doubles to Infinity, truncates nanoseconds, reads
  dates from "2024-05-01T10:00"); the test only counts them.
"""

import datetime as dt
import json
import math
import random
import re
import struct

import pytest

from conftest import tributary

COLUMNS = {
    "l": "BIGINT",
    "i": "INT",
    "d": "DOUBLE",
    "f": "FLOAT",
    "m": "DECIMAL(10,2)",
    "w": "DECIMAL(38,10)",
    "s": "STRING",
    "b": "BOOLEAN",
    "dt": "DATE",
    "ts": "TIMESTAMP",
    "nz": "TIMESTAMP_NTZ",
}
DDL = "id BIGINT, " + ", ".join(f"{c} {t}" for c, t in COLUMNS.items())
SEED = 20261204


def q(s):
    return json.dumps(s)


def corpus():
    """(column, JSON token text) pairs: fixed edge spellings, then seeded random ones."""
    r = random.Random(SEED)
    out = []
    ints = ["0", "-0", "1", "-1", "42", "1e3", "1E2", "10.0", "-1e0", "0.0e5", "1.5", "1e-1", q("42"), q(" 7 "), q("4 2"), q(""), "true", "null", "[1]", "{}"]
    longs = ints + ["9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809", "9007199254740993", "12345678901234567890", "9.223372036854775807e18"]
    out += [("l", t) for t in longs] + [("l", str(r.randint(-(2**63), 2**63 - 1))) for _ in range(20)]
    out += [("l", str(r.randint(-(10 ** r.randint(1, 18)), 10 ** r.randint(1, 18)))) for _ in range(10)]
    out += [("i", t) for t in ints + ["2147483647", "-2147483648", "2147483648", "-2147483649", "2.147483647e9"]]
    out += [("i", str(r.randint(-(2**31), 2**31 - 1))) for _ in range(10)]
    doubles = ["0", "-0", "-0.0", "0.0", "-0e0", "0e5", "1", "-1.5", "0.1", "1e-400", "-1e-400", "5e-324", "4.9e-324", "2.2250738585072014e-308", "1.7976931348623157e308", "1e400", "-1e400",
               "0.1000000000000000055511151231257827", "9007199254740993", "123456789012345678901234567890", "1.00000000000000011102230246251565404236316680908203125",
               q("NaN"), q("Infinity"), q("-Infinity"), q("+INF"), q("1.5"), q(" 2.5 "), q("abc"), "true", "null"]
    out += [("d", t) for t in doubles]
    for _ in range(30):
        x = struct.unpack("<d", struct.pack("<Q", r.getrandbits(64)))[0]
        if math.isfinite(x):
            out.append(("d", repr(x)))
            out.append(("d", "%.17e" % x))
        out.append(("d", "%.*f" % (r.randint(0, 12), r.uniform(-1e6, 1e6))))
    floats = ["0", "-0", "-0.0", "1.0000000596046448", "1.0000000596046447", "3.4028234663852886e38", "3.4028235e38", "3.4028236e38", "1e39", "1e-46", "1.401298464324817e-45", "0.1", "16777217", q("NaN"), q("1.25"), "null"]
    out += [("f", t) for t in floats] + [("f", "%.9g" % r.uniform(-1e10, 1e10)) for _ in range(15)]
    decs = ["0", "-0", "-0.00", "1.5", "1.50", "1.505", "1.005", "12345678.99", "99999999.99", "100000000.00", "123456789.99", "1e2", "1E-2", "1e-3", "0.1000000000000000055", "-12.34", q("1.25"), q("1.255"), q(""), "true", "null"]
    out += [("m", t) for t in decs] + [("m", "%.2f" % r.uniform(-1e8, 1e8)) for _ in range(10)] + [("m", "%.*f" % (r.randint(0, 2), r.uniform(-1e6, 1e6))) for _ in range(5)]
    wide = ["1234567890123456789012345678.1234567890", "-9999999999999999999999999999.9999999999", "99999999999999999999999999999.0", "1e27", "1e28", "1e-10", "1e-11", "0.00000000001", q("12.5")]
    out += [("w", t) for t in wide] + [("w", "%d.%010d" % (r.randint(-(10**27), 10**27), r.randint(0, 10**10 - 1))) for _ in range(10)]
    strings = [q(""), q("a"), q("é"), q("\u00e9\u4e2d\U0001f600"), '"\\u00e9\\ud83d\\ude00"', '"\\n\\t\\"\\\\\\/"', q("  spaced  "), q("null"), "1.50", "1e3", "-0", "true", "false", "{\"a\": 1}", "[1, \"x\"]", "null"]
    out += [("s", t) for t in strings] + [("s", q("".join(chr(r.choice([r.randint(32, 126), r.randint(160, 0x2FFF), r.randint(0x10000, 0x1F6FF)])) for _ in range(r.randint(0, 12))))) for _ in range(15)]
    out += [("b", t) for t in ["true", "false", q("true"), q("false"), q("TRUE"), "1", "0", q("1"), q(""), "null"]]
    dates = ["2024-05-01", "0001-01-01", "9999-12-31", "2024-02-29", "2023-02-29", "2024-02-30", "2024-13-01", "2024-5-1", "2024-05", "2024", " 2024-05-01 ", "2024-05-01T10:00", "2024-05-01 10:00:00", "+2024-05-01", "10000-01-01", "-0001-01-01", "20240501"]
    out += [("dt", q(t)) for t in dates] + [("dt", t) for t in ["19844", "0", "null", "true"]]
    for _ in range(10):
        d = dt.date(1, 1, 1) + dt.timedelta(days=r.randint(0, 3652058))
        out.append(("dt", q(d.isoformat())))
    zoned = ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00z", "2024-05-01t10:00:00Z", "2024-05-01T10:00:00+05:30", "2024-05-01T10:00:00+0530", "2024-05-01T10:00:00+05", "2024-05-01T10:00:00-18:00", "2024-05-01T10:00:00+18:00",
             "2024-05-01T10:00:00+18:01", "2024-05-01T10:00:00+05:60", "2024-05-01T10:00:00 UTC", "2024-05-01T10:00:00UTC", "2024-05-01T10:00:00 Z", "2024-05-01T10:00:00.5Z", "2024-05-01T10:00:00,5Z", "2024-05-01T10:00:00.123456Z",
             "2024-05-01T10:00:00.1234567Z", "2024-05-01T10:00:00.123456000Z", "2024-05-01T10:00:00.123456789Z", "2024-05-01T24:00:00Z", "2024-05-01T23:59:60Z", "2024-05-01T10:00Z", "2024-05-01T10Z", "0001-01-01T00:00:00Z",
             "9999-12-31T23:59:59.999999Z", "1969-12-31T23:59:59.999999Z", "2024-02-30T00:00:00Z", "2024-05-01T10:00:00.Z"]
    plain = ["2024-05-01T10:00:00", "2024-05-01 10:00:00", "2024-05-01T10:00", "2024-05-01 10:00", "2024-05-01", "2024-05-01T10:00:00.5", "2024-05-01T10:00:00.000001", "2024-05-01T1:00:00", "2024-5-01T10:00:00", " 2024-05-01T10:00:00 ", "2024-05-01T10:00:00.1234567"]
    out += [("ts", q(t)) for t in zoned + plain] + [("ts", t) for t in ["1714521600", "-1", "0", "-0", "1714521600.5", "1714521600.0000001", "1e9", "1714521600000", "253402300799", "253402300800", "-62135596800", "-62135596801", "null", "true"]]
    out += [("nz", q(t)) for t in plain + ["2024-05-01T10:00:00Z", "2024-05-01T10:00:00+05:30"]] + [("nz", t) for t in ["1714521600", "0", "1714521600.5", "null"]]
    for _ in range(15):
        secs = r.randint(-2208988800, 4102444800)  # 1900..2100: inside every reader's range
        frac = r.choice(["", ".%d" % r.randint(0, 9), ".%03d" % r.randint(0, 999), ".%06d" % r.randint(0, 999999)])
        base = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=secs)
        off = r.choice(["Z", "+00:00", "-07:00", "+05:45", "+14:00", ""])
        out.append(("ts", q(base.strftime("%Y-%m-%dT%H:%M:%S") + frac + off)))
        out.append(("nz", q(base.strftime("%Y-%m-%d %H:%M:%S") + frac)))
        out.append(("ts", str(secs)))
    return out


def leniency(col, token):
    """The README's documented leniencies (a value Tributary lands where Spark's reader gives null),
    as the reason it applies; None when it is not one."""
    value = json.loads(token)
    numeric = COLUMNS[col] in ("BIGINT", "INT", "DOUBLE", "FLOAT") or COLUMNS[col].startswith("DECIMAL")
    if numeric and isinstance(value, str):
        return "strings of digits are accepted for numeric columns"
    if col in ("l", "i") and isinstance(value, (int, float)) and not re.fullmatch(r"-?\d+", token):
        return "an integer written with an exponent or a fraction of zeros (1e3, 10.0) is an integer"
    if col == "ts" and isinstance(value, (int, float)) and not re.fullmatch(r"-?\d+", token):
        return "a fraction of a second in a number into TIMESTAMP lands exactly"
    if col == "nz" and isinstance(value, (int, float)):
        return "a number into TIMESTAMP_NTZ is seconds, exactly"
    if col == "b" and value in ("true", "false"):
        return 'the strings "true" and "false" into BOOLEAN'
    if col in ("ts", "nz") and isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d([.,]\d+)?)?( ?([Zz]|UTC|[+-]\d\d(:?\d\d)?))?", value):
        if re.search(r"[tz,]", value) or re.fullmatch(r".{10}.\d\d:\d\d ?[^:]+", value):
            return "ISO-8601 spellings Spark's reader refuses: a lowercase t or z, a comma before the fraction, hours and minutes then a zone"
    return None


def exact(v):
    """A value in a form that compares exactly: floats by their bits."""
    if isinstance(v, float):
        return ("float", struct.pack("<d", v).hex())
    return v


# Dates and timestamps as days and microseconds since the epoch: Spark reads "10000-01-01",
# which Python's datetime cannot hold, and integers compare exactly (the session time zone is UTC).
EXACT = [f"unix_date({c}) AS {c}" if t == "DATE" else f"unix_micros(CAST({c} AS TIMESTAMP)) AS {c}" if t.startswith("TIMESTAMP") else c for c, t in COLUMNS.items()]


def spark_values(spark, path):
    """id -> (values, corrupt) as Spark's JSON reader reads the file. Spark 3.5 fails the whole
    read on "2023-02-29" (a date its pre-3.0 parser took) unless the parser policy is CORRECTED,
    Spark 4's default: a bad date is then a bad record, as on Spark 4."""
    policy = spark.conf.get("spark.sql.legacy.timeParserPolicy", None)
    spark.conf.set("spark.sql.legacy.timeParserPolicy", "CORRECTED")
    try:
        df = spark.read.schema(DDL + ", _corrupt_record STRING").option("mode", "PERMISSIVE").json(str(path)).cache()
        rows = df.selectExpr("id", *EXACT, "_corrupt_record").collect()
    finally:
        if policy is None:
            spark.conf.unset("spark.sql.legacy.timeParserPolicy")
        else:
            spark.conf.set("spark.sql.legacy.timeParserPolicy", policy)
    out = {}
    for row in rows:
        d = row.asDict()
        raw = d.pop("_corrupt_record")
        rid = json.loads(raw)["id"] if raw is not None else d["id"]
        out[rid] = (d, raw is not None)
    return out


def append_dropping_refusals(scratch, name, lines, mode):
    """Appends every line, taking out each line Tributary refuses (its message names it) until an
    append lands; returns the table, the accepted keys and the refused ones with their messages.
    "decoder": a new table created by the append (--schema: the schema-directed decoder);
    "rows": a table created empty once, then --merge-schema from stdin (the row path every
    inferred input takes; a file would be decoded first, its columns being the table's) until it
    lands: a refused append leaves the table as it was, so it is used again."""
    accepted = sorted(lines)
    refused = {}
    if mode == "rows":
        table = scratch / name
        tributary("append", table, "--input", "-", "--schema", DDL, input_text="")
    for attempt in range(1, len(lines) + 2):
        f = scratch / f"{name}-{attempt}.ndjson"
        f.write_text("".join(lines[k][2] + "\n" for k in accepted), encoding="utf-8")
        if mode == "decoder":
            table = scratch / f"{name}-{attempt}"
            p = tributary("append", table, "--input", str(f), "--schema", DDL, check=False)
        else:
            p = tributary("append", table, "--input", "-", "--merge-schema", stdin_file=f, check=False)
        if p.returncode == 0:
            return table, accepted, refused
        assert re.fullmatch(r"tributary: error \[[A-Z_]+\]: [^\n]*\n", p.stderr), p.stderr
        m = re.search(r"\[[^\]]*, line (\d+)\]\n$", p.stderr)
        assert m, p.stderr
        refused[accepted.pop(int(m.group(1)) - 1)] = p.stderr.strip()
    raise AssertionError("no append landed")


@pytest.mark.parametrize("mode", ["decoder", "rows"])
def test_every_value_spark_reads_from_a_json_line_lands_the_same_or_is_refused(spark, scratch, mode):
    lines = {}
    for n, (col, token) in enumerate(corpus()):
        lines[n] = (col, token, '{"id": %d, "%s": %s}' % (n, col, token))
    src = scratch / f"values-{mode}.ndjson"
    src.write_text("".join(lines[k][2] + "\n" for k in sorted(lines)), encoding="utf-8")
    theirs = spark_values(spark, src)
    assert len(theirs) == len(lines)

    table, accepted, refused = append_dropping_refusals(scratch, f"values-{mode}", lines, mode)
    ours = {}
    for row in spark.read.format("delta").load(str(table)).selectExpr("id", *EXACT).collect():
        ours[row["id"]] = row.asDict()
    assert sorted(ours) == accepted

    different, unexplained, both = [], [], 0
    for k in accepted:
        col, token, _ = lines[k]
        got = ours[k][col]
        spark_row, corrupt = theirs[k]
        spark_ok = not corrupt and (spark_row[col] is not None or token == "null")
        if spark_ok:
            both += 1
            if exact(got) != exact(spark_row[col]):
                different.append((col, token, got, spark_row[col]))
        elif leniency(col, token) is None:
            unexplained.append((col, token, got))
    assert different == [], f"values that land differently from Spark's reading: {different}"
    assert unexplained == [], f"values Spark's reader does not take, landed by Tributary without a documented rule: {unexplained}"
    # Not vacuous: most of the corpus lands and is compared.
    assert both >= 300, (both, len(refused))
    spark_only = [k for k in refused if not theirs[k][1] and theirs[k][0][lines[k][0]] is not None]
    print(f"{mode}: compared {both} values, landed {len(accepted) - both} by documented leniencies, refused {len(refused)} ({len(spark_only)} of them read by Spark, which rounds or widens them)")
