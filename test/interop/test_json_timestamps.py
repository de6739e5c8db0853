"""A JSON number into a TIMESTAMP column is seconds since the epoch, as Spark's JSON reader takes
it (JacksonParser: an integer token times 1,000,000 microseconds). Before, `tributary append
--input` read it as milliseconds (JavaScript's unit), so the same file landed 1000 times apart
in Tributary's table and in the one spark.read.json wrote, with exit 0: CoinGecko's
`last_updated_at` (seconds) came out in January 1970. Judged against Spark reading the same file
with the same schema into a Delta twin, through the decoder (--schema) and the row path
(--merge-schema), at the top level, in a struct and in an array; read back by Spark and delta-rs."""

import json

from conftest import deltars_table, tributary

DDL = "id BIGINT, t TIMESTAMP, s STRUCT<u: TIMESTAMP>, a ARRAY<TIMESTAMP>"
ROWS = [
    {"id": 1, "t": 1714521600, "s": {"u": 1714521601}, "a": [1714521602, 0]},
    {"id": 2, "t": -1, "s": {"u": -2000000000}, "a": [9007199300]},
    {"id": 3, "t": 0, "s": None, "a": []},
    {"id": 4, "t": "2024-05-01T00:00:00.5Z", "s": {"u": 9007199255}, "a": None},
    {"id": 5, "t": None, "s": {"u": None}, "a": [None]},
]


def rows_of(spark, path):
    df = spark.read.format("delta").load(str(path))
    return df.schema.simpleString(), sorted((r.asDict(recursive=True) for r in df.collect()), key=lambda r: r["id"])


def test_a_json_number_into_a_timestamp_is_epoch_seconds_as_spark_reads_it(spark, scratch):
    f = scratch / "ts-seconds.ndjson"
    f.write_text("".join(json.dumps(r) + "\n" for r in ROWS), encoding="utf-8")
    ours = scratch / "ts-seconds-ours"
    theirs = scratch / "ts-seconds-spark"
    tributary("append", ours, "--input", str(f), "--schema", DDL)
    spark.read.schema(DDL).option("mode", "FAILFAST").json(str(f)).write.format("delta").save(str(theirs))
    assert rows_of(spark, ours) == rows_of(spark, theirs)
    got = {r["id"]: r for r in rows_of(spark, ours)[1]}
    assert got[1]["t"].isoformat() == "2024-05-01T00:00:00"
    assert got[2]["a"][0].isoformat() == "2255-06-05T23:48:20"
    key = lambda r: r["id"]  # noqa: E731
    assert sorted(deltars_table(ours).to_pylist(), key=key) == sorted(deltars_table(theirs).to_pylist(), key=key)

    # --merge-schema (rows first, then the table's row path): a new column, the same seconds.
    more = [{"id": 6, "t": 1714521603, "x": 7, "s": {"u": 1714521604}, "a": [1714521605]}]
    g = scratch / "ts-seconds-more.ndjson"
    g.write_text("".join(json.dumps(r) + "\n" for r in more), encoding="utf-8")
    tributary("append", ours, "--input", str(g), "--merge-schema")
    spark.read.schema(DDL + ", x BIGINT").option("mode", "FAILFAST").json(str(g)).write.format("delta").mode("append").option("mergeSchema", "true").save(str(theirs))
    assert rows_of(spark, ours) == rows_of(spark, theirs)
    assert sorted(deltars_table(ours).to_pylist(), key=key) == sorted(deltars_table(theirs).to_pylist(), key=key)


def test_a_milliseconds_number_is_refused_naming_the_unit_and_the_table_is_unchanged(spark, scratch):
    """Milliseconds read as seconds are far past year 9999 (where Spark would store a timestamp it
    cannot print): refused, the message says what the number was taken as, nothing is written."""
    ours = scratch / "ts-millis-ours"
    f = scratch / "ts-millis-first.ndjson"
    f.write_text(json.dumps({"id": 1, "t": 1714521600, "s": None, "a": None}) + "\n", encoding="utf-8")
    tributary("append", ours, "--input", str(f), "--schema", DDL)
    before = sorted(p.name for p in (ours / "_delta_log").iterdir())
    g = scratch / "ts-millis.ndjson"
    g.write_text(json.dumps({"id": 2, "t": 1714521600000, "s": None, "a": None}) + "\n", encoding="utf-8")
    for extra in ([], ["--merge-schema"]):
        p = tributary("append", ours, "--input", str(g), *extra, check=False)
        assert p.returncode != 0
        assert p.stderr.startswith("tributary: error [ROW_INVALID]: row 0, column \"t\": value 1714521600000")
        assert "as seconds since the epoch" in p.stderr and "line 1" in p.stderr
    assert sorted(p.name for p in (ours / "_delta_log").iterdir()) == before
    assert [r["id"] for r in rows_of(spark, ours)[1]] == [1]
