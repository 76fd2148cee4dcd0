"""Shared helpers for the deployment tests: load the CloudFormation template (YAML with the
short intrinsic tags such as !Ref, !Sub, !GetAtt) into plain Python data, and small
reporting helpers that print TAP-like lines the ctest scripts relay.

cfnlint.decode (shipped with cfn-lint) understands the short tags and turns them into the
long JSON form ({"Ref": ...}, {"Fn::GetAtt": [resource, "Attr.Name"]}, ...).
"""
import json
import os
import sys

SOURCE_DIR = os.environ.get(
    "CP_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
TEMPLATE = os.path.join(SOURCE_DIR, "deploy", "cloudformation", "csvpipe.yaml")


def load_template(path=TEMPLATE):
    from cfnlint.decode import decode  # pylint: disable=import-outside-toplevel
    tpl, matches = decode(path)
    if matches or tpl is None:
        raise SystemExit(f"cannot parse {path}: {matches}")
    # Round trip through JSON: plain dicts, lists and strings, no cfn-lint node classes.
    return json.loads(json.dumps(tpl, default=str))


def walk(node):
    """Every dict and list inside node, node included."""
    yield node
    if isinstance(node, dict):
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


def refs(node):
    """Logical ids (or parameters) that node refers to by Ref, GetAtt or ${...} in Sub."""
    import re  # pylint: disable=import-outside-toplevel
    out = set()
    for n in walk(node):
        if not isinstance(n, dict):
            continue
        if "Ref" in n and isinstance(n["Ref"], str):
            out.add(n["Ref"])
        if "Fn::GetAtt" in n:
            ga = n["Fn::GetAtt"]
            out.add(ga[0] if isinstance(ga, list) else ga.split(".")[0])
        if "Fn::Sub" in n:
            sub = n["Fn::Sub"]
            text = sub if isinstance(sub, str) else sub[0]
            local = set() if isinstance(sub, str) else set(sub[1])
            for name in re.findall(r"\$\{([^}!]+)\}", text):
                base = name.split(".")[0]
                if base not in local:
                    out.add(base)
    return out


class Report:
    def __init__(self):
        self.passes = 0
        self.failures = 0

    def check(self, cond, what, detail=""):
        if cond:
            self.passes += 1
            print(f"ok - {what}")
        else:
            self.failures += 1
            print(f"not ok - {what}" + (f": {detail}" if detail else ""))
        return cond

    def done(self):
        print(f"# {self.passes} checks passed, {self.failures} failed")
        sys.exit(1 if self.failures else 0)
