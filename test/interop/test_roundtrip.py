"""Mixed writers: Spark appends to a Tributary table (and checkpoints it), Tributary appends to
tables Spark created and checkpointed, and both judges read the result."""

import datetime as dt
import decimal
import json
from pathlib import Path

from conftest import assert_same_rows, deltars_rows, spark_rows, tributary

SCHEMA_DDL = "id BIGINT NOT NULL, name STRING, price DOUBLE, ts TIMESTAMP, amt DECIMAL(18,4), day DATE, p STRING"
SCHEMA = {
    "type": "struct",
    "fields": [
        {"name": "id", "type": "long", "nullable": False, "metadata": {}},
        {"name": "name", "type": "string", "nullable": True, "metadata": {}},
        {"name": "price", "type": "double", "nullable": True, "metadata": {}},
        {"name": "ts", "type": "timestamp", "nullable": True, "metadata": {}},
        {"name": "amt", "type": "decimal(18,4)", "nullable": True, "metadata": {}},
        {"name": "day", "type": "date", "nullable": True, "metadata": {}},
        {"name": "p", "type": "string", "nullable": True, "metadata": {}},
    ],
}
PARTS = ["a b", "c:d", None, "ü/%"]


def canonical(i):
    ts = dt.datetime(2026, 11, 28, 0, 0, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=i * 7, microseconds=i * 13)
    return {
        "id": i,
        "name": None if i % 5 == 0 else f"row {i}",
        "price": i * 1.25,
        "ts": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "amt": f"{i * 3}.{i % 10000:04d}",
        "day": (dt.date(2026, 1, 1) + dt.timedelta(days=i % 300)).isoformat(),
        "p": PARTS[i % len(PARTS)],
    }


def spark_df(spark, ids):
    from pyspark.sql.types import StructType

    schema = StructType.fromJson(SCHEMA)
    data = []
    for i in ids:
        c = canonical(i)
        data.append(
            (
                c["id"],
                c["name"],
                c["price"],
                dt.datetime.strptime(c["ts"], "%Y-%m-%dT%H:%M:%S.%fZ"),
                decimal.Decimal(c["amt"]),
                dt.date.fromisoformat(c["day"]),
                c["p"],
            )
        )
    return spark.createDataFrame(data, schema)


def tributary_append(path, ids, scratch, create=False):
    f = scratch / f"batch-{path.name}-{ids[0]}.ndjson"
    f.write_text("\n".join(json.dumps(canonical(i)) for i in ids) + "\n")
    args = ["append", path, "--input", f]
    if create:
        args += ["--schema", SCHEMA_DDL, "--partition-by", "p"]
    tributary(*args)


def expected(ids):
    return sorted(({k: v for k, v in canonical(i).items()} for i in ids), key=lambda r: r["id"])


def check_all(spark, path, ids):
    assert_same_rows(spark_rows(spark.read.format("delta").load(str(path)), SCHEMA), expected(ids), f"Spark {spark.version}")
    assert_same_rows(deltars_rows(path, SCHEMA), expected(ids), "delta-rs")
    # Our own reader agrees too (it is not the judge, but it must not disagree).
    out = tributary("read", path).stdout
    ours = sorted((json.loads(line) for line in out.splitlines()), key=lambda r: r["id"])
    assert [r["id"] for r in ours] == sorted(ids)


def test_spark_appends_to_tributary_table_then_tributary_continues(spark, scratch):
    path = scratch / f"rt-tributary-first-{spark.version}"
    ids = []
    # Versions 0..8 by Tributary.
    for v in range(9):
        batch = list(range(v * 10, v * 10 + 10))
        tributary_append(path, batch, scratch, create=(v == 0))
        ids += batch
    # Versions 9 and 10 by Spark: Spark writes its own checkpoint at 10.
    for v in (9, 10):
        batch = list(range(v * 10, v * 10 + 10))
        spark_df(spark, batch).write.format("delta").mode("append").save(str(path))
        ids += batch
    assert (path / "_delta_log" / f"{10:020d}.checkpoint.parquet").exists(), "Spark did not checkpoint at 10"
    # Versions 11..20 by Tributary: it must read Spark's checkpoint, and writes its own at 20.
    for v in range(11, 21):
        batch = list(range(v * 10, v * 10 + 10))
        tributary_append(path, batch, scratch)
        ids += batch
    last = json.loads((path / "_delta_log" / "_last_checkpoint").read_text())
    assert last["version"] == 20
    check_all(spark, path, ids)
    hist = spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()
    assert len(hist) == 21


def test_tributary_appends_to_spark_created_checkpointed_table(spark, scratch):
    path = scratch / f"rt-spark-first-{spark.version}"
    ids = []
    for v in range(11):
        batch = list(range(v * 10, v * 10 + 10))
        w = spark_df(spark, batch).write.format("delta").mode("append")
        if v == 0:
            w = w.partitionBy("p")
        w.save(str(path))
        ids += batch
    assert (path / "_delta_log" / f"{10:020d}.checkpoint.parquet").exists()
    for v in range(11, 14):
        batch = list(range(v * 10, v * 10 + 10))
        tributary_append(path, batch, scratch)
        ids += batch
    check_all(spark, path, ids)
    # Spark can keep appending after us.
    batch = list(range(140, 150))
    spark_df(spark, batch).write.format("delta").mode("append").save(str(path))
    ids += batch
    check_all(spark, path, ids)


def test_bad_input_leaves_spark_table_untouched(spark, scratch):
    path = scratch / f"rt-bad-input-{spark.version}"
    spark_df(spark, list(range(5))).write.format("delta").partitionBy("p").save(str(path))
    before = sorted(p.name for p in (path / "_delta_log").iterdir())
    bad = scratch / "bad.ndjson"
    bad.write_text(json.dumps(canonical(5)) + "\n" + json.dumps({**canonical(6), "price": "not a number"}) + "\n")
    p = tributary("append", path, "--input", bad, check=False)
    assert p.returncode != 0
    assert 'row 1, column "price"' in p.stderr and "line 2" in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in (path / "_delta_log").iterdir()) == before
    assert spark.read.format("delta").load(str(path)).count() == 5
