"""The peers of the "NDJSON to Delta" benchmark (scripts/bench/ndjson.ts), one run per process.

    python child_ndjson.py pyarrow <spec.json>   # pyarrow.json.read_json + deltalake.write_deltalake
    python child_ndjson.py polars  <spec.json>   # polars.read_ndjson(...).write_delta(...)
    python child_ndjson.py floor   <spec.json>   # the native encode floor: pyarrow writes the data to Parquet
    python child_ndjson.py verify  <spec.json>   # delta-rs reads every table; values compared exactly
    python child_ndjson.py info                  # versions

Each run is what a user runs, from the NDJSON file to a committed table, in a fresh process (the
parent times the whole process, as for Tributary's CLI). `floor` reads the file first (untimed)
and times only pq.write_table: the cost of encoding the same Arrow data natively, the floor any
writer pays. Prints one `@@BENCH_RESULT {json}` line and leaves with os._exit (deltalake's runtime
can abort at interpreter shutdown).
"""

import json
import os
import sys
import time
import traceback


def emit(obj):
    sys.stdout.write("@@BENCH_RESULT " + json.dumps(obj) + "\n")
    sys.stdout.flush()


def arrow_type(pa, t):
    """The Arrow type of a column spec: DDL-like strings, or {"struct": [[name, t], ...]}, {"list": t}."""
    if isinstance(t, dict):
        if "struct" in t:
            return pa.struct([pa.field(n, arrow_type(pa, c)) for n, c in t["struct"]])
        return pa.list_(arrow_type(pa, t["list"]))
    u = t.upper().replace(" ", "")
    simple = {"STRING": pa.string(), "BIGINT": pa.int64(), "LONG": pa.int64(), "INT": pa.int32(), "DOUBLE": pa.float64(), "BOOLEAN": pa.bool_(), "TIMESTAMP": pa.timestamp("us", tz="UTC"), "DATE": pa.date32()}
    if u in simple:
        return simple[u]
    if u.startswith("DECIMAL("):
        p, s = u[len("DECIMAL(") : -1].split(",")
        return pa.decimal128(int(p), int(s))
    raise ValueError("unsupported type " + str(t))


def schema_of(pa, spec):
    return pa.schema([pa.field(n, arrow_type(pa, t)) for n, t in spec["columns"]])


def pyarrow_read(pa, spec):
    """pyarrow.json.read_json into the spec's schema. Its reader takes no DATE from "YYYY-MM-DD"
    text: date columns are read as strings and cast (pyarrow parses ISO dates exactly)."""
    import pyarrow.json as pj

    schema = schema_of(pa, spec)
    dates = [f.name for f in schema if pa.types.is_date(f.type)]
    read = pa.schema([pa.field(f.name, pa.string()) if f.name in dates else f for f in schema])
    t = pj.read_json(spec["input"], parse_options=pj.ParseOptions(explicit_schema=read, unexpected_field_behavior="error"))
    return t.cast(schema) if dates else t


def main():
    mode = sys.argv[1]
    if mode == "info":
        import platform

        import deltalake
        import polars
        import pyarrow

        emit({"ok": True, "python": platform.python_version(), "pyarrow": pyarrow.__version__, "polars": polars.__version__, "deltalake": deltalake.__version__})
        return
    spec = json.load(open(sys.argv[2]))
    import pyarrow as pa

    if mode == "pyarrow":
        import deltalake
        import pyarrow.json as pj

        t = pyarrow_read(pa, spec)
        deltalake.write_deltalake(spec["table"], t, mode="append")
        emit({"ok": True, "rows": t.num_rows})
    elif mode == "polars":
        import polars as pl

        # polars reads a DECIMAL from a JSON number as a float (and refuses it): the decimal
        # columns are read as text and cast, exactly, as a user of polars does.
        schema = schema_of(pa, spec)
        decimals = [f.name for f in schema if pa.types.is_decimal(f.type)]
        read = pl.Schema(pa.schema([pa.field(f.name, pa.string()) if f.name in decimals else f for f in schema]))
        df = pl.read_ndjson(spec["input"], schema=read)
        if decimals:
            df = df.with_columns([pl.col(n).cast(pl.Decimal(schema.field(n).type.precision, schema.field(n).type.scale)) for n in decimals])
        df.write_delta(spec["table"], mode="append")
        emit({"ok": True, "rows": df.height})
    elif mode == "floor":
        import pyarrow.json as pj
        import pyarrow.parquet as pq

        t = pyarrow_read(pa, spec)
        t0 = time.perf_counter()
        pq.write_table(t, spec["table"] + ".parquet", compression="snappy")
        emit({"ok": True, "rows": t.num_rows, "encodeSeconds": time.perf_counter() - t0})
    elif mode == "verify":
        emit(verify(pa, spec))
    else:
        raise ValueError("unknown mode " + mode)


def verify(pa, spec):
    """delta-rs reads each table; every one must hold exactly the reference's values (sorted by all
    flat columns, compared as Arrow arrays of the spec's types: decimals and timestamps exactly)."""
    import deltalake

    schema = schema_of(pa, spec)
    keys = [(f.name, "ascending") for f in schema if not (pa.types.is_struct(f.type) or pa.types.is_list(f.type))]

    def load(path):
        t = deltalake.DeltaTable(path).to_pyarrow_table()
        t = t.select(schema.names).cast(schema)
        return t.sort_by(keys)

    ref = load(spec["reference"]["path"])
    checks = []
    for o in spec["others"]:
        try:
            t = load(o["path"])
            diff = [n for n in schema.names if not t.column(n).equals(ref.column(n))] if t.num_rows == ref.num_rows else schema.names
            checks.append({"case": spec["case"], "table": o["label"], "reference": spec["reference"]["label"], "rows": t.num_rows, "equal": not diff, **({"differingColumns": diff} if diff else {})})
        except Exception as e:  # noqa: BLE001 - reported, not raised
            checks.append({"case": spec["case"], "table": o["label"], "equal": False, "error": f"{type(e).__name__}: {e}"})
    return {"ok": True, "checks": checks, "rows": ref.num_rows}


if __name__ == "__main__":
    code = 0
    try:
        main()
    except Exception as e:  # noqa: BLE001
        emit({"ok": False, "error": f"{type(e).__name__}: {e}", "trace": traceback.format_exc()[-2000:]})
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
