#!/usr/bin/env node
// duckdb_copy.mjs - DuckDB's side of bench/parquet_vs_duckdb.sh.
//
// Usage: node bench/duckdb_copy.mjs copy THREADS|all CSV OUT.parquet
//          COPY (SELECT * FROM read_csv(CSV)) TO OUT (FORMAT parquet, COMPRESSION snappy)
//          with SET threads = THREADS (or DuckDB's default, every core); prints the rows
//          and the milliseconds the COPY statement took inside the process
//        node bench/duckdb_copy.mjs baseline THREADS|all
//          starts Node and DuckDB and runs SELECT 1: the fixed cost inside the numbers above
//        node bench/duckdb_copy.mjs count FILE.parquet
//          prints the rows of a Parquet file
//        node bench/duckdb_copy.mjs version
// DuckDB is @duckdb/node-api from tests/js/node_modules, the version pinned by
// tests/js/package-lock.json for the conformance tests, so the benchmark measures the same
// DuckDB the tests use (run scripts/node-deps.sh tests/js first).
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [mode, ...args] = process.argv.slice(2);
const usage = () => {
  console.error('usage: duckdb_copy.mjs copy THREADS|all CSV OUT | baseline THREADS|all | count FILE | version');
  process.exit(2);
};
if (!['copy', 'baseline', 'count', 'version'].includes(mode)) usage();
if (mode === 'copy' && args.length !== 3) usage();
const require = createRequire(fileURLToPath(new URL('../tests/js/package.json', import.meta.url)));
const { DuckDBInstance } = await import(pathToFileURL(require.resolve('@duckdb/node-api')).href);
const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
const q = (s) => `'${s.replaceAll("'", "''")}'`;
const one = async (sql) => String((await con.runAndReadAll(sql)).getRows()[0]?.[0] ?? '?');
if ((mode === 'copy' || mode === 'baseline') && args[0] !== 'all') {
  await con.run(`SET threads = ${Number(args[0])}`);
}
switch (mode) {
  case 'copy': {
    const t0 = performance.now();
    const n = await one(`COPY (SELECT * FROM read_csv(${q(args[1])})) TO ${q(args[2])} (FORMAT parquet, COMPRESSION snappy)`);
    console.log(`${n} ${(performance.now() - t0).toFixed(1)}`);
    break;
  }
  case 'baseline':
    console.log(await one('SELECT 1'));
    break;
  case 'count':
    console.log(await one(`SELECT count(*) FROM read_parquet(${q(args[0])})`));
    break;
  default:
    console.log(await one('SELECT version()'));
}
