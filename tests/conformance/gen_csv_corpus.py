#!/usr/bin/env python3
"""Writes the large files of the CSV conformance corpus (tests/conformance/csv_corpus.sh)
at test time instead of keeping them in git. Deterministic: the same name gives the same
bytes. See tests/data/conformance/README.md for what each file exercises.

Usage: gen_csv_corpus.py NAME OUT.csv
  row_groups_and_pages  40,000 rows of every type (run with a small --row-group-size and
                        --page-size: several row groups, several pages per chunk)
  dictionary_fallback   3,000 distinct ~520-byte strings (1.5 MiB, past the 1 MiB
                        dictionary limit) next to a low-cardinality column
  long_strings          12 rows with 100-300 KB strings: multi-byte UTF-8, quotes,
                        delimiters and line breaks inside
  widen_and_restart     30,000 integer rows, then a row whose text and exponent only
                        fit STRING and DOUBLE: past the sniffed sample, so csvpipe widens
                        the columns and restarts the file
  many_columns          300 INT64 columns (Thrift list headers of the long form)
"""
import random
import sys

CITIES = ["São Paulo", "Lisboa", "Zürich", "東京", "Kraków", "Reykjavík", "New York", "Québec"]


def row_groups_and_pages(out, rnd):
    out.write("id,amount,ratio,day,at,at_tz,flag,city,note\n")
    for i in range(40000):
        amount = f"{rnd.randint(-10**9, 10**9) / 100:.2f}"
        ratio = f"{rnd.uniform(-1, 1) * 10 ** rnd.randint(-30, 30):.6e}"
        day = f"{rnd.randint(1900, 2100):04d}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        at = f"{day} {rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}"
        if rnd.random() < 0.5:
            at += f".{rnd.randint(0, 999999):06d}"
        off = rnd.choice(["Z", "+00:00", "+05:30", "-03:00", "+14:00", "-12:00", "+0545"])
        at_tz = f"{at.replace(' ', 'T')}{off}"
        flag = rnd.choice(["true", "false", ""])
        city = rnd.choice(CITIES)
        note = "" if rnd.random() < 0.1 else f"note {rnd.getrandbits(48):x} ünïcödé {i}"
        cells = [str(i - 20000), amount, ratio, day, at, at_tz, flag, city, note]
        if rnd.random() < 0.02:  # some nulls in every column
            cells[rnd.randint(1, 7)] = ""
        out.write(",".join(cells) + "\n")


def dictionary_fallback(out, rnd):
    out.write("n,category,unique_text\n")
    for i in range(3000):
        body = "".join(rnd.choice("abcdefghijklmnopqrstuvwxyzçãé") for _ in range(500))
        out.write(f"{i},{rnd.choice(['alpha', 'beta', 'gamma'])},{i:06d}-{body}\n")


def long_strings(out, rnd):
    out.write("id,short,long_text\n")
    pieces = ["lorem ipsum ", "ação ", "日本語 ", "😀 ", '"quoted" ', "a,b;c ", "line\nbreak "]
    for i in range(12):
        size = rnd.randint(100_000, 300_000)
        parts, n = [], 0
        while n < size:
            p = rnd.choice(pieces)
            parts.append(p)
            n += len(p.encode())
        text = "".join(parts)
        out.write(f'{i},row {i},"{text.replace(chr(34), chr(34) * 2)}"\n')


def widen_and_restart(out, rnd):
    out.write("id,code,amount\n")
    for i in range(30000):
        out.write(f"{i},{rnd.randint(1, 10**6)},{i}.5\n")
    out.write("30000,X-1,1e5\n")


def many_columns(out, rnd):
    out.write(",".join(f"c{i}" for i in range(300)) + "\n")
    for _ in range(3):
        out.write(",".join(str(rnd.randint(-10**12, 10**12)) for _ in range(300)) + "\n")


def main():
    name, path = sys.argv[1], sys.argv[2]
    gen = {"row_groups_and_pages": row_groups_and_pages,
           "dictionary_fallback": dictionary_fallback,
           "long_strings": long_strings,
           "widen_and_restart": widen_and_restart,
           "many_columns": many_columns}[name]
    with open(path, "w", encoding="utf-8", newline="") as out:
        gen(out, random.Random(name))


main()
