"""PySpark 4 Structured Streaming baseline for `npm run bench` (streaming section): a Python
Data Source shaped like Spark's rate source (100 rows per batch) written to Delta with a
checkpoint, default trigger (batches back to back). Prints one JSON line: per-batch
triggerExecution durations (ms) from Spark's own progress, and peak RSS of the Python driver.

    python child_spark_stream.py <workdir> <batches> <rows_per_batch> <ivy_cache>
"""

import json
import os
import resource
import sys
import time

from pyspark.sql.datasource import DataSource, DataSourceStreamReader, InputPartition


class RateLikeReader(DataSourceStreamReader):
    def __init__(self, rows_per_batch):
        self.rows_per_batch = rows_per_batch

    def initialOffset(self):
        return {"value": 0}

    def latestOffset(self, *args):
        # 4.0/4.1 call latestOffset() without a start; keep the position here as Spark's own
        # tutorial does (the data are a pure function of the offsets, so replay is exact).
        self.current = getattr(self, "current", 0) + self.rows_per_batch
        return {"value": self.current}

    def partitions(self, start, end):
        return [InputPartition((start["value"], end["value"]))]

    def read(self, partition):
        import datetime

        lo, hi = partition.value
        for v in range(lo, hi):
            yield (datetime.datetime.fromtimestamp(v / 1000, tz=datetime.timezone.utc), v)

    def commit(self, end):
        pass


class RateLikeSource(DataSource):
    @classmethod
    def name(cls):
        return "ratelike"

    def schema(self):
        return "timestamp TIMESTAMP, value BIGINT"

    def streamReader(self, schema):
        return RateLikeReader(int(self.options.get("rowsPerBatch", "100")))


def main():
    work, batches, rows, ivy = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    # Python workers must run this interpreter (the venv with pyarrow), not the system python3.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    from delta import configure_spark_with_delta_pip
    from pyspark.sql import SparkSession

    t0 = time.time()
    b = (
        SparkSession.builder.master("local[2]")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.jars.ivy", ivy)
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    spark = configure_spark_with_delta_pip(b).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.dataSource.register(RateLikeSource)
    q = (
        spark.readStream.format("ratelike").option("rowsPerBatch", str(rows)).load()
        .writeStream.format("delta").option("checkpointLocation", os.path.join(work, "cp"))
        .start(os.path.join(work, "table"))
    )
    first_commit = None
    durations = []
    seen = -1
    while len(durations) < batches:
        for p in q.recentProgress:
            if p["batchId"] > seen and p["numInputRows"] > 0:
                seen = p["batchId"]
                durations.append(p["durationMs"]["triggerExecution"])
                if first_commit is None:
                    first_commit = time.time() - t0
        if q.exception():
            raise RuntimeError(str(q.exception()))
        time.sleep(0.05)
    q.stop()
    rows_in_table = spark.read.format("delta").load(os.path.join(work, "table")).count()
    spark.stop()
    print(json.dumps({
        "spark": __import__("pyspark").__version__,
        "durations": durations[:batches],
        "startToFirstBatchS": first_commit,
        "rowsInTable": rows_in_table,
        "peakRssKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }))


if __name__ == "__main__":
    main()
