"""mergeSchema adding a column whose type needs a table feature (TIMESTAMP_NTZ, at the top level
or in a struct; VARIANT on Spark 4), judged against Spark doing the same append on a twin table:
where the table does not support the feature, Spark refuses (a schema change never turns such a
feature on) and so must we, leaving the table as it was; where it does (created with
`delta.feature.<name>=supported`), both land with the same protocol and Spark and delta-rs read
ours. Before, Tributary landed the column on a (1,2) table and delta-rs refused the table."""

import datetime as dt
import decimal
import json
from pathlib import Path

import pytest
from pyspark.sql import Row

from conftest import deltars_table, tributary

T = dt.datetime(2026, 12, 3, 10, 0, 0, 123456)
CASES = [
    # name, table properties, the added column, its JSON value, the Row Spark appends
    ("ntz", {}, "t TIMESTAMP_NTZ", {"t": "2026-12-03T10:00:00.123456"}, Row(a=2, t=T)),
    ("ntz-mapped", {"delta.columnMapping.mode": "name"}, "t TIMESTAMP_NTZ", {"t": "2026-12-03T10:00:00.123456"}, Row(a=2, t=T)),
    ("ntz-nested", {}, "s STRUCT<t: TIMESTAMP_NTZ>", {"s": {"t": "2026-12-03T10:00:00.123456"}}, Row(a=2, s=Row(t=T))),
    ("ntz-supported", {"delta.feature.timestampNtz": "supported"}, "t TIMESTAMP_NTZ", {"t": "2026-12-03T10:00:00.123456"}, Row(a=2, t=T)),
]


def protocol(path):
    """The table's protocol as the last commit that set it says."""
    proto = None
    for f in sorted((Path(path) / "_delta_log").glob("*.json")):
        for line in f.read_text().splitlines():
            if line.strip() and "protocol" in json.loads(line):
                proto = json.loads(line)["protocol"]
    return {k: sorted(v) if isinstance(v, list) else v for k, v in proto.items()}


def log_files(path):
    return sorted((p.name, p.stat().st_size) for p in (Path(path) / "_delta_log").iterdir())


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_merge_schema_adding_a_feature_type_does_what_spark_does(spark, scratch, case):
    name, props, column, value, row = case
    ours = scratch / f"merge-feature-ours-{name}"
    theirs = scratch / f"merge-feature-spark-{name}"
    args = [x for k, v in props.items() for x in ("--property", f"{k}={v}")]
    tributary("append", ours, "--input", "-", "--schema", "a BIGINT", *args, input_text='{"a":1}\n')
    pairs = ", ".join("'%s' = '%s'" % kv for kv in props.items())
    spark.sql(f"CREATE TABLE delta.`{theirs}` (a BIGINT) USING delta" + (f" TBLPROPERTIES ({pairs})" if props else ""))
    spark.sql(f"INSERT INTO delta.`{theirs}` VALUES (1)")
    assert protocol(ours) == protocol(theirs), "the tables start with the same protocol"

    before = log_files(ours)
    r = tributary("append", ours, "--input", "-", "--schema", f"a BIGINT, {column}", "--merge-schema", input_text=json.dumps({"a": 2, **value}) + "\n", check=False)
    try:
        spark.createDataFrame([row], f"a BIGINT, {column}").write.format("delta").mode("append").option("mergeSchema", "true").save(str(theirs))
        spark_refused = None
    except Exception as e:  # noqa: BLE001 - Spark's refusal is the judgement
        spark_refused = str(e)
    if spark_refused is not None:
        assert "DELTA_FEATURES_REQUIRE_MANUAL_ENABLEMENT" in spark_refused, spark_refused[:500]
        assert r.returncode == 1, f"Spark refuses, we exited {r.returncode}: {r.stdout} {r.stderr}"
        assert r.stderr.startswith("tributary: error [UNSUPPORTED_FEATURE]: the new columns need the table feature timestampNtz"), r.stderr
        assert log_files(ours) == before, "the table is as it was"
        return
    assert r.returncode == 0, f"Spark lands it, we exited {r.returncode}: {r.stderr}"
    assert protocol(ours) == protocol(theirs), f"ours {protocol(ours)}, Spark's {protocol(theirs)}"
    got = sorted(spark.read.format("delta").load(str(ours)).collect(), key=lambda x: x["a"])
    assert [x.asDict(recursive=True) for x in got] == [x.asDict(recursive=True) for x in sorted(spark.read.format("delta").load(str(theirs)).collect(), key=lambda x: x["a"])], "Spark reads ours as it reads its own"
    assert [x["a"] for x in sorted(deltars_table(ours).to_pylist(), key=lambda x: x["a"])] == [1, 2], "delta-rs reads our table"


def test_merge_schema_adding_a_variant_column_does_what_spark_does(spark, scratch):
    """VARIANT (Spark 4): our landing (or refusal) is checked against Spark 4's on a twin table;
    on Spark 3.5, which has no VARIANT, against the judgement recorded from Spark 4 (it lands,
    upgrading the protocol to (3,7) with variantType), and delta-rs reads the table."""
    ours = scratch / "merge-variant-ours"
    theirs = scratch / "merge-variant-spark"
    tributary("append", ours, "--input", "-", "--schema", "a BIGINT", input_text='{"a":1}\n')
    before = log_files(ours)
    r = tributary("append", ours, "--input", "-", "--schema", "a BIGINT, v VARIANT", "--merge-schema", input_text='{"a":2,"v":{"x":1}}\n', check=False)
    spark_refused = False
    if spark.version.startswith("4"):
        spark.sql(f"CREATE TABLE delta.`{theirs}` (a BIGINT) USING delta")
        spark.sql(f"INSERT INTO delta.`{theirs}` VALUES (1)")
        try:
            spark.sql("""SELECT CAST(2 AS BIGINT) AS a, parse_json('{"x":1}') AS v""").write.format("delta").mode("append").option("mergeSchema", "true").save(str(theirs))
            spark_refused = False
        except Exception as e:  # noqa: BLE001 - Spark's refusal is the judgement
            assert "DELTA_FEATURES_REQUIRE_MANUAL_ENABLEMENT" in str(e), str(e)[:500]
    if spark_refused:
        assert r.returncode == 1 and r.stderr.startswith("tributary: error [UNSUPPORTED_FEATURE]: the new columns need the table feature variantType"), r.stderr
        assert log_files(ours) == before
    else:
        assert r.returncode == 0, r.stderr
        want = protocol(theirs) if spark.version.startswith("4") else {"minReaderVersion": 3, "minWriterVersion": 7, "readerFeatures": ["variantType"], "writerFeatures": ["appendOnly", "invariants", "variantType"]}
        assert protocol(ours) == want, f"ours {protocol(ours)}, Spark's {want}"
        if spark.version.startswith("4"):
            got = sorted(spark.read.format("delta").load(str(ours)).selectExpr("a", "to_json(v) AS v").collect(), key=lambda x: x["a"])
            assert [(x["a"], x["v"]) for x in got] == [(1, None), (2, '{"x":1}')], "Spark reads ours"


NESTED_V0 = "id INT, items ARRAY<STRUCT<a: INT>>, m MAP<STRING, STRUCT<a: INT>>"
NESTED_V1 = "id INT, items ARRAY<STRUCT<a: INT, b: STRING>>, m MAP<STRING, STRUCT<a: INT, c: BOOLEAN>>"


@pytest.mark.parametrize("mapping", ["none", "name"])
def test_merge_schema_adds_fields_to_structs_in_arrays_and_maps_as_spark_does(spark, scratch, mapping):
    """--merge-schema with new fields inside ARRAY<STRUCT> and MAP<..., STRUCT> (refused before):
    the schema Spark's mergeSchema gives on a twin table, old rows read with the new fields null by
    Spark and delta-rs, and after OPTIMIZE (old and new files in one) the same."""
    ours = scratch / f"merge-nested-ours-{mapping}"
    theirs = scratch / f"merge-nested-spark-{mapping}"
    props = ["--property", "delta.columnMapping.mode=name"] if mapping == "name" else []
    row0 = {"id": 1, "items": [{"a": 1}], "m": {"k": {"a": 1}}}
    row1 = {"id": 2, "items": [{"a": 2, "b": "x"}, None], "m": {"k": {"a": 2, "c": True}}}
    tributary("append", ours, "--input", "-", "--schema", NESTED_V0, *props, input_text=json.dumps(row0) + "\n")
    tributary("append", ours, "--input", "-", "--schema", NESTED_V1, "--merge-schema", input_text=json.dumps(row1) + "\n")
    w = spark.createDataFrame([row0], NESTED_V0).write.format("delta").mode("append")
    if mapping == "name":
        w = w.option("delta.columnMapping.mode", "name")
    w.save(str(theirs))
    spark.createDataFrame([row1], NESTED_V1).write.format("delta").mode("append").option("mergeSchema", "true").save(str(theirs))

    def schema(path):
        return spark.read.format("delta").load(str(path)).schema.simpleString()

    def rows(path):
        return sorted((r.asDict(recursive=True) for r in spark.read.format("delta").load(str(path)).collect()), key=lambda r: r["id"])

    assert schema(ours) == schema(theirs) == "struct<id:int,items:array<struct<a:int,b:string>>,m:map<string,struct<a:int,c:boolean>>>"
    assert rows(ours) == rows(theirs), "Spark reads ours as it reads its own"
    assert rows(ours)[0]["items"] == [{"a": 1, "b": None}]

    def deltars_items(path):
        if mapping == "none":
            return sorted(((r["id"], r["items"]) for r in deltars_table(path).to_pylist()))
        # delta-rs 1.6.6 cannot read the evolved map column of a column-mapped table's old
        # files, Spark's twin included ("Cannot cast column ... Map"); the rest it reads.
        import pyarrow as pa
        from deltalake import DeltaTable, QueryBuilder

        got = pa.table(QueryBuilder().register("t", DeltaTable(str(path))).execute("SELECT id, items FROM t").read_all()).to_pylist()
        return sorted((r["id"], r["items"]) for r in got)

    assert deltars_items(ours) == [(1, [{"a": 1, "b": None}]), (2, [{"a": 2, "b": "x"}, None])], "delta-rs reads the old rows with the new field null"
    if mapping == "name":
        from deltalake import DeltaTable, QueryBuilder

        for t in (ours, theirs):
            with pytest.raises(Exception, match="Cannot cast"):
                QueryBuilder().register("t", DeltaTable(str(t))).execute("SELECT m FROM t").read_all()
    tributary("optimize", ours)
    assert rows(ours) == rows(theirs), "the same after OPTIMIZE put old and new rows in one file"
    assert deltars_items(ours) == [(1, [{"a": 1, "b": None}]), (2, [{"a": 2, "b": "x"}, None])]


def test_merge_schema_without_a_schema_infers_nested_types_as_sparks_json_reader_does(spark, scratch):
    """--merge-schema with no --schema: new fields inside a struct and inside an array's structs,
    new struct and array columns, a column only ever null and an array only ever empty, typed
    from the rows. The twin is what a PySpark user does with the same file: spark.read.json, then
    an append with mergeSchema. (New keys are in name order in these rows: Spark's inference sorts
    them, ours keeps their order.) Spark and delta-rs read ours as Spark's own."""
    old = {"id": 1, "items": [{"a": 1}], "s": {"a": 1}}
    # Integers beyond 64 bits: DECIMAL(digits, 0) in Spark's inference, widened with long to
    # DECIMAL(20, 0) or more, and with a double to double.
    new = [
        {"big": 9223372036854775808, "e": [], "id": 2, "items": [{"a": 2, "b": True}], "mixed": 12345678901234567890123, "n": None, "s": {"a": 2, "b": "x", "c": {"d": [1, 2.5]}}, "t": {"u": 1}, "wide": [99999999999999999999999999999999999999]},
        {"big": -5, "id": 3, "mixed": 1.5, "s": {"a": 3, "b": None, "c": {"d": []}}, "t": {"u": 2, "w": "z"}, "wide": [1]},
    ]
    v0 = "id BIGINT, items ARRAY<STRUCT<a: BIGINT>>, s STRUCT<a: BIGINT>"
    ours = scratch / "merge-infer-ours"
    theirs = scratch / "merge-infer-spark"
    f = scratch / "merge-infer.ndjson"
    f.write_text("".join(json.dumps(r) + "\n" for r in new))
    tributary("append", ours, "--input", "-", "--schema", v0, input_text=json.dumps(old) + "\n")
    tributary("append", ours, "--input", str(f), "--merge-schema")
    spark.createDataFrame([old], v0).write.format("delta").save(str(theirs))
    spark.read.json(str(f)).write.format("delta").mode("append").option("mergeSchema", "true").save(str(theirs))

    def schema(path):
        return spark.read.format("delta").load(str(path)).schema.simpleString()

    def rows(path):
        return sorted((r.asDict(recursive=True) for r in spark.read.format("delta").load(str(path)).collect()), key=lambda r: r["id"])

    assert schema(ours) == schema(theirs) == (
        "struct<id:bigint,items:array<struct<a:bigint,b:boolean>>,s:struct<a:bigint,b:string,c:struct<d:array<double>>>,"
        "big:decimal(20,0),e:array<string>,mixed:double,n:string,t:struct<u:bigint,w:string>,wide:array<decimal(38,0)>>"
    )
    assert rows(ours) == rows(theirs), "Spark reads ours as it reads its own"
    assert rows(ours)[0] == {"id": 1, "items": [{"a": 1, "b": None}], "s": {"a": 1, "b": None, "c": None}, "big": None, "e": None, "mixed": None, "n": None, "t": None, "wide": None}
    assert rows(ours)[1]["big"] == decimal.Decimal("9223372036854775808") and rows(ours)[1]["wide"] == [decimal.Decimal("99999999999999999999999999999999999999")]

    def deltars_rows(path):
        return sorted(deltars_table(path).to_pylist(), key=lambda r: r["id"])

    assert deltars_rows(ours) == deltars_rows(theirs), "delta-rs reads ours as it reads Spark's"


def test_a_table_created_without_a_schema_has_the_schema_sparks_json_reader_infers(spark, scratch):
    """`tributary append` of a new table with no --schema: the schema inferred from the rows (a
    file: in a pass of its own, then decoded; stdin: from the rows read). The twin is what a
    PySpark user does with the same file: spark.read.json(f).write.format("delta").save(...).
    (Keys in name order in these rows: Spark's inference sorts them, ours keeps their order.)"""
    lines = [
        {"big": 18446744073709551616, "empty": [], "flag": True, "id": 1, "items": [{"k": "a", "v": 1}], "mixed": 1, "n": None, "price": 1.5, "s": {"a": 1, "b": {"c": [1, 2.5]}}, "ts": "2026-12-06T10:00:00.123456Z", "whole": 1000.0, "wide": 1234567890123456789012345678901234567890},
        {"big": -5, "flag": None, "id": 2, "items": [], "mixed": 2.25, "price": 3, "s": {"a": 2, "b": None}, "ts": None, "whole": 7},
        {"id": 3, "items": [{"k": "b", "v": 2.5}], "mixed": None, "s": None, "x": "late"},
    ]
    f = scratch / "create-infer.ndjson"
    f.write_text("".join(json.dumps(r) + "\n" for r in lines))
    ours = scratch / "create-infer-ours"
    ours_stdin = scratch / "create-infer-ours-stdin"
    theirs = scratch / "create-infer-spark"
    tributary("append", ours, "--input", str(f))
    tributary("append", ours_stdin, "--input", "-", stdin_file=f)
    spark.read.json(str(f)).write.format("delta").save(str(theirs))

    def schema(path):
        return spark.read.format("delta").load(str(path)).schema.simpleString()

    def rows(path):
        return sorted((r.asDict(recursive=True) for r in spark.read.format("delta").load(str(path)).collect()), key=lambda r: r["id"])

    assert schema(ours) == schema(ours_stdin) == schema(theirs) == (
        "struct<big:decimal(20,0),empty:array<string>,flag:boolean,id:bigint,items:array<struct<k:string,v:double>>,mixed:double,"
        "n:string,price:double,s:struct<a:bigint,b:struct<c:array<double>>>,ts:string,whole:double,wide:double,x:string>"
    )
    assert rows(ours) == rows(theirs), "Spark reads ours as it reads its own"
    assert rows(ours_stdin) == rows(ours)
    assert rows(ours)[0]["big"] == decimal.Decimal("18446744073709551616") and rows(ours)[1]["whole"] == 7.0

    def deltars_rows(path):
        return sorted(deltars_table(path).to_pylist(), key=lambda r: r["id"])

    assert deltars_rows(ours) == deltars_rows(theirs), "delta-rs reads ours as it reads Spark's"

    # Over 16 MiB: written with the schema of its first chunk (120,000 narrower lines: mixed a
    # long, no big, ts, x ...) while the whole file's is inferred on a thread; committed with the
    # whole file's, the same as Spark's.
    large = scratch / "create-infer-large.ndjson"
    with large.open("w") as out:
        for i in range(120_000):
            out.write(json.dumps({"id": 100 + i, "mixed": i, "pad": "x" * 100, "price": i + 0.5, "s": {"a": i}}) + "\n")
        out.write(f.read_text())
    ours_large = scratch / "create-infer-large-ours"
    theirs_large = scratch / "create-infer-large-spark"
    tributary("append", ours_large, "--input", str(large))
    spark.read.json(str(large)).write.format("delta").save(str(theirs_large))
    # (Column order aside: ours keeps the order keys first appear in, Spark's sorts them.)
    def columns(path):
        return {f.name: f.dataType.simpleString() for f in spark.read.format("delta").load(str(path)).schema.fields}

    assert columns(ours_large) == columns(theirs_large)
    assert columns(ours_large)["mixed"] == "double" and columns(ours_large)["x"] == "string" and len(columns(ours_large)) == 14
    assert rows(ours_large) == rows(theirs_large), "Spark reads ours as it reads its own"
    assert deltars_rows(ours_large) == deltars_rows(theirs_large), "delta-rs reads ours as it reads Spark's"


def test_a_json_array_document_lands_as_sparks_multiline_json_reader_reads_it(spark, scratch):
    """`--input page.json` holding one JSON array of objects (pretty-printed, as an API's answer
    saved by curl), with --schema and with --merge-schema inferring new nested columns: the rows
    are the ones spark.read.option("multiLine", True).json reads from the same file (written to a
    Delta twin), read back by Spark and by delta-rs."""
    rows = [
        {"id": 1, "coin": "bitcoin", "price": 96123.45678901234, "amt": 12345678.91, "tags": ["a", "b, ]"], "s": {"x": "q\"uo\nte", "y": 1}},
        {"id": 2, "coin": "éth ✓", "price": -0.0, "amt": 0.5, "tags": [], "s": {"x": None, "y": None}},
        {"id": 3, "coin": None, "price": 1e-7, "amt": None, "tags": None, "s": None},
    ]
    f = scratch / "page.json"
    f.write_text(json.dumps(rows, indent=2, ensure_ascii=False), encoding="utf-8")
    ddl = "id BIGINT, coin STRING, price DOUBLE, amt DECIMAL(20,2), tags ARRAY<STRING>, s STRUCT<x: STRING, y: BIGINT>"
    ours = scratch / "array-ours"
    theirs = scratch / "array-spark"
    tributary("append", ours, "--input", str(f), "--schema", ddl)
    spark.read.schema(ddl).option("multiLine", True).json(str(f)).write.format("delta").save(str(theirs))

    def rows_of(path):
        df = spark.read.format("delta").load(str(path))
        return df.schema.simpleString(), sorted((r.asDict(recursive=True) for r in df.collect()), key=lambda r: r["id"])

    assert rows_of(ours) == rows_of(theirs)
    assert rows_of(ours)[1][0]["s"] == {"x": "q\"uo\nte", "y": 1}
    assert sorted(deltars_table(ours).to_pylist(), key=lambda r: r["id"]) == sorted(deltars_table(theirs).to_pylist(), key=lambda r: r["id"])

    # --merge-schema without --schema: new columns inferred from the document, as Spark's inference does.
    more = [{"id": 4, "extra": {"k": 1, "l": [1.5]}}, {"id": 5, "extra": {"k": 2, "l": []}}]
    g = scratch / "more.json"
    g.write_text(json.dumps(more, indent=4), encoding="utf-8")
    tributary("append", ours, "--input", str(g), "--merge-schema")
    spark.read.option("multiLine", True).json(str(g)).write.format("delta").mode("append").option("mergeSchema", "true").save(str(theirs))
    assert rows_of(ours) == rows_of(theirs)
    assert rows_of(ours)[0].endswith("extra:struct<k:bigint,l:array<double>>>")
