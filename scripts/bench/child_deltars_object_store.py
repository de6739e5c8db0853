"""delta-rs side of the object-store benchmark (scripts/bench/object-store.ts), one case per process:

    python child_deltars_object_store.py      # OS_BENCH_SPEC env, as child-object-store.ts takes

The same cases as Tributary's child (appends, bulk, writer), on the same S3 server with the same
storage options. Records are read from the shared NDJSON file and converted to pyarrow's fastest
input form before any clock starts (child_deltars.py's loader); the timed part is what a Python
user runs: pyarrow.Table.from_pylist + deltalake.write_deltalake(uri, ..., mode="append",
storage_options=...). Prints one `@@BENCH_RESULT {json}` line and leaves with os._exit (see
child_deltars.py).
"""

import json
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pyarrow as pa  # noqa: E402
import deltalake  # noqa: E402
from child_deltars import arrow_type, emit, load  # noqa: E402


def main():
    spec = json.loads(os.environ["OS_BENCH_SPEC"])
    columns = [c.strip().split() for c in spec["ddl"].split(",")]
    schema = pa.schema([(n, arrow_type(t)) for n, t in columns])
    opts = spec["storageOptions"]
    kind = spec["kind"]

    def write(uri, records):
        deltalake.write_deltalake(uri, pa.Table.from_pylist(records, schema=schema), mode="append", storage_options=opts)

    if kind == "appends":
        n, size = spec["appends"], spec["batchRows"]
        records = load(spec["input"], n * size, columns, "fast")
        batches = [records[k * size : (k + 1) * size] for k in range(n)]
        for k in range(spec["warmupAppends"]):
            write(spec["uri"] + "-warmup", batches[k % n])
        lat = []
        t0 = time.perf_counter()
        for k in range(n):
            s = time.perf_counter()
            write(spec["uri"], batches[k])
            lat.append((time.perf_counter() - s) * 1000)
        total = time.perf_counter() - t0
        return {"latenciesMs": lat, "totalSeconds": total, "finalVersion": deltalake.DeltaTable(spec["uri"], storage_options=opts).version()}
    if kind == "bulk":
        records = load(spec["input"], spec["rows"], columns, "fast")
        write(spec["uri"] + "-warmup", records[: spec["warmupRows"]])
        t0 = time.perf_counter()
        write(spec["uri"], records)
        seconds = time.perf_counter() - t0
        return {"seconds": seconds, "finalVersion": deltalake.DeltaTable(spec["uri"], storage_options=opts).version()}
    if kind == "writer":
        n, size, w = spec["appends"], spec["batchRows"], spec.get("worker", 0)
        records = load(spec["input"], (w + 1) * n * size, columns, "fast")[w * n * size :]
        deltalake.DeltaTable(spec["uri"], storage_options=opts)
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        sys.stdin.readline()
        errors = []
        t0 = time.perf_counter()
        for k in range(n):
            try:
                write(spec["uri"], records[k * size : (k + 1) * size])
            except Exception as e:  # noqa: BLE001 - a commit that gave up is counted, not fatal
                errors.append(f"{type(e).__name__}: {e}"[:300])
        return {"commits": n - len(errors), "errors": len(errors), "firstError": errors[0] if errors else None, "seconds": time.perf_counter() - t0}
    raise ValueError(f"unknown case {kind}")


if __name__ == "__main__":
    try:
        emit({"ok": True, **main()})
        code = 0
    except Exception as e:  # noqa: BLE001
        emit({"ok": False, "error": f"{type(e).__name__}: {e}", "stack": traceback.format_exc()})
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
