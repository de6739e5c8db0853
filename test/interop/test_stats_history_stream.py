"""What Spark answers from our log alone: COUNT/MIN/MAX from stats, DESCRIBE HISTORY, and a
streaming read of the table."""

import json
import math

import pytest

from conftest import MANIFEST, expected_rows

TABLES = MANIFEST["tables"]
STATS_TABLES = [t for t in TABLES if t["kind"] in ("all_types", "versions", "partitioned")]

NUMERIC = ("long", "integer", "short", "byte", "double", "float", "date")


def real_min_max(rows, col, t):
    vals = [r[col] for r in rows if r[col] is not None]
    if t in ("double", "float"):
        vals = [float(v) if not isinstance(v, str) else float(v.replace("Infinity", "inf")) for v in vals]
        if any(math.isnan(v) for v in vals):
            # Spark orders NaN above everything.
            return (min(v for v in vals if not math.isnan(v)) if len(vals) > 1 else None, "NaN")
    if not vals:
        return (None, None)
    return (min(vals), max(vals))


def canon_scalar(v, t):
    if v is None:
        return None
    if t == "date":
        return v.strftime("%Y-%m-%d").rjust(10, "0")
    if t in ("double", "float"):
        if math.isnan(v):
            return "NaN"
        return float(v)
    return int(v)


@pytest.mark.parametrize("spec", STATS_TABLES, ids=[t["name"] for t in STATS_TABLES])
def test_count_min_max_from_stats(spark, spec):
    """Spark's metadata-only path (OptimizeMetadataOnlyDeltaQuery) answers from our stats: the
    plan must be a LocalTableScan, and the answers must equal the real values."""
    rows = expected_rows(spec)
    cols = [f for f in spec["schema"]["fields"] if isinstance(f["type"], str) and f["type"] in NUMERIC and f["name"] not in spec["partitionColumns"]]
    assert cols
    path = spec["path"]
    exprs = ["count(*) AS n"] + [f"min(`{c['name']}`) AS `min_{c['name']}`, max(`{c['name']}`) AS `max_{c['name']}`" for c in cols]
    q = f"SELECT {', '.join(exprs)} FROM delta.`{path}`"
    df = spark.sql(q)
    got = df.collect()[0]
    assert got["n"] == len(rows)
    for c in cols:
        lo, hi = real_min_max(rows, c["name"], c["type"])
        if hi == "NaN":
            continue
        assert canon_scalar(got[f"min_{c['name']}"], c["type"]) == lo, f"min({c['name']})"
        assert canon_scalar(got[f"max_{c['name']}"], c["type"]) == hi, f"max({c['name']})"
    # COUNT(*) alone is always answered from numRecords when every file has stats.
    plan = spark.sql(f"SELECT count(*) FROM delta.`{path}`")._jdf.queryExecution().optimizedPlan().toString()
    assert "LocalRelation" in plan, f"COUNT(*) was not answered from stats:\n{plan}"
    long_cols = [c["name"] for c in cols if c["type"] in ("long", "integer")]
    if long_cols and spec["kind"] != "all_types":
        c = long_cols[0]
        plan = spark.sql(f"SELECT min(`{c}`), max(`{c}`) FROM delta.`{path}`")._jdf.queryExecution().optimizedPlan().toString()
        assert "LocalRelation" in plan, f"MIN/MAX({c}) were not answered from stats:\n{plan}"


@pytest.mark.parametrize("spec", TABLES, ids=[t["name"] for t in TABLES])
def test_describe_history(spark, spec):
    hist = spark.sql(f"DESCRIBE HISTORY delta.`{spec['path']}`").orderBy("version").collect()
    assert [h["version"] for h in hist] == list(range(spec["latestVersion"] + 1))
    op = spec.get("operation", "WRITE")
    for h in hist:
        assert h["operation"] == op
        if op == "WRITE":
            assert h["operationParameters"]["mode"] == "Append"
            assert json.loads(h["operationParameters"]["partitionBy"]) == spec["partitionColumns"]
        else:
            assert h["operationParameters"]["outputMode"] == "Append"
        assert int(h["operationMetrics"]["numOutputRows"]) >= 1
    total = sum(int(h["operationMetrics"]["numOutputRows"]) for h in hist)
    assert total == len(expected_rows(spec))


STREAM_TABLES = [t for t in TABLES if t["kind"] in ("versions", "partitioned", "all_types")]


@pytest.mark.parametrize("spec", STREAM_TABLES, ids=[t["name"] for t in STREAM_TABLES])
def test_spark_stream_reads_every_row_once(spark, spec, scratch):
    name = f"stream_{spec['name']}_{spark.version.replace('.', '_')}"
    q = (
        spark.readStream.format("delta")
        .option("maxFilesPerTrigger", 3)
        .load(spec["path"])
        .writeStream.format("memory")
        .queryName(name)
        .option("checkpointLocation", str(scratch / name))
        .trigger(availableNow=True)
        .start()
    )
    q.awaitTermination(300)
    assert q.exception() is None
    ids = [r["id"] for r in spark.sql(f"SELECT id FROM {name}").collect()]
    expected = [r["id"] for r in expected_rows(spec)]
    assert len(ids) == len(set(ids)), "a row was delivered twice"
    assert sorted(ids) == sorted(expected)
