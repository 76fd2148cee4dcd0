// cells.mjs - the normalized text of one cell, the same for every reader and for the
// expected values, so a cell is checked by comparing two strings.
//
// Each function returns a JSON fragment:
//   null                       null
//   BOOLEAN                    true / false
//   INT64                      exact digits (a JSON number, never rounded)
//   DECIMAL(p,s)               "exact digits" with s fraction digits ("-0.50")
//   DOUBLE                     shortest round-trip JSON number (JS Number#toString),
//                              -0 as -0, and "NaN" / "Infinity" / "-Infinity" as strings
//   DATE                       "YYYY-MM-DD"
//   TIMESTAMP                  "YYYY-MM-DDTHH:MM:SS[.ffffff]"  (fraction only when not 0)
//   TIMESTAMPTZ                the same with a trailing Z (UTC)
//   STRING                     JSON.stringify of the text

export const NULL = 'null';

export function boolCell(b) {
  return b ? 'true' : 'false';
}

export function intCell(v) {
  return BigInt(v).toString();
}

export function decimalCell(unscaled, scale) {
  let u = BigInt(unscaled);
  const neg = u < 0n;
  if (neg) u = -u;
  let digits = u.toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale);
  }
  return JSON.stringify((neg ? '-' : '') + digits);
}

export function doubleCell(d) {
  if (Number.isNaN(d)) return '"NaN"';
  if (d === Infinity) return '"Infinity"';
  if (d === -Infinity) return '"-Infinity"';
  if (Object.is(d, -0)) return '-0';
  return String(d);
}

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
export function civilFromDays(days) {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return [y, m, d];
}

export function daysFromCivil(y, m, d) {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function pad(n, w) {
  return String(n).padStart(w, '0');
}

function dateText(days) {
  const [y, m, d] = civilFromDays(days);
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

export function dateCell(days) {
  return JSON.stringify(dateText(Number(days)));
}

export function timestampCell(micros, utc) {
  const DAY = 86400000000n;
  let m = BigInt(micros);
  let days = m / DAY;
  let rem = m % DAY;
  if (rem < 0n) {
    rem += DAY;
    days -= 1n;
  }
  const secs = rem / 1000000n;
  const frac = rem % 1000000n;
  let s = `${dateText(Number(days))}T${pad(secs / 3600n, 2)}:${pad((secs / 60n) % 60n, 2)}:${pad(secs % 60n, 2)}`;
  if (frac) s += '.' + pad(frac, 6);
  if (utc) s += 'Z';
  return JSON.stringify(s);
}

export function stringCell(s) {
  return JSON.stringify(s);
}

// Parses "YYYY-MM-DD[ T]HH:MM:SS[.f...][Z|+00|+00:00]" to microseconds since the epoch.
export function parseTimestampText(t) {
  const m = /^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]00(?::?00)?)?$/.exec(t);
  if (!m) throw new Error(`not a timestamp: ${t}`);
  const days = BigInt(daysFromCivil(+m[1], +m[2], +m[3]));
  const frac = BigInt(((m[7] || '') + '000000').slice(0, 6));
  return days * 86400000000n + BigInt(+m[4] * 3600 + +m[5] * 60 + +m[6]) * 1000000n + frac;
}

export function parseDateText(t) {
  const m = /^(\d{4,})-(\d\d)-(\d\d)$/.exec(t);
  if (!m) throw new Error(`not a date: ${t}`);
  return daysFromCivil(+m[1], +m[2], +m[3]);
}

// csvpipe type name ("DECIMAL(9,2)") to {id, precision, scale}.
export function parseTypeName(name) {
  const m = /^DECIMAL\((\d+),(\d+)\)$/.exec(name);
  if (m) return { id: 'DECIMAL', precision: +m[1], scale: +m[2] };
  return { id: name };
}

// The cell of an expected value as pq_random writes it (see tests/conformance/pq_random.c).
export function expectedCell(type, v) {
  if (v === null) return NULL;
  switch (type.id) {
    case 'BOOLEAN': return boolCell(v);
    case 'INT64': return intCell(v);
    case 'DECIMAL': {
      const neg = v.startsWith('-');
      const [ip, fp = ''] = (neg ? v.slice(1) : v).split('.');
      const u = BigInt(ip + fp);
      return decimalCell(neg ? -u : u, type.scale);
    }
    case 'DOUBLE': return doubleCell(Number(v));
    case 'DATE': return dateCell(parseDateText(v));
    case 'TIMESTAMP': return timestampCell(parseTimestampText(v), false);
    case 'TIMESTAMPTZ': return timestampCell(parseTimestampText(v), true);
    default: return stringCell(v);
  }
}
