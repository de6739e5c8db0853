"""Change Data Feed (delta.enableChangeDataFeed) judged by Spark: our appends and stream to a CDF
table need no _change_data files (inserts are read from the added files), Spark's readChangeFeed
returns them as inserts with the version that committed them, and OPTIMIZE adds no change rows.
Spark 4 and Spark 3.5; delta-rs' load_cdf too."""

from pathlib import Path

from conftest import tributary
from features import (
    DDL,
    deltars_values,
    latest_version,
    log_actions,
    ndjson,
    spark_insert,
    spark_values,
    trib_append,
    trib_optimize,
    trib_stream,
    trib_vacuum,
)


def spark_changes(spark, path):
    df = spark.read.format("delta").option("readChangeFeed", "true").option("startingVersion", 0).load(str(path))
    return sorted((r["value"], r["_change_type"], r["_commit_version"]) for r in df.select("value", "_change_type", "_commit_version").collect())


def deltars_changes(path):
    from deltalake import DeltaTable

    t = DeltaTable(str(path)).load_cdf(starting_version=0).read_all()
    return sorted(zip(t.column("value").to_pylist(), t.column("_change_type").to_pylist(), t.column("_commit_version").to_pylist()))


def test_cdf_table_through_every_writer(spark, scratch):
    path = scratch / f"cdf-{spark.version}"
    spark.sql(f"CREATE TABLE delta.`{path}` ({DDL}) USING delta TBLPROPERTIES ('delta.enableChangeDataFeed' = 'true')")
    expected = []

    def step(write, values):
        write()
        expected.extend((v, "insert", latest_version(path)) for v in values)

    step(lambda: spark_insert(spark, path, range(1000, 1005)), range(1000, 1005))
    step(lambda: trib_append(path, range(2000, 2005)), range(2000, 2005))
    step(lambda: trib_append(path, range(2005, 2010)), range(2005, 2010))
    step(lambda: trib_stream(path, scratch / f"cdf-cp-{spark.version}", 30), range(30))
    m = trib_optimize(path)
    assert m["version"] == latest_version(path)
    # The default retention keeps the files the change feed of older versions reads.
    trib_vacuum(path, "168h")
    step(lambda: spark_insert(spark, path, range(3000, 3005)), range(3000, 3005))

    assert spark_changes(spark, path) == sorted(expected)
    assert not (Path(path) / "_change_data").exists()
    assert not any("cdc" in a for v in range(latest_version(path) + 1) for a in log_actions(path, v))
    values = sorted(v for v, _, _ in expected)
    assert spark_values(spark, path) == values
    assert deltars_values(path) == values
    assert deltars_changes(path) == sorted(expected)


def test_cdf_table_created_by_tributary(spark, scratch):
    path = scratch / f"cdf-ours-{spark.version}"
    tributary("append", path, "--input", "-", "--schema", DDL, "--property", "delta.enableChangeDataFeed=true", input_text=ndjson(range(4)))
    trib_append(path, range(4, 6))
    trib_append(path, range(6, 7))
    trib_optimize(path)
    spark_insert(spark, path, range(7, 9))
    expected = sorted([(v, "insert", 0) for v in range(4)] + [(4, "insert", 1), (5, "insert", 1), (6, "insert", 2), (7, "insert", 4), (8, "insert", 4)])
    assert spark_changes(spark, path) == expected
    assert deltars_changes(path) == expected
    # Spark's streaming read of the change feed sees the same inserts.
    q = (
        spark.readStream.format("delta").option("readChangeFeed", "true").option("startingVersion", 0).load(str(path))
        .writeStream.format("memory").queryName(f"cdf_{spark.version.replace('.', '_')}")
        .option("checkpointLocation", str(scratch / f"cdf-stream-{spark.version}"))
        .start()
    )
    q.processAllAvailable()
    got = sorted((r["value"], r["_change_type"], r["_commit_version"]) for r in spark.sql(f"SELECT * FROM cdf_{spark.version.replace('.', '_')}").collect())
    q.stop()
    assert got == expected
