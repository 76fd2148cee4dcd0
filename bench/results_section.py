"""results_section.py NAME FILE: puts standard input into FILE as the section NAME, between
the lines <!-- NAME --> and <!-- /NAME -->: replaced where it is, appended when missing. Lets
several bench scripts share bench/results/latest.md, each rewriting its own part only."""
import sys

name, path = sys.argv[1], sys.argv[2]
begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
body = sys.stdin.read().rstrip("\n")
try:
    text = open(path, encoding="utf-8").read()
except FileNotFoundError:
    text = ""
block = f"{begin}\n{body}\n{end}"
if begin in text and end in text:
    head, rest = text.split(begin, 1)
    text = head + block + rest.split(end, 1)[1]
else:
    text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
with open(path + ".tmp", "w", encoding="utf-8") as f:
    f.write(text)
import os

os.replace(path + ".tmp", path)
