"""OPTIMIZE and VACUUM judged by Spark and delta-rs."""

import json

from conftest import tributary

SCHEMA = "id BIGINT NOT NULL, coin STRING, price DOUBLE, day STRING"


def append(path, ids, scratch, create=False):
    f = scratch / f"m-{path.name}-{ids[0]}.ndjson"
    f.write_text("\n".join(json.dumps({"id": i, "coin": ["btc", "eth", "sol"][i % 3], "price": i * 0.5, "day": ["2026-11-27", "2026-11-28"][i % 2]}) for i in ids) + "\n")
    args = ["append", path, "--input", f]
    if create:
        args += ["--schema", SCHEMA, "--partition-by", "day"]
    tributary(*args)


def ids_of(df):
    return sorted(r["id"] for r in df.select("id").collect())


def test_optimize_then_vacuum(spark, scratch):
    path = scratch / f"optimize-{spark.version}"
    for v in range(8):
        append(path, list(range(v * 5, v * 5 + 5)), scratch, create=(v == 0))
    # A Spark stream over the table starts before the optimize.
    q = (
        spark.readStream.format("delta").load(str(path))
        .writeStream.format("memory").queryName(f"opt_{spark.version.replace('.', '_')}")
        .option("checkpointLocation", str(scratch / f"opt-stream-{spark.version}"))
        .start()
    )
    q.processAllAvailable()
    before = ids_of(spark.read.format("delta").load(str(path)))
    files_before = len(spark.read.format("delta").load(str(path)).inputFiles())
    out = tributary("optimize", path, "--json").stdout
    m = json.loads(out)
    assert m["version"] == 8 and m["numFilesRemoved"] == 16 and m["numFilesAdded"] == 2
    append(path, list(range(40, 45)), scratch)
    q.processAllAvailable()
    streamed = [r["id"] for r in spark.sql(f"SELECT id FROM opt_{spark.version.replace('.', '_')}").collect()]
    q.stop()
    assert len(streamed) == len(set(streamed)), "the stream saw a row twice across OPTIMIZE"
    assert sorted(streamed) == list(range(45))
    # Same rows for Spark and delta-rs after the optimize; far fewer files.
    df = spark.read.format("delta").load(str(path))
    assert ids_of(df) == list(range(45))
    assert len(df.inputFiles()) < files_before
    from deltalake import DeltaTable

    assert sorted(DeltaTable(str(path)).to_pyarrow_table(columns=["id"]).column("id").to_pylist()) == list(range(45))
    # History: the OPTIMIZE commit with string-valued metrics.
    hist = {h["version"]: h for h in spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()}
    assert hist[8]["operation"] == "OPTIMIZE"
    assert hist[8]["operationMetrics"]["numRemovedFiles"] == "16"
    assert hist[8]["operationParameters"]["auto"] == "false"
    # Time travel to before the optimize works until VACUUM removes those files.
    assert ids_of(spark.read.format("delta").option("versionAsOf", 7).load(str(path))) == before
    assert ids_of(spark.read.format("delta").option("versionAsOf", 7).load(str(path))) == list(range(40))
    p = tributary("vacuum", path, "--retention", "168h", "--dry-run")
    assert "would delete 0 file(s)" in p.stdout
    tributary("vacuum", path, "--retention", "0h", "--force")
    assert ids_of(spark.read.format("delta").load(str(path))) == list(range(45))
    assert sorted(DeltaTable(str(path)).to_pyarrow_table(columns=["id"]).column("id").to_pylist()) == list(range(45))
    failed = False
    try:
        spark.read.format("delta").option("versionAsOf", 7).load(str(path)).collect()
    except Exception:
        failed = True
    assert failed, "version 7's files should be gone after VACUUM with 0 hours retention"
