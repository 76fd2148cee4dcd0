#!/usr/bin/env node
// parquet_codecs.mjs - prints the compression codecs of a Parquet file's column chunks, as
// hyparquet reads its footer: the distinct names, sorted, space-separated ("ZSTD").
//
// Usage: node tests/js/parquet_codecs.mjs FILE
import { readFile } from 'node:fs/promises';
import { parquetMetadata } from 'hyparquet';

const buf = await readFile(process.argv[2]);
const meta = parquetMetadata(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
const codecs = new Set();
for (const rg of meta.row_groups) for (const c of rg.columns) codecs.add(c.meta_data.codec);
console.log([...codecs].sort().join(' '));
