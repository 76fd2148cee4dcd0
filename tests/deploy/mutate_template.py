#!/usr/bin/env python3
"""The structural test must be able to fail: each mutation below breaks one promise of
deploy/cloudformation/csvpipe.yaml (as a text edit of a copy), and check_template.py run on
that copy must report the matching check as "not ok" (and exit 1). Prints one ok/not ok
line per mutation; exits 1 when a mutation goes unnoticed or no longer applies.
"""
import contextlib
import io
import os
import runpy
import sys
import tempfile

from cfn import TEMPLATE, Report

HERE = os.path.dirname(os.path.abspath(__file__))

# (what is broken, text to find (its first occurrence is replaced), replacement, the check that must fail)
MUTATIONS = [
    ("reserved concurrency by default", "LambdaReservedConcurrency:\n    Type: String\n    Default: \"\"",
     "LambdaReservedConcurrency:\n    Type: String\n    Default: \"50\"", "no reserved concurrency unless asked"),
    ("plain HTTP by default", "Default: \"false\"\n    AllowedValues: [\"false\", \"true\"]\n    Description: >-\n      FOR TRIALS",
     "Default: \"true\"\n    AllowedValues: [\"false\", \"true\"]\n    Description: >-\n      FOR TRIALS",
     "plain HTTP only as an explicit opt-in parameter"),
    ("0.0.0.0/0 by default", "  AllowedCidr:\n    Type: String\n", "  AllowedCidr:\n    Type: String\n    Default: 0.0.0.0/0\n",
     "the allowed CIDR has no 0.0.0.0/0 default"),
    ("HTTP not redirected to HTTPS", "RedirectConfig: { Protocol: HTTPS,", "RedirectConfig: { Protocol: HTTP,",
     "HTTP redirects to HTTPS"),
    ("Grafana root URL on the load balancer's name", "!If [UseHttps, !Sub \"https://${DomainName}/\"",
     "!If [UseHttps, !Sub \"https://${LoadBalancer.DNSName}/\"", "GF_SERVER_ROOT_URL is https://DomainName/"),
    ("cookies not secure", "GF_SECURITY_COOKIE_SECURE, Value: !If [UseHttps, \"true\"",
     "GF_SECURITY_COOKIE_SECURE, Value: !If [UseHttps, \"false\"", "Grafana's cookies are secure over HTTPS"),
    ("the ingest Lambda reads the master secret", "Action: secretsmanager:GetSecretValue\n                Resource: !Ref LoaderSecret",
     "Action: secretsmanager:GetSecretValue\n                Resource: [!Ref LoaderSecret, !Ref DatabaseSecret]",
     "only the set-up function and RDS Proxy can read the master secret"),
    ("Grafana's task reads the master secret", "Resource: [!Ref ReaderSecret, !Ref GrafanaDbSecret, !Ref GrafanaAdminSecret]",
     "Resource: [!Ref ReaderSecret, !Ref GrafanaDbSecret, !Ref GrafanaAdminSecret, !Ref DatabaseSecret]",
     "only the set-up function and RDS Proxy can read the master secret"),
    ("Grafana's datasource as the master user", "CSVPIPE_DB_USER, ValueFrom: !Sub \"${ReaderSecret}:username::\"",
     "CSVPIPE_DB_USER, ValueFrom: !Sub \"${DatabaseSecret}:username::\"", "Grafana's datasource logs in as the read-only role"),
    ("the Lambda as the master user", "CSVPIPE_SQL_SECRET_ARN: !Ref LoaderSecret", "CSVPIPE_SQL_SECRET_ARN: !Ref DatabaseSecret",
     "CSVPIPE_SQL_SECRET_ARN is the loader's secret"),
    ("Grafana's state on local SQLite", "GF_DATABASE_TYPE, Value: postgres", "GF_DATABASE_TYPE, Value: sqlite3",
     "Grafana's own state is in database grafana"),
    ("the proxy without TLS", "RequireTLS: true", "RequireTLS: false", "RDS Proxy: TLS required"),
    ("TLS not verified", "PGSSLMODE: verify-full", "PGSSLMODE: require", "the ingest function connects to the proxy with sslmode=verify-full"),
    ("the Lambda reaches the database directly", "          SourceSecurityGroupId: !Ref ProxySecurityGroup\n      Tags: [{ Key: Name, Value: !Sub \"${Name}-db\" }]",
     "          SourceSecurityGroupId: !Ref LambdaSecurityGroup\n      Tags: [{ Key: Name, Value: !Sub \"${Name}-db\" }]",
     "only RDS Proxy's security group reaches RDS"),
    ("an action csvpipe never calls", "Action: dynamodb:BatchWriteItem", "Action: [dynamodb:BatchWriteItem, dynamodb:Query]",
     "the ingest Lambda's role grants only actions csvpipe calls"),
    ("PassRole on a third role", "Resource: [!GetAtt LoaderTaskRole.Arn, !GetAtt LoaderExecutionRole.Arn]",
     "Resource: [!GetAtt LoaderTaskRole.Arn, !GetAtt LoaderExecutionRole.Arn, !GetAtt IngestRole.Arn]",
     "iam:PassRole on the task's two roles only"),
    ("RunTask on any task definition", ":task-definition/${Name}-loader:*", ":task-definition/*",
     "ecs:RunTask on the big-file task definition only"),
    ("mutable image tags", "ImageTagMutability: IMMUTABLE", "ImageTagMutability: MUTABLE", "ECR tags are immutable"),
    ("an invalid Fargate pair allowed", "- Assert: !Contains [[\"1024\", \"2048\", \"3072\", \"4096\"], !Ref GrafanaMemory]",
     "- Assert: !Contains [[\"512\", \"1024\", \"2048\", \"3072\", \"4096\"], !Ref GrafanaMemory]",
     "Rules reject invalid Fargate pairs of GrafanaCpu/GrafanaMemory"),
    ("no load balancer access logs", "{ Key: access_logs.s3.enabled, Value: \"true\" }",
     "{ Key: access_logs.s3.enabled, Value: \"false\" }", "the load balancer writes access logs"),
    ("no RDS log export", "EnableCloudwatchLogsExports: [postgresql, upgrade]", "EnableCloudwatchLogsExports: [upgrade]",
     "RDS exports its PostgreSQL log"),
    ("the Lambda starts before the roles exist", "    Condition: HasImages\n    DependsOn: DatabaseRoles\n",
     "    Condition: HasImages\n", "the ingest function and the Grafana service wait for the roles"),
    ("no alias record", "      Name: !Ref DomainName\n      Type: A\n", "      Name: !Sub \"www.${DomainName}\"\n      Type: A\n",
     "an optional Route 53 alias record"),
    ("Glue on every database's tables", "table/${LakeDatabase}/*", "table/*/*",
     "the ingest Lambda's Glue permissions are scoped to the lake database"),
    ("the output bucket listed whole", "Condition: { StringLike: { \"s3:prefix\": [parquet/*, json/*] } }", "",
     "the ingest Lambda lists the output bucket under parquet/ and json/ only"),
    ("no Glue endpoint", "com.amazonaws.${AWS::Region}.glue", "com.amazonaws.${AWS::Region}.glue-fips",
     "interface endpoint for Glue"),
    ("Athena's results kept forever", "            ExpirationInDays: !Ref AthenaResultsDays\n", "",
     "Athena's results expire"),
    ("partitions on by default", "  PartitionBy:\n    Type: String\n    Default: \"\"",
     "  PartitionBy:\n    Type: String\n    Default: \"month(date)\"", "CSVPIPE_PARTITION_BY: the PartitionBy parameter"),
    ("Lambda's 512 MB /tmp", "      EphemeralStorage:\n        Size: !Ref LambdaEphemeralStorage\n", "",
     "function /tmp (EphemeralStorage) is a parameter of at least 2048 MB by default"),
]


def run_check(path):
    out = io.StringIO()
    argv = sys.argv
    sys.argv = ["check_template.py", path]
    code = 0
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(os.path.join(HERE, "check_template.py"), run_name="__main__")
    except SystemExit as e:
        code = e.code or 0
    finally:
        sys.argv = argv
    return code, out.getvalue()


def main():
    rep = Report()
    with open(TEMPLATE) as f:
        text = f.read()
    code, out = run_check(TEMPLATE)
    rep.check(code == 0, "the template as it is passes", out[-300:])
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "csvpipe.yaml")
        for what, find, repl, failing in MUTATIONS:
            if find not in text:
                rep.check(False, f"mutation '{what}' applies", f"text not found: {find[:60]!r}")
                continue
            with open(path, "w") as f:
                f.write(text.replace(find, repl, 1))
            code, out = run_check(path)
            hit = [l for l in out.splitlines() if l.startswith("not ok") and failing in l]
            rep.check(code == 1 and bool(hit), f"caught: {what} ({failing})",
                      "; ".join(l for l in out.splitlines() if l.startswith("not ok"))[:300] or "every check passed")
    rep.done()


if __name__ == "__main__":
    main()
