#!/usr/bin/env python3
"""Creates the csvpipe stack in a running moto server (endpoint in AWS_ENDPOINT_URL) and
checks what moto built.

moto's CloudFormation does not model every resource type. This script says so instead of
skipping silently: it lists the template's types that moto cannot model (from moto's own
model map), removes those resources from the copy it sends (references to them become
placeholder strings), creates the stack with everything moto does model, and requires each
of those resources to reach CREATE_COMPLETE. It then reads back, through the service APIs,
what the stack promised (buckets, notification filter, table keys, function, ...).

The template is sent as JSON converted by cfn-lint's decoder: moto's own YAML loader splits
`!GetAtt Res.Attr.Sub` at every dot, which real CloudFormation does not.
"""
import json
import os
import re
import sys
import time

import boto3
from botocore.exceptions import ClientError
from moto.cloudformation.parsing import get_model_map

from cfn import Report, load_template, walk

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
REGION = os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
ACCOUNT = "123456789012"  # moto's default account

rep = Report()
check = rep.check
cf = boto3.client("cloudformation", endpoint_url=ENDPOINT, region_name=REGION)


def placeholder(res_type, logical, attr=None):
    service = res_type.split("::")[1].lower()
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:moto-unmodeled/{logical}" + (f"/{attr}" if attr else "")


def strip_unmodeled(tpl):
    """Returns (template moto can build, {type: [logical ids]} it cannot model)."""
    modeled = set(get_model_map())
    res = tpl["Resources"]
    gone = {k: v["Type"] for k, v in res.items() if v["Type"] not in modeled}
    for k in gone:
        del res[k]

    def fix(node):
        if isinstance(node, list):
            return [fix(v) for v in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Ref"} and node["Ref"] in gone:
            return placeholder(gone[node["Ref"]], node["Ref"])
        if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in gone:
            return placeholder(gone[node["Fn::GetAtt"][0]], *node["Fn::GetAtt"])
        if set(node) == {"Fn::Sub"}:
            sub = node["Fn::Sub"]
            text, local = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
            for name, t in gone.items():
                text = text.replace("${" + name + "}", placeholder(t, name))
                text = re.sub(r"\$\{" + re.escape(name) + r"\.([A-Za-z.]+)\}",
                              lambda m, t=t, name=name: placeholder(t, name, m.group(1)), text)
            return {"Fn::Sub": text if isinstance(sub, str) else [text, fix(local)]}
        return {k: fix(v) for k, v in node.items()}

    for k, r in res.items():
        if "DependsOn" in r:
            deps = [d for d in (r["DependsOn"] if isinstance(r["DependsOn"], list) else [r["DependsOn"]]) if d not in gone]
            if deps:
                r["DependsOn"] = deps
            else:
                del r["DependsOn"]
        res[k] = fix(r)
    tpl["Outputs"] = {k: fix(v) for k, v in tpl.get("Outputs", {}).items()}
    by_type = {}
    for k, t in sorted(gone.items()):
        by_type.setdefault(t, []).append(k)
    return tpl, by_type


def create(name, params):
    tpl, unmodeled = strip_unmodeled(load_template())
    print(f"# stack {name}: moto cannot model {sum(map(len, unmodeled.values()))} resources of "
          f"{len(unmodeled)} types; they are left out of the moto stack:")
    for t, ids in unmodeled.items():
        print(f"#   {t}: {', '.join(ids)}")
    cf.create_stack(StackName=name, TemplateBody=json.dumps(tpl), Capabilities=["CAPABILITY_IAM"],
                    Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()])
    deadline = time.time() + 120
    status = "?"
    while time.time() < deadline:
        status = cf.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        if not status.endswith("IN_PROGRESS"):
            break
        time.sleep(0.5)
    check(status == "CREATE_COMPLETE", f"stack {name} created in moto", status)
    expected = {}
    holds = {"HasImages": params.get("ImageTag", "") != "",
             "UseHttps": params.get("AllowPlainHttp", "false") == "false",
             "HasAliasRecord": params.get("HostedZoneId", "") != "",
             "HasAlarmEmail": params.get("AlarmEmail", "") != ""}
    for k, r in tpl["Resources"].items():
        cond = r.get("Condition")
        if cond and not holds[cond]:
            continue
        expected[k] = r["Type"]
    got = {}
    paginator = cf.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=name):
        for s in page["StackResourceSummaries"]:
            got[s["LogicalResourceId"]] = (s["ResourceType"], s["ResourceStatus"])
    missing = sorted(set(expected) - set(got))
    incomplete = sorted(k for k, (_, st) in got.items() if st != "CREATE_COMPLETE")
    check(not missing and not incomplete,
          f"stack {name}: all {len(expected)} modeled resources CREATE_COMPLETE "
          f"({len({t for t in expected.values()})} types)", f"missing={missing} incomplete={incomplete}")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in cf.describe_stacks(StackName=name)["Stacks"][0].get("Outputs", [])}
    return unmodeled, outputs


# The full stack, as the second deploy.sh phase makes it (images pushed), HTTPS with an
# alias record in a hosted zone of this account.
r53 = boto3.client("route53", endpoint_url=ENDPOINT, region_name=REGION)
zone = r53.create_hosted_zone(Name="example.com", CallerReference="csvpipe-moto")["HostedZone"]["Id"].split("/")[-1]
acm = boto3.client("acm", endpoint_url=ENDPOINT, region_name=REGION)
HTTPS = {"DomainName": "grafana.example.com", "AllowedCidr": "203.0.113.0/24",
         "CertificateArn": acm.request_certificate(DomainName="grafana.example.com")["CertificateArn"]}
unmodeled, outputs = create("csvpipe-moto", {"Name": "cpmoto", "ImageTag": "test", "HostedZoneId": zone, **HTTPS})
s3 = boto3.client("s3", endpoint_url=ENDPOINT, region_name=REGION)
inp, outb = f"cpmoto-input-{ACCOUNT}-{REGION}", f"cpmoto-output-{ACCOUNT}-{REGION}"
names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
check({inp, outb} <= names, "input and output buckets exist", f"{sorted(names)}")
check(outputs.get("InputBucketName") == inp and outputs.get("OutputBucketName") == outb, "outputs name the buckets", f"{outputs}")
not_applied = []


def readback(what, fetch, ok, ignored=lambda v: False):
    """A property moto's CloudFormation model ignores (the read-back finds nothing, or moto's
    default) is reported, not failed: the structural test (deploy_template.sh) and cfn-lint
    cover it. Any other value must be the right one."""
    try:
        value = fetch()
    except ClientError as e:
        if e.response["Error"]["Code"].startswith("NoSuch") or "NotFound" in e.response["Error"]["Code"]:
            value = None
        else:
            raise
    if value is None or ignored(value):
        not_applied.append(what)
        print(f"# moto's CloudFormation does not apply: {what} (read back {str(value)[:120]})")
        return
    check(ok(value), f"{what} (read back)", f"{value}")


for b in (inp, outb):
    readback(f"{b}: public access block", lambda: s3.get_public_access_block(Bucket=b)["PublicAccessBlockConfiguration"],
             lambda pab: all(pab.values()))
    readback(f"{b}: default encryption", lambda: s3.get_bucket_encryption(Bucket=b)["ServerSideEncryptionConfiguration"]["Rules"],
             lambda enc: enc[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256")


def lambda_rules(nc):
    lcs = nc.get("LambdaFunctionConfigurations", [])
    return [({r["Name"].lower(): r["Value"] for r in c["Filter"]["Key"]["FilterRules"]}, c["LambdaFunctionArn"]) for c in lcs]


readback("input bucket notifies cpmoto-ingest for incoming/*.csv, *.csv.gz, *.csv.zst",
         lambda: lambda_rules(s3.get_bucket_notification_configuration(Bucket=inp)),
         lambda v: sorted(r["suffix"] for r, _ in v) == [".csv", ".csv.gz", ".csv.zst"]
         and all(r["prefix"] == "incoming/" and arn.endswith(":cpmoto-ingest") for r, arn in v),
         ignored=lambda v: v == [])
onc = s3.get_bucket_notification_configuration(Bucket=outb)
check(not any(onc.get(k) for k in ("LambdaFunctionConfigurations", "QueueConfigurations", "TopicConfigurations")),
      "output bucket has no notification (read back)")
ddb = boto3.client("dynamodb", endpoint_url=ENDPOINT, region_name=REGION)
t = ddb.describe_table(TableName="cpmoto-items")["Table"]
check({k["AttributeName"]: k["KeyType"] for k in t["KeySchema"]} == {"pk": "HASH", "sk": "RANGE"}
      and t.get("BillingModeSummary", {}).get("BillingMode") == "PAY_PER_REQUEST", "items table pk/sk on demand (read back)")
lam = boto3.client("lambda", endpoint_url=ENDPOINT, region_name=REGION)
f = lam.get_function(FunctionName="cpmoto-ingest")
cfg = f["Configuration"]
check(f["Code"].get("ImageUri") == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/cpmoto-lambda:test",
      "function runs the image from the Lambda repository (read back)", f"{f['Code']}")
env = cfg.get("Environment", {}).get("Variables", {})
check(env.get("CSVPIPE_OUT") == f"s3://{outb}/" and env.get("CSVPIPE_NOSQL") == "dynamodb:cpmoto-items",
      "function environment: output bucket and items table (read back)", f"{env}")
check(len(cfg.get("VpcConfig", {}).get("SubnetIds", [])) == 2, "function in two subnets (read back)")
rds = boto3.client("rds", endpoint_url=ENDPOINT, region_name=REGION)
db = rds.describe_db_instances(DBInstanceIdentifier="cpmoto-db")["DBInstances"][0]
check(db["PubliclyAccessible"] is False and db["StorageEncrypted"] is True and db["Engine"] == "postgres",
      "RDS private, encrypted PostgreSQL (read back)")
ecs = boto3.client("ecs", endpoint_url=ENDPOINT, region_name=REGION)
svcs = ecs.describe_services(cluster="cpmoto", services=["cpmoto-grafana"])["services"]
check(len(svcs) == 1 and svcs[0]["taskDefinition"].endswith(":task-definition/cpmoto-grafana:1") and svcs[0]["desiredCount"] == 1,
      "Grafana service runs its task definition, min tasks desired (read back)", f"{svcs}")
readback("Grafana service on Fargate behind the target group", lambda: svcs[0],
         lambda v: v["launchType"] == "FARGATE" and v["loadBalancers"],
         ignored=lambda v: v.get("launchType") == "EC2" and not v.get("loadBalancers"))
td = ecs.describe_task_definition(taskDefinition="cpmoto-grafana")["taskDefinition"]
c0 = td["containerDefinitions"][0]
check(c0["image"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/cpmoto-grafana:test"
      and c0["portMappings"][0]["containerPort"] == 3000
      and c0["logConfiguration"]["options"]["awslogs-group"] == "/ecs/cpmoto-grafana"
      and {x["name"] for x in c0.get("secrets", [])} == {"CSVPIPE_DB_USER", "CSVPIPE_DB_PASSWORD", "GF_DATABASE_USER",
                                                          "GF_DATABASE_PASSWORD", "GF_SECURITY_ADMIN_PASSWORD"},
      "Grafana container: image from its repository, port 3000, its log group, credentials as ECS secrets (read back)", f"{c0}")
readback("Grafana task definition on Fargate (awsvpc)", lambda: td,
         lambda v: "FARGATE" in v.get("requiresCompatibilities", []) and v["networkMode"] == "awsvpc",
         ignored=lambda v: v.get("networkMode") == "bridge" and not v.get("requiresCompatibilities"))
genv = {x["name"]: x["value"] for x in c0.get("environment", [])}
check(genv.get("GF_SERVER_ROOT_URL") == "https://grafana.example.com/" and genv.get("GF_SECURITY_COOKIE_SECURE") == "true"
      and genv.get("GF_DATABASE_NAME") == "grafana", "Grafana: HTTPS root URL, secure cookies, state in database grafana (read back)", f"{genv}")
ltd = ecs.describe_task_definition(taskDefinition="cpmoto-loader")["taskDefinition"]
l0 = ltd["containerDefinitions"][0]
# moto renders an AWS::NoValue inside a list (the task definition's !If entry) as null.
lenv = {x["name"]: x["value"] for x in l0.get("environment", []) if x}
check(l0["name"] == "csvpipe" and l0["image"] == f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/cpmoto-lambda:test"
      and l0.get("entryPoint") == ["/usr/local/bin/csvpipe"] and l0["logConfiguration"]["options"]["awslogs-group"] == "/ecs/cpmoto-loader"
      and lenv.get("CSVPIPE_SQL_SECRET_ARN", "").endswith("moto-unmodeled/LoaderSecret") and lenv.get("PGSSLMODE") == "verify-full",
      "big-file task definition: the Lambda's image, entry point csvpipe, its log group, the loader's settings (read back)", f"{l0}")
check(env.get("CSVPIPE_ECS_CLUSTER") == "cpmoto" and env.get("CSVPIPE_ECS_CONTAINER") == "csvpipe"
      and ":task-definition/cpmoto-loader:" in env.get("CSVPIPE_ECS_TASK_DEFINITION", "")
      and len(env.get("CSVPIPE_ECS_SUBNETS", "").split(",")) == 2 and env.get("CSVPIPE_ECS_SECURITY_GROUPS", "").startswith("sg-")
      and "CSVPIPE_THROUGHPUT_MBPS" not in env,
      "the ingest function knows the cluster, task definition, subnets and the tasks' security group (read back)", f"{env}")
check("ReservedConcurrentExecutions" not in str(lam.get_function_concurrency(FunctionName="cpmoto-ingest")),
      "no reserved concurrency by default (read back)")
setup = lam.get_function(FunctionName="cpmoto-db-setup")["Configuration"]
readback("set-up function runs `csvpipe db-setup --lambda`", lambda: setup.get("ImageConfigResponse", {}).get("ImageConfig"),
         lambda v: v.get("Command") == ["db-setup", "--lambda"] and v.get("EntryPoint") == ["/usr/local/bin/csvpipe"])
rrs = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
check(any(r["Name"].rstrip(".") == "grafana.example.com" and r["Type"] == "A" for r in rrs),
      "alias record grafana.example.com in the hosted zone (read back)", f"{rrs}")
elb = boto3.client("elbv2", endpoint_url=ENDPOINT, region_name=REGION)
lbs = elb.describe_load_balancers(Names=["cpmoto-grafana"])["LoadBalancers"]
check(lbs and lbs[0]["Scheme"] == "internet-facing", "internet-facing ALB (read back)")
tgs = elb.describe_target_groups(Names=["cpmoto-grafana"])["TargetGroups"]
check(tgs and tgs[0]["HealthCheckPath"] == "/api/health", "target group health check /api/health (read back)")
ecr = boto3.client("ecr", endpoint_url=ENDPOINT, region_name=REGION)
repos = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
check({"cpmoto-lambda", "cpmoto-grafana"} <= repos, "both ECR repositories (read back)", f"{repos}")
readback("ECR tags immutable", lambda: {r["repositoryName"]: r["imageTagMutability"] for r in ecr.describe_repositories()["repositories"]
                                        if r["repositoryName"].startswith("cpmoto-")},
         lambda v: set(v.values()) == {"IMMUTABLE"})
logs = boto3.client("logs", endpoint_url=ENDPOINT, region_name=REGION)
groups = {g["logGroupName"]: g.get("retentionInDays") for g in logs.describe_log_groups()["logGroups"]}
check(all(groups.get(g) == 30 for g in ("/aws/lambda/cpmoto-ingest", "/aws/lambda/cpmoto-db-setup", "/ecs/cpmoto-grafana", "/ecs/cpmoto-loader")),
      "log groups with 30-day retention (read back)", f"{groups}")
cw = boto3.client("cloudwatch", endpoint_url=ENDPOINT, region_name=REGION)
check(any(d["DashboardName"] == "cpmoto" for d in cw.list_dashboards()["DashboardEntries"]), "CloudWatch dashboard (read back)")

# The bootstrap stack (first deploy.sh phase: no images yet) also builds.
create("csvpipe-moto-bootstrap", {"Name": "cpboot", "ImageTag": "", **HTTPS})
try:
    lam.get_function(FunctionName="cpboot-ingest")
    no_function = False
except ClientError:
    no_function = True
boot_svcs = [s for s in ecs.describe_services(cluster="cpboot", services=["cpboot-grafana"])["services"] if s.get("status") == "ACTIVE"]
check(no_function and not boot_svcs, "bootstrap stack: repositories and the rest, no function or Grafana service yet")
check({"cpboot-lambda", "cpboot-grafana"} <= {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]},
      "bootstrap stack: ECR repositories ready for the first push")

print("# resource types moto cannot model (checked structurally and by cfn-lint only): " + ", ".join(sorted(unmodeled)))
if not_applied:
    print("# properties moto's CloudFormation ignores (checked structurally only): " + "; ".join(not_applied))
rep.done()
