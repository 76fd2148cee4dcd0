// readers.mjs - reads a Parquet file with one of three independent readers and returns
// its rows as normalized cells (see cells.mjs), using only what that reader itself
// understands of the file's types.
//
//   readParquet(path, reader) -> { names: [column names], types: [reader's type names],
//                                  rows: [[cell, ...], ...] }
//   reader: 'duckdb' (@duckdb/node-api), 'hyparquet', 'parquet-wasm' (+ apache-arrow)
import { readFile } from 'node:fs/promises';
import {
  NULL, boolCell, intCell, decimalCell, doubleCell, dateCell, timestampCell, stringCell,
} from './cells.mjs';

export const READERS = ['duckdb', 'hyparquet', 'parquet-wasm'];

let duckdbConnection = null;
export async function duckdb() {
  if (!duckdbConnection) {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    duckdbConnection = await instance.connect();
  }
  return duckdbConnection;
}

export function sqlString(s) {
  return `'${s.replaceAll("'", "''")}'`;
}

async function readDuckdb(path) {
  const con = await duckdb();
  const result = await con.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(path)})`);
  const names = result.columnNames();
  const types = result.columnTypes().map((t) => t.toString());
  const convs = types.map((t) => {
    if (t === 'BOOLEAN') return boolCell;
    if (t === 'BIGINT') return intCell;
    if (t.startsWith('DECIMAL')) return (v) => decimalCell(v.value, v.scale);
    if (t === 'DOUBLE') return doubleCell;
    if (t === 'DATE') return (v) => dateCell(v.days);
    if (t === 'TIMESTAMP') return (v) => timestampCell(v.micros, false);
    if (t === 'TIMESTAMP WITH TIME ZONE') return (v) => timestampCell(v.micros, true);
    if (t === 'VARCHAR') return stringCell;
    throw new Error(`duckdb: unexpected column type ${t}`);
  });
  const rows = result.getRows().map((r) => r.map((v, i) => (v === null ? NULL : convs[i](v))));
  return { names, types, rows };
}

function decodeTwosComplement(bytes) {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  const bits = BigInt(bytes.length * 8);
  if (bytes.length && bytes[0] & 0x80) v -= 1n << bits;
  return v;
}

async function readHyparquet(path) {
  const { parquetMetadata, parquetRead } = await import('hyparquet');
  // hyparquet decodes SNAPPY itself; ZSTD and GZIP come from its companion package
  const { compressors } = await import('hyparquet-compressors');
  const buf = await readFile(path);
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const metadata = parquetMetadata(file);
  const leaves = metadata.schema.slice(1);
  const names = leaves.map((e) => e.name);
  const types = [];
  // hyparquet turns DECIMAL into a (rounded) Number; read the raw bytes instead, from a
  // copy of the metadata without the decimal annotations, and decode them exactly here.
  const raw = structuredClone(metadata);
  const convs = leaves.map((e, i) => {
    const lt = e.logical_type;
    types.push(lt ? `${e.type}/${lt.type}` : e.type);
    if (e.converted_type === 'DECIMAL' || lt?.type === 'DECIMAL') {
      delete raw.schema[i + 1].converted_type;
      delete raw.schema[i + 1].logical_type;
      const scale = lt?.scale ?? e.scale ?? 0;
      return (v) => decimalCell(decodeTwosComplement(v), scale);
    }
    if (e.type === 'BOOLEAN') return boolCell;
    if (lt?.type === 'TIMESTAMP' || e.converted_type === 'TIMESTAMP_MICROS') {
      if (lt && lt.unit !== 'MICROS') throw new Error(`hyparquet: unit ${lt.unit}`);
      const utc = lt ? lt.isAdjustedToUTC : true;
      return (v) => timestampCell(v.micros, utc);
    }
    if (lt?.type === 'DATE' || e.converted_type === 'DATE') return (v) => dateCell(v.days);
    if (e.type === 'INT64') return intCell;
    if (e.type === 'DOUBLE') return doubleCell;
    if (e.type === 'BYTE_ARRAY') return stringCell;
    throw new Error(`hyparquet: unexpected column ${JSON.stringify(e)}`);
  });
  let rows = [];
  await parquetRead({
    file,
    metadata: raw,
    rowFormat: 'array',
    compressors: { ZSTD: compressors.ZSTD, GZIP: compressors.GZIP },
    utf8: true,
    parsers: {
      timestampFromMicroseconds: (micros) => ({ micros: BigInt(micros) }),
      dateFromDays: (days) => ({ days }),
    },
    onComplete: (data) => { rows = data; },
  });
  rows = rows.map((r) => r.map((v, i) => (v === null || v === undefined ? NULL : convs[i](v))));
  return { names, types, rows };
}

async function readParquetWasm(path) {
  const wasm = await import('parquet-wasm');
  const arrow = await import('apache-arrow');
  const bytes = new Uint8Array(await readFile(path));
  const wasmTable = wasm.readParquet(bytes);
  const table = arrow.tableFromIPC(wasmTable.intoIPCStream()); // consumes wasmTable
  const fields = table.schema.fields;
  const names = fields.map((f) => f.name);
  const types = fields.map((f) => String(f.type));
  const T = arrow.Type;
  const nrows = table.numRows;
  const rows = Array.from({ length: nrows }, () => new Array(fields.length));
  fields.forEach((field, c) => {
    const t = field.type;
    let r = 0;
    for (const batch of table.batches) {
      const vec = batch.getChildAt(c);
      const data = vec.data[0];
      for (let j = 0; j < vec.length; j++, r++) {
        if (!vec.isValid(j)) {
          rows[r][c] = NULL;
          continue;
        }
        const k = data.offset + j;
        switch (t.typeId) {
          case T.Bool: rows[r][c] = boolCell(vec.get(j)); break;
          case T.Int: rows[r][c] = intCell(data.values[k]); break;
          case T.Float: rows[r][c] = doubleCell(data.values[k]); break;
          case T.Utf8: case T.LargeUtf8: rows[r][c] = stringCell(vec.get(j)); break;
          case T.Date: rows[r][c] = dateCell(data.values[k]); break;
          case T.Timestamp: {
            if (t.unit !== arrow.TimeUnit.MICROSECOND) throw new Error(`parquet-wasm: unit ${t.unit}`);
            let v;
            if (data.values instanceof BigInt64Array) v = data.values[k];
            else v = (BigInt(data.values[2 * k + 1]) << 32n) | BigInt(data.values[2 * k] >>> 0);
            rows[r][c] = timestampCell(BigInt.asIntN(64, v), t.timezone != null);
            break;
          }
          case T.Decimal: {
            const w = data.values; // Uint32Array, 4 words per 128-bit value, little-endian
            let v = 0n;
            for (let q = 3; q >= 0; q--) v = (v << 32n) | BigInt(w[4 * k + q] >>> 0);
            rows[r][c] = decimalCell(BigInt.asIntN(128, v), t.scale);
            break;
          }
          default: throw new Error(`parquet-wasm: unexpected type ${String(t)}`);
        }
      }
    }
  });
  return { names, types, rows };
}

export async function readParquet(path, reader) {
  switch (reader) {
    case 'duckdb': return readDuckdb(path);
    case 'hyparquet': return readHyparquet(path);
    case 'parquet-wasm': return readParquetWasm(path);
    default: throw new Error(`unknown reader ${reader}; one of ${READERS.join(', ')}`);
  }
}
