#!/usr/bin/env node
// check_parquet.mjs - proves Parquet files written by tests/conformance/pq_random against
// independent readers.
//
// Usage: node tests/js/check_parquet.mjs [--readers duckdb,hyparquet,parquet-wasm] PREFIX...
// For each PREFIX it reads PREFIX.expected.json and PREFIX.parquet. The expected rows are
// either PREFIX.expected.json's "rows" (values as pq_random writes them) or, when it has
// none, PREFIX.cells.ndjson: one JSON array per row of cells already in lib/cells.mjs's
// normalized form (written by an oracle such as csv_oracle.mjs; INT64 cells are exact
// digits, so the lines are split into cells here, never parsed as doubles).
// It checks:
//   1. every reader returns the expected column names, row count and every cell
//      (normalized by lib/cells.mjs);
//   2. DuckDB's parquet_schema(): physical type, FIXED_LEN_BYTE_ARRAY length, OPTIONAL,
//      converted type, logical type, scale/precision and DuckDB's type for every column;
//   3. DuckDB's parquet_metadata(): per row group and column chunk, null count and exact
//      min/max (recomputed here from the expected rows in that row group's range, in the
//      type's sort order, NaN excluded, zero bounds as -0.0 / +0.0), no bounds when there
//      is no non-null non-NaN value, the deprecated min/max only for signed-order types;
//   4. the key-value metadata (csvpipe.headers, csvpipe.schema) and created_by;
//   5. the pages of every column chunk, walked with hyparquet's page-header decoder: they
//      fill the chunk exactly, a dictionary page comes first and only where
//      dictionary_page_offset says, data pages hold num_values values, and the chunk's
//      encodings and encoding_stats match the pages found. PREFIX.expected.json's optional
//      "expect" asks for a file structure, so that a corpus file meant to exercise it
//      fails when it no longer does:
//        min_row_groups N       at least N row groups
//        min_data_pages {c: N}  column c has a chunk with at least N data pages
//        dictionary_columns []  every chunk: a dictionary page, RLE_DICTIONARY data pages
//        fallback_columns []    some chunk: a dictionary page, then RLE_DICTIONARY and
//                               PLAIN data pages (the dictionary passed its size limit)
//        plain_columns []       no dictionary page, PLAIN data pages only
// Prints one line per file; exits 1 when anything differs.
import { readFile } from 'node:fs/promises';
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { readParquet, READERS, duckdb, sqlString } from './lib/readers.mjs';
import {
  expectedCell, parseTypeName, parseTimestampText, parseDateText, daysFromCivil,
} from './lib/cells.mjs';

const args = process.argv.slice(2);
let readers = READERS;
const prefixes = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--readers') readers = args[++i].split(',');
  else prefixes.push(args[i]);
}

const LOGICAL = {
  BOOLEAN: { type: 'BOOLEAN', converted: null, duck: 'BOOLEAN' },
  INT64: { type: 'INT64', converted: 'INT_64', duck: 'BIGINT', logical: /^IntType\(bitWidth=.*isSigned=(1|true)\)$/ },
  DOUBLE: { type: 'DOUBLE', converted: null, duck: 'DOUBLE' },
  DATE: { type: 'INT32', converted: 'DATE', duck: 'DATE', logical: /^DateType\(\)$/ },
  TIMESTAMP: { type: 'INT64', converted: 'TIMESTAMP_MICROS', duck: 'TIMESTAMP', logical: /^TimestampType\(isAdjustedToUTC=(0|false), unit=.*MICROS=MicroSeconds\(\)/ },
  TIMESTAMPTZ: { type: 'INT64', converted: 'TIMESTAMP_MICROS', duck: 'TIMESTAMP WITH TIME ZONE', logical: /^TimestampType\(isAdjustedToUTC=(1|true), unit=.*MICROS=MicroSeconds\(\)/ },
  STRING: { type: 'BYTE_ARRAY', converted: 'UTF8', duck: 'VARCHAR', logical: /^StringType\(\)$/ },
  NULL: { type: 'BYTE_ARRAY', converted: 'UTF8', duck: 'VARCHAR', logical: /^StringType\(\)$/ },
};

function decimalLength(p) {
  for (let n = 1; n <= 16; n++) {
    const digits = ((1n << BigInt(8 * n - 1)) - 1n).toString().length - 1;
    if (digits >= p) return n;
  }
  return 16;
}

const str = (v) => (v === null || v === undefined ? null : String(v));

// Converts a typed expected value and DuckDB's text of a statistic to comparable keys.
function statKey(type, v) {
  switch (type.id) {
    case 'BOOLEAN': return v === true || v === 'true' ? 1n : 0n;
    case 'INT64': return BigInt(v);
    case 'DECIMAL': {
      const neg = v.startsWith('-');
      const [ip, fp = ''] = (neg ? v.slice(1) : v).split('.');
      const u = BigInt(ip + fp.padEnd(type.scale, '0').slice(0, type.scale));
      return neg ? -u : u;
    }
    case 'DATE': return BigInt(parseDateText(v));
    case 'TIMESTAMP': case 'TIMESTAMPTZ': return parseTimestampText(v.replace(/\+00$/, 'Z'));
    default: return v;
  }
}

function cmpKeys(type, a, b) {
  if (type.id === 'STRING' || type.id === 'NULL') {
    return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function expectedStats(type, rows, col, from, to) {
  let nulls = 0;
  let min = null;
  let max = null;
  for (let r = from; r < to; r++) {
    const v = rows[r][col];
    if (v === null) { nulls++; continue; }
    if (type.id === 'DOUBLE') {
      const d = Number(v);
      if (Number.isNaN(d)) continue;
      if (min === null || d < min) min = d;
      if (max === null || d > max) max = d;
      continue;
    }
    const k = statKey(type, v);
    if (min === null || cmpKeys(type, k, min) < 0) min = k;
    if (max === null || cmpKeys(type, k, max) > 0) max = k;
  }
  if (type.id === 'DOUBLE' && min !== null) {
    if (min === 0) min = -0;
    if (max === 0) max = 0;
  }
  return { nulls, min, max };
}

function sameStat(type, expected, got) {
  if (expected === null) return got === null;
  if (got === null) return false;
  if (type.id === 'DOUBLE') return Object.is(expected, Number(got));
  return cmpKeys(type, expected, statKey(type, got)) === 0;
}

// Splits one NDJSON line, a JSON array of normalized cells, into the cells' texts.
function splitCells(line) {
  JSON.parse(line); // well-formed, or throw
  const cells = [];
  let i = line.indexOf('[') + 1;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    if (line[i] === ']') break;
    const start = i;
    if (line[i] === '"') {
      for (i++; line[i] !== '"'; i++) if (line[i] === '\\') i++;
      i++;
    } else {
      while (line[i] !== ',' && line[i] !== ']') i++;
    }
    cells.push(line.slice(start, i).trim());
    while (line[i] === ' ') i++;
    if (line[i] === ',') i++;
  }
  return cells;
}

// A normalized cell back to the value form expectedCell() and expectedStats() take.
function cellValue(type, cell) {
  if (cell === 'null') return null;
  if (type.id === 'INT64') return cell;
  return JSON.parse(cell);
}

async function expectedRows(prefix, expected, types) {
  if (expected.rows) {
    return { values: expected.rows, want: expected.rows.map((r) => r.map((v, i) => expectedCell(types[i], v))) };
  }
  const text = await readFile(`${prefix}.cells.ndjson`, 'utf8');
  const want = text.split('\n').filter((l) => l !== '').map(splitCells);
  const values = want.map((r, n) => r.map((cell, i) => {
    const v = cellValue(types[i], cell);
    if (r.length !== types.length || expectedCell(types[i], v) !== cell) {
      throw new Error(`${prefix}.cells.ndjson line ${n + 1}: ${cell} is not a normalized ${types[i].id} cell`);
    }
    return v;
  }));
  return { values, want };
}

// The pages of one column chunk, walked from its first page with hyparquet's decoder.
function walkPages(buf, md) {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const first = Number(md.dictionary_page_offset ?? md.data_page_offset);
  const end = first + Number(md.total_compressed_size);
  const reader = { view, offset: first };
  const pages = [];
  while (reader.offset < end) {
    const at = reader.offset;
    const h = parquetHeader(reader);
    const dh = h.data_page_header ?? h.dictionary_page_header ?? h.data_page_header_v2;
    pages.push({ at, type: h.type, encoding: dh?.encoding, num_values: dh?.num_values ?? 0 });
    reader.offset += h.compressed_page_size;
  }
  return { pages, end: reader.offset, wantEnd: end, first };
}

function checkPages(buf, rawMeta, names, errors) {
  const perColumn = names.map(() => []);
  rawMeta.row_groups.forEach((rg, g) => rg.columns.forEach((cc, c) => {
    const md = cc.meta_data;
    const where = `pages: row group ${g} column ${names[c]}`;
    let walk;
    try {
      walk = walkPages(buf, md);
    } catch (e) {
      errors.push(`${where}: page headers do not decode: ${e.message}`);
      return;
    }
    const { pages } = walk;
    perColumn[c].push(pages);
    if (walk.end !== walk.wantEnd) errors.push(`${where}: pages end at ${walk.end}, total_compressed_size says ${walk.wantEnd}`);
    const dicts = pages.filter((p) => p.type === 'DICTIONARY_PAGE');
    const data = pages.filter((p) => p.type === 'DATA_PAGE');
    if (data.length + dicts.length !== pages.length) errors.push(`${where}: unexpected page types ${pages.map((p) => p.type)}`);
    if (md.dictionary_page_offset !== undefined) {
      if (dicts.length !== 1 || pages[0].type !== 'DICTIONARY_PAGE') errors.push(`${where}: dictionary_page_offset set but the first page is ${pages[0]?.type}`);
      else if (Number(md.data_page_offset) !== pages[1]?.at) errors.push(`${where}: data_page_offset ${md.data_page_offset}, first data page at ${pages[1]?.at}`);
    } else {
      if (dicts.length) errors.push(`${where}: a dictionary page without dictionary_page_offset`);
      if (Number(md.data_page_offset) !== pages[0]?.at) errors.push(`${where}: data_page_offset ${md.data_page_offset}, first page at ${pages[0]?.at}`);
    }
    if (data.some((p) => p.encoding === 'RLE_DICTIONARY') && !dicts.length) errors.push(`${where}: RLE_DICTIONARY data pages without a dictionary page`);
    const nvalues = data.reduce((a, p) => a + p.num_values, 0);
    if (nvalues !== Number(md.num_values)) errors.push(`${where}: data pages hold ${nvalues} values, num_values says ${md.num_values}`);
    const seen = new Map();
    for (const p of pages) {
      const k = `${p.type}/${p.encoding}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    const stats = new Map((md.encoding_stats ?? []).map((e) => [`${e.page_type}/${e.encoding}`, Number(e.count)]));
    const fmt = (m) => JSON.stringify([...m.entries()].sort());
    if (fmt(seen) !== fmt(stats)) errors.push(`${where}: encoding_stats ${fmt(stats)}, pages ${fmt(seen)}`);
    for (const p of pages) {
      if (!md.encodings.includes(p.encoding)) errors.push(`${where}: encodings ${md.encodings} lack ${p.encoding}`);
    }
  }));
  return perColumn;
}

function checkExpect(expect, names, perColumn, rowGroups, errors) {
  if (!expect) return;
  if (expect.min_row_groups !== undefined && rowGroups < expect.min_row_groups) {
    errors.push(`expect: ${rowGroups} row groups, wanted at least ${expect.min_row_groups}`);
  }
  const col = (name) => {
    const c = names.indexOf(name);
    if (c < 0) errors.push(`expect: no column ${name}`);
    return c < 0 ? [] : perColumn[c];
  };
  const dataPages = (pages) => pages.filter((p) => p.type === 'DATA_PAGE');
  const hasDict = (pages) => pages.some((p) => p.type === 'DICTIONARY_PAGE');
  for (const [name, n] of Object.entries(expect.min_data_pages ?? {})) {
    const most = Math.max(0, ...col(name).map((pages) => dataPages(pages).length));
    if (most < n) errors.push(`expect: column ${name} has at most ${most} data pages per chunk, wanted ${n}`);
  }
  for (const name of expect.dictionary_columns ?? []) {
    const ok = col(name).every((pages) => hasDict(pages) && dataPages(pages).every((p) => p.encoding === 'RLE_DICTIONARY'));
    if (!ok) errors.push(`expect: column ${name} is not dictionary-encoded in every chunk`);
  }
  for (const name of expect.fallback_columns ?? []) {
    const ok = col(name).some((pages) => hasDict(pages)
      && dataPages(pages).some((p) => p.encoding === 'RLE_DICTIONARY')
      && dataPages(pages).some((p) => p.encoding === 'PLAIN'));
    if (!ok) errors.push(`expect: column ${name} has no chunk that falls back from a dictionary to PLAIN`);
  }
  for (const name of expect.plain_columns ?? []) {
    const ok = col(name).every((pages) => !hasDict(pages) && dataPages(pages).every((p) => p.encoding === 'PLAIN'));
    if (!ok) errors.push(`expect: column ${name} is not PLAIN-only`);
  }
}

async function checkOne(prefix) {
  const errors = [];
  const expected = JSON.parse(await readFile(`${prefix}.expected.json`, 'utf8'));
  const path = `${prefix}.parquet`;
  const types = expected.columns.map((c) => parseTypeName(c.type));
  const names = expected.columns.map((c) => c.name);
  const { values, want } = await expectedRows(prefix, expected, types);

  for (const reader of readers) {
    let got;
    try {
      got = await readParquet(path, reader);
    } catch (e) {
      errors.push(`${reader}: read failed: ${e.message}`);
      continue;
    }
    if (JSON.stringify(got.names) !== JSON.stringify(names)) {
      errors.push(`${reader}: columns ${JSON.stringify(got.names)}, expected ${JSON.stringify(names)}`);
      continue;
    }
    if (got.rows.length !== want.length) {
      errors.push(`${reader}: ${got.rows.length} rows, expected ${want.length}`);
      continue;
    }
    let bad = 0;
    for (let r = 0; r < want.length && bad < 5; r++) {
      for (let c = 0; c < names.length; c++) {
        if (got.rows[r][c] !== want[r][c]) {
          const g = got.rows[r][c].slice(0, 80);
          const w = want[r][c].slice(0, 80);
          errors.push(`${reader}: row ${r + 1} column ${names[c]} (${expected.columns[c].type} as ${got.types[c]}): got ${g}, expected ${w}`);
          bad++;
        }
      }
    }
  }

  const con = await duckdb();
  const q = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJS();
  const schema = await q(`SELECT * FROM parquet_schema(${sqlString(path)})`);
  if (schema.length !== names.length + 1 || str(schema[0].num_children) !== String(names.length)
      || schema[0].type !== null || schema[0].repetition_type !== null) {
    errors.push(`parquet_schema: bad root ${JSON.stringify(schema[0], (k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
  }
  for (let c = 0; c < names.length && schema.length === names.length + 1; c++) {
    const e = schema[c + 1];
    const t = types[c];
    const what = t.id === 'DECIMAL'
      ? { type: 'FIXED_LEN_BYTE_ARRAY', converted: 'DECIMAL', duck: `DECIMAL(${t.precision},${t.scale})`, logical: new RegExp(`^DecimalType\\(scale=${t.scale}, precision=${t.precision}\\)$`) }
      : LOGICAL[t.id];
    const problems = [];
    if (e.name !== names[c]) problems.push(`name ${e.name}`);
    if (e.type !== what.type) problems.push(`type ${e.type}`);
    if (e.repetition_type !== 'OPTIONAL') problems.push(`repetition ${e.repetition_type}`);
    if (e.converted_type !== what.converted) problems.push(`converted_type ${e.converted_type}`);
    if (e.duckdb_type !== what.duck) problems.push(`duckdb_type ${e.duckdb_type}`);
    if (what.logical ? !what.logical.test(e.logical_type ?? '') : e.logical_type !== null) problems.push(`logical_type ${e.logical_type}`);
    if (t.id === 'DECIMAL') {
      if (str(e.type_length) !== String(decimalLength(t.precision))) problems.push(`type_length ${e.type_length}`);
      if (str(e.scale) !== String(t.scale) || str(e.precision) !== String(t.precision)) problems.push(`scale/precision ${e.scale}/${e.precision}`);
    } else if (e.scale !== null || e.precision !== null || e.type_length !== null) {
      problems.push(`scale/precision/length set: ${e.scale}/${e.precision}/${e.type_length}`);
    }
    if (problems.length) errors.push(`parquet_schema: column ${names[c]} (${expected.columns[c].type}): ${problems.join(', ')}`);
  }

  const meta = await q(`SELECT row_group_id, row_group_num_rows, column_id, path_in_schema, num_values,
      stats_min, stats_max, stats_null_count, stats_min_value, stats_max_value, compression
      FROM parquet_metadata(${sqlString(path)}) ORDER BY row_group_id, column_id`);
  const groups = new Map();
  for (const m of meta) groups.set(Number(m.row_group_id), Number(m.row_group_num_rows));
  let start = 0;
  const starts = new Map();
  for (const [g, n] of [...groups.entries()].sort((a, b) => a[0] - b[0])) {
    starts.set(g, start);
    start += n;
  }
  if (start !== want.length) errors.push(`parquet_metadata: row groups hold ${start} rows, expected ${want.length}`);
  // DuckDB hides infinite DOUBLE bounds; for those, read the raw footer with hyparquet
  const rawBuf = await readFile(path);
  const rawMeta = parquetMetadata(rawBuf.buffer.slice(rawBuf.byteOffset, rawBuf.byteOffset + rawBuf.byteLength));
  const codec = { snappy: 'SNAPPY', zstd: 'ZSTD', gzip: 'GZIP', none: 'UNCOMPRESSED' }[expected.codec];
  for (const m of meta) {
    const c = Number(m.column_id);
    const t = types[c];
    const from = starts.get(Number(m.row_group_id));
    const n = Number(m.row_group_num_rows);
    const s = expectedStats(t, values, c, from, from + n);
    const where = `parquet_metadata: row group ${m.row_group_id} column ${names[c]} (${expected.columns[c].type})`;
    if (m.path_in_schema !== names[c]) errors.push(`${where}: path ${m.path_in_schema}`);
    if (Number(m.num_values) !== n) errors.push(`${where}: num_values ${m.num_values}, expected ${n}`);
    if (m.compression !== codec) errors.push(`${where}: compression ${m.compression}, expected ${codec}`);
    if (str(m.stats_null_count) !== String(s.nulls)) errors.push(`${where}: null_count ${m.stats_null_count}, expected ${s.nulls}`);
    if (t.id === 'DOUBLE') {
      const st = rawMeta.row_groups[Number(m.row_group_id)].columns[c].meta_data.statistics ?? {};
      for (const [b, legacy, raw, rawLegacy] of [['stats_min_value', 'stats_min', 'min_value', 'min'], ['stats_max_value', 'stats_max', 'max_value', 'max']]) {
        if (m[b] === null && Math.abs(st[raw]) === Infinity) {
          m[b] = st[raw];
          if (m[legacy] === null) m[legacy] = st[rawLegacy] ?? null;
        }
      }
    }
    if (!sameStat(t, s.min, m.stats_min_value)) errors.push(`${where}: min_value ${str(m.stats_min_value)?.slice(0, 60)}, expected ${String(s.min).slice(0, 60)}`);
    if (!sameStat(t, s.max, m.stats_max_value)) errors.push(`${where}: max_value ${str(m.stats_max_value)?.slice(0, 60)}, expected ${String(s.max).slice(0, 60)}`);
    const legacy = !['DECIMAL', 'STRING', 'NULL'].includes(t.id);
    if (legacy) {
      if (!sameStat(t, s.min, m.stats_min) || !sameStat(t, s.max, m.stats_max)) errors.push(`${where}: deprecated min/max ${m.stats_min}/${m.stats_max}`);
    } else if (m.stats_min !== null || m.stats_max !== null) {
      errors.push(`${where}: deprecated min/max written for an unsigned-order type`);
    }
  }

  const kv = await q(`SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata(${sqlString(path)})`);
  const kvs = Object.fromEntries(kv.map((r) => [r.key, r.value]));
  const headers = expected.columns.map((col) => col.header);
  let kvHeaders = null;
  try {
    kvHeaders = JSON.parse(kvs['csvpipe.headers']);
  } catch {
    // reported below
  }
  if (JSON.stringify(kvHeaders) !== JSON.stringify(headers)) errors.push(`kv csvpipe.headers: ${kvs['csvpipe.headers']}`);
  try {
    const sj = JSON.parse(kvs['csvpipe.schema']);
    const ok = Array.isArray(sj) && sj.length === names.length
      && sj.every((col, i) => col.name === names[i] && col.source_name === headers[i] && col.type === expected.columns[i].type);
    if (!ok) errors.push(`kv csvpipe.schema: ${kvs['csvpipe.schema']}`);
  } catch (e) {
    errors.push(`kv csvpipe.schema: not JSON: ${e.message}`);
  }
  const fm = await q(`SELECT created_by, num_rows, num_row_groups FROM parquet_file_metadata(${sqlString(path)})`);
  if (!/^csvpipe version \d+\.\d+\.\d+ \(build [0-9a-z]+\)$/.test(fm[0].created_by)) errors.push(`created_by ${fm[0].created_by}`);
  if (Number(fm[0].num_rows) !== want.length) errors.push(`num_rows ${fm[0].num_rows}`);
  const perColumn = checkPages(rawBuf, rawMeta, names, errors);
  checkExpect(expected.expect, names, perColumn, Number(fm[0].num_row_groups), errors);
  return { errors, rowGroups: Number(fm[0].num_row_groups) };
}

let failed = 0;
for (const prefix of prefixes) {
  let res;
  try {
    res = await checkOne(prefix);
  } catch (e) {
    res = { errors: [`check failed: ${e.stack || e}`], rowGroups: '?' };
  }
  if (res.errors.length) {
    failed++;
    console.log(`FAIL ${prefix}`);
    for (const e of res.errors.slice(0, 20)) console.log(`  ${e}`);
  } else {
    console.log(`ok   ${prefix} (${res.rowGroups} row groups, ${readers.join(', ')})`);
  }
}
process.exit(failed ? 1 : 0);
