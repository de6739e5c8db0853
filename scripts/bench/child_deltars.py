"""delta-rs side of the Tributary benchmark (see run.ts), one case per process.

    python child_deltars.py run      # BENCH_SPEC env: throughput or appends case
    python child_deltars.py verify   # BENCH_VERIFY env: compare tables written by the contenders
    python child_deltars.py info     # versions

Prints one `@@BENCH_RESULT {json}` line on stdout and leaves with os._exit, because deltalake's
runtime can abort ("terminate called without an active exception") at interpreter shutdown.

Records come from the NDJSON file the parent wrote (the same one Tributary reads) and are turned
into Python objects before the clock starts. The timed part is what a Python user runs:
pyarrow.Table.from_pylist(records, schema=...) + deltalake.write_deltalake(..., mode="append").
Value forms ("engine" in the spec):
  fast   - timestamps as int epoch microseconds, dates as int days since 1970-01-01
           (pyarrow's fastest conversion path; the figure the ratios use)
  native - datetime.datetime (UTC) and datetime.date objects
Decimals are decimal.Decimal in both (pyarrow takes nothing faster), longs are ints.
"""

import datetime as dt
import decimal
import gc
import json
import os
import platform
import resource
import shutil
import sys
import time
import traceback

import pyarrow as pa
import pyarrow.compute as pc
import deltalake

UTC = dt.timezone.utc
EPOCH_DATE = dt.date(1970, 1, 1)


def emit(obj):
    sys.stdout.write("@@BENCH_RESULT " + json.dumps(obj) + "\n")
    sys.stdout.flush()


def arrow_type(t):
    u = t.upper().replace(" ", "")
    if u == "STRING":
        return pa.string()
    if u in ("LONG", "BIGINT"):
        return pa.int64()
    if u == "DOUBLE":
        return pa.float64()
    if u == "BOOLEAN":
        return pa.bool_()
    if u == "TIMESTAMP":
        return pa.timestamp("us", tz="UTC")
    if u == "DATE":
        return pa.date32()
    if u.startswith("DECIMAL("):
        p, s = u[len("DECIMAL("):-1].split(",")
        return pa.decimal128(int(p), int(s))
    raise ValueError("unsupported type " + t)


def converters(columns, form):
    """Per-column functions turning NDJSON values into the in-memory form."""
    conv = {}
    for name, t in columns:
        u = t.upper().replace(" ", "")
        if u == "TIMESTAMP":
            if form == "fast":
                conv[name] = lambda v: v * 1000
            else:
                conv[name] = lambda v: dt.datetime.fromtimestamp(v // 1000, UTC) + dt.timedelta(milliseconds=v % 1000)
        elif u == "DATE":
            if form == "fast":
                conv[name] = lambda v: (dt.date.fromisoformat(v) - EPOCH_DATE).days
            else:
                conv[name] = dt.date.fromisoformat
        elif u.startswith("DECIMAL("):
            conv[name] = decimal.Decimal
    return conv


def load(path, limit, columns, form):
    conv = list(converters(columns, form).items())
    records = []
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            if len(records) >= limit:
                break
            if not line.strip():
                continue
            rec = json.loads(line)
            for name, fn in conv:
                v = rec.get(name)
                if v is not None:
                    rec[name] = fn(v)
            records.append(rec)
    if len(records) < limit:
        raise RuntimeError(f"{path} holds {len(records)} records, {limit} wanted")
    return records


def rss_now_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def table_bytes(path):
    t = deltalake.DeltaTable(path)
    adds = pa.table(t.get_add_actions(flatten=True))
    return int(pc.sum(adds.column("size_bytes")).as_py() or 0), adds.num_rows, t.version()


def throughput(spec, records, schema):
    work = spec["workDir"]
    warm = os.path.join(work, "warmup")
    deltalake.write_deltalake(warm, pa.Table.from_pylist(records[: spec["warmupRows"]], schema=schema), mode="append")
    shutil.rmtree(warm, ignore_errors=True)

    runs = []
    last = None
    for i in range(spec["runs"]):
        if last:
            shutil.rmtree(last, ignore_errors=True)
        path = os.path.join(work, f"run{i}")
        gc.collect()
        t0 = time.perf_counter()
        table = pa.Table.from_pylist(records, schema=schema)
        t1 = time.perf_counter()
        deltalake.write_deltalake(path, table, mode="append")
        t2 = time.perf_counter()
        del table
        nbytes, nfiles, version = table_bytes(path)
        runs.append({"seconds": t2 - t0, "fromPylistSeconds": t1 - t0, "writeSeconds": t2 - t1, "bytes": nbytes, "files": nfiles, "version": version})
        last = path
    return {"runs": runs, "tableDir": last}


def appends(spec, records, schema):
    batch = spec["batchRows"]
    n = spec["appends"]
    batches = [records[k * batch : (k + 1) * batch] for k in range(n)]
    reuse = spec.get("target") == "table"

    def run(path, count, lat=None):
        target = path
        for k in range(count):
            t0 = time.perf_counter()
            tbl = pa.Table.from_pylist(batches[k % n], schema=schema)
            deltalake.write_deltalake(target, tbl, mode="append")
            if reuse and k == 0:
                target = deltalake.DeltaTable(path)
            if lat is not None:
                lat.append((time.perf_counter() - t0) * 1000)
        return target

    warm = os.path.join(spec["workDir"], "warmup")
    run(warm, spec["warmupAppends"])
    shutil.rmtree(warm, ignore_errors=True)

    path = os.path.join(spec["workDir"], "table")
    gc.collect()
    lat = []
    t0 = time.perf_counter()
    run(path, n, lat)
    total = time.perf_counter() - t0
    log = os.listdir(os.path.join(path, "_delta_log"))
    checkpoints = sorted(int(f.split(".")[0]) for f in log if ".checkpoint." in f)
    return {
        "latenciesMs": lat,
        # Appends (0-based) whose commit version got a checkpoint: version v is append v.
        "checkpointAppends": checkpoints,
        "totalSeconds": total,
        "finalVersion": deltalake.DeltaTable(path).version(),
        "tableDir": path,
    }


def cmd_run():
    spec = json.loads(os.environ["BENCH_SPEC"])
    columns = spec["columns"]
    schema = pa.schema([(n, arrow_type(t)) for n, t in columns])
    need = spec["appends"] * spec["batchRows"] if spec["kind"] == "appends" else spec["rows"]
    t0 = time.perf_counter()
    records = load(spec["input"], need, columns, spec["engine"])
    load_s = time.perf_counter() - t0
    gc.collect()
    rss_loaded = rss_now_kb()
    result = appends(spec, records, schema) if spec["kind"] == "appends" else throughput(spec, records, schema)
    ru = resource.getrusage(resource.RUSAGE_SELF)
    emit({
        "ok": True,
        "rows": len(records),
        "loadSeconds": load_s,
        "rssLoadedKb": rss_loaded,
        "selfMaxRssKb": ru.ru_maxrss,  # kilobytes on Linux
        "cpuUserSeconds": ru.ru_utime,
        "cpuSystemSeconds": ru.ru_stime,
        **result,
    })


def read_sorted(path, keys, ref_schema=None):
    t = deltalake.DeltaTable(path).to_pyarrow_table()
    if ref_schema is not None:
        t = t.select(ref_schema.names).cast(ref_schema)
    return t.sort_by([(k, "ascending") for k in keys])


def cmd_verify():
    """Each table must hold exactly the reference table's rows (same values, any order)."""
    v = json.loads(os.environ["BENCH_VERIFY"])
    out = []
    for group in v["groups"]:
        ref = read_sorted(group["reference"]["path"], group["keys"])
        for other in group["others"]:
            entry = {"case": group["case"], "table": other["label"], "reference": group["reference"]["label"]}
            try:
                t = read_sorted(other["path"], group["keys"], ref.schema)
                entry["rows"] = t.num_rows
                entry["referenceRows"] = ref.num_rows
                entry["equal"] = bool(t.num_rows == ref.num_rows and t.equals(ref))
                if not entry["equal"] and t.num_rows == ref.num_rows:
                    entry["differingColumns"] = [n for n in ref.schema.names if not t.column(n).equals(ref.column(n))]
            except Exception as e:  # noqa: BLE001
                entry["equal"] = False
                entry["error"] = f"{type(e).__name__}: {e}"
            out.append(entry)
    emit({"ok": True, "checks": out})


def cmd_info():
    emit({
        "ok": True,
        "python": platform.python_version(),
        "pyarrow": pa.__version__,
        "deltalake": deltalake.__version__,
    })


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else "run"
    try:
        {"run": cmd_run, "verify": cmd_verify, "info": cmd_info}[cmd]()
        code = 0
    except Exception as e:  # noqa: BLE001
        emit({"ok": False, "error": f"{type(e).__name__}: {e}", "stack": traceback.format_exc()})
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
