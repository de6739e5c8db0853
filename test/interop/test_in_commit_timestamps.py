"""In-commit timestamps (delta.enableInCommitTimestamps) judged by Spark: every commit Tributary
makes to such a table (append, stream, OPTIMIZE, VACUUM) carries an inCommitTimestamp first in
commitInfo, strictly after the previous commit's, which Spark's DESCRIBE HISTORY shows as the
commit's time and uses to time travel by timestamp. Spark 4 and Spark 3.5 (delta-spark 3.3)."""

import datetime as dt
import json

from conftest import tributary
from features import (
    DDL,
    deltars_values,
    latest_version,
    log_actions,
    ndjson,
    spark_insert,
    spark_values,
    trib_append,
    trib_optimize,
    trib_stream,
    trib_vacuum,
)


def icts(path):
    out = []
    for v in range(latest_version(path) + 1):
        first = log_actions(path, v)[0]
        assert "commitInfo" in first, f"version {v}: commitInfo is not the first action"
        out.append(first["commitInfo"]["inCommitTimestamp"])
    return out


def spark_history_ms(spark, path):
    from delta.tables import DeltaTable

    rows = DeltaTable.forPath(spark, str(path)).history().selectExpr("version", "unix_millis(timestamp) AS ms").collect()
    return {r["version"]: r["ms"] for r in rows}


def as_of(ms):
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def test_ict_table_through_every_writer(spark, scratch):
    path = scratch / f"ict-{spark.version}"
    spark.sql(f"CREATE TABLE delta.`{path}` ({DDL}) USING delta TBLPROPERTIES ('delta.enableInCommitTimestamps' = 'true')")
    spark_insert(spark, path, range(1000, 1005))
    trib_append(path, range(2000, 2005))
    v_append = latest_version(path)
    trib_append(path, range(2005, 2010))
    trib_stream(path, scratch / f"ict-cp-{spark.version}", 20)
    v_stream = latest_version(path)
    trib_optimize(path)

    ts = icts(path)
    assert all(b > a for a, b in zip(ts, ts[1:])), f"not strictly increasing: {ts}"
    assert spark_history_ms(spark, path) == dict(enumerate(ts))
    # Time travel by timestamp lands on the version whose ICT it names; one millisecond earlier,
    # on the version before (ICTs are strictly increasing, so that one is at or before it).
    assert spark_values(spark, path, timestampAsOf=as_of(ts[v_append])) == [*range(1000, 1005), *range(2000, 2005)]
    assert spark_values(spark, path, timestampAsOf=as_of(ts[v_append] - 1)) == list(range(1000, 1005))
    assert spark_values(spark, path, timestampAsOf=as_of(ts[v_stream])) == sorted([*range(1000, 1005), *range(2000, 2010), *range(20)])

    trib_vacuum(path)
    spark_insert(spark, path, range(3000, 3005))
    ts = icts(path)
    assert all(b > a for a, b in zip(ts, ts[1:])), f"not strictly increasing: {ts}"
    assert spark_history_ms(spark, path) == dict(enumerate(ts))
    expected = sorted([*range(1000, 1005), *range(2000, 2010), *range(20), *range(3000, 3005)])
    assert spark_values(spark, path) == expected
    assert deltars_values(path) == expected
    # Our history shows the same times.
    ours = {h["version"]: h["timestamp"] for h in json.loads(tributary("history", path, "--json").stdout)}
    assert ours == dict(enumerate(ts))


def test_ict_table_created_by_tributary(spark, scratch):
    path = scratch / f"ict-ours-{spark.version}"
    tributary("append", path, "--input", "-", "--schema", DDL, "--property", "delta.enableInCommitTimestamps=true", input_text=ndjson(range(5)))
    trib_append(path, range(5, 10))
    v0 = log_actions(path, 0)
    conf = next(a["metaData"]["configuration"] for a in v0 if "metaData" in a)
    # As Spark creates it: no enablement version/timestamp on a new table.
    assert conf == {"delta.enableInCommitTimestamps": "true"}
    spark_insert(spark, path, range(10, 12))
    ts = icts(path)
    assert all(b > a for a, b in zip(ts, ts[1:]))
    assert spark_history_ms(spark, path) == dict(enumerate(ts))
    assert spark_values(spark, path, timestampAsOf=as_of(ts[0])) == list(range(5))
    assert spark_values(spark, path) == list(range(12))
