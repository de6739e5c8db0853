"""A table Spark created with CHAR(n)/VARCHAR(n) columns (STRING in the Delta schema, the declared
type in `__CHAR_VARCHAR_TYPE_STRING` field metadata), appended to by `tributary append`, judged
against Spark doing the same append on a twin table: values up to n characters land (and Spark
reads ours as it reads its own: CHAR padded on read, since both store values as given), longer
ones (trailing spaces count, at any depth) Spark refuses with DELTA_EXCEED_CHAR_VARCHAR_LIMIT and
so must we, leaving the table as it was. Before, Tributary landed them with exit 0."""

import json
from pathlib import Path

import pytest

from conftest import deltars_table, tributary

DDL = "id INT, c CHAR(3), v VARCHAR(5), st STRUCT<x: VARCHAR(2)>, a ARRAY<VARCHAR(2)>"
PLAIN = "id INT, c STRING, v STRING, st STRUCT<x: STRING>, a ARRAY<STRING>"
FITS = [
    {"id": 1, "c": "a", "v": "ab", "st": {"x": "ab"}, "a": ["ab", None, ""]},
    {"id": 2, "c": "a  ", "v": "ab   ", "st": {"x": None}, "a": []},
    {"id": 3, "c": "\U0001F600\U0001F600\U0001F600", "v": "\u00e9\u00e9\u00e9\u00e9\u00e9", "st": None, "a": None},
    {"id": 4, "c": None, "v": "\U0001F600" * 5, "st": {"x": "\u00e9\U0001F600"}, "a": ["\U0001F600\U0001F600"]},
]
TOO_LONG = [
    ("varchar", {"id": 9, "v": "abcdef"}, 'column v is VARCHAR(5) and the value "abcdef"'),
    ("char", {"id": 9, "c": "abcd"}, 'column c is CHAR(3) and the value "abcd"'),
    ("trailing-spaces", {"id": 9, "v": "abcde   "}, 'column v is VARCHAR(5) and the value "abcde   "'),
    ("code-points", {"id": 9, "v": "\u00e9" * 6}, "column v is VARCHAR(5)"),
    ("struct", {"id": 9, "st": {"x": "abc"}}, "column st.x is VARCHAR(2)"),
    ("array", {"id": 9, "a": ["ab", "abc"]}, "column a[1] is VARCHAR(2)"),
]


def rows_of(df):
    return sorted((r.asDict(recursive=True) for r in df.collect()), key=lambda r: r["id"])


def log_files(path):
    return sorted((p.name, p.stat().st_size) for p in (Path(path) / "_delta_log").iterdir())


def ndjson(rows):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


@pytest.fixture()
def twins(spark, scratch, request):
    ours = scratch / f"charvar-ours-{request.node.name}"
    theirs = scratch / f"charvar-spark-{request.node.name}"
    for t in (ours, theirs):
        spark.sql(f"CREATE TABLE delta.`{t}` ({DDL}) USING delta")
    return ours, theirs


def test_values_that_fit_land_as_spark_lands_them(spark, twins):
    ours, theirs = twins
    r = tributary("append", ours, "--input", "-", input_text=ndjson(FITS), check=False)
    assert r.returncode == 0, r.stderr
    spark.createDataFrame(FITS, PLAIN).write.format("delta").mode("append").save(str(theirs))
    got = rows_of(spark.read.format("delta").load(str(ours)))
    assert got == rows_of(spark.read.format("delta").load(str(theirs))), "Spark reads ours as it reads its own"
    # Read padded by Spark (CHAR(3) 'a' reads 'a  '), stored as given by both (delta-rs reads the bytes).
    assert got[0]["c"] == "a  "
    assert [x["c"] for x in sorted(deltars_table(ours).to_pylist(), key=lambda x: x["id"])] == [f["c"] for f in FITS]
    assert deltars_table(ours).to_pylist() and sorted(deltars_table(ours).to_pylist(), key=lambda x: x["id"]) == sorted(deltars_table(theirs).to_pylist(), key=lambda x: x["id"])


@pytest.mark.parametrize("case", TOO_LONG, ids=[c[0] for c in TOO_LONG])
def test_too_long_values_are_refused_as_spark_refuses_them(spark, twins, case):
    _, row, message = case
    ours, theirs = twins
    full = {"id": 9, "c": None, "v": None, "st": None, "a": None, **row}
    with pytest.raises(Exception) as spark_error:
        spark.createDataFrame([full], PLAIN).write.format("delta").mode("append").save(str(theirs))
    assert "DELTA_EXCEED_CHAR_VARCHAR_LIMIT" in str(spark_error.value), str(spark_error.value)[:500]
    before = log_files(ours)
    r = tributary("append", ours, "--input", "-", input_text=ndjson([{"id": 0}, full]), check=False)
    assert r.returncode == 1, f"Spark refuses, we exited {r.returncode}: {r.stderr}"
    assert r.stderr.startswith("tributary: error [CONSTRAINT_VIOLATION]: row 1: " + message), r.stderr
    assert "DELTA_EXCEED_CHAR_VARCHAR_LIMIT" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert log_files(ours) == before, "the table is as it was"


def schema_and_protocol(path):
    """The schemaString and protocol of a table's version 0."""
    out = {}
    for line in (Path(path) / "_delta_log" / ("0" * 20 + ".json")).read_text().splitlines():
        a = json.loads(line) if line.strip() else {}
        if "metaData" in a:
            out["schema"] = json.loads(a["metaData"]["schemaString"])
        if "protocol" in a:
            out["protocol"] = a["protocol"]
    return out


def test_a_table_we_create_with_char_varchar_is_the_table_spark_creates(spark, scratch):
    """`--schema` with CHAR/VARCHAR (nested, quoted names, other types beside) gives the schema
    and protocol Spark's CREATE TABLE gives, and Spark then enforces the lengths on our table."""
    ddl = "id INT, c CHAR(3), v VARCHAR(5), st STRUCT<a_b: VARCHAR(2), n: DECIMAL(5,2), x1: BIGINT>, m MAP<STRING, ARRAY<CHAR(1)>>"
    ours = scratch / "charvar-created-ours"
    theirs = scratch / "charvar-created-spark"
    r = tributary("append", ours, "--input", "-", "--schema", ddl, input_text=ndjson([{"id": 1, "c": "a", "v": "abcde", "st": {"a_b": "xy", "n": "1.25", "x1": 7}, "m": {"k": ["z"]}}]), check=False)
    assert r.returncode == 0, r.stderr
    spark.sql(f"CREATE TABLE delta.`{theirs}` ({ddl}) USING delta")
    assert schema_and_protocol(ours) == schema_and_protocol(theirs), "the schemaString (with __CHAR_VARCHAR_TYPE_STRING) and protocol Spark writes"
    got = spark.read.format("delta").load(str(ours)).collect()[0].asDict(recursive=True)
    assert got["c"] == "a  " and got["v"] == "abcde", got
    with pytest.raises(Exception) as spark_error:
        spark.sql(f"INSERT INTO delta.`{ours}` (id, v) VALUES (2, 'abcdef')")
    assert "DELTA_EXCEED_CHAR_VARCHAR_LIMIT" in str(spark_error.value), "Spark enforces the length on our table"
    bad = tributary("append", ours, "--input", "-", input_text=ndjson([{"id": 2, "m": {"k": ["zz"]}}]), check=False)
    assert bad.returncode == 1 and "[CONSTRAINT_VIOLATION]" in bad.stderr and "CHAR(1)" in bad.stderr, bad.stderr
