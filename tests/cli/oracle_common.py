"""oracle_common.py - what the independent oracles (check_load.py, tests/pg/check_pg.py)
share: the words and tokens of docs/design.md's type rules, date and timestamp parsing written
apart from csvpipe's C code, and the ok/not ok reporting."""
import csv
import datetime as dt
import re

BOOL_WORDS = {"true": True, "t": True, "yes": True, "y": True, "sim": True,
              "false": False, "f": False, "no": False, "n": False, "não": False}
NULLS = {"", "NULL", "null", "NA", "N/A", "\\N"}


def parse_date(raw, order):
    """yyyy-mm-dd (any of - / .), or dd/mm/yyyy with order "dmy", mm/dd/yyyy otherwise."""
    if len(raw) >= 10 and raw[4] in "-/.":
        return dt.date(int(raw[0:4]), int(raw[5:7]), int(raw[8:10]))
    a, b, y = raw.replace("-", "/").replace(".", "/").split("/")
    d, m = (int(a), int(b)) if order == "dmy" else (int(b), int(a))
    return dt.date(int(y), m, d)


def parse_timestamp(raw, order):
    date_part, time_part = raw.replace("T", " ").split(" ", 1)
    d = parse_date(date_part, order)
    hms = time_part.split(":")
    sec = hms[2] if len(hms) > 2 else "0"
    whole, _, frac = sec.partition(".")
    micro = int((frac + "000000")[:6]) if frac else 0
    return dt.datetime(d.year, d.month, d.day, int(hms[0]), int(hms[1]), int(whole), micro)


class Checks:
    """Prints one "ok - name" / "not ok - name detail" line per check and counts failures."""

    def __init__(self):
        self.failures = 0

    def __call__(self, name, ok, detail=""):
        if ok:
            print(f"ok - {name}")
        else:
            self.failures += 1
            print(f"not ok - {name} {detail}")

    def finish(self):
        print("all checks passed" if self.failures == 0 else f"{self.failures} checks failed")
        return 1 if self.failures else 0


SPACES = " \t\u00a0\u202f\u2009"


def number_text(raw, decimal, currency):
    """A number as people write money ("R$ 1.234,56", "($1,234.50)", " 25,649 ") in the
    plain form Python's int/Decimal/float read ("-1234.56"); the text itself when it has
    none of that. Raises ValueError for what is not a number. The rules are docs/design.md's:
    spaces around; thousands grouped in threes by the separator that is not the decimal
    one, or a space or (with '.') an apostrophe, one kind per number; the file's currency
    symbol before or after; a sign before or after a leading symbol; parentheses for a
    negative amount that has a symbol, grouping or a fraction."""
    s = raw.strip(SPACES)
    negative = paren = False
    if len(s) >= 2 and s[0] == "(" and s[-1] == ")":
        negative = paren = True
        s = s[1:-1].strip(SPACES)
    sign = ""
    if s[:1] in ("-", "+"):
        sign, s = s[0], s[1:].lstrip(SPACES)
    symbol = False
    if currency:
        letters = currency[0].isascii() and currency[0].isalpha()
        if s.startswith(currency) and (not currency[-1].isascii() or not currency[-1].isalpha()
                                       or s[len(currency):][:1] in tuple(SPACES)):
            symbol, s = True, s[len(currency):].lstrip(SPACES)
            if not sign and s[:1] in ("-", "+"):
                sign, s = s[0], s[1:]
        elif s.endswith(currency) and (not letters or s[:-len(currency)][-1:] in tuple(SPACES)):
            symbol, s = True, s[:-len(currency)].rstrip(SPACES)
    if paren and sign:
        raise ValueError(raw)
    negative = negative or sign == "-"
    groups = "[,'" + SPACES + "]" if decimal == "." else "[." + SPACES + "]"
    m = re.fullmatch(r"(?:(\d{1,3}(?:(" + groups + r")\d{3})(?:\2\d{3})*)|(\d*))"
                     r"(?:" + re.escape(decimal) + r"(\d+))?([eE][+-]?\d+)?", s)
    if not m or not s:
        raise ValueError(raw)
    grouped, _, plain, frac, exp = m.groups()
    if grouped and grouped[0] == "0" or (not grouped and not plain and not frac):
        raise ValueError(raw)
    if exp and (paren or symbol or grouped):
        raise ValueError(raw)
    if paren and not (symbol or grouped or frac):
        raise ValueError(raw)
    digits = re.sub(r"\D", "", grouped) if grouped else plain
    return ("-" if negative else "") + (digits or "0") + ("." + frac if frac else "") + (exp or "")


def source_rows(path, encoding, delimiter, detected):
    """The header and data rows of a CSV file read with Python's csv module after the
    lines csvpipe said it skipped (the preamble), the header rows it said it found, and
    rows that repeat the header."""
    with open(path, newline="", encoding=encoding) as f:
        text = f.read()
    skip = detected.get("skipped_lines", 0)
    if skip:
        lines = re.split(r"(\r\n|\r|\n)", text)
        text = "".join(lines[2 * skip:])
    rows = [r for r in csv.reader(text.splitlines(keepends=True), delimiter=delimiter) if r]
    if not detected.get("header", True):
        return None, rows
    header = rows[0]
    data = rows[max(detected.get("header_rows", 1), 1):]
    return header, [r for r in data if r != header]
