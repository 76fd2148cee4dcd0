#!/usr/bin/env python3
"""Checks the dashboards against what really exists.

  check_dashboards.py                 every CloudWatch query (Grafana panels and variables, the
                                      CloudFormation dashboard, the alarms) names a metric
                                      csvpipe emits (src/aws/metrics.h) or AWS publishes
  check_dashboards.py --pg URI        every PostgreSQL query of the Grafana dashboards, with
                                      Grafana's macros and variables expanded as Grafana
                                      does, runs against URI and returns at least one row

Prints one ok/not ok line per check; exits 1 on any failure.
"""
import datetime
import glob
import json
import os
import re
import subprocess
import sys

from cfn import SOURCE_DIR, Report, load_template, walk

DASHBOARDS = sorted(glob.glob(os.path.join(SOURCE_DIR, "deploy", "grafana", "dashboards", "*.json")))
DATASOURCES = os.path.join(SOURCE_DIR, "deploy", "grafana", "provisioning", "datasources", "csvpipe.yaml")
METRICS_H = os.path.join(SOURCE_DIR, "src", "aws", "metrics.h")

# Metrics AWS publishes that the dashboards and alarms may use, by namespace (names as in
# the CloudWatch documentation of each service).
AWS_METRICS = {
    "AWS/Lambda": {"Invocations", "Errors", "Duration", "Throttles", "ConcurrentExecutions"},
    "AWS/SQS": {"ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage", "NumberOfMessagesSent"},
    "AWS/ECS": {"CPUUtilization", "MemoryUtilization"},
    "ECS/ContainerInsights": {"RunningTaskCount", "DesiredTaskCount", "PendingTaskCount"},
    "AWS/ApplicationELB": {"RequestCount", "HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count",
                           "TargetResponseTime", "HealthyHostCount", "UnHealthyHostCount"},
    "AWS/RDS": {"CPUUtilization", "FreeStorageSpace", "DatabaseConnections"},
    "AWS/DynamoDB": {"ThrottledRequests", "WriteThrottleEvents", "ReadThrottleEvents",
                     "ConsumedWriteCapacityUnits", "ConsumedReadCapacityUnits"},
}


def emf_contract():
    text = open(METRICS_H).read()
    ns = re.search(r'#define\s+CP_EMF_NAMESPACE\s+"([^"]+)"', text).group(1)
    dim = re.search(r'#define\s+CP_EMF_DIMENSION\s+"([^"]+)"', text).group(1)
    body = re.search(r"#define\s+CP_EMF_METRICS\(X\)((?:[^\n]*\\\n)*[^\n]*)", text).group(1)
    names = re.findall(r"X\(\s*(\w+)\s*,", body)
    return ns, dim, names


NS, DIM, EMF = emf_contract()
KNOWN = dict(AWS_METRICS)
KNOWN[NS] = set(EMF)
rep = Report()
check = rep.check


def known(ns, metric):
    return metric in KNOWN.get(ns, set())


def datasource_uids():
    return dict(re.findall(r"^\s*uid:\s*(\S+)\s*\n\s*type:\s*(\S+)", open(DATASOURCES).read(), re.M))


def load_dashboards():
    return {os.path.basename(p): json.load(open(p)) for p in DASHBOARDS}


def panels(d):
    for p in d.get("panels", []):
        yield p
        yield from p.get("panels", [])  # rows


def cloudwatch():
    check(len(EMF) == 7 and NS == "csvpipe" and DIM == "dataset", f"metrics.h: namespace {NS}, dimension {DIM}, {len(EMF)} metrics")
    uids = datasource_uids()
    check(uids.get("csvpipe-postgres") == "grafana-postgresql-datasource" and uids.get("cloudwatch") == "cloudwatch",
          "provisioned datasources: csvpipe-postgres (PostgreSQL) and cloudwatch", f"{uids}")
    dashboards = load_dashboards()
    check(set(dashboards) == {"ingestion.json", "pipeline-metrics.json", "grafana-service.json"}, "three dashboards", f"{sorted(dashboards)}")
    used = {}
    for fname, d in dashboards.items():
        check(len({p["id"] for p in panels(d)}) == len(list(panels(d))), f"{fname}: panel ids unique")
        for p in panels(d):
            if p.get("type") == "row":
                continue
            title = f"{fname} / {p.get('title')}"
            targets = p.get("targets", [])
            check(bool(targets), f"{title}: has queries")
            for t in targets:
                uid = (t.get("datasource") or p.get("datasource") or {}).get("uid")
                if uid not in uids:
                    check(False, f"{title}: datasource {uid} is provisioned")
                    continue
                if uids[uid] != "cloudwatch":
                    continue
                ns, m = t.get("namespace"), t.get("metricName")
                check(known(ns, m), f"{title}: {ns} {m} is emitted by csvpipe or published by AWS")
                if ns == NS:
                    check(set(t.get("dimensions", {})) == {DIM}, f"{title}: {m} queried by its dimension {DIM}")
                used.setdefault(fname, set()).add((ns, m))
        for v in d.get("templating", {}).get("list", []):
            q = v.get("query")
            if isinstance(q, dict) and q.get("namespace"):
                check(known(q["namespace"], q.get("metricName")), f"{fname} variable ${v['name']}: {q['namespace']} {q.get('metricName')} exists")
    pipe = used.get("pipeline-metrics.json", set())
    for m in EMF:
        check((NS, m) in pipe, f"pipeline dashboard shows EMF metric {m}")
    for m in ("Invocations", "Errors", "Duration", "Throttles"):
        check(("AWS/Lambda", m) in pipe, f"pipeline dashboard shows Lambda {m}")
    check(("AWS/SQS", "ApproximateNumberOfMessagesVisible") in pipe, "pipeline dashboard shows the DLQ depth")
    svc = used.get("grafana-service.json", set())
    check(("AWS/ECS", "CPUUtilization") in svc, "service dashboard shows ECS CPU")
    check(("ECS/ContainerInsights", "RunningTaskCount") in svc, "service dashboard shows the task count")
    check(("AWS/ApplicationELB", "RequestCount") in svc, "service dashboard shows ALB requests")
    check({("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count"), ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count")} <= svc,
          "service dashboard shows ALB 5xx")
    ing = dashboards.get("ingestion.json", {})
    check(all((p.get("datasource") or {}).get("uid") == "csvpipe-postgres" for p in panels(ing)), "ingestion dashboard reads the ledger")

    # The CloudFormation dashboard and alarms name metrics the same way.
    tpl = load_template()
    for name, r in tpl["Resources"].items():
        if r["Type"] == "AWS::CloudWatch::Dashboard":
            body = r["Properties"]["DashboardBody"]["Fn::Sub"]
            body = body[0] if isinstance(body, list) else body
            doc = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
            n = 0
            for node in walk(doc):
                if isinstance(node, list) and node and isinstance(node[0], str) and len(node) >= 2 and "/" in node[0]:
                    n += 1
                    check(known(node[0], node[1]), f"CloudFormation dashboard: {node[0]} {node[1]} exists")
                if isinstance(node, dict) and "expression" in node:
                    for ns, m in re.findall(r"\{(\w+),\w+\}\s+MetricName=\\?\"(\w+)\\?\"", node["expression"]):
                        n += 1
                        check(known(ns, m), f"CloudFormation dashboard: SEARCH {ns} {m} exists")
            check(n >= 10, f"CloudFormation dashboard {name}: {n} metrics checked")
        if r["Type"] == "AWS::CloudWatch::Alarm":
            p = r["Properties"]
            pairs = [(p["Namespace"], p["MetricName"])] if "MetricName" in p else [
                (m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"]) for m in p.get("Metrics", []) if "MetricStat" in m]
            for ns, m in pairs:
                check(known(ns, m), f"alarm {name}: {ns} {m} exists")


# ---------------------------------------------------------------- PostgreSQL
def expand(sql, variables, t_from, t_to, interval="1m"):
    """Grafana's PostgreSQL macro and variable expansion (pkg/tsdb/grafana-postgresql-datasource
    macros.go), for the macros the dashboards use. Unknown macros fail."""
    secs = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    sql = sql.replace("$__interval_ms", str(int(interval[:-1]) * secs[interval[-1]] * 1000))
    sql = sql.replace("$__interval", interval)
    for name, values in variables.items():
        lit = ",".join("'" + v.replace("'", "''") + "'" for v in values)
        sql = re.sub(r"\$\{" + name + r"(:[a-z]+)?\}|\$" + name + r"\b", lambda _m: lit, sql)
    f, t = t_from.strftime("%Y-%m-%dT%H:%M:%SZ"), t_to.strftime("%Y-%m-%dT%H:%M:%SZ")

    def group(m, alias):
        col, iv = [a.strip() for a in m.group(1).split(",")[:2]]
        iv = iv.strip("'")
        n = int(iv[:-1]) * secs[iv[-1]]
        return f"floor(extract(epoch from {col})/{n})*{n}" + (' AS "time"' if alias else "")

    sql = re.sub(r"\$__timeGroupAlias\(([^)]*)\)", lambda m: group(m, True), sql)
    sql = re.sub(r"\$__timeGroup\(([^)]*)\)", lambda m: group(m, False), sql)
    sql = re.sub(r"\$__timeFilter\(([^)]*)\)", lambda m: f"{m.group(1).strip()} BETWEEN '{f}' AND '{t}'", sql)
    sql = re.sub(r"\$__time\(([^)]*)\)", lambda m: f'{m.group(1).strip()} AS "time"', sql)
    sql = sql.replace("$__timeFrom()", f"'{f}'").replace("$__timeTo()", f"'{t}'")
    left = re.findall(r"\$\w+|\$\{[^}]*\}", sql)
    if left:
        raise ValueError(f"unexpanded {left}")
    return sql


def psql(uri, sql):
    r = subprocess.run(["psql", uri, "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-c", sql],
                       capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return [line for line in r.stdout.splitlines() if line != ""]


def postgres(uri):
    now = datetime.datetime.now(datetime.timezone.utc)
    t_from, t_to = now - datetime.timedelta(days=1), now + datetime.timedelta(hours=1)
    n = 0
    for fname, d in load_dashboards().items():
        variables = {}
        for v in d.get("templating", {}).get("list", []):
            if (v.get("datasource") or {}).get("uid") == "csvpipe-postgres":
                try:
                    values = psql(uri, expand(v["query"], {}, t_from, t_to))
                except (RuntimeError, ValueError) as e:
                    check(False, f"{fname} variable ${v['name']} runs", str(e))
                    continue
                check(bool(values), f"{fname} variable ${v['name']}: {len(values)} values", "no rows")
                variables[v["name"]] = values  # "All", as the dashboards open
        for p in panels(d):
            for t in p.get("targets", []):
                if (t.get("datasource") or p.get("datasource") or {}).get("uid") != "csvpipe-postgres":
                    continue
                n += 1
                what = f"{fname} / {p['title']} ({t['refId']})"
                try:
                    rows = psql(uri, expand(t["rawSql"], variables, t_from, t_to))
                except (RuntimeError, ValueError) as e:
                    check(False, f"{what} runs", str(e))
                    continue
                check(len(rows) >= 1, f"{what}: {len(rows)} rows", "no rows")
    check(n >= 8, f"{n} PostgreSQL queries checked")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--pg":
        postgres(sys.argv[2])
    else:
        cloudwatch()
    rep.done()
