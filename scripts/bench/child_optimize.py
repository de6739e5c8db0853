"""OPTIMIZE benchmark child for delta-rs: optimize.compact() into ~128 MB files.

With a second table argument, that table is compacted first, untimed (a warm process)."""
import json
import resource
import sys
import time

from deltalake import DeltaTable

if len(sys.argv) > 2:
    DeltaTable(sys.argv[2]).optimize.compact(target_size=128 * 1024 * 1024)
t = DeltaTable(sys.argv[1])
t0 = time.perf_counter()
m = t.optimize.compact(target_size=128 * 1024 * 1024)
ms = (time.perf_counter() - t0) * 1000
t = DeltaTable(sys.argv[1])
print(json.dumps({"ms": round(ms), "numFilesRemoved": m.get("numFilesRemoved"), "numFilesAdded": m.get("numFilesAdded"), "filesAfter": len(t.file_uris()), "peakRssKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
