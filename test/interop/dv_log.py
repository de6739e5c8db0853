"""Small helpers for the deletion vector and V2 checkpoint interop tests: the Delta log read as
plain JSON (commits only; these tables keep every commit), Z85, and a DV's bytes. They read what
Spark wrote; they are not a second Delta reader to judge anything with."""

import json
import re
import time
import uuid
from pathlib import Path

Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#"
COMMIT = re.compile(r"^\d{20}\.json$")


def z85_decode(text):
    out = bytearray()
    for i in range(0, len(text), 5):
        w = 0
        for c in text[i : i + 5]:
            w = w * 85 + Z85.index(c)
        out += w.to_bytes(4, "big")
    return bytes(out)


def z85_encode(data):
    data = data + b"\0" * (-len(data) % 4)
    out = []
    for i in range(0, len(data), 4):
        w = int.from_bytes(data[i : i + 4], "big")
        chunk = ""
        for _ in range(5):
            chunk = Z85[w % 85] + chunk
            w //= 85
        out.append(chunk)
    return "".join(out)


def commits(path):
    return sorted(int(f.name[:20]) for f in (Path(path) / "_delta_log").iterdir() if COMMIT.match(f.name))


def actions(path, version):
    text = (Path(path) / "_delta_log" / f"{version:020d}.json").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def dv_id(dv):
    if not dv:
        return None
    return dv["storageType"] + dv["pathOrInlineDv"] + (f"@{dv['offset']}" if dv.get("offset") is not None else "")


def live_adds(path):
    """The live add actions, replayed from every commit (path + DV id is the key)."""
    files = {}
    for v in commits(path):
        for a in actions(path, v):
            if "add" in a:
                files[(a["add"]["path"], dv_id(a["add"].get("deletionVector")))] = a["add"]
            elif "remove" in a:
                files.pop((a["remove"]["path"], dv_id(a["remove"].get("deletionVector"))), None)
    return list(files.values())


def dv_file(path, dv):
    """The file of a UUID-named (u) DV: [<random prefix>/]deletion_vector_<uuid>.bin."""
    text = dv["pathOrInlineDv"]
    prefix, encoded = text[:-20], text[-20:]
    name = f"deletion_vector_{uuid.UUID(bytes=z85_decode(encoded))}.bin"
    return Path(path) / prefix / name if prefix else Path(path) / name


def dv_bitmap(path, dv):
    """The serialized RoaringBitmapArray of a u DV: after its big-endian size, before the CRC."""
    data = dv_file(path, dv).read_bytes()
    off = dv.get("offset", 1)
    size = int.from_bytes(data[off : off + 4], "big")
    assert size == dv["sizeInBytes"]
    return data[off + 4 : off + 4 + size]


def restore_dvs_inline_and_by_path(path, n_inline=1, n_path=1):
    """Spark writes every DV to a UUID-named file. To have Spark, delta-rs and Tributary read the
    two other storage types the protocol defines, this commits, as a writer may, the same logical
    files again with the same DV bytes stored inline in the log (i) and referenced by absolute
    path (p): the rows a reader sees do not change. Returns the new version."""
    files = sorted((a for a in live_adds(path) if (a.get("deletionVector") or {}).get("storageType") == "u"), key=lambda a: a["path"])
    assert len(files) >= n_inline + n_path, f"only {len(files)} files with file DVs"
    now = int(time.time() * 1000)
    out = [{"commitInfo": {"timestamp": now, "operation": "CONVERT DV STORAGE", "operationParameters": {}, "isBlindAppend": False}}]
    for i, add in enumerate(files[: n_inline + n_path]):
        dv = add["deletionVector"]
        bitmap = dv_bitmap(path, dv)
        if i < n_inline:
            new = {"storageType": "i", "pathOrInlineDv": z85_encode(bitmap), "sizeInBytes": len(bitmap), "cardinality": dv["cardinality"]}
        else:
            new = {"storageType": "p", "pathOrInlineDv": dv_file(path, dv).resolve().as_uri(), "offset": dv.get("offset", 1), "sizeInBytes": len(bitmap), "cardinality": dv["cardinality"]}
        out.append({"add": {**add, "deletionVector": new, "dataChange": False}})
        out.append({"remove": {"path": add["path"], "deletionTimestamp": now, "dataChange": False, "extendedFileMetadata": True, "partitionValues": add["partitionValues"], "size": add["size"], "deletionVector": dv}})
    version = commits(path)[-1] + 1
    (Path(path) / "_delta_log" / f"{version:020d}.json").write_text("".join(json.dumps(a) + "\n" for a in out))
    return version


def deltars_table(path):
    """The rows delta-rs reads. It reads deletion vectors through its DataFusion scan
    (QueryBuilder); its pyarrow dataset path (to_pyarrow_table) refuses tables whose reader
    features it lacks there, by name, which is asserted as what it does."""
    import pyarrow as pa
    from deltalake import DeltaTable, QueryBuilder
    from deltalake.exceptions import DeltaProtocolError

    t = DeltaTable(str(path))
    if "deletionVectors" in (t.protocol().reader_features or []):
        try:
            t.to_pyarrow_table()
            raise AssertionError("delta-rs to_pyarrow_table read a table with deletion vectors")
        except DeltaProtocolError as e:
            assert "deletionVectors" in str(e)
    return pa.table(QueryBuilder().register("t", t).execute("SELECT * FROM t").read_all()).to_pylist()
