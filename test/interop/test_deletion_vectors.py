"""Deletion vectors (issue 14, items 2 and 12), judged by Spark and delta-rs on tables Spark made:
Spark creates tables with delta.enableDeletionVectors=true and deletes, updates and merges
(file DVs, scattered rows and ranges, partitioned and not, a random-prefix table, a checkpoint);
the same DVs are also stored inline and by absolute path; Tributary appends, streams (a real
`tributary run`), runs OPTIMIZE and VACUUM; Spark deletes and appends again. After every step
Spark, delta-rs and `tributary read` return exactly the rows the operations leave (a model kept
here from the inputs, not any reader's output), `tributary read --version` returns what Spark's
versionAsOf returns at every version, and `tributary inspect` counts what Spark counts."""

import json
import shutil

from conftest import tributary
from dv_log import commits, deltars_table, live_adds, restore_dvs_inline_and_by_path


def tributary_rows(path, version=None):
    args = ["read", path] + (["--version", str(version)] if version is not None else [])
    return [json.loads(line) for line in tributary(*args).stdout.splitlines()]


def spark_df(spark, path, version=None):
    r = spark.read.format("delta")
    if version is not None:
        r = r.option("versionAsOf", version)
    return r.load(str(path))


def inspect(path):
    return json.loads(tributary("inspect", path, "--json").stdout)


# ---------------------------------------------------------------------------------------------
# A partitioned table: id, name, part


def rows_by_id(rows):
    return {r["id"]: (r["name"], r["part"]) for r in rows}


def check_partitioned(spark, path, model, step):
    """Spark, delta-rs, `tributary read` and `tributary inspect` against the model."""
    df = spark_df(spark, path)
    assert rows_by_id(r.asDict() for r in df.collect()) == model, f"Spark after {step}"
    assert rows_by_id(deltars_table(path)) == model, f"delta-rs after {step}"
    ours = tributary_rows(path)
    assert len(ours) == len(model) and rows_by_id(ours) == model, f"tributary read after {step}"
    assert inspect(path)["numRecords"] == df.count() == len(model), f"tributary inspect after {step}"


def check_time_travel(spark, path, versions):
    """`tributary read --version v` returns Spark's versionAsOf rows at every version."""
    for v in versions:
        want = sorted(r["id"] for r in spark_df(spark, path, v).select("id").collect())
        got = sorted(r["id"] for r in tributary_rows(path, v))
        assert got == want, f"version {v}: tributary {len(got)} rows, Spark {len(want)}"


def test_spark_dv_table_partitioned_with_checkpoint(spark, scratch):
    p = scratch / f"dv-partitioned-{spark.version}"
    spark.sql(
        f"CREATE TABLE delta.`{p}` (id BIGINT, name STRING, part STRING) USING delta PARTITIONED BY (part) "
        "TBLPROPERTIES ('delta.enableDeletionVectors' = 'true', 'delta.checkpointInterval' = '5')"
    )
    spark.range(0, 1000).selectExpr("id", "concat('n', id) as name", "cast(id % 3 as string) as part").repartition(2).write.format("delta").mode("append").save(str(p))
    model = {i: (f"n{i}", str(i % 3)) for i in range(1000)}
    # Scattered rows (array containers), a range (run containers), an UPDATE (DVs + new files).
    spark.sql(f"DELETE FROM delta.`{p}` WHERE id % 10 = 3")
    model = {i: v for i, v in model.items() if i % 10 != 3}
    spark.sql(f"DELETE FROM delta.`{p}` WHERE id BETWEEN 100 AND 299")
    model = {i: v for i, v in model.items() if not 100 <= i <= 299}
    spark.sql(f"UPDATE delta.`{p}` SET name = concat('u', id) WHERE id % 7 = 0")
    model = {i: ((f"u{i}", v[1]) if i % 7 == 0 else v) for i, v in model.items()}
    # MERGE: delete the even matches, insert the new ids (version 5: Spark checkpoints).
    spark.range(990, 1020).selectExpr("id", "concat('m', id) as name", "cast(id % 3 as string) as part").createOrReplaceTempView("dv_src")
    spark.sql(
        f"MERGE INTO delta.`{p}` t USING dv_src s ON t.id = s.id "
        "WHEN MATCHED AND t.id % 2 = 0 THEN DELETE WHEN NOT MATCHED THEN INSERT *"
    )
    for i in range(990, 1020):
        if i not in model:
            model[i] = (f"m{i}", str(i % 3))
        elif i % 2 == 0:
            del model[i]
    assert (p / "_delta_log" / f"{5:020d}.checkpoint.parquet").exists(), "Spark did not checkpoint at 5"
    dvs = [a["deletionVector"] for a in live_adds(p) if a.get("deletionVector")]
    assert dvs and all(d["storageType"] == "u" for d in dvs)
    # The same DVs stored inline and by absolute path: the rows do not change.
    v6 = restore_dvs_inline_and_by_path(p)
    assert {(a.get("deletionVector") or {}).get("storageType") for a in live_adds(p)} >= {"u", "i", "p"}
    check_partitioned(spark, p, model, "Spark's DELETE, UPDATE, MERGE and the inline/path DVs")
    check_time_travel(spark, p, range(0, v6 + 1))

    # Tributary appends, then compacts: the files with DVs are rewritten without their rows.
    batch = scratch / f"dv-part-{spark.version}.ndjson"
    batch.write_text("".join(json.dumps({"id": i, "name": f"t{i}", "part": str(i % 3)}) + "\n" for i in range(2000, 2050)))
    tributary("append", p, "--input", batch)
    model.update({i: (f"t{i}", str(i % 3)) for i in range(2000, 2050)})
    m = json.loads(tributary("optimize", p, "--json").stdout)
    assert m["numFilesRemoved"] > 0 and m["numFilesAdded"] == 3
    assert not [a for a in live_adds(p) if a.get("deletionVector")], "OPTIMIZE left files with DVs"
    hist = spark.sql(f"DESCRIBE HISTORY delta.`{p}`").collect()
    assert int(hist[0]["operationMetrics"]["numDeletionVectorsRemoved"]) == len(dvs)
    check_partitioned(spark, p, model, "Tributary's append and OPTIMIZE")

    # Spark deletes rows of the files Tributary wrote (new DVs on them, version 9); Tributary
    # appends again (10) and writes the checkpoint, with those DVs in it; Spark appends (11).
    spark.sql(f"DELETE FROM delta.`{p}` WHERE id % 10 = 5")
    model = {i: v for i, v in model.items() if i % 10 != 5}
    batch.write_text("".join(json.dumps({"id": i, "name": f"t{i}", "part": str(i % 3)}) + "\n" for i in range(2050, 2060)))
    assert "(checkpoint at 10)" in tributary("append", p, "--input", batch).stdout
    model.update({i: (f"t{i}", str(i % 3)) for i in range(2050, 2060)})
    spark.range(3000, 3020).selectExpr("id", "concat('s', id) as name", "cast(id % 3 as string) as part").write.format("delta").mode("append").save(str(p))
    model.update({i: (f"s{i}", str(i % 3)) for i in range(3000, 3020)})
    assert any(a.get("deletionVector") for a in live_adds(p))
    check_partitioned(spark, p, model, "Spark's DELETE on Tributary's files")
    # Tributary's checkpoint at 10 carries the DVs: read from it alone, every reader agrees.
    copy = scratch / f"dv-partitioned-from10-{spark.version}"
    shutil.copytree(p, copy)
    for v in range(10):
        (copy / "_delta_log" / f"{v:020d}.json").unlink()
    (copy / "_delta_log" / f"{5:020d}.checkpoint.parquet").unlink()
    check_partitioned(spark, copy, model, "reading from Tributary's checkpoint")

    # VACUUM keeps the DV files live files use and deletes the rest.
    tributary("vacuum", p, "--retention", "0h", "--force")
    live_dvs = {a["deletionVector"]["pathOrInlineDv"] for a in live_adds(p) if a.get("deletionVector")}
    on_disk = sorted(f.name for f in p.rglob("deletion_vector_*.bin"))
    assert len(on_disk) == len(live_dvs), (on_disk, live_dvs)
    check_partitioned(spark, p, model, "VACUUM")


# ---------------------------------------------------------------------------------------------
# A table without partitions (random file prefixes) that a Tributary stream writes into


def values_of(rows):
    return sorted(r["value"] for r in rows)


def check_stream_table(spark, path, model, step):
    df = spark_df(spark, path)
    assert values_of(r.asDict() for r in df.select("value").collect()) == model, f"Spark after {step}"
    assert values_of(deltars_table(path)) == model, f"delta-rs after {step}"
    assert values_of(tributary_rows(path)) == model, f"tributary read after {step}"
    assert inspect(path)["numRecords"] == df.count() == len(model), f"tributary inspect after {step}"


def test_tributary_streams_into_spark_dv_table(spark, scratch):
    p = scratch / f"dv-stream-{spark.version}"
    cp = scratch / f"dv-stream-cp-{spark.version}"
    spark.sql(
        f"CREATE TABLE delta.`{p}` (timestamp TIMESTAMP, value BIGINT) USING delta "
        "TBLPROPERTIES ('delta.enableDeletionVectors' = 'true', 'delta.randomizeFilePrefixes' = 'true')"
    )
    spark.range(-300, 0).selectExpr("timestamp_seconds(id + 1000) as timestamp", "id as value").repartition(2).write.format("delta").mode("append").save(str(p))
    spark.sql(f"DELETE FROM delta.`{p}` WHERE value % 3 = 0")
    model = [v for v in range(-300, 0) if v % 3 != 0]
    prefixed = [a for a in live_adds(p) if a.get("deletionVector") and len(a["deletionVector"]["pathOrInlineDv"]) > 20]
    assert prefixed, "Spark wrote no DV under a random prefix"
    check_stream_table(spark, p, model, "Spark's DELETE")

    def run_stream():
        out = tributary("run", "--format", "rate", "--option", "rowsPerBatch=100", "--checkpoint", cp, "--trigger", "availableNow", p)
        return out.stdout

    # Two runs: values 0..199 in two streaming commits.
    run_stream()
    run_stream()
    model = sorted(model + list(range(0, 200)))
    check_stream_table(spark, p, model, "two stream runs")
    # Spark deletes some streamed rows (a DV on Tributary's file); the stream goes on.
    spark.sql(f"DELETE FROM delta.`{p}` WHERE value BETWEEN 50 AND 59 OR value = -1")
    model = [v for v in model if not (50 <= v <= 59 or v == -1)]
    run_stream()
    model = sorted(model + list(range(200, 300)))
    check_stream_table(spark, p, model, "Spark's DELETE and a third stream run")
    check_time_travel_values(spark, p)
    m = json.loads(tributary("optimize", p, "--json").stdout)
    assert m["numFilesRemoved"] > 0
    check_stream_table(spark, p, model, "OPTIMIZE")
    tributary("vacuum", p, "--retention", "0h", "--force")
    assert not list(p.rglob("deletion_vector_*.bin")), "VACUUM kept DV files no live file uses"
    check_stream_table(spark, p, model, "VACUUM")


def check_time_travel_values(spark, path):
    for v in commits(path):
        want = sorted(r["value"] for r in spark_df(spark, path, v).select("value").collect())
        assert values_of(tributary_rows(path, v)) == want, f"version {v}"
