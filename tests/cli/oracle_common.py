"""oracle_common.py - what the independent oracles (check_load.py, tests/pg/check_pg.py)
share: the words and tokens of docs/design.md's type rules, date and timestamp parsing written
apart from csvpipe's C code, and the ok/not ok reporting."""
import datetime as dt

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
