"""Spark and delta-rs read every table Tributary wrote, value by value."""

import json
import shutil
from pathlib import Path

import pytest

from conftest import MANIFEST, assert_same_rows, deltars_rows, deltars_table, expected_rows, sort_key, spark_rows

TABLES = MANIFEST["tables"]
IDS = [t["name"] for t in TABLES]


@pytest.mark.parametrize("spec", TABLES, ids=IDS)
def test_spark_reads_latest(spark, spec):
    df = spark.read.format("delta").load(spec["path"])
    assert_same_rows(spark_rows(df, spec["schema"], sort_key(spec)), expected_rows(spec), f"Spark {spark.version} on {spec['name']}")


@pytest.mark.parametrize("spec", TABLES, ids=IDS)
def test_deltars_reads_latest(spec):
    assert_same_rows(deltars_rows(spec["path"], spec["schema"], key=sort_key(spec)), expected_rows(spec), f"delta-rs on {spec['name']}")


@pytest.mark.parametrize("spec", TABLES, ids=IDS)
def test_spark_schema_matches(spark, spec):
    df = spark.read.format("delta").load(spec["path"])
    got = json.loads(df.schema.json())
    assert got == spec["schema"], f"Spark sees schema {got}"


TRAVEL = [t for t in TABLES if t["versions"]]


@pytest.mark.parametrize("spec", TRAVEL, ids=[t["name"] for t in TRAVEL])
def test_time_travel(spark, spec):
    """versionAsOf returns exactly the rows committed up to that version, in Spark and delta-rs."""
    expected = {r["id"]: r for r in expected_rows(spec)}
    for version, ids in spec["versions"].items():
        df = spark.read.format("delta").option("versionAsOf", int(version)).load(spec["path"])
        got = sorted(r["id"] for r in df.select("id").collect())
        assert got == sorted(ids), f"Spark versionAsOf {version} of {spec['name']}: {len(got)} ids, expected {len(ids)}"
    # delta-rs at the first and a middle version, full values (the schema may have evolved since).
    for version in list(spec["versions"])[:: max(1, len(spec["versions"]) // 3)]:
        rows = deltars_table(spec["path"], int(version)).to_pylist()
        assert sorted(r["id"] for r in rows) == sorted(spec["versions"][version])
        for r in rows:
            assert r["id"] in expected


VERSIONED = [t for t in TABLES if t["kind"] == "versions"]


@pytest.mark.parametrize("spec", VERSIONED, ids=[t["name"] for t in VERSIONED])
def test_checkpoints_are_used(spark, spec, scratch):
    """The checkpoints at 10 and 20 carry the whole state: with every commit before 20 removed,
    Spark and delta-rs still read every row."""
    assert spec["checkpoints"] == [10, 20]
    last = json.loads((Path(spec["path"]) / "_delta_log" / "_last_checkpoint").read_text())
    assert last["version"] == 20
    copy = scratch / f"{spec['name']}-from-checkpoint"
    shutil.copytree(spec["path"], copy)
    for v in range(20):
        (copy / "_delta_log" / f"{v:020d}.json").unlink()
    (copy / "_delta_log" / f"{10:020d}.checkpoint.parquet").unlink()
    df = spark.read.format("delta").load(str(copy))
    assert_same_rows(spark_rows(df, spec["schema"]), expected_rows(spec), "Spark from checkpoint 20")
    assert_same_rows(deltars_rows(copy, spec["schema"]), expected_rows(spec), "delta-rs from checkpoint 20")
    # Version 15 can only come from checkpoint 10 + commits 11..15: use the untouched table.
    df15 = spark.read.format("delta").option("versionAsOf", 15).load(spec["path"])
    assert df15.count() == len(spec["versions"]["15"])


SPLIT = [t for t in TABLES if t["kind"] == "split"]


@pytest.mark.parametrize("spec", SPLIT, ids=[t["name"] for t in SPLIT])
def test_target_file_size_splits_files(spark, spec):
    from deltalake import DeltaTable

    import pyarrow as pa

    adds = pa.table(DeltaTable(spec["path"]).get_add_actions(flatten=True)).to_pylist()
    assert len(adds) > 3, "a 64 KiB target over 20,000 rows must give several files"
    sizes = sorted(a["size_bytes"] for a in adds)
    # All but the last file are cut near the target (within a factor of 2).
    for s in sizes[1:]:
        assert 32 * 1024 <= s <= 128 * 1024, sizes
    assert sum(a["num_records"] for a in adds) == 20000
