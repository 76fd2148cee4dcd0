// hive_query.mjs - runs one SQL query in DuckDB (@duckdb/node-api) and prints each result
// row as a JSON array, values in DuckDB's own text form (exact decimals, ISO dates).
// For the partitioned outputs: read_parquet('DIR/**/*.parquet', hive_partitioning=true).
//
//   node hive_query.mjs 'SELECT ...'
import { duckdb } from './lib/readers.mjs';

const sql = process.argv[2];
if (!sql) {
  console.error('usage: node hive_query.mjs SQL');
  process.exit(2);
}
const con = await duckdb();
const result = await con.runAndReadAll(sql);
for (const row of result.getRows())
  console.log(JSON.stringify(row.map((v) => (v === null ? null : String(v)))));
