"""OPTIMIZE and VACUUM judged by Spark and delta-rs."""

import base64
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


FLAT = (
    "id BIGINT NOT NULL, coin STRING, price DOUBLE, qty INT, small SMALLINT, tiny TINYINT, ok BOOLEAN, "
    "amount DECIMAL(38,18), cents DECIMAL(9,2), d DATE, ts TIMESTAMP, raw BINARY, day STRING"
)


def flat_record(i):
    return {
        "id": i,
        "coin": None if i % 6 == 0 else ["bitcoin", "ethereum", "sölana"][i % 3],
        "price": None if i % 5 == 0 else i / 7,
        "qty": None if i % 4 == 0 else i - 500,
        "small": -i if i % 2 else i,
        "tiny": (i % 256) - 128,
        "ok": None if i % 3 == 0 else i % 2 == 0,
        "amount": None if i % 7 == 0 else f"{'-' if i % 2 else ''}{i}.{i:018d}",
        "cents": f"{'-' if i % 3 else ''}{i}.25",
        "d": f"{1600 + i % 500}-0{1 + i % 9}-1{i % 10}",
        "ts": None if i % 8 == 0 else f"2026-11-28T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}.{i % 1000000:06d}Z",
        "raw": None if i % 9 == 0 else base64.b64encode(bytes([i % 256, 0, 255])).decode(),
        "day": ["2026-11-27", "2026-11-28"][i % 2],
    }


def test_optimize_flat_table_from_every_writer(spark, scratch):
    """OPTIMIZE of a flat table (the JavaScript Parquet reader's path) whose small files come from
    Tributary's two encoders and three codecs, from Spark and from delta-rs: Spark and delta-rs
    read exactly the rows they read before, in far fewer files."""
    path = scratch / f"optimize-flat-{spark.version}"
    writes = [["--schema", FLAT, "--partition-by", "day"], [], ["--compression", "zstd"], ["--engine", "parquetjs"], ["--compression", "uncompressed"]]
    for k, extra in enumerate(writes):
        f = scratch / f"flat-{spark.version}-{k}.ndjson"
        f.write_text("\n".join(json.dumps(flat_record(i)) for i in range(k * 30, k * 30 + 30)) + "\n")
        tributary("append", path, "--input", f, *extra)
    # Spark's own files (its Parquet writer, its timestamp encoding) in the same table.
    spark.read.format("delta").load(str(path)).where("id < 30").selectExpr("id + 1000 AS id", *[c for c in spark.read.format("delta").load(str(path)).columns if c != "id"]).write.format("delta").mode("append").save(str(path))
    from deltalake import DeltaTable, write_deltalake

    # And delta-rs's.
    extra = DeltaTable(str(path)).to_pyarrow_table(filters=[("id", "<", 30)])
    extra = extra.set_column(extra.schema.get_field_index("id"), "id", pa_add(extra.column("id"), 2000))
    write_deltalake(str(path), extra, mode="append")

    def spark_all():
        df = spark.read.format("delta").load(str(path))
        return sorted((tuple(r) for r in df.collect()), key=lambda r: r[df.columns.index("id")]), len(df.inputFiles())

    def deltars_all():
        return DeltaTable(str(path)).to_pyarrow_table().sort_by("id")

    before, files_before = spark_all()
    rs_before = deltars_all()
    assert len(before) == 150 + 30 + 30 and rs_before.num_rows == len(before)
    m = json.loads(tributary("optimize", path, "--json").stdout)
    assert m["numFilesAdded"] == 2 and m["numFilesRemoved"] == files_before
    after, files_after = spark_all()
    assert files_after == 2
    assert after == before
    assert deltars_all().equals(rs_before)


def pa_add(col, n):
    import pyarrow.compute as pc

    return pc.add(col, n)
