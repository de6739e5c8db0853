"""Column mapping (delta.columnMapping.mode = name and id).

Spark creates a mapped table; Tributary appends (`tributary append`), streams into it (a real
`tributary run` of the http-json source against an HTTP server on loopback, whose records have
keys like "24h change"), adds a column with --merge-schema, runs OPTIMIZE and VACUUM; Spark renames
and drops columns between our appends and appends again at the end. Spark and delta-rs must then
read exactly the rows of the inputs. Tables Spark wrote with column mapping (both modes,
partitioned, nested struct/array/map columns, renamed and dropped columns, a checkpoint) are read
by `tributary read` with exactly the rows Spark returns. A mapped table with a feature Tributary
still does not implement stays refused by name, and unchanged.
"""

import datetime as dt
import decimal
import json
import re
from pathlib import Path

from urllib.parse import unquote

import pyarrow.parquet as pq
import pytest

from conftest import assert_same_rows, canon_row, deltars_rows, spark_rows, tributary
from feature_support import json_api

MODES = ["name", "id"]

SPARK_DDL = (
    "id BIGINT, `24h change` DOUBLE, `a.b` STRING, `price (usd)` DECIMAL(10,2), "
    "st STRUCT<`y z`: STRING, n: INT>, tags ARRAY<STRUCT<`k v`: STRING>>, m MAP<STRING, STRUCT<r: INT>>, "
    "ts TIMESTAMP, `trade date` DATE"
)


def log_actions(path):
    out = []
    for f in sorted((Path(path) / "_delta_log").glob("*.json")):
        out.append([json.loads(line) for line in f.read_text().splitlines() if line.strip()])
    return out


def latest_metadata(path):
    meta = [a["metaData"] for commit in log_actions(path) for a in commit if "metaData" in a]
    return meta[-1]


def field_meta(schema_string):
    """(logical path, id, physical name) of every struct field, parents first (into arrays and maps)."""
    out = []

    def walk(t, at):
        if isinstance(t, dict) and t.get("type") == "struct":
            for f in t["fields"]:
                md = f["metadata"]
                out.append((at + [f["name"]], md.get("delta.columnMapping.id"), md.get("delta.columnMapping.physicalName")))
                walk(f["type"], at + [f["name"]])
        elif isinstance(t, dict) and t.get("type") == "array":
            walk(t["elementType"], at)
        elif isinstance(t, dict) and t.get("type") == "map":
            walk(t["keyType"], at)
            walk(t["valueType"], at)

    walk(json.loads(schema_string), [])
    return out


def logical_schema(path, version=None):
    """The table's schema (at a version) as readers show it, without column mapping metadata."""
    commits = log_actions(path)
    if version is not None:
        commits = commits[: version + 1]
    schema_string = [a["metaData"] for c in commits for a in c if "metaData" in a][-1]["schemaString"]

    def strip(t):
        if isinstance(t, dict):
            if t.get("type") == "struct":
                return {"type": "struct", "fields": [{**f, "type": strip(f["type"]), "metadata": {}} for f in t["fields"]]}
            if t.get("type") == "array":
                return {**t, "elementType": strip(t["elementType"])}
            if t.get("type") == "map":
                return {**t, "keyType": strip(t["keyType"]), "valueType": strip(t["valueType"])}
        return t

    return strip(json.loads(schema_string))


# ---------------------------------------------------------------------------------------------
# The rows, canonical (as conftest.canon renders them); every writer gets them from here.


def row(i, **over):
    r = {
        "id": i,
        "24h change": None if i % 4 == 3 else i * 1.5 - 3,
        "a.b": None if i % 5 == 4 else f"ab {i}",
        "price (usd)": None if i % 6 == 5 else f"{i * 7}.{i % 100:02d}",
        "st": None if i % 7 == 6 else {"y z": f"yz{i}" if i % 2 else None, "n": i},
        "tags": None if i % 3 == 2 else [{"k v": f"t{i}"}, {"k v": None}],
        "m": None if i % 4 == 1 else {f"k{i}": {"r": i}, "z": None},
        "ts": (dt.datetime(2026, 11, 28, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=i, microseconds=i * 11)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "trade date": None if i % 5 == 0 else (dt.date(2026, 11, 1) + dt.timedelta(days=i % 3)).isoformat(),
    }
    r.update(over)
    return r


def to_spark(r, schema):
    """A canonical row as the Python values Spark's createDataFrame takes, in schema order."""

    def conv(v, t):
        if v is None:
            return None
        if t == "timestamp":
            return dt.datetime.strptime(v, "%Y-%m-%dT%H:%M:%S.%fZ")
        if t == "date":
            return dt.date.fromisoformat(v)
        if isinstance(t, str) and t.startswith("decimal"):
            return decimal.Decimal(v)
        if isinstance(t, dict) and t["type"] == "struct":
            return tuple(conv(v.get(f["name"]), f["type"]) for f in t["fields"])
        if isinstance(t, dict) and t["type"] == "array":
            return [conv(x, t["elementType"]) for x in v]
        if isinstance(t, dict) and t["type"] == "map":
            return {k: conv(x, t["valueType"]) for k, x in v.items()}
        return v

    return tuple(conv(r.get(f["name"]), f["type"]) for f in schema["fields"])


def spark_append(spark, path, rows):
    from pyspark.sql.types import StructType

    schema = logical_schema(path)
    df = spark.createDataFrame([to_spark(r, schema) for r in rows], StructType.fromJson(schema))
    df.write.format("delta").mode("append").save(str(path))


def ours_append(path, rows, scratch, *args, check=True):
    f = scratch / f"in-{Path(path).name}-{len(list(scratch.iterdir()))}.ndjson"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return tributary("append", path, "--input", f, *args, check=check)


def expected(model, path):
    schema = logical_schema(path)
    return sorted((canon_row({f["name"]: r.get(f["name"]) for f in schema["fields"]}, schema) for r in model.values()), key=lambda r: r["id"])


def ours_read(path, schema, *args):
    out = tributary("read", path, *args).stdout
    return sorted((canon_row(json.loads(line), schema) for line in out.splitlines() if line.strip()), key=lambda r: r["id"])


def judge(spark, path, model, who):
    schema = logical_schema(path)
    want = expected(model, path)
    assert_same_rows(spark_rows(spark.read.format("delta").load(str(path)), schema), want, f"Spark {spark.version} ({who})")
    assert_same_rows(deltars_rows(path, schema), want, f"delta-rs ({who})")
    assert_same_rows(ours_read(path, schema), want, f"tributary read ({who})")


def check_our_files(path):
    """Our data files: physical names and field ids in the Parquet schema, stats and partition
    values keyed by physical names (Spark's layout)."""
    meta = latest_metadata(path)
    fields = field_meta(meta["schemaString"])
    # Files written before a DROP COLUMN hold the dropped column too: every schema the log had counts.
    by_physical = {p: i for c in log_actions(path) for a in c if "metaData" in a for _, i, p in field_meta(a["metaData"]["schemaString"])}
    part = next(p for lp, _, p in fields if lp == ["trade date"])
    ours = [a["add"] for commit in log_actions(path) for a in commit if "add" in a and commit[0].get("commitInfo", {}).get("engineInfo", "").startswith("tributary")]
    assert ours, "no files of ours in the log"
    for add in ours:
        assert list(add["partitionValues"]) == [part]
        stats = json.loads(add["stats"])
        assert set(stats["nullCount"]) <= set(by_physical), stats["nullCount"]
        f = Path(path) / unquote(add["path"])
        if not f.exists():
            continue  # removed by OPTIMIZE and VACUUM since
        for field in pq.read_schema(f):
            assert field.name in by_physical, field.name
            assert field.metadata[b"PARQUET:field_id"] == str(by_physical[field.name]).encode(), (field.name, field.metadata)
    # Spark's own check: maxColumnId is at least every id (it refuses to write otherwise).
    assert int(meta["configuration"]["delta.columnMapping.maxColumnId"]) >= max(i for _, i, _ in fields)


STREAM_SCHEMA = "id BIGINT, `renamed (a.b)` STRING, `price (usd)` DECIMAL(10,2), st STRUCT<`y z`: STRING, n: INT>, ts TIMESTAMP, `trade date` DATE"


def stream(path, url, checkpoint):
    return tributary(
        "run", "--format", "http-json", "--option", f"url={url}", "--option", f"schema={STREAM_SCHEMA}", "--option", "cursorField=id",
        "--checkpoint", checkpoint, "--trigger", "availableNow", path,
    )


@pytest.mark.parametrize("mode", MODES)
def test_spark_table_with_column_mapping_written_by_both(spark, scratch, mode):
    path = scratch / f"colmap_{mode}_{spark.version.replace('.', '_')}"
    spark.sql(f"CREATE TABLE delta.`{path}` ({SPARK_DDL}) USING delta PARTITIONED BY (`trade date`) TBLPROPERTIES ('delta.columnMapping.mode' = '{mode}')")
    model = {}

    def add(rows):
        for r in rows:
            model[r["id"]] = r

    first = [row(i) for i in range(0, 3)]
    spark_append(spark, path, first)
    add(first)

    # Our append: logical names in, physical names and field ids in the files.
    ours1 = [row(i) for i in range(3, 8)]
    ours_append(path, ours1, scratch)
    add(ours1)
    judge(spark, path, model, "after our first append")

    # Spark renames and drops columns between our appends.
    spark.sql(f"ALTER TABLE delta.`{path}` RENAME COLUMN `a.b` TO `renamed (a.b)`")
    spark.sql(f"ALTER TABLE delta.`{path}` DROP COLUMN `24h change`")
    for r in model.values():
        r["renamed (a.b)"] = r.pop("a.b")
        r.pop("24h change")

    # The dropped name is no column any more: refused, one line, table unchanged.
    before = sorted(p.name for p in (path / "_delta_log").iterdir())
    bad = ours_append(path, [{"id": 99, "24h change": 1.0}], scratch, check=False)
    assert bad.returncode == 1
    assert re.fullmatch(r'tributary: error \[ROW_INVALID\]: row 0, column "24h change": not a column of the table .*\n', bad.stderr), bad.stderr
    assert sorted(p.name for p in (path / "_delta_log").iterdir()) == before

    # Our appends after the rename put the data under the renamed column.
    ours2 = []
    for i in range(8, 11):
        r = row(i)
        r["renamed (a.b)"] = r.pop("a.b")
        r.pop("24h change")
        ours2.append(r)
    ours_append(path, ours2, scratch)
    add(ours2)

    # A stream into the table: http-json records whose keys are the odd names, as they are.
    streamed = [
        {"id": 20, "renamed (a.b)": "streamed", "price (usd)": "20.20", "st": {"y z": "s", "n": 20}, "ts": "2026-11-28T10:00:00.123456Z", "trade date": "2026-11-28"},
        {"id": 21, "renamed (a.b)": None, "price (usd)": None, "st": None, "ts": None, "trade date": None},
    ]
    # One page the API serves whole on every request, as it is when the request comes.
    page = [json.dumps(r) for r in streamed]
    cp = scratch / f"cp_{path.name}"
    with json_api([page]) as url:
        stream(path, url, cp)
        streamed.append({"id": 22, "renamed (a.b)": "later", "price (usd)": "0.01", "st": {"y z": None, "n": None}, "ts": "1970-01-01T00:00:00.000001Z", "trade date": "2026-11-29"})
        page.append(json.dumps(streamed[-1]))
        stream(path, url, cp)  # the cursor: only id 22 is new
    for r in streamed:
        model[r["id"]] = {**r, "tags": None, "m": None}
    judge(spark, path, model, "after the stream")

    # --merge-schema adds a column: the next id, a new physical name, maxColumnId moves on.
    before_meta = latest_metadata(path)
    max_before = int(before_meta["configuration"]["delta.columnMapping.maxColumnId"])
    ours3 = [{**row(30), "renamed (a.b)": "merged", "new col (eur)": 1.25}, {**row(31), "renamed (a.b)": None, "new col (eur)": None}]
    for r in ours3:
        r.pop("a.b")
        r.pop("24h change")
    ours_append(path, ours3, scratch, "--merge-schema")
    add(ours3)
    after_meta = latest_metadata(path)
    new_field = next(f for f in field_meta(after_meta["schemaString"]) if f[0] == ["new col (eur)"])
    assert new_field[1] == max_before + 1
    assert re.fullmatch(r"col-[0-9a-f-]{36}", new_field[2])
    assert after_meta["configuration"]["delta.columnMapping.maxColumnId"] == str(max_before + 1)
    assert {k: v for k, v in after_meta["configuration"].items() if k != "delta.columnMapping.maxColumnId"} == {
        k: v for k, v in before_meta["configuration"].items() if k != "delta.columnMapping.maxColumnId"
    }
    # Spark sees the column, by its logical name.
    assert "new col (eur)" in spark.read.format("delta").load(str(path)).columns
    check_our_files(path)

    # OPTIMIZE then VACUUM: the same rows, in files with physical names and field ids.
    opt = json.loads(tributary("optimize", path, "--json").stdout)
    assert opt["numFilesRemoved"] > 1, opt
    vac = json.loads(tributary("vacuum", path, "--retention", "0h", "--force", "--json").stdout)
    assert len(vac["deleted"]) >= opt["numFilesRemoved"], vac
    judge(spark, path, model, "after OPTIMIZE and VACUUM")
    check_our_files(path)

    # Spark appends again (its own maxColumnId check runs on this commit).
    last = [{**row(40), "renamed (a.b)": "spark again", "new col (eur)": 4.0}]
    last[0].pop("a.b")
    last[0].pop("24h change")
    spark_append(spark, path, last)
    add(last)
    judge(spark, path, model, "after Spark's last append")

    # delta-rs's pyarrow-dataset reader does not apply column mapping: every data column is null
    # there, for our table as for Spark's own mapped tables (conftest reads mapped tables through
    # its DataFusion reader, which does). Asserted so that a change in delta-rs shows up here.
    from deltalake import DeltaTable

    plain = DeltaTable(str(path)).to_pyarrow_table().to_pylist()
    assert len(plain) == len(model)
    assert all(r["id"] is None for r in plain)


def spark_rows_at(spark, path, version=None):
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return spark_rows(reader.load(str(path)), logical_schema(path, version))


@pytest.mark.parametrize("mode", MODES)
def test_tributary_reads_tables_spark_wrote_with_column_mapping(spark, scratch, mode):
    path = scratch / f"spark_colmap_{mode}_{spark.version.replace('.', '_')}"
    spark.sql(
        f"CREATE TABLE delta.`{path}` ({SPARK_DDL}) USING delta PARTITIONED BY (`trade date`) "
        f"TBLPROPERTIES ('delta.columnMapping.mode' = '{mode}', 'delta.checkpointInterval' = '3')"
    )
    for start in (0, 4, 8):
        spark_append(spark, path, [row(i) for i in range(start, start + 4)])
    spark.sql(f"ALTER TABLE delta.`{path}` RENAME COLUMN `a.b` TO `b.a`")
    spark.sql(f"ALTER TABLE delta.`{path}` RENAME COLUMN st.`y z` TO `z y`")
    spark.sql(f"ALTER TABLE delta.`{path}` DROP COLUMN `24h change`")
    spark.sql(f"ALTER TABLE delta.`{path}` ADD COLUMNS (`24h change` STRING, extra STRUCT<`p q`: BIGINT>)")
    spark_append(spark, path, [{"id": 50, "b.a": "x", "24h change": "re-added", "extra": {"p q": 5}, "trade date": "2026-11-30"}])
    spark_append(spark, path, [{"id": 51, "b.a": "y"}])
    checkpoints = sorted(p.name for p in (path / "_delta_log").glob("*.checkpoint.parquet"))
    assert checkpoints, "Spark wrote no checkpoint"
    schema = logical_schema(path)
    want = spark_rows_at(spark, path)
    assert len(want) == 14
    # The re-added "24h change" is a new column: the old values do not come back.
    assert {r["id"]: r["24h change"] for r in want if r["24h change"] is not None} == {50: "re-added"}
    assert_same_rows(ours_read(path, schema), want, f"tributary read of Spark's {mode}-mapped table")
    # Time travel to a version before the renames, with that version's schema.
    v1 = spark_rows_at(spark, path, 1)
    assert_same_rows(ours_read(path, logical_schema(path, 1), "--version", "1"), v1, "tributary read --version 1")
    # And we can append to it after all that, under the current names.
    ours_append(path, [{"id": 60, "b.a": "ours", "st": {"z y": "zy", "n": 1}, "24h change": "ours too", "extra": {"p q": 7}, "trade date": "2026-12-01"}], scratch)
    got = {r["id"]: r for r in spark_rows_at(spark, path)}
    assert got[60]["b.a"] == "ours" and got[60]["st"] == {"z y": "zy", "n": 1} and got[60]["extra"] == {"p q": 7} and got[60]["24h change"] == "ours too"
    assert_same_rows(ours_read(path, logical_schema(path)), spark_rows_at(spark, path), "tributary read after our append")


def test_mapped_table_with_a_feature_tributary_lacks_is_refused_by_name(spark, scratch):
    path = scratch / f"colmap_refused_{spark.version.replace('.', '_')}"
    spark.sql(
        f"CREATE TABLE delta.`{path}` (id BIGINT, `a b` STRING) USING delta "
        "TBLPROPERTIES ('delta.columnMapping.mode' = 'name', 'delta.feature.allowColumnDefaults' = 'supported')"
    )
    spark.sql(f"INSERT INTO delta.`{path}` VALUES (1, 'x')")
    before = {p.name: p.read_bytes() for p in (path / "_delta_log").iterdir() if p.is_file()}
    p = ours_append(path, [{"id": 2, "a b": "y"}], scratch, check=False)
    assert p.returncode == 1
    assert re.fullmatch(r"tributary: error \[UNSUPPORTED_FEATURE\]: cannot write to .*: it uses writer features Tributary does not implement: allowColumnDefaults\n", p.stderr), p.stderr
    assert {p.name: p.read_bytes() for p in (path / "_delta_log").iterdir() if p.is_file()} == before
    # Reading it is fine: the feature only binds writers.
    assert [json.loads(line) for line in tributary("read", path).stdout.splitlines()] == [{"id": 1, "a b": "x"}]


@pytest.mark.parametrize("mode", MODES)
def test_create_assigns_ids_like_spark(spark, scratch, mode):
    """`tributary append --property delta.columnMapping.mode=...` creates what Spark's CREATE TABLE
    does: the same ids for the same columns (nested ones in Spark's order), physical names of
    Spark's form, the same maxColumnId, protocol and configuration."""
    ddl = "id BIGINT, `24h change` DOUBLE, st STRUCT<`y z`: STRING, inner: STRUCT<`a,b`: INT>>, tags ARRAY<STRUCT<`k v`: STRING>>, m MAP<STRING, STRUCT<r: INT>>, `trade date` DATE"
    theirs = scratch / f"ids_spark_{mode}_{spark.version.replace('.', '_')}"
    ours = scratch / f"ids_ours_{mode}_{spark.version.replace('.', '_')}"
    spark.sql(f"CREATE TABLE delta.`{theirs}` ({ddl}) USING delta PARTITIONED BY (`trade date`) TBLPROPERTIES ('delta.columnMapping.mode' = '{mode}')")
    tributary("append", ours, "--input", "-", "--schema", ddl, "--partition-by", "trade date", "--property", f"delta.columnMapping.mode={mode}", input_text='{"id":1,"trade date":"2026-11-28"}\n')
    spark_meta, our_meta = latest_metadata(theirs), latest_metadata(ours)
    ids = lambda m: [(p, i) for p, i, _ in field_meta(m["schemaString"])]  # noqa: E731
    assert ids(our_meta) == ids(spark_meta)
    assert all(re.fullmatch(r"col-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", p) for _, _, p in field_meta(our_meta["schemaString"]))
    assert our_meta["configuration"] == spark_meta["configuration"]
    proto = lambda path: next(a["protocol"] for a in log_actions(path)[0] if "protocol" in a)  # noqa: E731
    sets = lambda p: {k: sorted(v) if isinstance(v, list) else v for k, v in p.items()}  # noqa: E731
    assert sets(proto(ours)) == sets(proto(theirs))
    assert logical_schema(ours) == logical_schema(theirs)
