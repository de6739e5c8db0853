"""A rate stream SIGKILLed 30+ times in every phase (test/interop/crash-table.ts): Spark and
delta-rs must see every value 0..N-1 exactly once."""

import json
import subprocess

from conftest import ROOT


def test_crashed_stream_table_holds_every_value_once(spark, scratch):
    d = scratch / f"crash-{spark.version}"
    out = subprocess.run(["npx", "tsx", "test/interop/crash-table.ts", str(d)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["kills"] >= 30
    n = info["rows"]
    values = sorted(r["value"] for r in spark.read.format("delta").load(info["table"]).select("value").collect())
    assert values == list(range(n)), f"Spark: {len(values)} values, {len(set(values))} distinct, expected 0..{n - 1}"
    from deltalake import DeltaTable

    dv = sorted(DeltaTable(info["table"]).to_pyarrow_table(columns=["value"]).column("value").to_pylist())
    assert dv == list(range(n))
    hist = spark.sql(f"DESCRIBE HISTORY delta.`{info['table']}`").collect()
    assert all(h["operation"] == "STREAMING UPDATE" for h in hist)
