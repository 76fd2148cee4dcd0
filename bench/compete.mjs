#!/usr/bin/env node
// compete.mjs - the competitors' side of bench/compare.sh: DuckDB and Polars doing the
// work csvpipe does in one run.
//
// Usage: node bench/compete.mjs duckdb THREADS|all TASK CSV OUTBASE [regional]
//        node bench/compete.mjs polars TASK CSV OUTBASE
//        node bench/compete.mjs duckdb-sqlite-probe | duckdb-version | polars-version
//        node bench/compete.mjs count-parquet FILE
// TASK: parquet (OUTBASE.parquet, snappy), ndjson (OUTBASE.ndjson, one object a line),
//       both (the two, each a separate statement / pass over the CSV, as a user would
//       write them), all (both, plus OUTBASE.sqlite for DuckDB when its sqlite extension
//       loads without the network; compare.sh only asks for it then).
// regional: the Windows-1252 ';' decimal-comma dd/mm/yyyy twin; DuckDB reads it with
//       delim ';', decimal_separator ',', dateformat '%d/%m/%Y', timestampformat
//       '%d/%m/%Y %H:%M:%S', encoding 'latin-1' (DuckDB 1.5 without its encodings
//       extension knows utf-8, utf-16 and latin-1 only; gen_sales writes no byte in
//       0x80-0x9F, where Windows-1252 and Latin-1 differ, so the decoding is exact).
// Prints "ROWS MS": the rows read and the milliseconds of the work inside the process
// (without starting Node and loading the library).
// DuckDB: @duckdb/node-api from tests/js (pinned by tests/js/package-lock.json).
// Polars: nodejs-polars from bench/node_modules (pinned by bench/package-lock.json); its
// thread pool is sized by POLARS_MAX_THREADS, which compare.sh sets.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';

const [tool, ...args] = process.argv.slice(2);
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const fail = (m) => {
  console.error(m);
  process.exit(2);
};
const q = (s) => `'${s.replaceAll("'", "''")}'`;

async function duckdb() {
  const require = createRequire(here('../tests/js/package.json'));
  const { DuckDBInstance } = await import(pathToFileURL(require.resolve('@duckdb/node-api')).href);
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  await con.run('SET autoinstall_known_extensions = false');
  const one = async (sql) => String((await con.runAndReadAll(sql)).getRows()[0]?.[0] ?? '?');
  return { con, one };
}

async function polars() {
  const require = createRequire(here('./package.json'));
  return (await import(pathToFileURL(require.resolve('nodejs-polars')).href)).default;
}

const lines = (file) => {
  const b = readFileSync(file);
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
};

switch (tool) {
  case 'duckdb': {
    const [threads, task, csv, out, style] = args;
    if (!['parquet', 'ndjson', 'both', 'all'].includes(task) || !out) fail('usage: see the header');
    const { con, one } = await duckdb();
    if (threads !== 'all') await con.run(`SET threads = ${Number(threads)}`);
    const opts =
      style === 'regional'
        ? `, delim=';', decimal_separator=',', dateformat='%d/%m/%Y', timestampformat='%d/%m/%Y %H:%M:%S', encoding='latin-1'`
        : '';
    const src = `(SELECT * FROM read_csv(${q(csv)}${opts}))`;
    const t0 = performance.now();
    let n = '?';
    if (task !== 'ndjson') n = await one(`COPY ${src} TO ${q(out + '.parquet')} (FORMAT parquet, COMPRESSION snappy)`);
    if (task !== 'parquet') n = await one(`COPY ${src} TO ${q(out + '.ndjson')} (FORMAT json)`);
    if (task === 'all') {
      await con.run('LOAD sqlite');
      await con.run(`ATTACH ${q(out + '.sqlite')} AS lite (TYPE sqlite)`);
      n = await one(`CREATE TABLE lite.sales AS SELECT * FROM read_csv(${q(csv)}${opts})`);
    }
    console.log(`${n} ${(performance.now() - t0).toFixed(1)}`);
    break;
  }
  case 'polars': {
    const [task, csv, out] = args;
    if (!['parquet', 'ndjson', 'both'].includes(task) || !out) fail('usage: see the header');
    const pl = await polars();
    const scan = () => pl.scanCSV(csv, { tryParseDates: true });
    const t0 = performance.now();
    if (task !== 'ndjson') await scan().sinkParquet(out + '.parquet', { compression: 'snappy' }).collect();
    if (task !== 'parquet') await scan().sinkNdJson(out + '.ndjson').collect();
    const ms = performance.now() - t0;
    // rows: counted after the clock stops, from an output
    const n = task === 'ndjson' ? lines(out + '.ndjson') : pl.scanParquet(out + '.parquet').select(pl.len()).collectSync().getColumn('len').get(0);
    console.log(`${n} ${ms.toFixed(1)}`);
    break;
  }
  case 'duckdb-sqlite-probe': {
    const { con } = await duckdb();
    try {
      await con.run('LOAD sqlite');
      console.log('yes');
    } catch (e) {
      console.log(String(e.message).split('\n')[0]);
    }
    break;
  }
  case 'duckdb-version':
    console.log((await (await duckdb()).one('SELECT version()')).replace(/^v/, ''));
    break;
  case 'polars-version': {
    const require = createRequire(here('./package.json'));
    console.log(JSON.parse(readFileSync(require.resolve('nodejs-polars/package.json'))).version);
    break;
  }
  case 'count-parquet':
    console.log(await (await duckdb()).one(`SELECT count(*) FROM read_parquet(${q(args[0])})`));
    break;
  case 'count-lines':
    console.log(lines(args[0]));
    break;
  default:
    fail('usage: see the header');
}
