"""Object stores: tables on moto (S3), fake-gcs-server (GCS) and Azurite (Azure Blob), started by
scripts/interop/run.sh, which exports their environment.

- delta-rs reads each table 4 concurrent Tributary processes wrote (test/interop/object-store-tables.ts):
  every row exactly once, at version 100;
- delta-rs reads a Tributary table on each store, appends to it, Tributary appends after it, and
  all of them read the same rows;
- Spark reads the S3 table through s3a:// (hadoop-aws of its own Hadoop), appends to it as the
  single writer, Tributary appends after it, and Spark, delta-rs and Tributary read the same rows;
- a stream, a CLI appender, OPTIMIZE and VACUUM on one S3 table at once: Spark (s3a) and delta-rs
  read every row exactly once.

Tributary reaches every store through the environment alone (AWS_*, STORAGE_EMULATOR_HOST,
AZURE_STORAGE_CONNECTION_STRING), as a job would; delta-rs gets the storage_options the README
gives for each server. Without the servers (a pytest run outside run.sh) these tests fail.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from conftest import assert_same_rows, deltars_rows, spark_rows, tributary
from test_roundtrip import SCHEMA, SCHEMA_DDL, canonical, expected, spark_df

STORES = ["s3", "gcs", "azure"]
SCHEME = {"s3": "s3", "gcs": "gs", "azure": "az"}
BUCKET = "tributary-interop"
LINE = os.environ.get("TRIBUTARY_SPARK_LINE", "spark")


def need(var):
    v = os.environ.get(var)
    if not v:
        pytest.fail(f"{var} is not set: run the interop suite through `npm run test:interop`, which starts the object-store servers")
    return v


@pytest.fixture(scope="session")
def deltars_options():
    """delta-rs (object_store) storage_options for each local server."""
    azure = dict(part.split("=", 1) for part in need("AZURE_STORAGE_CONNECTION_STRING").split(";") if part)
    # delta-rs writes GCS objects with the XML API, which fake-gcs-server lacks: see gcs_xml_adapter.py.
    adapter = subprocess.Popen([sys.executable, str(Path(__file__).with_name("gcs_xml_adapter.py")), need("STORAGE_EMULATOR_HOST")], stdout=subprocess.PIPE, text=True)
    gcs_endpoint = adapter.stdout.readline().strip()
    assert gcs_endpoint.startswith("http://"), "the GCS XML adapter did not start"
    yield {
        "s3": {
            "AWS_ENDPOINT_URL": need("AWS_ENDPOINT_URL"),
            "AWS_ALLOW_HTTP": "true",
            "AWS_REGION": need("AWS_REGION"),
            "AWS_ACCESS_KEY_ID": need("AWS_ACCESS_KEY_ID"),
            "AWS_SECRET_ACCESS_KEY": need("AWS_SECRET_ACCESS_KEY"),
        },
        "gcs": {
            # object_store's emulator settings live in a service-account key: its base URL, no OAuth.
            "google_service_account_key": json.dumps({"gcs_base_url": gcs_endpoint, "disable_oauth": True, "client_email": "", "private_key": "", "private_key_id": ""}),
            "allow_http": "true",
        },
        "azure": {
            "azure_storage_account_name": azure["AccountName"],
            "azure_storage_account_key": azure["AccountKey"],
            "azure_storage_endpoint": azure["BlobEndpoint"],
            "allow_http": "true",
        },
    }
    adapter.terminate()
    adapter.wait(timeout=30)


def stores_manifest():
    return json.loads(Path(need("TRIBUTARY_INTEROP_STORES_MANIFEST")).read_text())


def fresh_uri(store, name):
    return f"{SCHEME[store]}://{BUCKET}/{LINE}-{uuid.uuid4().hex[:8]}/{name}"


def tributary_append(uri, ids, scratch, create=False):
    f = scratch / f"batch-{uuid.uuid4().hex}.ndjson"
    f.write_text("\n".join(json.dumps(canonical(i)) for i in ids) + "\n")
    args = ["append", uri, "--input", f]
    if create:
        args += ["--schema", SCHEMA_DDL, "--partition-by", "p"]
    tributary(*args)


def tributary_rows(uri):
    out = tributary("read", uri).stdout
    return sorted((json.loads(line) for line in out.splitlines()), key=lambda r: r["id"])


def arrow_batch(ids):
    """The rows as delta-rs takes them: an Arrow table of the table's schema."""
    import datetime as dt
    import decimal

    import pyarrow as pa

    schema = pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            pa.field("name", pa.string()),
            pa.field("price", pa.float64()),
            pa.field("ts", pa.timestamp("us", tz="UTC")),
            pa.field("amt", pa.decimal128(18, 4)),
            pa.field("day", pa.date32()),
            pa.field("p", pa.string()),
        ]
    )
    rows = []
    for i in ids:
        c = canonical(i)
        rows.append(
            {
                **c,
                "ts": dt.datetime.strptime(c["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc),
                "amt": decimal.Decimal(c["amt"]),
                "day": dt.date.fromisoformat(c["day"]),
            }
        )
    return pa.Table.from_pylist(rows, schema=schema)


@pytest.mark.parametrize("store", STORES)
def test_deltars_reads_the_table_concurrent_tributary_processes_wrote(store, deltars_options):
    from deltalake import DeltaTable

    spec = next(t for t in stores_manifest()["tables"] if t["store"] == store)
    t = DeltaTable(spec["uri"], storage_options=deltars_options[store])
    assert t.version() == spec["version"]
    ids = sorted(t.to_pyarrow_table(columns=["id"]).column("id").to_pylist())
    want = sorted(w * 1_000_000 + k for w in range(spec["writers"]) for k in range(spec["appends"] * spec["rows"]))
    assert len(ids) == len(want)
    assert ids == want, f"{store}: rows missing or duplicated"
    # Every version is there, each with its commit: delta-rs' history walks them all.
    assert len(t.history()) == spec["version"] + 1


@pytest.mark.parametrize("store", STORES)
def test_deltars_and_tributary_append_to_one_table(store, deltars_options, scratch):
    from deltalake import DeltaTable, write_deltalake

    opts = deltars_options[store]
    uri = fresh_uri(store, "shared")
    tributary_append(uri, list(range(0, 12)), scratch, create=True)
    assert_same_rows(deltars_rows(uri, SCHEMA, storage_options=opts), expected(range(0, 12)), f"delta-rs on {store}")
    write_deltalake(uri, arrow_batch(range(100, 112)), mode="append", storage_options=opts)
    tributary_append(uri, list(range(200, 212)), scratch)
    ids = [*range(0, 12), *range(100, 112), *range(200, 212)]
    assert_same_rows(deltars_rows(uri, SCHEMA, storage_options=opts), expected(ids), f"delta-rs on {store}")
    assert tributary_rows(uri) == expected(ids)
    t = DeltaTable(uri, storage_options=opts)
    assert t.version() == 2
    engines = [h.get("engineInfo", h.get("clientVersion", "")) for h in sorted(t.history(), key=lambda h: h["version"])]
    assert engines[0].startswith("tributary/") and "delta-rs" in engines[1] and engines[2].startswith("tributary/"), engines


def test_spark_reads_and_appends_through_s3a_then_tributary_appends(spark, deltars_options, scratch):
    need("TRIBUTARY_S3A_JARS")
    uri = fresh_uri("s3", "spark")
    s3a = "s3a://" + uri[len("s3://") :]
    tributary_append(uri, list(range(0, 12)), scratch, create=True)
    assert_same_rows(spark_rows(spark.read.format("delta").load(s3a), SCHEMA), expected(range(0, 12)), f"Spark {spark.version} via s3a")
    # Spark appends as the single writer (its S3 log store is single-driver), then Tributary.
    spark_df(spark, list(range(100, 112))).write.format("delta").mode("append").save(s3a)
    tributary_append(uri, list(range(200, 212)), scratch)
    ids = [*range(0, 12), *range(100, 112), *range(200, 212)]
    assert_same_rows(spark_rows(spark.read.format("delta").load(s3a), SCHEMA), expected(ids), f"Spark {spark.version} via s3a")
    assert_same_rows(deltars_rows(uri, SCHEMA, storage_options=deltars_options["s3"]), expected(ids), "delta-rs on s3")
    assert tributary_rows(uri) == expected(ids)
    hist = spark.sql(f"DESCRIBE HISTORY delta.`{s3a}`").orderBy("version").collect()
    assert [h["version"] for h in hist] == [0, 1, 2]
    assert "Apache-Spark" in (hist[1]["engineInfo"] or ""), hist[1]["engineInfo"]


def test_stream_appender_optimize_vacuum_at_once_on_s3_judged_by_spark_and_deltars(spark, deltars_options, scratch):
    """A `tributary run` stream, a CLI appender, OPTIMIZE and VACUUM on one S3 table at once
    (test/storage/streams.test.ts checks the same with our reader): Spark through s3a and delta-rs
    read every row exactly once, the stream's values contiguous, one STREAMING UPDATE per batch."""
    import signal
    import threading
    from concurrent.futures import ThreadPoolExecutor

    need("TRIBUTARY_S3A_JARS")
    uri = fresh_uri("s3", "mixed")
    checkpoint = fresh_uri("s3", "mixed-cp")
    s3a = "s3a://" + uri[len("s3://") :]
    base, appends, rows, per_batch, min_batches = 1_000_000_000, 6, 50, 10, 20

    def append(k):
        f = scratch / f"mixed-{LINE}-{k}.ndjson"
        f.write_text("".join(json.dumps({"timestamp": "2026-11-28T00:00:00Z", "value": base + k * rows + i}) + "\n" for i in range(rows)))
        tributary("append", uri, "--input", f, *(["--schema", "timestamp TIMESTAMP, value BIGINT"] if k == 0 else []))

    append(0)  # creates the table, so the stream and the appender never race to create it
    stream = subprocess.Popen(
        ["node", str(Path(__file__).resolve().parents[2] / "bin" / "tributary.js"), "run", "--format", "rate", "--option", f"rowsPerBatch={per_batch}", "--checkpoint", checkpoint, "--trigger", "processingTime=0", uri],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    batches = []
    enough = threading.Event()

    def watch():
        for line in stream.stdout:
            if line.startswith("batch "):
                batches.append(line)
                if len(batches) >= min_batches:
                    enough.set()
        enough.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with ThreadPoolExecutor(3) as pool:
        jobs = [
            pool.submit(lambda: [append(k) for k in range(1, appends)]),
            pool.submit(lambda: [tributary("optimize", uri, "--json") for _ in range(2)]),
            pool.submit(lambda: [tributary("vacuum", uri, "--json") for _ in range(2)]),
        ]
        for j in jobs:
            j.result()
    assert enough.wait(timeout=600), "the stream did not commit enough batches"
    stream.send_signal(signal.SIGTERM)
    assert stream.wait(timeout=120) == 0, stream.stderr.read()
    watcher.join(timeout=30)

    values = sorted(r["value"] for r in spark.read.format("delta").load(s3a).select("value").collect())
    streamed = [v for v in values if v < base]
    assert [v for v in values if v >= base] == list(range(base, base + appends * rows)), "appended rows lost or duplicated"
    assert streamed == list(range(len(streamed))), "streamed rows lost or duplicated"
    assert len(streamed) % per_batch == 0 and len(streamed) // per_batch >= min_batches
    ops = [h["operation"] for h in spark.sql(f"DESCRIBE HISTORY delta.`{s3a}`").collect()]
    assert ops.count("STREAMING UPDATE") == len(streamed) // per_batch
    assert ops.count("WRITE") == appends and ops.count("VACUUM START") == 2 and ops.count("VACUUM END") == 2
    from deltalake import DeltaTable

    assert sorted(DeltaTable(uri, storage_options=deltars_options["s3"]).to_pyarrow_table(columns=["value"]).column("value").to_pylist()) == values
