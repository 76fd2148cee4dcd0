#!/usr/bin/env bash
# Every benchmark of bench/ in turn (`make bench`). Usage: bench/run.sh [BUILD/csvpipe]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$(dirname "${1:-$root/build/csvpipe}")" && pwd)
echo "## The main table: csvpipe against DuckDB and Polars (bench/results/latest.md)"
"$root/bench/compare.sh" "$build"
echo
echo "## CSV to Parquet: csvpipe against DuckDB"
"$root/bench/parquet_vs_duckdb.sh" "$build"
echo
echo "## Loading PostgreSQL: csvpipe against psql \\copy"
CSVPIPE="$build/csvpipe" "$root/bench/pg_vs_copy.sh"
echo
echo "## Compressed input: peak memory against the plain file"
"$root/bench/compressed_memory.sh" "$build"
echo
echo "## The item store against Parquet"
"$root/bench/items_vs_parquet.sh" "$build"
echo
echo "## DynamoDB: csvpipe against boto3 batch_writer"
"$root/bench/dynamodb_vs_boto3.sh" "$build"
echo
echo "## Peak memory of csvpipe inspect on 1 GB"
"$root/bench/inspect_memory.sh" "$build"
echo
echo "## S3 to S3 memory and Lambda start-up"
"$root/bench/s3_lambda.sh" "$build"
echo
echo "## The Lambda image: size, build times, cold start"
"$root/bench/image.sh"
