"""Table properties on create: every property Tributary accepts takes effect exactly as Spark
applies it (the same protocol, features as sets, and the same stored configuration), and Spark and
delta-rs read the table; every property Spark refuses, or whose feature Tributary does not
implement, is refused by the CLI with one line naming it and nothing written."""

import json
import re
from pathlib import Path

import pytest

from conftest import tributary

# (columns DDL, properties); each is created by Spark (CREATE TABLE ... TBLPROPERTIES) and by
# `tributary append --property`.
CASES = [
    ("a BIGINT", {}),
    ("a BIGINT NOT NULL", {}),
    ("a BIGINT", {"delta.appendOnly": "true"}),
    ("a BIGINT", {"delta.appendOnly": "TRUE"}),
    ("a BIGINT", {"delta.APPENDONLY": "true"}),
    ("a BIGINT", {"delta.appendOnly": "yes"}),
    ("a BIGINT", {"delta.enableChangeDataFeed": "true"}),
    ("a BIGINT NOT NULL", {"delta.enableChangeDataFeed": "true", "delta.appendOnly": "true"}),
    ("a BIGINT", {"delta.minWriterVersion": "3"}),
    ("a BIGINT", {"delta.minWriterVersion": "4"}),
    ("a BIGINT", {"delta.minWriterVersion": "5"}),
    ("a BIGINT", {"delta.minWriterVersion": "6"}),
    ("a BIGINT", {"delta.minWriterVersion": "7"}),
    ("a BIGINT NOT NULL", {"delta.minWriterVersion": "7"}),
    ("a BIGINT", {"delta.minWriterVersion": "8"}),
    ("a BIGINT", {"delta.minReaderVersion": "2"}),
    ("a BIGINT", {"delta.minReaderVersion": "3", "delta.minWriterVersion": "7"}),
    ("a BIGINT", {"delta.feature.appendOnly": "supported"}),
    ("a BIGINT", {"delta.feature.changeDataFeed": "supported"}),
    ("a BIGINT", {"delta.feature.checkConstraints": "supported"}),
    ("a BIGINT", {"delta.feature.domainMetadata": "supported"}),
    ("a BIGINT", {"delta.feature.timestampNtz": "supported"}),
    ("a BIGINT", {"delta.feature.vacuumProtocolCheck": "supported"}),
    ("a BIGINT", {"delta.feature.foo": "supported"}),
    ("a BIGINT", {"delta.checkpointInterval": "5"}),
    ("a BIGINT", {"delta.checkpointInterval": "0"}),
    ("a BIGINT", {"delta.logRetentionDuration": "interval 2 days"}),
    ("a BIGINT", {"delta.deletedFileRetentionDuration": "interval 1 hours"}),
    ("a BIGINT", {"delta.dataSkippingNumIndexedCols": "5"}),
    ("a BIGINT", {"delta.setTransactionRetentionDuration": "interval 3 days"}),
    ("a BIGINT", {"delta.enableExpiredLogCleanup": "false"}),
    ("a BIGINT", {"delta.checkpoint.writeStatsAsJson": "false"}),
    ("a BIGINT", {"delta.isolationLevel": "Serializable"}),
    ("a BIGINT", {"delta.isolationLevel": "WriteSerializable"}),
    ("a BIGINT", {"delta.columnMapping.mode": "none"}),
    ("a BIGINT", {"delta.enableDeletionVectors": "false"}),
    ("a BIGINT", {"delta.enableDeletionVectors": "true"}),
    ("a BIGINT NOT NULL", {"delta.enableDeletionVectors": "TRUE"}),
    ("a BIGINT", {"delta.feature.deletionVectors": "supported"}),
    ("a BIGINT", {"delta.checkpointPolicy": "classic"}),
    ("a BIGINT", {"delta.checkpointPolicy": "v2"}),
    ("a BIGINT", {"delta.checkpointPolicy": "V2"}),
    ("a BIGINT", {"delta.feature.v2Checkpoint": "supported"}),
    ("a BIGINT", {"delta.checkpointPolicy": "v2", "delta.enableDeletionVectors": "true", "delta.checkpointInterval": "1"}),
    ("a TIMESTAMP_NTZ", {"delta.enableDeletionVectors": "true"}),
    ("a BIGINT", {"delta.foo": "bar"}),
    ("a BIGINT", {"team": "data-eng"}),
    ("a TIMESTAMP_NTZ", {}),
    ("a TIMESTAMP_NTZ NOT NULL", {"delta.enableChangeDataFeed": "true"}),
    # A CHECK constraint set as a property on create: the same protocol (writer 3) as Spark.
    ("a BIGINT", {"delta.constraints.positive": "a > 0"}),
    ("a BIGINT", {"delta.enableRowTracking": "true"}),
    ("a BIGINT", {"delta.enableRowTracking": "false"}),
    ("a BIGINT", {"delta.feature.rowTracking": "supported"}),
    ("a BIGINT", {"delta.enableInCommitTimestamps": "true"}),
    ("a BIGINT NOT NULL", {"delta.enableInCommitTimestamps": "true", "delta.enableRowTracking": "true"}),
    ("a BIGINT", {"delta.feature.inCommitTimestamp": "supported"}),
    ("a BIGINT", {"delta.columnMapping.mode": "name"}),
    ("a BIGINT", {"delta.columnMapping.mode": "id"}),
    ("a BIGINT NOT NULL", {"delta.columnMapping.mode": "name", "delta.appendOnly": "true"}),
    ("a TIMESTAMP_NTZ", {"delta.columnMapping.mode": "id"}),
    ("a BIGINT", {"delta.columnMapping.mode": "name", "delta.minReaderVersion": "3", "delta.minWriterVersion": "7"}),
    ("a BIGINT", {"delta.feature.columnMapping": "supported"}),
    ("a BIGINT", {"delta.columnMapping.mode": "names"}),
    ("a BIGINT", {"delta.columnMapping.maxColumnId": "5"}),
    # Valid in Spark, but its feature is not implemented by Tributary yet: refused by name.
    ("a BIGINT", {"delta.enableTypeWidening": "true"}),
]
# Spark 3.5 does not know this one (Spark 4 does); judged on Spark 4 only.
SPARK4_ONLY = [("a BIGINT", {"delta.dataSkippingStringPrefixLength": "10"})]


def case_id(c):
    return (c[0] + " " + ",".join(f"{k}={v}" for k, v in c[1].items())).strip()


def first_commit(path):
    log = Path(path) / "_delta_log" / "00000000000000000000.json"
    actions = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    proto = next(a["protocol"] for a in actions if "protocol" in a)
    conf = next(a["metaData"]["configuration"] for a in actions if "metaData" in a)
    return proto, conf


def comparable_conf(conf):
    """The materialized row tracking column names end in a random UUID: compared by their prefix."""
    out = dict(conf)
    for key, prefix in (("delta.rowTracking.materializedRowIdColumnName", "_row-id-col-"), ("delta.rowTracking.materializedRowCommitVersionColumnName", "_row-commit-version-col-")):
        if key in out:
            assert re.fullmatch(re.escape(prefix) + r"[0-9a-f-]{36}", out[key]), out[key]
            out[key] = prefix
    return out


def as_sets(p):
    return {
        "minReaderVersion": p["minReaderVersion"],
        "minWriterVersion": p["minWriterVersion"],
        "readerFeatures": sorted(p["readerFeatures"]) if "readerFeatures" in p else None,
        "writerFeatures": sorted(p["writerFeatures"]) if "writerFeatures" in p else None,
    }


def sample_row(ddl):
    return '{"a":"2026-11-28T10:00:00"}' if "TIMESTAMP_NTZ" in ddl else '{"a":1}'


def run_case(spark, scratch, request, ddl, props):
    name = re.sub(r"[^A-Za-z0-9]+", "_", request.node.name)[:80]
    spark_path = scratch / f"props_spark_{name}"
    ours = scratch / f"props_ours_{name}"
    tp = ", ".join(f"'{k}' = '{v}'" for k, v in props.items())
    spark_error = None
    try:
        spark.sql(f"CREATE TABLE delta.`{spark_path}` ({ddl}) USING delta" + (f" TBLPROPERTIES ({tp})" if tp else ""))
    except Exception as e:  # noqa: BLE001 - Spark refuses through several exception types
        spark_error = str(e).splitlines()[0]
    args = ["append", str(ours), "--input", "-", "--schema", ddl]
    for k, v in props.items():
        args += ["--property", f"{k}={v}"]
    p = tributary(*args, check=False, input_text=sample_row(ddl) + "\n")
    if p.returncode != 0:
        # Refused: one line naming a property, and no table left behind.
        assert re.fullmatch(r"tributary: error \[INVALID_ARGUMENT\]: table property \S+=.*\n", p.stderr), p.stderr
        assert any(k.lower() in p.stderr.lower() for k in props), p.stderr
        assert not (ours / "_delta_log").exists()
        return spark_error, None
    assert spark_error is None, f"Tributary accepted {props}, which Spark refuses: {spark_error}"
    assert as_sets(first_commit(ours)[0]) == as_sets(first_commit(spark_path)[0])
    assert comparable_conf(first_commit(ours)[1]) == comparable_conf(first_commit(spark_path)[1])
    # Spark and delta-rs read it, and Spark can append to it.
    assert spark.read.format("delta").load(str(ours)).count() == 1
    # delta-rs reads it whenever it reads Spark's own table with the same protocol (it does not
    # read every reader feature, e.g. vacuumProtocolCheck).
    from deltalake import DeltaTable

    def deltars_rows(path):
        try:
            return DeltaTable(str(path)).to_pyarrow_table().num_rows
        except Exception as e:  # noqa: BLE001
            return type(e).__name__

    assert deltars_rows(ours) == (1 if isinstance(deltars_rows(spark_path), int) else deltars_rows(spark_path))
    spark.read.format("delta").load(str(ours)).write.format("delta").mode("append").save(str(ours))
    assert spark.read.format("delta").load(str(ours)).count() == 2
    return spark_error, True


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_table_properties_like_spark(spark, scratch, request, case):
    run_case(spark, scratch, request, *case)


@pytest.mark.parametrize("case", SPARK4_ONLY, ids=[case_id(c) for c in SPARK4_ONLY])
def test_table_properties_spark4_knows(spark, scratch, request, case):
    if spark.version.startswith("4"):
        run_case(spark, scratch, request, *case)
        return
    # Spark 3.5 refuses to create it (an unknown property there) but reads the table Tributary made.
    ddl, props = case
    ours = scratch / f"props_ours35_{re.sub(r'[^A-Za-z0-9]+', '_', request.node.name)[:60]}"
    args = ["append", str(ours), "--input", "-", "--schema", ddl] + [x for k, v in props.items() for x in ("--property", f"{k}={v}")]
    tributary(*args, input_text=sample_row(ddl) + "\n")
    assert spark.read.format("delta").load(str(ours)).count() == 1
