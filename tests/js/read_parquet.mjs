#!/usr/bin/env node
// read_parquet.mjs - prints a Parquet file's rows as NDJSON, one object per row with the
// columns in file order, every cell normalized as lib/cells.mjs describes (INT64 exact
// digits, DECIMAL "exact string", DOUBLE shortest round-trip, NaN/Infinity as strings,
// DATE "YYYY-MM-DD", TIMESTAMP "YYYY-MM-DDTHH:MM:SS[.ffffff]" plus Z when UTC, null).
//
// Usage: node tests/js/read_parquet.mjs FILE [--reader duckdb|hyparquet|parquet-wasm]
//        (default duckdb). Exit status 1 with a message on stderr when the reader fails.
import { readParquet, READERS } from './lib/readers.mjs';

const args = process.argv.slice(2);
let reader = 'duckdb';
let file = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--reader') reader = args[++i];
  else if (args[i].startsWith('--reader=')) reader = args[i].slice(9);
  else file = args[i];
}
if (!file || !READERS.includes(reader)) {
  console.error(`usage: read_parquet.mjs FILE [--reader ${READERS.join('|')}]`);
  process.exit(2);
}
process.stdout.on('error', (e) => process.exit(e.code === 'EPIPE' ? 0 : 1));
try {
  const { names, rows } = await readParquet(file, reader);
  const keys = names.map((n) => JSON.stringify(n));
  const out = [];
  for (const r of rows) out.push('{' + r.map((cell, i) => `${keys[i]}:${cell}`).join(',') + '}\n');
  process.stdout.write(out.join(''));
} catch (e) {
  console.error(`read_parquet: ${file} (${reader}): ${e.stack || e}`);
  process.exit(1);
}
