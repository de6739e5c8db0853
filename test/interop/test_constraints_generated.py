"""CHECK constraints and generated columns on tables Spark creates, judged by Spark and delta-rs.

Spark creates the tables (GENERATED ALWAYS AS columns, one of them the partition column, and
constraints added with ALTER TABLE ADD CONSTRAINT); Tributary appends (CLI) and streams
(`tributary run`) into them, compacts and vacuums; Spark appends again. Generated values are judged
against what Spark itself computes: Spark inserts the same rows into a twin table with the same
DDL, and the two tables must agree column by column. A batch violating a constraint is refused by
the CLI with one line naming it, and Spark sees the same version and rows as before; Spark refuses
the same batch too, so the two agree on what violates.
"""

import datetime as dt
import json
import re

import pytest

from conftest import tributary

BASE = "id BIGINT NOT NULL, ts TIMESTAMP, name STRING, price DOUBLE, qty INT"
# Every generated column kind the issue names; `d` is also the partition column.
GENERATED = [
    "d DATE GENERATED ALWAYS AS (CAST(ts AS DATE))",
    "d2 DATE GENERATED ALWAYS AS (to_date(ts))",
    "stamp STRING GENERATED ALWAYS AS (date_format(ts, 'yyyy-MM-dd HH:mm:ss'))",
    "y INT GENERATED ALWAYS AS (year(ts))",
    "mo INT GENERATED ALWAYS AS (month(ts))",
    "dy INT GENERATED ALWAYS AS (day(ts))",
    "hr INT GENERATED ALWAYS AS (hour(ts))",
    "hour_start TIMESTAMP GENERATED ALWAYS AS (date_trunc('HOUR', ts))",
    "month_start TIMESTAMP GENERATED ALWAYS AS (date_trunc('MONTH', ts))",
    "prefix STRING GENERATED ALWAYS AS (substring(name, 1, 2))",
    "label STRING GENERATED ALWAYS AS (concat(name, ':', CAST(qty AS STRING)))",
    "total DOUBLE GENERATED ALWAYS AS (price * qty)",
    "qty_next BIGINT GENERATED ALWAYS AS (CAST(qty AS BIGINT) + 1)",
]
GENERATED_NAMES = [g.split()[0] for g in GENERATED]
# The expressions people write: comparisons, AND/OR/NOT, IS NULL, IN, BETWEEN, arithmetic, LIKE,
# length, date and timestamp literals, casts.
CONSTRAINTS = {
    "price_positive": "price > 0 AND qty >= 1",
    "name_known": "name IN ('btc', 'eth', 'sol', 'ada', 'doge', 'xtz', 'trump')",
    "qty_range": "qty BETWEEN 1 AND 1000",
    "not_dust": "NOT (abs(price * qty) < 0.01)",
    "name_no_x": "name NOT LIKE '%x%'",
    "name_short": "length(name) <= 4",
    "ts_window": "ts IS NULL OR (CAST(ts AS DATE) >= DATE '2020-01-01' AND ts < TIMESTAMP '2030-01-01 00:00:00')",
}
TIMESTAMPS = [
    "2024-02-29T23:59:59.999999Z",
    "2024-03-01T00:00:00Z",
    "2024-12-31T23:30:00.5Z",
    "2025-01-01T00:00:00.000001Z",
    "2021-03-14T01:59:59Z",
    "2020-01-01T00:00:00Z",
    "2029-12-31T23:59:59.999999Z",
    "2026-06-15T12:34:56.789Z",
    None,
]
NAMES = ["btc", "eth", "sol", "ada", "doge"]


def rows_for(ids):
    return [
        {"id": i, "ts": TIMESTAMPS[i % len(TIMESTAMPS)], "name": NAMES[i % len(NAMES)], "price": round(0.25 + i * 1.5, 2), "qty": 1 + (i * 37) % 1000}
        for i in ids
    ]


def create_table(spark, path, columns, partition_by):
    """DeltaTable.create rather than CREATE TABLE delta.`path`: delta-spark 3.x refuses generated
    columns in SQL on a path table (UNSUPPORTED_FEATURE.TABLE_OPERATION), its builder takes them."""
    from delta.tables import DeltaTable

    b = DeltaTable.create(spark).location(str(path))
    for col in columns:
        m = re.fullmatch(r"(\w+) (\w+)( NOT NULL)?(?: GENERATED ALWAYS AS \((.*)\))?", col.strip())
        assert m, col
        kw = {"nullable": m[3] is None}
        if m[4]:
            kw["generatedAlwaysAs"] = m[4]
        b = b.addColumn(m[1], m[2], **kw)
    if partition_by:
        b = b.partitionedBy(partition_by)
    b.execute()


def create(spark, path):
    create_table(spark, path, [*BASE.split(","), *GENERATED], "d")
    for name, expr in CONSTRAINTS.items():
        spark.sql(f"ALTER TABLE delta.`{path}` ADD CONSTRAINT {name} CHECK ({expr})")


def write_ndjson(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def parse_ts(s):
    return None if s is None else dt.datetime.fromisoformat(s.replace("Z", "+00:00"))


def spark_append(spark, path, rows):
    """Spark inserts the base columns; Delta computes the generated ones and checks constraints."""
    data = [(r["id"], parse_ts(r["ts"]), r["name"], float(r["price"]), r["qty"]) for r in rows]
    spark.createDataFrame(data, BASE).write.format("delta").mode("append").save(str(path))


def micros(v):
    if v.tzinfo is None:
        v = v.replace(tzinfo=dt.timezone.utc)
    return (v - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1)


def norm(v):
    """Timestamps as epoch microseconds (Spark's Python conversion depends on the client's zone),
    dates as ISO text: the same form for Spark's and delta-rs's values."""
    if isinstance(v, dt.datetime):
        return micros(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def read_spark(spark, path, columns):
    from pyspark.sql import functions as F

    types = dict(spark.read.format("delta").load(str(path)).dtypes)
    cols = [F.unix_micros(F.col(c)).alias(c) if types[c] == "timestamp" else F.col(c) for c in columns]
    rows = spark.read.format("delta").load(str(path)).select(*cols).collect()
    return sorted(({c: norm(r[c]) for c in columns} for r in rows), key=lambda r: r[columns[0]])


def read_deltars(path, columns):
    from deltalake import DeltaTable

    rows = DeltaTable(str(path)).to_pyarrow_table(columns=columns).to_pylist()
    return sorted(({c: norm(r[c]) for c in columns} for r in rows), key=lambda r: r[columns[0]])


def version(spark, path):
    return spark.sql(f"DESCRIBE HISTORY delta.`{path}`").agg({"version": "max"}).collect()[0][0]


ALL = ["id", "ts", "name", "price", "qty", *GENERATED_NAMES]


def expected_base(rows):
    """The input, in the form read_spark returns: what every reader must see."""
    return sorted(
        ({"id": r["id"], "ts": None if r["ts"] is None else micros(parse_ts(r["ts"])), "name": r["name"], "price": float(r["price"]), "qty": r["qty"]} for r in rows),
        key=lambda r: r["id"],
    )


def assert_twins_agree(spark, ours, twin, input_rows):
    got = read_spark(spark, ours, ALL)
    want = read_spark(spark, twin, ALL)
    # The base columns are the input, in both tables.
    assert [{k: r[k] for k in ("id", "ts", "name", "price", "qty")} for r in got] == expected_base(input_rows)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        for c in ALL:
            assert g[c] == w[c], f"row id={g['id']}, column {c}: Tributary wrote {g[c]!r}, Spark computes {w[c]!r}"
    # A guard against a comparison of two empty or all-null columns.
    assert all(r["d"] is not None for r in got if r["ts"] is not None)
    assert any(r["ts"] is None and r["d"] is None for r in got)
    # delta-rs reads the same rows Spark does.
    assert read_deltars(ours, ALL) == got
    return got


@pytest.fixture(scope="module")
def tables(spark, scratch):
    line = spark.version.replace(".", "_")
    ours, twin = scratch / f"gen_ours_{line}", scratch / f"gen_twin_{line}"
    create(spark, ours)
    create(spark, twin)
    first = rows_for(range(0, 20))
    tributary("append", ours, "--input", write_ndjson(scratch / "gen-first.ndjson", first))
    spark_append(spark, twin, first)
    return {"ours": ours, "twin": twin, "rows": first}


def test_tributary_append_computes_generated_values_spark_computes(spark, tables):
    got = assert_twins_agree(spark, tables["ours"], tables["twin"], tables["rows"])
    assert len(got) == 20
    # Partitioned by the generated date: one directory per date, the null date in Hive's.
    dirs = sorted(p.name for p in tables["ours"].iterdir() if p.name.startswith("d="))
    assert "d=__HIVE_DEFAULT_PARTITION__" in dirs and "d=2024-02-29" in dirs and "d=2024-03-01" in dirs
    # Spark prunes partitions by the generated column when filtering by ts (its partition filters
    # for generated columns), and reads the right rows.
    n = spark.read.format("delta").load(str(tables["ours"])).where("ts >= '2024-03-01' AND ts < '2024-03-02'").count()
    assert n == sum(1 for r in tables["rows"] if r["ts"] == "2024-03-01T00:00:00Z")


GOOD = {"ts": "2025-05-05T05:05:05Z", "name": "eth", "price": 2.0, "qty": 3}
# (constraint violated, the bad row's values): each row breaks exactly one constraint.
VIOLATIONS = [
    ("price_positive", {"price": -1.0}),
    ("name_known", {"name": "bnb"}),
    ("qty_range", {"qty": 1001}),
    ("not_dust", {"price": 0.001, "qty": 1}),
    ("name_no_x", {"name": "xtz"}),
    ("name_short", {"name": "trump"}),
    ("ts_window", {"ts": "2019-12-31T23:59:59.999999Z"}),
    ("ts_window", {"ts": "2030-01-01T00:00:00Z"}),
]


@pytest.mark.parametrize("constraint,bad", VIOLATIONS, ids=[f"{c}-{json.dumps(b)}" for c, b in VIOLATIONS])
def test_a_violating_batch_is_refused_and_nothing_changes(spark, scratch, tables, constraint, bad):
    ours, twin = tables["ours"], tables["twin"]
    batch = [{"id": 900 + k, **GOOD} for k in range(2)] + [{"id": 902, **GOOD, **bad}]
    v_before, rows_before = version(spark, ours), read_spark(spark, ours, ALL)
    p = tributary("append", ours, "--input", write_ndjson(scratch / "gen-bad.ndjson", batch), check=False)
    assert p.returncode != 0
    assert re.fullmatch(r"tributary: error \[CONSTRAINT_VIOLATION\]: row 2: CHECK constraint " + constraint + r" \(.+\) is violated by .+\n", p.stderr), p.stderr
    assert p.stdout == ""
    assert version(spark, ours) == v_before
    assert read_spark(spark, ours, ALL) == rows_before
    # Spark refuses the same batch for the same constraint.
    with pytest.raises(Exception) as e:
        spark_append(spark, twin, batch)
    assert constraint in str(e.value)


def test_a_wrong_generated_value_is_refused(spark, scratch, tables):
    ours = tables["ours"]
    v_before = version(spark, ours)
    row = {"id": 903, **GOOD, "d": "2025-05-06"}
    p = tributary("append", ours, "--input", write_ndjson(scratch / "gen-wrong.ndjson", [row]), check=False)
    assert p.returncode != 0
    assert re.fullmatch(r"tributary: error \[CONSTRAINT_VIOLATION\]: row 0, column \"d\": its generation expression CAST\(ts AS DATE\) .* gives 2025-05-05, but the row has 2025-05-06.*\n", p.stderr), p.stderr
    assert version(spark, ours) == v_before


def test_optimize_vacuum_and_spark_appends_keep_the_generated_values(spark, scratch, tables):
    ours, twin = tables["ours"], tables["twin"]
    rows = list(tables["rows"])
    for k in range(3):
        more = rows_for(range(20 + k * 10, 30 + k * 10))
        tributary("append", ours, "--input", write_ndjson(scratch / f"gen-more-{k}.ndjson", more))
        spark_append(spark, twin, more)
        rows += more
    files_before = len(spark.read.format("delta").load(str(ours)).inputFiles())
    m = json.loads(tributary("optimize", ours, "--json").stdout)
    assert m["numFilesRemoved"] > m["numFilesAdded"] > 0
    assert len(spark.read.format("delta").load(str(ours)).inputFiles()) < files_before
    tributary("vacuum", ours, "--retention", "0h", "--force")
    assert_twins_agree(spark, ours, twin, rows)
    # Spark appends again: it computes the generated columns and checks constraints on our table.
    last = rows_for(range(60, 70))
    spark_append(spark, ours, last)
    spark_append(spark, twin, last)
    rows += last
    got = assert_twins_agree(spark, ours, twin, rows)
    assert len(got) == 60
    # Tributary appends after Spark did, and the table still agrees.
    after = rows_for(range(70, 75))
    tributary("append", ours, "--input", write_ndjson(scratch / "gen-after.ndjson", after))
    spark_append(spark, twin, after)
    assert len(assert_twins_agree(spark, ours, twin, rows + after)) == 65


RATE_COLUMNS = [
    "timestamp TIMESTAMP",
    "value BIGINT",
    "day DATE GENERATED ALWAYS AS (CAST(timestamp AS DATE))",
    "hr INT GENERATED ALWAYS AS (hour(timestamp))",
    "slot STRING GENERATED ALWAYS AS (date_format(timestamp, 'yyyy-MM-dd HH'))",
    "score BIGINT GENERATED ALWAYS AS (value * 10 + 1)",
]
RATE_ALL = ["value", "timestamp", "day", "hr", "slot", "score"]


def test_tributary_run_streams_into_a_generated_and_constrained_table(spark, scratch):
    line = spark.version.replace(".", "_")
    ours, twin, cp = scratch / f"rate_ours_{line}", scratch / f"rate_twin_{line}", scratch / f"rate_cp_{line}"
    for p in (ours, twin):
        create_table(spark, p, RATE_COLUMNS, "day")
        spark.sql(f"ALTER TABLE delta.`{p}` ADD CONSTRAINT small CHECK (value < 12)")
    # Five rows a batch, 18 hours apart: the batches land on 1970-01-01, 01 and 02.
    run = ["run", "--format", "rate", "--option", "rowsPerBatch=5", "--option", "advanceMillisPerBatch=64800000", "--checkpoint", cp, "--trigger", "once", ours]
    for _ in range(2):
        tributary(*run)
    got = read_spark(spark, ours, RATE_ALL)
    assert [r["value"] for r in got] == list(range(10))
    # Spark inserts the same rows into the twin and computes the same generated values.
    spark.read.format("delta").load(str(ours)).select("timestamp", "value").write.format("delta").mode("append").save(str(twin))
    assert read_spark(spark, twin, RATE_ALL) == got
    assert read_deltars(ours, RATE_ALL) == got
    assert sorted({r["day"] for r in got}) == ["1970-01-01"]
    # The third batch (values 10..14) violates `small` at its row 2: refused, nothing committed.
    v_before = version(spark, ours)
    p = tributary(*run, check=False)
    assert p.returncode != 0
    errors = [ln for ln in p.stderr.splitlines() if ln.startswith("tributary: error")]
    assert len(errors) == 1 and re.fullmatch(r"tributary: error \[CONSTRAINT_VIOLATION\]: row 2: CHECK constraint small \(value < 12\) is violated by value = 12.*", errors[0]), p.stderr
    assert version(spark, ours) == v_before
    assert read_spark(spark, ours, RATE_ALL) == got


def test_a_table_whose_expressions_use_an_unsupported_function_is_refused_by_name(spark, scratch):
    line = spark.version.replace(".", "_")
    checked, generated = scratch / f"unsupported_check_{line}", scratch / f"unsupported_gen_{line}"
    spark.sql(f"CREATE TABLE delta.`{checked}` (s STRING) USING delta")
    spark.sql(f"ALTER TABLE delta.`{checked}` ADD CONSTRAINT shout CHECK (upper(s) = s)")
    create_table(spark, generated, ["s STRING", "u STRING GENERATED ALWAYS AS (upper(s))"], None)
    for path, name in ((checked, "shout"), (generated, "u")):
        v_before = version(spark, path)
        p = tributary("append", path, "--input", write_ndjson(scratch / "unsupported.ndjson", [{"s": "A"}]), check=False)
        assert p.returncode != 0
        assert re.fullmatch(r"tributary: error \[UNSUPPORTED_FEATURE\]: .*\n", p.stderr), p.stderr
        assert "upper" in p.stderr and name in p.stderr, p.stderr
        assert version(spark, path) == v_before
        assert spark.read.format("delta").load(str(path)).count() == 0
