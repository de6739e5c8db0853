"""V2 checkpoints (issue 14, item 3), judged by Spark and delta-rs: Spark creates a table with
delta.checkpointPolicy=v2 (and deletion vectors) and writes JSON and Parquet UUID-named
checkpoints with sidecars; Tributary reads them (also with every commit before them deleted),
appends and streams into the table and writes its own V2 checkpoints, which Spark and delta-rs
then read with the earlier commits deleted, and whose `_last_checkpoint` checksum Spark's own
code validates; OPTIMIZE, VACUUM, and log cleanup that must keep every sidecar a kept checkpoint
references. Rows are compared with a model kept from the inputs."""

import json
import os
import shutil
import time
from pathlib import Path

from conftest import tributary
from dv_log import commits, deltars_table

UUID_CHECKPOINT = r"^\d{20}\.checkpoint\.[0-9a-f-]{36}\.(json|parquet)$"


def spark_values(spark, path, version=None):
    r = spark.read.format("delta")
    if version is not None:
        r = r.option("versionAsOf", version)
    return sorted(x["value"] for x in r.load(str(path)).select("value").collect())


def deltars_values(path):
    return sorted(r["value"] for r in deltars_table(path))


def tributary_values(path, version=None):
    args = ["read", path] + (["--version", str(version)] if version is not None else [])
    return sorted(json.loads(line)["value"] for line in tributary(*args).stdout.splitlines())


def check(spark, path, model, step):
    assert spark_values(spark, path) == model, f"Spark after {step}"
    assert deltars_values(path) == model, f"delta-rs after {step}"
    assert tributary_values(path) == model, f"tributary read after {step}"
    assert json.loads(tributary("inspect", path, "--json").stdout)["numRecords"] == len(model), f"tributary inspect after {step}"


def uuid_checkpoints(path):
    import re

    return sorted(f.name for f in (Path(path) / "_delta_log").iterdir() if re.match(UUID_CHECKPOINT, f.name))


def sidecars_of(path, checkpoint):
    """The sidecar names a top-level checkpoint file (JSON or Parquet) lists."""
    f = Path(path) / "_delta_log" / checkpoint
    if f.name.endswith(".json"):
        rows = [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
        return [r["sidecar"]["path"] for r in rows if "sidecar" in r]
    import pyarrow.parquet as pq

    t = pq.read_table(f)
    if "sidecar" not in t.column_names:
        return []
    return [s["path"] for s in t.column("sidecar").to_pylist() if s]


def without_commits_before(scratch, path, version, name):
    """A copy of the table with every commit before `version` deleted: only the checkpoint at
    `version` can give the state, so reading it proves the checkpoint is whole and used."""
    copy = scratch / name
    shutil.copytree(path, copy)
    for v in range(version):
        f = copy / "_delta_log" / f"{v:020d}.json"
        if f.exists():
            f.unlink()
    return copy


def spark_validates_last_checkpoint(spark, path):
    """Spark's own LastCheckpointInfo: the stored checksum equals the one Spark computes."""
    text = (Path(path) / "_delta_log" / "_last_checkpoint").read_text()
    checksums = spark._jvm.org.apache.spark.sql.delta.LastCheckpointInfo.getChecksums(text)
    stored = checksums._1()
    assert stored.isDefined(), "no checksum in _last_checkpoint"
    assert stored.get() == checksums._2(), f"Spark computes {checksums._2()} for {text}"
    return json.loads(text)


def append_ndjson(scratch, path, values):
    f = scratch / f"v2-{Path(path).name}-{values[0]}.ndjson"
    f.write_text("".join(json.dumps({"timestamp": "2026-12-01T00:00:00Z", "value": v}) + "\n" for v in values))
    return tributary("append", path, "--input", f).stdout


def test_v2_checkpoints_between_spark_and_tributary(spark, scratch):
    p = scratch / f"v2cp-{spark.version}"
    cp = scratch / f"v2cp-stream-{spark.version}"
    spark.sql(
        f"CREATE TABLE delta.`{p}` (timestamp TIMESTAMP, value BIGINT) USING delta TBLPROPERTIES "
        "('delta.checkpointPolicy' = 'v2', 'delta.checkpointInterval' = '2', 'delta.enableDeletionVectors' = 'true')"
    )
    proto = next(json.loads(line)["protocol"] for line in (p / "_delta_log" / f"{0:020d}.json").read_text().splitlines() if "protocol" in line)
    assert "v2Checkpoint" in proto["readerFeatures"]

    def spark_append(lo, hi):
        spark.range(lo, hi).selectExpr("timestamp_seconds(0) as timestamp", "id as value").repartition(2).write.format("delta").mode("append").save(str(p))

    spark_append(-1000, -900)  # 1
    spark_append(-900, -800)  # 2: a JSON V2 checkpoint (Spark's default) with a sidecar
    spark.sql(f"DELETE FROM delta.`{p}` WHERE value % 5 = 0")  # 3
    spark.conf.set("spark.databricks.delta.checkpointV2.topLevelFileFormat", "parquet")
    try:
        spark_append(-800, -700)  # 4: a Parquet V2 checkpoint
    finally:
        spark.conf.unset("spark.databricks.delta.checkpointV2.topLevelFileFormat")
    model = [v for v in range(-1000, -800) if v % 5 != 0] + list(range(-800, -700))
    tops = uuid_checkpoints(p)
    assert [t[:20] for t in tops] == [f"{2:020d}", f"{4:020d}"] and tops[0].endswith(".json") and tops[1].endswith(".parquet"), tops
    assert all(sidecars_of(p, t) for t in tops), "Spark wrote V2 checkpoints without sidecars"

    # Tributary reads Spark's checkpoints: each alone, with the commits before it deleted.
    check(spark, p, model, "Spark's writes")
    from_parquet = without_commits_before(scratch, p, 4, f"v2cp-from4-{spark.version}")
    assert tributary_values(from_parquet) == model
    from_json = without_commits_before(scratch, p, 2, f"v2cp-from2-{spark.version}")
    (from_json / "_delta_log" / tops[1]).unlink()
    assert tributary_values(from_json) == model
    for v in range(0, 5):
        assert tributary_values(p, v) == spark_values(spark, p, v), f"version {v}"

    # Tributary appends (5) and streams (6): its own V2 checkpoint at 6.
    append_ndjson(scratch, p, list(range(5000, 5010)))
    tributary("run", "--format", "rate", "--option", "rowsPerBatch=50", "--checkpoint", cp, "--trigger", "availableNow", p)
    model = sorted(model + list(range(5000, 5010)) + list(range(0, 50)))
    ours = [t for t in uuid_checkpoints(p) if t.startswith(f"{6:020d}")]
    assert len(ours) == 1 and ours[0].endswith(".json"), uuid_checkpoints(p)
    last = spark_validates_last_checkpoint(spark, p)
    assert last["version"] == 6 and last["v2Checkpoint"]["path"] == ours[0]
    assert [s["path"] for s in last["v2Checkpoint"]["sidecarFiles"]] == sidecars_of(p, ours[0])
    check(spark, p, model, "Tributary's append and stream")
    # Spark and delta-rs read the table from Tributary's checkpoint alone.
    from6 = without_commits_before(scratch, p, 6, f"v2cp-from6-{spark.version}")
    assert spark_values(spark, from6) == model
    assert deltars_values(from6) == model

    # Spark goes on from Tributary's checkpoint: an append (7) and a delete (8, Spark's checkpoint).
    spark_append(-700, -650)
    spark.sql(f"DELETE FROM delta.`{p}` WHERE value BETWEEN 10 AND 19")
    model = sorted([v for v in model if not 10 <= v <= 19] + list(range(-700, -650)))
    check(spark, p, model, "Spark's append and delete after Tributary's checkpoint")

    # OPTIMIZE and VACUUM on the V2 table.
    m = json.loads(tributary("optimize", p, "--json").stdout)
    assert m["numFilesRemoved"] > 0
    check(spark, p, model, "OPTIMIZE")
    tributary("vacuum", p, "--retention", "0h", "--force")
    check(spark, p, model, "VACUUM")

    # Log cleanup: with the log 40 days old, the next checkpoint Tributary writes lets it delete
    # the expired commits and checkpoints, and the sidecars no kept checkpoint references.
    old = time.time() - 40 * 86400
    for f in (p / "_delta_log").rglob("*"):
        if f.is_file():
            os.utime(f, (old, old))
    before = set(commits(p))
    value = 6000
    while True:
        out = append_ndjson(scratch, p, [value])
        model = sorted(model + [value])
        value += 1
        if "checkpoint at" in out:
            break
    assert not before <= set(commits(p)), "log cleanup deleted no commit"
    kept_checkpoints = uuid_checkpoints(p) + sorted(f.name for f in (p / "_delta_log").glob("*.checkpoint.parquet"))
    referenced = {s for t in kept_checkpoints for s in sidecars_of(p, t)}
    on_disk = {f.name for f in (p / "_delta_log" / "_sidecars").iterdir() if not f.name.startswith(".")}
    assert referenced <= on_disk, f"a kept checkpoint lost its sidecar: {referenced - on_disk}"
    assert on_disk == referenced, f"unreferenced sidecars were kept: {on_disk - referenced}"
    spark_validates_last_checkpoint(spark, p)
    check(spark, p, model, "log cleanup")
