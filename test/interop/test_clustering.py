"""Liquid clustering (the `clustering` table feature) judged by Spark and delta-rs.

Spark creates a clustered table; Tributary appends to it and streams into it (a real `tributary
run` over HTTP), clusters it with `tributary optimize`, vacuums it; Spark's file skipping reads
fewer files for filters on the clustering columns afterwards; Spark appends and runs its own
OPTIMIZE over our ZCube; Spark and delta-rs read exactly the input rows. Tables Tributary creates
with --cluster-by get the protocol and `delta.clustering` domain Spark gives them, and what Spark
refuses to cluster by is refused too, with one line and nothing written."""

import json
import re
import sys
from pathlib import Path

import pytest

from conftest import WORK, assert_same_rows, deltars_rows, spark_rows, tributary
from feature_support import files_read, json_api

SCHEMA = {
    "type": "struct",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "a", "type": "long"},
        {"name": "b", "type": "string"},
        {"name": "v", "type": "double"},
    ],
}
N = 8000


def row(i):
    # a and b are scattered over their ranges by id, so every appended file spans all of both.
    return {"id": i, "a": (i * 7919) % 100_000, "b": "k%04d" % ((i * 104_729) % 5000), "v": i * 0.25}


def log_actions(path, version):
    f = Path(path) / "_delta_log" / f"{version:020d}.json"
    return [json.loads(line) for line in f.read_text().splitlines() if line.strip()]


def latest_version(path):
    return max(int(p.stem) for p in (Path(path) / "_delta_log").glob("*.json"))


def write_rows(scratch, name, rows):
    f = scratch / name
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return f


def stream(path, checkpoint, rows, *extra):
    """A `tributary run` of http-json against a loopback API serving `rows` on two pages."""
    half = len(rows) // 2
    pages = [[json.dumps(r) for r in rows[:half]], [json.dumps(r) for r in rows[half:]]]
    with json_api(pages) as url:
        p = tributary(
            "run", "--format", "http-json", "--option", f"url={url}", "--option", "pagination=page",
            "--schema", "id BIGINT, a BIGINT, b STRING, v DOUBLE",
            "--checkpoint", checkpoint, "--trigger", "availableNow", *extra, path,
        )
    return p


def detail(spark, path):
    return spark.sql(f"DESCRIBE DETAIL delta.`{path}`").collect()[0]


QUERIES = {
    "a = 12345": "a = 12345",
    "a in a 2% range and b in a 2% range": "a BETWEEN 40000 AND 42000 AND b BETWEEN 'k2000' AND 'k2100'",
    "b = 'k0042'": "b = 'k0042'",
}


def test_spark_clustered_table_through_tributary(spark, scratch):
    path = scratch / f"clustered-{spark.version}"
    spark.sql(f"CREATE TABLE delta.`{path}` (id BIGINT, a BIGINT, b STRING, v DOUBLE) USING delta CLUSTER BY (a, b)")
    # Tributary appends 8 files, each holding rows from the whole range of a and b ...
    rows = [row(i) for i in range(N)]
    for k in range(8):
        tributary("append", path, "--input", write_rows(scratch, f"cl-{k}.ndjson", rows[k::8]))
    # ... and a stream adds more, creating nothing (the table exists): plain files, as Spark's appends.
    more = [row(i) for i in range(N, N + 800)]
    stream(path, scratch / f"cl-cp-{spark.version}", more)
    expected = sorted(rows + more, key=lambda r: r["id"])
    appended = [a["add"] for v in range(1, latest_version(path) + 1) for a in log_actions(path, v) if "add" in a]
    assert appended and all("clusteringProvider" not in a and not a.get("tags") for a in appended)

    df = lambda: spark.read.format("delta").load(str(path))  # noqa: E731
    before = {name: files_read(df().filter(q)) for name, q in QUERIES.items()}
    num_files = len(df().inputFiles())
    assert all(n == num_files for n in before.values()), f"interleaved files: every query reads all {num_files}: {before}"

    # OPTIMIZE clusters: one ZCube of about 12 files, Hilbert-ordered over (a, b).
    size = sum(a["size"] for a in appended)
    out = json.loads(tributary("optimize", path, "--target-file-size", str(size // 12), "--json").stdout)
    assert out["numFilesRemoved"] == num_files and out["numFilesAdded"] == 12
    actions = log_actions(path, out["version"])
    adds = [a["add"] for a in actions if "add" in a]
    assert len({a["tags"]["ZCUBE_ID"] for a in adds}) == 1
    assert all(a["clusteringProvider"] == "liquid" and a["tags"]["ZCUBE_ZORDER_BY"] == '["a","b"]' and a["dataChange"] is False for a in adds)
    assert all(a["remove"]["dataChange"] is False for a in actions if "remove" in a)
    hist = {h["version"]: h for h in spark.sql(f"DESCRIBE HISTORY delta.`{path}`").collect()}
    assert hist[out["version"]]["operation"] == "OPTIMIZE"
    assert hist[out["version"]]["operationParameters"]["clusterBy"] == '["a","b"]'
    assert detail(spark, path)["clusteringColumns"] == ["a", "b"]

    after = {name: files_read(df().filter(q)) for name, q in QUERIES.items()}
    report = {"spark": spark.version, "files": {"before": num_files, "after": len(df().inputFiles())}, "files read before": before, "files read after": after}
    print(f"\nclustering file skipping: {json.dumps(report)}", file=sys.stderr)
    (WORK / f"clustering-skipping-{spark.version}.json").write_text(json.dumps(report, indent=2))
    for name in QUERIES:
        assert after[name] < before[name], f"{name}: {after[name]} files read after OPTIMIZE, {before[name]} before"
    # A point on one clustering column and a box on both land in a few of the 12 files.
    assert after["a = 12345"] <= 6 and after["a in a 2% range and b in a 2% range"] <= 4
    # Nothing left to cluster: one ZCube, no new files.
    assert "nothing to optimize" in tributary("optimize", path).stdout

    # The rows are the input's, for Spark and delta-rs, also after VACUUM removed the old files.
    tributary("vacuum", path, "--retention", "0h", "--force")
    assert_same_rows(spark_rows(df(), SCHEMA), expected, "spark")
    assert_same_rows(deltars_rows(path, SCHEMA), expected, "delta-rs")

    # Spark appends and clusters again: our ZCube is small (well under Spark's 100 GB), so Spark's
    # OPTIMIZE takes it with its own new file, as it takes its own ZCubes.
    spark.sql(f"INSERT INTO delta.`{path}` SELECT id, id * 7919 % 100000, 'k' || lpad(cast(id * 104729 % 5000 AS STRING), 4, '0'), id * 0.25 FROM range({N + 800}, {N + 900})")
    expected += [row(i) for i in range(N + 800, N + 900)]
    live = len(df().inputFiles())
    m = spark.sql(f"OPTIMIZE delta.`{path}`").collect()[0]["metrics"]
    assert live > 12 and m["numFilesRemoved"] == live
    last = log_actions(path, latest_version(path))
    spark_adds = [a["add"] for a in last if "add" in a]
    assert spark_adds and all(a["clusteringProvider"] == "liquid" for a in spark_adds)
    assert_same_rows(spark_rows(df(), SCHEMA), sorted(expected, key=lambda r: r["id"]), "spark after Spark's OPTIMIZE")
    assert_same_rows(deltars_rows(path, SCHEMA), sorted(expected, key=lambda r: r["id"]), "delta-rs after Spark's OPTIMIZE")


def test_tributary_creates_clustered_table_spark_clusters_it(spark, scratch):
    """`tributary run --cluster-by` creates the table (the protocol and domain Spark's CLUSTER BY
    gives), Spark's OPTIMIZE clusters it, Tributary appends and clusters Spark's small ZCube with
    the new rows, and the rows stay the input's."""
    ours = scratch / f"created-clustered-{spark.version}"
    rows = [row(i) for i in range(2000)]
    stream(ours, scratch / f"cc-cp-{spark.version}", rows, "--cluster-by", "b, a")
    theirs = scratch / f"created-clustered-spark-{spark.version}"
    spark.sql(f"CREATE TABLE delta.`{theirs}` (id BIGINT, a BIGINT, b STRING, v DOUBLE) USING delta CLUSTER BY (b, a)")
    first = log_actions(ours, 0)
    spark_first = log_actions(theirs, 0)
    proto = lambda acts: next({k: sorted(v) if isinstance(v, list) else v for k, v in a["protocol"].items()} for a in acts if "protocol" in a)  # noqa: E731
    domains = lambda acts: [a["domainMetadata"] for a in acts if "domainMetadata" in a]  # noqa: E731
    assert proto(first) == proto(spark_first)
    assert domains(first) == domains(spark_first) == [{"domain": "delta.clustering", "configuration": '{"clusteringColumns":[["b"],["a"]],"domainName":"delta.clustering"}', "removed": False}]
    assert detail(spark, ours)["clusteringColumns"] == ["b", "a"]

    m = spark.sql(f"OPTIMIZE delta.`{ours}`").collect()[0]["metrics"]
    assert m["numFilesAdded"] >= 1
    # One ZCube and nothing new: nothing for us to do either.
    assert "nothing to optimize" in tributary("optimize", ours).stdout
    more = [row(i) for i in range(2000, 2100)]
    tributary("append", ours, "--input", write_rows(scratch, "cc-more.ndjson", more), "--cluster-by", "b,a")
    out = json.loads(tributary("optimize", ours, "--json").stdout)
    spark_cube = {a["add"]["tags"]["ZCUBE_ID"] for v in range(latest_version(ours)) for a in log_actions(ours, v) if "add" in a and a["add"].get("tags")}
    removed = {a["remove"]["path"] for a in log_actions(ours, out["version"]) if "remove" in a}
    assert len(removed) == out["numFilesRemoved"] == m["numFilesAdded"] + 1 and spark_cube
    adds = [a["add"] for a in log_actions(ours, out["version"]) if "add" in a]
    assert all(a["tags"]["ZCUBE_ZORDER_BY"] == '["b","a"]' and a["tags"]["ZCUBE_ID"] not in spark_cube for a in adds)
    expected = sorted(rows + more, key=lambda r: r["id"])
    assert_same_rows(spark_rows(spark.read.format("delta").load(str(ours)), SCHEMA), expected, "spark")
    assert_same_rows(deltars_rows(ours, SCHEMA), expected, "delta-rs")
    # Appending with other clustering columns is refused, naming both.
    p = tributary("append", ours, "--input", write_rows(scratch, "cc-bad.ndjson", more[:1]), "--cluster-by", "a", check=False)
    assert p.returncode == 1 and p.stderr == f"tributary: error [INVALID_ARGUMENT]: table {ours} is clustered by [b, a], not [a]\n"


# (columns, CLUSTER BY, properties, a row); each created by Spark and by `tributary append --cluster-by`.
CREATE = [
    ("a BIGINT, b STRING, c DOUBLE", "a, b", {}, {"a": 1, "b": "x", "c": 0.5}),
    ("a BIGINT NOT NULL, b INT", "a", {"delta.enableChangeDataFeed": "true"}, {"a": 1, "b": 2}),
    ("a TIMESTAMP_NTZ, b INT", "a", {}, {"a": "2026-11-28T10:00:00", "b": 1}),
    ("a DECIMAL(10,2), s STRUCT<x: INT, y: STRING>", "s.x, a", {}, {"a": "1.50", "s": {"x": 1, "y": "z"}}),
    ("`a.b` INT, c INT", "`a.b`", {}, {"a.b": 1, "c": 2}),
    ("a BIGINT, d DATE, t TIMESTAMP, f FLOAT", "d, t, f, a", {"delta.appendOnly": "true"}, {"a": 1, "d": "2026-11-28", "t": "2026-11-28T10:00:00Z", "f": 1.5}),
]
# Spark refuses each; so must we, with one line naming the column, and no table left behind.
REFUSED = [
    ("a BOOLEAN, b INT", "a", {}),
    ("a BINARY, b INT", "a", {}),
    ("a INT, b INT, c INT, d INT, e INT", "a, b, c, d, e", {}),
    ("a INT, s STRUCT<x: INT>", "s", {}),
    ("a INT, b INT", "c", {}),
    ("a INT, b INT", "a, a", {}),
    ("Abc INT, b INT", "abc", {}),
    ("a INT, b INT", "b", {"delta.dataSkippingNumIndexedCols": "1"}),
    ("a INT, b INT", "a", {"delta.feature.clustering": "supported"}),
]


def case_id(c):
    return re.sub(r"[^A-Za-z0-9]+", "_", f"{c[0]} by {c[1]} {c[2]}")[:70]


def tbl_props(props):
    return (" TBLPROPERTIES (" + ", ".join(f"'{k}' = '{v}'" for k, v in props.items()) + ")") if props else ""


@pytest.mark.parametrize("case", CREATE, ids=[case_id(c) for c in CREATE])
def test_create_clustered_like_spark(spark, scratch, case):
    ddl, by, props, sample = case
    name = case_id(case)
    theirs = scratch / f"cc-spark-{name}-{spark.version}"
    ours = scratch / f"cc-ours-{name}-{spark.version}"
    spark.sql(f"CREATE TABLE delta.`{theirs}` ({ddl}) USING delta CLUSTER BY ({by})" + tbl_props(props))
    args = ["append", ours, "--input", "-", "--schema", ddl, "--cluster-by", by] + [x for k, v in props.items() for x in ("--property", f"{k}={v}")]
    tributary(*args, input_text=json.dumps(sample) + "\n")
    a, b = log_actions(ours, 0), log_actions(theirs, 0)
    proto = lambda acts: next({k: sorted(v) if isinstance(v, list) else v for k, v in x["protocol"].items()} for x in acts if "protocol" in x)  # noqa: E731
    assert proto(a) == proto(b)
    assert [x for x in a if "domainMetadata" in x] == [x for x in b if "domainMetadata" in x]
    assert next(x["metaData"]["configuration"] for x in a if "metaData" in x) == next(x["metaData"]["configuration"] for x in b if "metaData" in x)
    assert detail(spark, ours)["clusteringColumns"] == detail(spark, theirs)["clusteringColumns"]
    # Spark reads it, appends to it, and clusters it.
    df = spark.read.format("delta").load(str(ours))
    assert df.count() == 1
    df.write.format("delta").mode("append").save(str(ours))
    spark.sql(f"OPTIMIZE delta.`{ours}`").collect()
    assert spark.read.format("delta").load(str(ours)).count() == 2


@pytest.mark.parametrize("case", REFUSED, ids=[case_id(c) for c in REFUSED])
def test_refused_like_spark(spark, scratch, case):
    ddl, by, props = case
    name = case_id(case)
    spark_error = None
    try:
        spark.sql(f"CREATE TABLE delta.`{scratch / f'cr-spark-{name}-{spark.version}'}` ({ddl}) USING delta CLUSTER BY ({by})" + tbl_props(props))
    except Exception as e:  # noqa: BLE001 - Spark refuses through several exception types
        spark_error = str(e).splitlines()[0]
    assert spark_error, f"Spark accepted CLUSTER BY ({by}) on ({ddl}) {props}"
    ours = scratch / f"cr-ours-{name}-{spark.version}"
    args = ["append", ours, "--input", "-", "--schema", ddl, "--cluster-by", by] + [x for k, v in props.items() for x in ("--property", f"{k}={v}")]
    p = tributary(*args, check=False, input_text="{}\n")
    assert p.returncode == 1 and re.fullmatch(r"tributary: error \[INVALID_ARGUMENT\]: [^\n]+\n", p.stderr), p.stderr
    named = [c.strip().strip("`") for c in by.split(",")] + list(props)
    assert any(n in p.stderr for n in named), p.stderr
    assert not (ours / "_delta_log").exists()


def test_partitioned_and_clustered_refused_like_spark(spark, scratch):
    failed = False
    try:
        spark.sql(f"CREATE TABLE delta.`{scratch / f'pc-spark-{spark.version}'}` (a INT, b INT) USING delta PARTITIONED BY (b) CLUSTER BY (a)")
    except Exception:  # noqa: BLE001 - a ParseException in both Spark lines
        failed = True
    assert failed
    ours = scratch / f"pc-ours-{spark.version}"
    p = tributary("append", ours, "--input", "-", "--schema", "a INT, b INT", "--partition-by", "b", "--cluster-by", "a", check=False, input_text='{"a":1,"b":2}\n')
    assert p.returncode == 1
    assert p.stderr.startswith("tributary: error [INVALID_ARGUMENT]: a table cannot be both partitioned (by b) and clustered") and p.stderr.count("\n") == 1
    assert not (ours / "_delta_log").exists()


def test_clustered_table_with_deletion_vectors_and_row_tracking(spark, scratch):
    """A clustered table with deletion vectors and row tracking on, as platforms create them:
    Spark deletes rows (a DV), Tributary appends and clusters; the deleted rows stay deleted,
    every row keeps the row id and commit version Spark saw, and the files are our ZCube."""
    path = scratch / f"clustered-dv-rt-{spark.version}"
    spark.sql(
        f"CREATE TABLE delta.`{path}` (id BIGINT, a BIGINT, b STRING, v DOUBLE) USING delta CLUSTER BY (a) "
        "TBLPROPERTIES ('delta.enableDeletionVectors' = 'true', 'delta.enableRowTracking' = 'true')"
    )
    spark.sql(f"INSERT INTO delta.`{path}` SELECT id, id * 7919 % 100000, 'k' || lpad(cast(id * 104729 % 5000 AS STRING), 4, '0'), id * 0.25 FROM range(0, 400)")
    for k in range(3):
        tributary("append", path, "--input", write_rows(scratch, f"dvrt-{k}-{spark.version}.ndjson", [row(i) for i in range(400 + k * 200, 600 + k * 200)]))
    spark.sql(f"DELETE FROM delta.`{path}` WHERE id % 10 = 3")
    assert any("deletionVector" in a["add"] and a["add"]["deletionVector"] for a in log_actions(path, latest_version(path)) if "add" in a)
    df = lambda: spark.read.format("delta").load(str(path))  # noqa: E731
    ids = lambda: {r["id"]: (r["row_id"], r["row_commit_version"]) for r in df().select("id", "_metadata.row_id", "_metadata.row_commit_version").collect()}  # noqa: E731
    before = ids()
    assert len(before) == 1000 - 100

    out = json.loads(tributary("optimize", path, "--json").stdout)
    actions = log_actions(path, out["version"])
    adds = [a["add"] for a in actions if "add" in a]
    assert adds and all(a["clusteringProvider"] == "liquid" and not a.get("deletionVector") for a in adds)
    assert next(a["commitInfo"] for a in actions if "commitInfo" in a)["tags"] == {"delta.rowTracking.preserved": "true"}
    assert ids() == before
    expected = sorted((row(i) for i in range(1000) if i % 10 != 3), key=lambda r: r["id"])
    assert_same_rows(spark_rows(df(), SCHEMA), expected, "spark")
    # Spark's own OPTIMIZE of our ZCube keeps them too.
    spark.sql(f"INSERT INTO delta.`{path}` SELECT 5000, 1, 'k0001', 0.5")
    spark.sql(f"OPTIMIZE delta.`{path}`").collect()
    after = ids()
    assert {k: v for k, v in after.items() if k != 5000} == before
