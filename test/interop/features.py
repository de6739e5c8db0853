"""The life of a table with a writer feature, shared by the feature suites (row tracking, in-commit
timestamps, change data feed, identity columns): Spark creates it and writes first, Tributary
appends (CLI), streams (`tributary run`, the rate source), runs OPTIMIZE and VACUUM, and Spark
appends again. The schema is the rate source's, so one table takes every writer."""

import json
import subprocess
from pathlib import Path

from conftest import ROOT, tributary

DDL = "timestamp TIMESTAMP, value BIGINT"


def ndjson(values):
    return "".join(json.dumps({"timestamp": f"2026-12-01T00:00:{v % 60:02d}Z", "value": v}) + "\n" for v in values)


def spark_insert(spark, path, values):
    rows = ", ".join(f"(TIMESTAMP'2026-12-01 00:00:{v % 60:02d}', {v})" for v in values)
    spark.sql(f"INSERT INTO delta.`{path}` (timestamp, value) VALUES {rows}")


def trib_append(path, values, *extra):
    tributary("append", path, "--input", "-", *extra, input_text=ndjson(values))


def trib_append_async(path, values):
    """A `tributary append` process left running, for concurrent writers."""
    p = subprocess.Popen(["node", str(ROOT / "bin" / "tributary.js"), "append", str(path), "--input", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    p.stdin.write(ndjson(values))
    p.stdin.close()
    return p


def wait_ok(p):
    rc = p.wait(timeout=300)
    assert rc == 0, p.stderr.read()


def trib_stream(path, checkpoint, rows):
    """One micro-batch of the rate source (values 0..rows-1) through a real `tributary run`."""
    tributary("run", "--format", "rate", "--option", f"rowsPerBatch={rows}", "--checkpoint", checkpoint, "--trigger", "availableNow", path)


def trib_optimize(path):
    return json.loads(tributary("optimize", path, "--json").stdout)


def trib_vacuum(path, retention="0h"):
    return json.loads(tributary("vacuum", path, "--retention", retention, "--force", "--json").stdout)


def spark_values(spark, path, **options):
    r = spark.read.format("delta")
    for k, v in options.items():
        r = r.option(k, v)
    return sorted(row["value"] for row in r.load(str(path)).select("value").collect())


def deltars_values(path):
    from deltalake import DeltaTable

    return sorted(DeltaTable(str(path)).to_pyarrow_table(columns=["value"]).column("value").to_pylist())


def log_actions(path, version):
    f = Path(path) / "_delta_log" / f"{version:020d}.json"
    return [json.loads(line) for line in f.read_text().splitlines() if line.strip()]


def latest_version(path):
    return max(int(p.name[:20]) for p in (Path(path) / "_delta_log").glob("*.json"))
