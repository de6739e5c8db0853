"""Checkpoints of more actions than one row group (checkpoint.ts: row groups of 1,000 actions,
chunk-level statistics only), judged by Spark and delta-rs: a table of 2,600 files read from
its checkpoint, with the commits before it deleted, must read back whole, from every row group."""

import json
from pathlib import Path

import pyarrow.parquet as pq

from conftest import deltars_table, tributary


def test_a_checkpoint_of_several_row_groups_reads_whole(spark, scratch):
    path = scratch / "checkpoint-row-groups"
    n = 1300
    for v in range(2):
        rows = scratch / f"rows-{v}.ndjson"
        rows.write_text("".join(json.dumps({"id": v * n + i, "v": f"r{v * n + i}"}) + "\n" for i in range(n)))
        # Partitioned by id: a file per row, so that the checkpoint lists 2,600 adds.
        tributary("append", path, "--input", rows, "--schema", "id BIGINT, v STRING", "--partition-by", "id", "--property", "delta.checkpointInterval=1")
    log = Path(path) / "_delta_log"
    checkpoint = log / f"{1:020d}.checkpoint.parquet"
    assert checkpoint.exists(), sorted(p.name for p in log.iterdir())
    meta = pq.ParquetFile(checkpoint).metadata
    assert meta.num_rows == 2 * n + 2  # the adds, protocol and metaData
    assert meta.num_row_groups == 3, meta.num_row_groups
    assert max(meta.row_group(i).num_rows for i in range(meta.num_row_groups)) == 1000
    # The checkpoint carries the state: the commit and checkpoint before it are gone (Spark
    # wants the checkpoint's own commit file listed beside it).
    for name in (f"{0:020d}.json", f"{0:020d}.checkpoint.parquet"):
        (log / name).unlink(missing_ok=True)
    assert not (log / f"{0:020d}.json").exists()
    want = [(i, f"r{i}") for i in range(2 * n)]
    got = sorted((r["id"], r["v"]) for r in spark.read.format("delta").load(str(path)).collect())
    assert got == want, "Spark from the checkpoint"
    got = sorted((r["id"], r["v"]) for r in deltars_table(path).to_pylist())
    assert got == want, "delta-rs from the checkpoint"
    assert json.loads(tributary("inspect", path, "--json").stdout)["numFiles"] == 2 * n
