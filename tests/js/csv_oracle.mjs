#!/usr/bin/env node
// csv_oracle.mjs - an independent oracle for csvpipe's Parquet output of one CSV file.
//
// It parses the CSV itself (its own RFC 4180 reader, not csvpipe's), turns every field
// into the value it must have under the column types the test knows the file has (--types,
// never csvpipe's summary, which must agree), and writes the expected cells in
// lib/cells.mjs's normalized form, for tests/js/check_parquet.mjs:
//
//   PREFIX.expected.json   {"codec", "columns": [{"name", "header", "type"}], "expect"}
//                          names and types from --types, headers from the CSV as parsed
//                          here
//   PREFIX.cells.ndjson    one JSON array per data row, one normalized cell per column
//   PREFIX.parquet         a symbolic link to the summary's outputs.parquet
//
// Usage: node csv_oracle.mjs --csv FILE --summary SUMMARY.json --prefix PREFIX
//          --types "name:TYPE name:TYPE ..." [--encoding utf-8|utf-8-bom|windows-1252] [--delimiter C] [--decimal .|,]
//          [--date-order mdy|dmy] [--codec snappy|zstd|gzip|none] [--expect JSON]
//          [--header true|false]
//
// The rules it applies are docs/design.md's, written down here independently:
//   - null: an unquoted field that is empty or one of NULL null NA N/A \N; a quoted empty
//     field in a non-STRING column. A quoted field is never a null token, so "" in a STRING
//     column is the empty string and "NULL" is the text NULL.
//   - short rows are padded with nulls.
//   - BOOLEAN words true/false t/f yes/no y/n sim/não in any case.
//   - INT64 [+-]digits; DECIMAL(p,s) exact, with "." or (decimal comma) ","; with a
//     decimal comma, "." groups thousands in both (1.234 is 1234); DOUBLE by correctly
//     rounded conversion, inf/infinity/nan in any case.
//   - money, in all three: spaces around; thousands in groups of three by the separator
//     that is not the decimal one, a space, or (with ".") an apostrophe, one kind per
//     number; the file's currency symbol (summary.detected.currency) before or after, a
//     symbol of letters apart by a space; a sign before, or after a leading symbol;
//     parentheses for a negative amount with a symbol, groups or a fraction.
//   - the lines the summary says were skipped above the header (detected.skipped_lines,
//     any line end), the header's extra rows (detected.header_rows) and rows that repeat
//     the header are not data. With --header false (the test knows the file has none)
//     every row is data, the source names are empty and csvpipe must have said so.
//   - DATE YYYY-MM-DD, or DD/MM/YYYY (dmy) / MM/DD/YYYY (mdy) with - / or . separators;
//     TIMESTAMP adds [T ]HH:MM[:SS[.f{1,6}]]; TIMESTAMPTZ adds Z, UTC or +-HH[[:]MM] and
//     is normalized to UTC.
// Any field that does not fit its column's type is an error (exit 1): csvpipe inferred a
// type that the data does not have.
import { readFileSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  NULL, boolCell, intCell, decimalCell, doubleCell, dateCell, timestampCell, stringCell,
  daysFromCivil, parseTypeName,
} from './lib/cells.mjs';

const opt = {
  encoding: 'utf-8', delimiter: ',', decimal: '.', 'date-order': 'mdy', codec: 'snappy',
  header: 'true',
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  if (!argv[i].startsWith('--') || i + 1 >= argv.length) {
    console.error(`csv_oracle: bad argument ${argv[i]}`);
    process.exit(2);
  }
  opt[argv[i].slice(2)] = argv[i + 1];
}
for (const need of ['csv', 'summary', 'prefix', 'types']) {
  if (!opt[need]) {
    console.error(`csv_oracle: --${need} is required`);
    process.exit(2);
  }
}

// RFC 4180 records: [{text, quoted}] per field. CRLF or LF end a record; a final line
// ending is optional. A quote inside an unquoted field is an error (the corpus has none).
function parseCsv(text, delim) {
  const records = [];
  let fields = [];
  let i = 0;
  const n = text.length;
  if (i >= n) return records;
  for (;;) {
    let value = '';
    let quoted = false;
    if (text[i] === '"') {
      quoted = true;
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quoted field');
        value += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') {
          value += '"';
          i++;
        } else {
          break;
        }
      }
      if (i < n && text[i] !== delim && text[i] !== '\n' && text[i] !== '\r') {
        throw new Error(`text after a closing quote at offset ${i}`);
      }
    } else {
      let j = i;
      while (j < n && text[j] !== delim && text[j] !== '\n' && text[j] !== '\r') j++;
      value = text.slice(i, j);
      if (value.includes('"')) throw new Error(`quote inside an unquoted field: ${value}`);
      i = j;
    }
    fields.push({ text: value, quoted });
    if (i < n && text[i] === delim) {
      i++;
      continue;
    }
    records.push(fields);
    fields = [];
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    if (i >= n) break;
  }
  return records;
}

const NULL_TOKENS = new Set(['', 'NULL', 'null', 'NA', 'N/A', '\\N']);
const TRUE_WORDS = new Set(['true', 't', 'yes', 'y', 'sim']);
const FALSE_WORDS = new Set(['false', 'f', 'no', 'n', 'não']);

class Misfit extends Error {}

const SPACE = '[ \\t\\u00a0\\u202f\\u2009]';
// A number written as money ("R$ 1.234,56", "($1,234.50)", " 25,649 ") in the plain form
// the rules below read: [+-]digits[SEP digits][exponent] with SEP the decimal separator.
function plainNumber(raw) {
  const cur = summary.detected?.currency ?? null;
  const trim = (t) => t.replace(new RegExp(`^${SPACE}+|${SPACE}+$`, 'g'), '');
  let s = trim(raw);
  let paren = false;
  let sign = '';
  let symbol = false;
  if (s.length >= 2 && s.startsWith('(') && s.endsWith(')')) {
    paren = true;
    s = trim(s.slice(1, -1));
  }
  if (s[0] === '-' || s[0] === '+') {
    sign = s[0];
    s = trim(s.slice(1));
  }
  if (cur) {
    const letters = /^[A-Za-z]/.test(cur) || /[A-Za-z]$/.test(cur);
    const after = s.slice(cur.length);
    const before = s.slice(0, s.length - cur.length);
    if (s.startsWith(cur) && (!/[A-Za-z]$/.test(cur) || new RegExp(`^${SPACE}`).test(after))) {
      symbol = true;
      s = trim(after);
      if (!sign && (s[0] === '-' || s[0] === '+')) {
        sign = s[0];
        s = s.slice(1);
      }
    } else if (s.endsWith(cur) && (!letters || new RegExp(`${SPACE}$`).test(before))) {
      symbol = true;
      s = trim(before);
    }
  }
  if (paren && sign) throw new Misfit('a sign inside parentheses');
  const dsep = opt.decimal;
  const group = dsep === ',' ? `[.]|${SPACE}` : `[,']|${SPACE}`;
  const m = new RegExp(`^(?:([1-9]\\d{0,2})((${group})\\d{3}(?:\\3\\d{3})*)|(\\d*))(?:[${dsep}](\\d+))?([eE][+-]?\\d+)?$`).exec(s);
  if (!m || s === '') throw new Misfit('not a number');
  const grouped = m[1] !== undefined;
  const intPart = grouped ? m[1] + m[2].replace(/\D/g, '') : m[4];
  if (!grouped && intPart === '' && m[5] === undefined) throw new Misfit('not a number');
  if (m[6] !== undefined && (paren || symbol || grouped)) throw new Misfit('an exponent on money');
  if (paren && !(symbol || grouped || m[5] !== undefined)) throw new Misfit('parentheses around a plain integer');
  if (!paren && !symbol && !grouped && s === raw) return raw;
  const negative = paren || sign === '-';
  return `${negative ? '-' : ''}${intPart || '0'}${m[5] !== undefined ? dsep + m[5] : ''}${m[6] ?? ''}`;
}

function exactDecimal(text, scale) {
  const raw = plainNumber(text);
  const dsep = opt.decimal;
  const re = dsep === ','
    ? /^([+-]?)((?:[1-9]\d{0,2}(?:\.\d{3})+)|\d+)(?:,(\d+))?$/
    : /^([+-]?)(\d+)(?:\.(\d+))?$/;
  const m = re.exec(raw);
  if (!m) throw new Misfit('not a decimal number');
  const ip = m[2].replaceAll('.', '');
  if (ip.length > 1 && ip[0] === '0' && m[2].length > 1) throw new Misfit('leading zero');
  const fp = m[3] ?? '';
  if (fp.length > scale) throw new Misfit(`more than ${scale} fraction digits`);
  const unscaled = BigInt(ip + fp.padEnd(scale, '0'));
  return m[1] === '-' ? -unscaled : unscaled;
}

function parseDouble(text) {
  const t = text.toLowerCase().replace(/^\+/, '');
  if (t === 'nan' || t === '-nan') return NaN;
  if (t === 'inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  let s = plainNumber(text);
  if (opt.decimal === ',') {
    if (!/^[+-]?(?:[1-9]\d{0,2}(?:\.\d{3})+|\d+)(?:,\d+)?(?:[eE][+-]?\d+)?$/.test(s)) throw new Misfit('not a number');
    s = s.replaceAll('.', '').replace(',', '.');
  } else if (!/^[+-]?(?:\d+(?:\.\d+)?)(?:[eE][+-]?\d+)?$/.test(s)) {
    throw new Misfit('not a number');
  }
  return Number(s); // ECMAScript's string-to-number rounds correctly
}

const pad2 = '(\\d{1,2})';
function parseDateMicros(raw, withTime) {
  const order = opt['date-order'];
  let m = /^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(.*)$/.exec(raw);
  let y;
  let mo;
  let d;
  let rest;
  if (m) {
    [y, mo, d, rest] = [+m[1], +m[3], +m[4], m[5]];
  } else {
    m = new RegExp(`^${pad2}([-/.])${pad2}\\2(\\d{4})(.*)$`).exec(raw);
    if (!m) throw new Misfit('not a date');
    y = +m[4];
    [d, mo] = order === 'dmy' ? [+m[1], +m[3]] : [+m[3], +m[1]];
    rest = m[5];
  }
  const mdays = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1]) throw new Misfit('no such day');
  const days = daysFromCivil(y, mo, d);
  if (!withTime) {
    if (rest !== '') throw new Misfit('text after the date');
    return { days, micros: BigInt(days) * 86400000000n, offset: null };
  }
  let micros = BigInt(days) * 86400000000n;
  let offset = null;
  if (rest !== '') {
    const t = /^[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6}))?)?(?: ?(Z|z|UTC|utc|[+-]\d{2}(?::?\d{2})?))?$/.exec(rest);
    if (!t) throw new Misfit('not a time of day');
    const [h, mi, s] = [+t[1], +t[2], +(t[3] ?? 0)];
    if (h > 23 || mi > 59 || s > 59) throw new Misfit('no such time');
    micros += BigInt((h * 3600 + mi * 60 + s) * 1000000) + BigInt((t[4] ?? '').padEnd(6, '0') || 0);
    if (t[5] !== undefined) {
      const o = /^([+-])(\d{2}):?(\d{2})?$/.exec(t[5]);
      offset = 0;
      if (o) {
        const [oh, om] = [+o[2], +(o[3] ?? 0)];
        if (oh > 18 || om > 59) throw new Misfit('no such offset');
        offset = (o[1] === '-' ? -1 : 1) * (oh * 3600 + om * 60);
      }
    }
  }
  return { days, micros, offset };
}

// The normalized cell of one field under type t.
function cell(t, field) {
  const raw = field.text;
  if (t.id === 'STRING') return field.quoted || !NULL_TOKENS.has(raw) ? stringCell(raw) : NULL;
  if (field.quoted ? raw === '' : NULL_TOKENS.has(raw)) return NULL;
  switch (t.id) {
    case 'BOOLEAN': {
      const w = raw.toLowerCase();
      if (TRUE_WORDS.has(w)) return boolCell(true);
      if (FALSE_WORDS.has(w)) return boolCell(false);
      throw new Misfit('not a boolean word');
    }
    case 'INT64': {
      const plain = plainNumber(raw);
      const digits = opt.decimal === ',' && /^[+-]?[1-9]\d{0,2}(?:\.\d{3})+$/.test(plain) ? plain.replaceAll('.', '') : plain;
      if (!/^[+-]?\d+$/.test(digits) || /^[+-]?0\d/.test(digits)) throw new Misfit('not an integer');
      const v = BigInt(digits);
      if (v > 9223372036854775807n || v < -9223372036854775808n) throw new Misfit('beyond INT64');
      return intCell(v);
    }
    case 'DECIMAL': {
      const v = exactDecimal(raw, t.scale);
      if ((v < 0n ? -v : v) >= 10n ** BigInt(t.precision)) throw new Misfit(`beyond precision ${t.precision}`);
      return decimalCell(v, t.scale);
    }
    case 'DOUBLE': return doubleCell(parseDouble(raw));
    case 'DATE': return dateCell(parseDateMicros(raw, false).days);
    case 'TIMESTAMP': {
      const v = parseDateMicros(raw, true);
      if (v.offset !== null) throw new Misfit('an offset in a TIMESTAMP column');
      return timestampCell(v.micros, false);
    }
    case 'TIMESTAMPTZ': {
      const v = parseDateMicros(raw, true);
      if (v.offset === null) throw new Misfit('no offset in a TIMESTAMPTZ column');
      return timestampCell(v.micros - BigInt(v.offset) * 1000000n, true);
    }
    default: throw new Error(`oracle: no rule for type ${t.id}`);
  }
}

const summary = JSON.parse(readFileSync(opt.summary, 'utf8').split('\n')[0]);
// The columns the test expects, "name:TYPE" each (a TYPE such as DECIMAL(18,2) has no
// spaces); csvpipe's schema must be the same, but the cells follow these.
const schema = opt.types.trim().split(/\s+/).map((nt) => {
  const at = nt.indexOf(':');
  return { name: nt.slice(0, at), type: nt.slice(at + 1) };
});
const types = schema.map((c) => parseTypeName(c.type));
const found = summary.schema.map((c) => `${c.name}:${c.type}`).join(' ');
if (found !== schema.map((c) => `${c.name}:${c.type}`).join(' ')) {
  console.error(`csv_oracle: ${opt.csv}: csvpipe's schema is ${found}, expected ${opt.types}`);
  process.exit(1);
}
// Windows-1252 by its own table (Node's TextDecoder may treat it as ISO-8859-1): bytes
// 0x80-0x9F are the letters and signs below; the five undefined ones are an error.
const CP1252_80 = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';
function decode(bytes, encoding) {
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  if (encoding === 'utf-8' && bom) throw new Error('oracle: a byte order mark, but utf-8 was expected');
  if (encoding === 'utf-8-bom' && !bom) throw new Error('oracle: no byte order mark');
  if (encoding === 'utf-8' || encoding === 'utf-8-bom') {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(bom ? 3 : 0));
  }
  if (encoding !== 'windows-1252') throw new Error(`oracle: no decoder for ${encoding}`);
  let out = '';
  for (const b of bytes) {
    if ([0x81, 0x8d, 0x8f, 0x90, 0x9d].includes(b)) throw new Error(`oracle: byte 0x${b.toString(16)} is undefined in Windows-1252`);
    out += b >= 0x80 && b < 0xa0 ? CP1252_80[b - 0x80] : String.fromCharCode(b);
  }
  return out;
}
const bytes = readFileSync(opt.csv);
let text = decode(bytes, opt.encoding);
for (let k = 0; k < (summary.detected?.skipped_lines ?? 0); k++) {
  const m = /\r\n|\r|\n/.exec(text);
  text = m ? text.slice(m.index + m[0].length) : '';
}
const parsed = parseCsv(text, opt.delimiter);
const hasHeader = opt.header !== 'false';
const problems = [];
if ((summary.detected?.header ?? true) !== hasHeader) {
  problems.push(`csvpipe says header ${summary.detected?.header}, the file has ${hasHeader ? 'one' : 'none'}`);
}
const headerRows = Math.max(summary.detected?.header_rows ?? 1, 1);
const records = parsed.length && hasHeader ? [parsed[0]] : [schema.map(() => ({ text: '', quoted: false }))];
for (const rec of hasHeader ? parsed.slice(headerRows) : parsed) {
  if (!hasHeader || JSON.stringify(rec.map((f) => f.text)) !== JSON.stringify(parsed[0].map((f) => f.text))) records.push(rec);
}
if (records.length === 0) problems.push('the CSV has no header');
const header = (records[0] ?? []).map((f) => f.text);
if (header.length !== schema.length) {
  problems.push(`the header has ${header.length} fields, the schema ${schema.length} columns`);
}
if (JSON.stringify(header) !== JSON.stringify(summary.schema.map((c) => c.source_name))) {
  problems.push(`source names ${JSON.stringify(summary.schema.map((c) => c.source_name))} differ from the header ${JSON.stringify(header)}`);
}
const lines = [];
for (let r = 1; r < records.length && problems.length < 20; r++) {
  const rec = records[r];
  if (rec.length > schema.length) problems.push(`row ${r}: ${rec.length} fields`);
  const cells = [];
  for (let c = 0; c < schema.length; c++) {
    const f = rec[c] ?? { text: '', quoted: false };
    try {
      cells.push(cell(types[c], f));
    } catch (e) {
      if (!(e instanceof Misfit)) throw e;
      problems.push(`row ${r} column ${schema[c].name} (${schema[c].type}): ${JSON.stringify(f.text.slice(0, 60))} ${e.message}`);
    }
  }
  lines.push(`[${cells.join(',')}]\n`);
}
if (summary.rows !== records.length - 1) problems.push(`summary says ${summary.rows} rows, the CSV has ${records.length - 1}`);
if (problems.length) {
  for (const p of problems) console.error(`csv_oracle: ${opt.csv}: ${p}`);
  process.exit(1);
}
const expected = {
  codec: opt.codec,
  columns: schema.map((c, i) => ({ name: c.name, header: header[i], type: c.type })),
  expect: opt.expect ? JSON.parse(opt.expect) : {},
};
writeFileSync(`${opt.prefix}.expected.json`, JSON.stringify(expected));
writeFileSync(`${opt.prefix}.cells.ndjson`, lines.join(''));
rmSync(`${opt.prefix}.parquet`, { force: true });
symlinkSync(resolve(summary.outputs.parquet), `${opt.prefix}.parquet`);
