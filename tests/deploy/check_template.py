#!/usr/bin/env python3
"""Structural checks of deploy/cloudformation/csvpipe.yaml: every piece issues 8 and 12 ask
for is there and keeps its promises (network isolation, encryption, no recursive invocation,
least-privilege IAM, HTTPS, database roles, RDS Proxy, big files on Fargate, and issue 16's
lake: Glue database, Athena workgroup, scoped IAM, the catalog's variables). Prints one
ok/not ok line per check; exits 1 on any failure.
"""
import os
import re
import sys

from cfn import Report, load_template, refs, walk

tpl = load_template(sys.argv[1]) if len(sys.argv) > 1 else load_template()
R = tpl["Resources"]
P = tpl.get("Parameters", {})
rep = Report()
check = rep.check



def if_true(item):
    """A list entry that may be {"Fn::If": [condition, then, else]}: its then branch."""
    return item["Fn::If"][1] if isinstance(item, dict) and "Fn::If" in item else item

def of_type(t):
    return {k: v for k, v in R.items() if v["Type"] == t}


def props(name):
    return R.get(name, {}).get("Properties", {})


def one(t, what):
    found = of_type(t)
    check(len(found) >= 1, f"{what} present ({t})", "missing")
    return next(iter(found), None)


def is_ref(v, name):
    return v == {"Ref": name}


def ref_name(v):
    if isinstance(v, dict):
        if "Ref" in v:
            return v["Ref"]
        if "Fn::GetAtt" in v:
            return v["Fn::GetAtt"][0]
    return None


def is_param_ref(v):
    return isinstance(v, dict) and v.get("Ref") in P


def as_list(v):
    return v if isinstance(v, list) else [v]


def sub_text(v):
    if isinstance(v, dict) and "Fn::Sub" in v:
        s = v["Fn::Sub"]
        return s if isinstance(s, str) else s[0]
    return None


# ---------------------------------------------------------------- network
vpc = one("AWS::EC2::VPC", "VPC")
subnets = of_type("AWS::EC2::Subnet")
assocs = of_type("AWS::EC2::SubnetRouteTableAssociation")
routes = of_type("AWS::EC2::Route")
subnet_rt = {ref_name(a["Properties"]["SubnetId"]): ref_name(a["Properties"]["RouteTableId"])
             for a in assocs.values()}
igw_tables = {ref_name(r["Properties"]["RouteTableId"]) for r in routes.values()
              if "GatewayId" in r["Properties"] and r["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0"}
internet_routes = {ref_name(r["Properties"]["RouteTableId"]) for r in routes.values()
                   if r["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0"}
public = sorted(s for s in subnets if subnet_rt.get(s) in igw_tables)
private = sorted(s for s in subnets if s in subnet_rt and subnet_rt[s] not in internet_routes)


def az_index(s):
    az = props(s).get("AvailabilityZone", {})
    return az.get("Fn::Select", [None])[0] if isinstance(az, dict) else az


check(len(public) == 2 and len({az_index(s) for s in public}) == 2,
      "two public subnets (route to the internet gateway) in two AZs", f"public={public}")
check(len(private) == 2 and len({az_index(s) for s in private}) == 2,
      "two private subnets (no route to the internet) in two AZs", f"private={private}")
private_tables = {subnet_rt[s] for s in private}
endpoints = of_type("AWS::EC2::VPCEndpoint")


def endpoint(service):
    for name, e in endpoints.items():
        text = sub_text(e["Properties"]["ServiceName"]) or e["Properties"]["ServiceName"]
        if isinstance(text, str) and text.endswith("." + service):
            return e["Properties"]
    return None


for svc in ("s3", "dynamodb"):
    e = endpoint(svc)
    check(e is not None and e.get("VpcEndpointType") == "Gateway"
          and {ref_name(t) for t in e.get("RouteTableIds", [])} >= private_tables,
          f"gateway endpoint for {svc} on the private route table")
e = endpoint("secretsmanager")
check(e is not None and e.get("VpcEndpointType") == "Interface" and e.get("PrivateDnsEnabled") is True
      and sorted(ref_name(s) for s in e.get("SubnetIds", [])) == private,
      "interface endpoint for Secrets Manager in the private subnets, private DNS on")

# ---------------------------------------------------------------- buckets and the trigger
buckets = of_type("AWS::S3::Bucket")
albs_ = of_type("AWS::ElasticLoadBalancingV2::LoadBalancer")
alb_attrs = {a["Key"]: a["Value"] for alb_ in albs_.values()
             for a in alb_["Properties"].get("LoadBalancerAttributes", [])}
logs_bucket = ref_name(alb_attrs.get("access_logs.s3.bucket"))
workgroups = of_type("AWS::Athena::WorkGroup")
athena_locations = [sub_text(w["Properties"].get("WorkGroupConfiguration", {}).get("ResultConfiguration", {})
                             .get("OutputLocation")) or "" for w in workgroups.values()]
athena_bucket = next((b for b in buckets for loc in athena_locations if loc.startswith("s3://${" + b + "}/")), None)
check(len(buckets) == 4 and logs_bucket in buckets and athena_bucket in buckets,
      "an input bucket, a separate output bucket, the load balancer's log bucket and Athena's results bucket",
      f"{sorted(buckets)}")
for name, b in buckets.items():
    p = b["Properties"]
    enc = p.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    check(bool(enc) and all(r.get("ServerSideEncryptionByDefault", {}).get("SSEAlgorithm") in ("AES256", "aws:kms", "aws:kms:dsse")
                            for r in enc), f"{name} encrypted at rest")
    pab = p.get("PublicAccessBlockConfiguration", {})
    check(all(pab.get(k) is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")),
          f"{name} blocks all public access")
    check(not p.get("AccessControl") or p["AccessControl"] == "Private", f"{name} has no public ACL")

functions = of_type("AWS::Lambda::Function")


def notifications(bucket):
    nc = props(bucket).get("NotificationConfiguration")
    if isinstance(nc, dict) and "Fn::If" in nc:  # the bootstrap deploy has no function yet
        nc = nc["Fn::If"][1]
    return nc or {}


notifying = [b for b in buckets if notifications(b)]
check(len(notifying) == 1, "exactly one bucket sends notifications", f"{notifying}")
input_bucket = notifying[0] if notifying else None
output_buckets = [b for b in buckets if b not in (input_bucket, logs_bucket, athena_bucket)]
notified_fns = [ref_name(lc.get("Function")) for b in notifying
                for lc in notifications(b).get("LambdaConfigurations", [])]
fn_name = notified_fns[0] if notified_fns else ""
fn = props(fn_name)
custom = {k: v for k, v in R.items() if v["Type"].startswith("Custom::")}
setup_fns = {ref_name(c["Properties"].get("ServiceToken")) for c in custom.values()}
check(set(functions) == {fn_name} | setup_fns and len(functions) == 2,
      "two Lambda functions: the ingest function (the notification's) and the database set-up (a custom resource's)",
      f"{sorted(functions)}")
nc = notifications(input_bucket) if input_bucket else {}
lcs = nc.get("LambdaConfigurations", [])
check(not nc.get("QueueConfigurations") and not nc.get("TopicConfigurations"),
      "the input bucket notifies the function, nothing else")
# one configuration per suffix: plain, gzip and zstd CSV (S3 filters take one suffix each)
suffixes = []
for lc in lcs:
    rules = {r["Name"].lower(): r["Value"] for r in lc.get("Filter", {}).get("S3Key", {}).get("Rules", [])}
    check(lc.get("Event", "").startswith("s3:ObjectCreated:"), "notification on ObjectCreated", lc.get("Event"))
    check(set(rules) == {"prefix", "suffix"} and rules["prefix"] == "incoming/",
          "notification filter: prefix incoming/ and a suffix", f"{rules}")
    check(ref_name(lc.get("Function")) == fn_name, "notification targets the ingest function")
    suffixes.append(rules.get("suffix"))
check(sorted(suffixes) == [".csv", ".csv.gz", ".csv.zst"],
      "the function is notified once each for .csv, .csv.gz and .csv.zst", f"{suffixes}")

env = fn.get("Environment", {}).get("Variables", {})
out_text = sub_text(env.get("CSVPIPE_OUT")) or ""
check(len(output_buckets) == 1 and out_text.startswith("s3://${" + output_buckets[0] + "}"),
      "CSVPIPE_OUT is the output bucket", out_text)
check(not (input_bucket and input_bucket in refs(env.get("CSVPIPE_OUT", ""))), "CSVPIPE_OUT never names the input bucket")
for ob in output_buckets:
    check(not notifications(ob), f"{ob} has no notification: outputs cannot invoke the function")
# Nothing else invokes the function: no event source mapping, rule or other permission.
check(not of_type("AWS::Lambda::EventSourceMapping") and not of_type("AWS::Events::Rule"),
      "no event source mapping or EventBridge rule feeds the function")
perms = of_type("AWS::Lambda::Permission")
check(len(perms) == 1, "one invoke permission", f"{sorted(perms)}")
for pname, pr in perms.items():
    pp = pr["Properties"]
    in_name = sub_text(props(input_bucket).get("BucketName")) if input_bucket else None
    src = sub_text(pp.get("SourceArn")) or ""
    check(pp.get("Principal") == "s3.amazonaws.com" and in_name and src.endswith(":::" + in_name)
          and "SourceAccount" in pp, f"{pname}: only S3, only from the input bucket, only this account", src)
# Outputs land under parquet/, json/, rejected/ (docs/design.md): none matches the input filter.
for prefix in ("parquet/", "json/", "rejected/"):
    check(not prefix.startswith("incoming/"), f"output prefix {prefix} is outside incoming/")

# No circular dependency (the S3 -> Lambda permission classic): Ref/GetAtt/Sub/DependsOn graph.
graph = {}
for name, r in R.items():
    deps = refs({k: v for k, v in r.items() if k in ("Properties", "Metadata")}) & set(R)
    deps |= set(as_list(r.get("DependsOn", [])))
    graph[name] = deps
state = {}
cycle = []


def visit(n, stack):
    state[n] = 1
    for d in graph.get(n, ()):
        if state.get(d) == 1:
            cycle.extend(stack + [n, d])
            return
        if d not in state:
            visit(d, stack + [n])
            if cycle:
                return
    state[n] = 2


for n in graph:
    if n not in state and not cycle:
        visit(n, [])
check(not cycle, "no circular dependency between resources", " -> ".join(cycle))
lambda_side = {fn_name} | set(perms) | {ref_name(fn.get("Role"))}
check(all(input_bucket not in refs(R[x]) for x in lambda_side if x in R),
      "function, role and permission name the input bucket without referring to it")

# ---------------------------------------------------------------- images and the function
repos = of_type("AWS::ECR::Repository")
check(len(repos) == 2, "two ECR repositories (Lambda image, Grafana image)", f"{sorted(repos)}")
check(fn.get("PackageType") == "Image" and "ImageUri" in fn.get("Code", {}), "function is PackageType Image")
for k in ("MemorySize", "Timeout"):
    check(is_param_ref(fn.get(k)), f"function {k} is a parameter")
fn_subnets = sorted(ref_name(s) for s in fn.get("VpcConfig", {}).get("SubnetIds", []))
check(fn_subnets == private, "function runs in the private subnets", f"{fn_subnets}")
check({"CSVPIPE_OUT", "CSVPIPE_SQL_SECRET_ARN", "CSVPIPE_NOSQL"} <= set(env), "function environment names out, SQL secret, NoSQL table")
# (the structure of the SQL secret, the proxy and the roles is checked below, "issue 12")
check("AWS_REGION" not in env, "AWS_REGION left to Lambda (a reserved variable)")
# Schema files (issue 14): an optional folder of the input bucket, none by default; the
# function may read and list that folder only (listing makes a missing file a 404).
schema_env = env.get("CSVPIPE_SCHEMA_PREFIX", {}).get("Fn::If", [None, None, None])
check(P.get("SchemaPrefix", {}).get("Default") == "" and schema_env[0] == "HasSchemaPrefix"
      and schema_env[2] == {"Ref": "AWS::NoValue"}
      and (sub_text(schema_env[1]) or "").endswith("}/${SchemaPrefix}"),
      "CSVPIPE_SCHEMA_PREFIX: the SchemaPrefix folder of the input bucket, unset by default")
schema_grants = [st_["Fn::If"][1] for r in R.values() if r["Type"] == "AWS::IAM::Role"
                 for pol in r["Properties"].get("Policies", [])
                 for st_ in pol["PolicyDocument"]["Statement"]
                 if isinstance(st_, dict) and st_.get("Fn::If", [None])[0] == "HasSchemaPrefix"]
check(sorted((g["Action"], sub_text(g["Resource"]).split(":::")[1]) for g in schema_grants)
      == 2 * [("s3:GetObject", "${Name}-input-${AWS::AccountId}-${AWS::Region}/${SchemaPrefix}*")]
      + 2 * [("s3:ListBucket", "${Name}-input-${AWS::AccountId}-${AWS::Region}")]
      and all(g.get("Condition", {"StringLike": {"s3:prefix": {"Fn::Sub": "${SchemaPrefix}*"}}})
              == {"StringLike": {"s3:prefix": {"Fn::Sub": "${SchemaPrefix}*"}}} for g in schema_grants),
      "schema files (the Lambda and the big-file task): GetObject under SchemaPrefix, ListBucket only for that prefix", f"{schema_grants}")
check((sub_text(env.get("CSVPIPE_NOSQL")) or "").startswith("dynamodb:"), "CSVPIPE_NOSQL is dynamodb:TABLE")
queues = of_type("AWS::SQS::Queue")
eics = of_type("AWS::Lambda::EventInvokeConfig")
dlq_targets = set()
for e in eics.values():
    dest = e["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    dlq_targets.add(ref_name(dest))
if "DeadLetterConfig" in fn:
    dlq_targets.add(ref_name(fn["DeadLetterConfig"].get("TargetArn")))
check(bool(dlq_targets & set(queues)), "failed events go to an SQS dead-letter queue / on-failure destination", f"{dlq_targets}")

# ---------------------------------------------------------------- database
dbs = of_type("AWS::RDS::DBInstance")
check(len(dbs) == 1, "one RDS instance")
db_name = next(iter(dbs), "")
db = props(db_name)
check(db.get("Engine") == "postgres", "RDS engine is PostgreSQL")
check(db.get("PubliclyAccessible") is False, "RDS is not publicly accessible")
check(db.get("StorageEncrypted") is True, "RDS storage encrypted")
pw = db.get("MasterUserPassword")
pw_text = sub_text(pw) or (pw if isinstance(pw, str) else "")
check(db.get("ManageMasterUserPassword") is True or pw_text.startswith("{{resolve:secretsmanager:"),
      "RDS password managed in Secrets Manager (never in the template)")
sng = props(ref_name(db.get("DBSubnetGroupName")))
check(sorted(ref_name(s) for s in sng.get("SubnetIds", [])) == private, "RDS subnet group is the private subnets")
attach = [a for a in of_type("AWS::SecretsManager::SecretTargetAttachment").values()
          if ref_name(a["Properties"]["TargetId"]) == db_name]
master_secret = next((ref_name(a["Properties"]["SecretId"]) for a in attach), None)
check(master_secret is not None and master_secret in (ref_name(db.get("MasterUserPassword")) or refs(pw)),
      "the master user's password is the attached secret's", f"{master_secret}")
sgi = of_type("AWS::EC2::SecurityGroupIngress")


def ingress(sg):
    rules = list(props(sg).get("SecurityGroupIngress", []))
    rules += [r["Properties"] for r in sgi.values() if ref_name(r["Properties"].get("GroupId")) == sg]
    return rules


db_sgs = [ref_name(s) for s in db.get("VPCSecurityGroups", [])]
lambda_sg = [ref_name(s) for s in fn.get("VpcConfig", {}).get("SecurityGroupIds", [])]
services = of_type("AWS::ECS::Service")
svc_name = next(iter(services), "")
svc = props(svc_name)
task_sgs = [ref_name(s) for s in svc.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {}).get("SecurityGroups", [])]
db_rules = [r for sg in db_sgs for r in ingress(sg)]
proxies = of_type("AWS::RDS::DBProxy")
proxy_name = next(iter(proxies), "")
proxy = props(proxy_name)
proxy_sgs = {ref_name(s) for s in proxy.get("VpcSecurityGroupIds", [])}
check(db_rules and all("CidrIp" not in r and "CidrIpv6" not in r and "SourcePrefixListId" not in r for r in db_rules)
      and {ref_name(r.get("SourceSecurityGroupId")) for r in db_rules} == proxy_sgs and proxy_sgs,
      "only RDS Proxy's security group reaches RDS",
      f"{[(ref_name(r.get('SourceSecurityGroupId')), r.get('CidrIp')) for r in db_rules]}")

# ---------------------------------------------------------------- DynamoDB
tables = of_type("AWS::DynamoDB::Table")
t = props(next(iter(tables), ""))
keys = {k["AttributeName"]: k["KeyType"] for k in t.get("KeySchema", [])}
attrs = {a["AttributeName"]: a["AttributeType"] for a in t.get("AttributeDefinitions", [])}
check(keys == {"pk": "HASH", "sk": "RANGE"} and attrs == {"pk": "S", "sk": "S"}, "DynamoDB key schema pk (S, hash) / sk (S, range)")
check(t.get("BillingMode") == "PAY_PER_REQUEST", "DynamoDB on demand")
check(t.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled") is True, "DynamoDB point-in-time recovery")

# ---------------------------------------------------------------- Grafana on ECS
one("AWS::ECS::Cluster", "ECS cluster")
tds = of_type("AWS::ECS::TaskDefinition")
td = props(next(iter(tds), ""))
check("FARGATE" in td.get("RequiresCompatibilities", []) and td.get("NetworkMode") == "awsvpc", "Fargate task definition")
check(svc.get("LaunchType") == "FARGATE" and ref_name(svc.get("TaskDefinition")) in tds, "ECS service on Fargate runs the task")
check(svc.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {}).get("AssignPublicIp") == "DISABLED"
      and sorted(ref_name(s) for s in svc["NetworkConfiguration"]["AwsvpcConfiguration"].get("Subnets", [])) == private,
      "Grafana tasks in the private subnets without public IPs")
albs = of_type("AWS::ElasticLoadBalancingV2::LoadBalancer")
alb_name = next(iter(albs), "")
alb = props(alb_name)
check(alb.get("Scheme") == "internet-facing" and alb.get("Type", "application") == "application"
      and sorted(ref_name(s) for s in alb.get("Subnets", [])) == public, "internet-facing ALB in the public subnets")
alb_sgs = {ref_name(s) for s in alb.get("SecurityGroups", [])}
tgs = of_type("AWS::ElasticLoadBalancingV2::TargetGroup")
svc_tgs = {ref_name(lb["TargetGroupArn"]) for lb in svc.get("LoadBalancers", [])}
check(svc_tgs and svc_tgs <= set(tgs), "the service registers with the ALB's target group")
for tg in svc_tgs & set(tgs):
    check(props(tg).get("HealthCheckPath") == "/api/health", f"{tg} health check is Grafana's /api/health")
listeners = of_type("AWS::ElasticLoadBalancingV2::Listener")
check(any(ref_name(l["Properties"]["LoadBalancerArn"]) == alb_name for l in listeners.values()), "the ALB has a listener")
check(len(task_sgs) == 1, "Grafana tasks have one security group", f"{task_sgs}")
for sg in task_sgs:
    rules = ingress(sg)
    check(len(rules) >= 1 and all(ref_name(r.get("SourceSecurityGroupId")) in alb_sgs and not r.get("CidrIp")
                                  and not r.get("CidrIpv6") and not r.get("SourcePrefixListId") for r in rules),
          "the Grafana task security group's only ingress is from the ALB security group",
          f"{[(ref_name(r.get('SourceSecurityGroupId')), r.get('CidrIp')) for r in rules]}")
    check(all(r.get("FromPort") == 3000 and r.get("ToPort") == 3000 for r in rules), "task ingress only on Grafana's port 3000")

# ---------------------------------------------------------------- scaling
targets = of_type("AWS::ApplicationAutoScaling::ScalableTarget")
st = props(next(iter(targets), ""))
check(st.get("ScalableDimension") == "ecs:service:DesiredCount" and svc_name in refs(st.get("ResourceId", "")),
      "scalable target is the Grafana service's desired count")
check(is_param_ref(st.get("MinCapacity")) and is_param_ref(st.get("MaxCapacity")), "min and max tasks are parameters")
pols = [p["Properties"] for p in of_type("AWS::ApplicationAutoScaling::ScalingPolicy").values()]
tt = [p for p in pols if p.get("PolicyType") == "TargetTrackingScaling"]
check(any(p["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]["PredefinedMetricType"]
          == "ECSServiceAverageCPUUtilization" and is_param_ref(p["TargetTrackingScalingPolicyConfiguration"]["TargetValue"])
          for p in tt), "target tracking on ECSServiceAverageCPUUtilization with a parameter target")

# ---------------------------------------------------------------- logs, alarms, dashboard
lgs = of_type("AWS::Logs::LogGroup")
check(len(lgs) >= 2 and all("RetentionInDays" in g["Properties"] for g in lgs.values()), "log groups (Lambda, Grafana) with retention")
check(ref_name(fn.get("LoggingConfig", {}).get("LogGroup")) in lgs, "the function logs to its log group")
cdefs = [c for t in tds.values() for c in t["Properties"].get("ContainerDefinitions", [])]
check(cdefs and all(ref_name(c.get("LogConfiguration", {}).get("Options", {}).get("awslogs-group")) in lgs for c in cdefs),
      "every container (Grafana, big files) logs to its log group")
alarm_metrics = set()
for a in of_type("AWS::CloudWatch::Alarm").values():
    p = a["Properties"]
    check(bool(p.get("AlarmActions")), f"alarm {p.get('AlarmName', '?')} notifies someone")
    if "MetricName" in p:
        alarm_metrics.add((p["Namespace"], p["MetricName"]))
    for m in p.get("Metrics", []):
        if "MetricStat" in m:
            alarm_metrics.add((m["MetricStat"]["Metric"]["Namespace"], m["MetricStat"]["Metric"]["MetricName"]))
wanted = {
    "Lambda errors": {("AWS/Lambda", "Errors")},
    "DLQ messages": {("AWS/SQS", "ApproximateNumberOfMessagesVisible")},
    "RDS CPU": {("AWS/RDS", "CPUUtilization")},
    "RDS free storage": {("AWS/RDS", "FreeStorageSpace")},
    "DynamoDB throttles": {("AWS/DynamoDB", m) for m in ("ThrottledRequests", "WriteThrottleEvents", "ReadThrottleEvents")},
    "ALB 5xx": {("AWS/ApplicationELB", m) for m in ("HTTPCode_Target_5XX_Count", "HTTPCode_ELB_5XX_Count")},
}
for what, ms in wanted.items():
    check(bool(ms & alarm_metrics), f"alarm on {what}")
one("AWS::CloudWatch::Dashboard", "CloudWatch dashboard")

# ---------------------------------------------------------------- IAM: no "*" on "*"
docs = []
for name, r in R.items():
    p = r.get("Properties", {})
    if r["Type"] == "AWS::IAM::Role":
        docs += [(f"{name}/{pol.get('PolicyName')}", pol["PolicyDocument"]) for pol in p.get("Policies", [])]
        for arn in p.get("ManagedPolicyArns", []):
            check("AdministratorAccess" not in str(arn) and "PowerUserAccess" not in str(arn), f"{name} has no admin managed policy")
    elif r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        docs.append((name, p["PolicyDocument"]))
bad = []
for name, doc in docs:
    for st_ in as_list(doc.get("Statement", [])):
        if st_.get("Effect") != "Allow":
            continue
        actions = [a for a in as_list(st_.get("Action", [])) if isinstance(a, str)]
        resources = as_list(st_.get("Resource", []))
        if "NotAction" in st_ or "NotResource" in st_:
            bad.append(f"{name}: NotAction/NotResource")
        wild_action = any(a == "*" or a.endswith(":*") for a in actions)
        if wild_action and "*" in resources:
            bad.append(f"{name}: {actions} on *")
check(docs and not bad, f"no IAM statement grants * (or service:*) on * ({len(docs)} policy documents)", "; ".join(bad))

# ---------------------------------------------------------------- issue 12: deployable defaults
def default(name):
    return P.get(name, {}).get("Default")


# a partitioned load spools its S3 files in /tmp: room for them, not Lambda's 512 MB default
check(is_param_ref(fn.get("EphemeralStorage", {}).get("Size")) and
      default(ref_name(fn["EphemeralStorage"]["Size"])) >= 2048,
      "function /tmp (EphemeralStorage) is a parameter of at least 2048 MB by default",
      f"{fn.get('EphemeralStorage')}")


def cond_if(v):
    """(condition, then, else) of an Fn::If, or None."""
    if isinstance(v, dict) and "Fn::If" in v:
        return tuple(v["Fn::If"])
    return None


conditions = tpl.get("Conditions", {})


def is_param_not_empty(cond, param):
    c = conditions.get(cond)
    return c == {"Fn::Not": [{"Fn::Equals": [{"Ref": param}, ""]}]}


rc = fn.get("ReservedConcurrentExecutions")
ci = cond_if(rc)
check(ci is not None and is_param_not_empty(ci[0], "LambdaReservedConcurrency")
      and ci[1] == {"Ref": "LambdaReservedConcurrency"} and ci[2] == {"Ref": "AWS::NoValue"}
      and default("LambdaReservedConcurrency") == "",
      "no reserved concurrency unless asked: an empty default means AWS::NoValue", f"{rc}")

# HTTPS by default
rules = tpl.get("Rules", {})
check(default("AllowPlainHttp") == "false" and set(P.get("AllowPlainHttp", {}).get("AllowedValues", [])) == {"true", "false"}
      and "TRIALS" in P.get("AllowPlainHttp", {}).get("Description", "").upper(),
      "plain HTTP only as an explicit opt-in parameter, described as for trials")
check(all(k in P and "Default" not in P[k] for k in ("DomainName", "CertificateArn", "AllowedCidr")),
      "DomainName, CertificateArn and AllowedCidr are required parameters (no default)")
check(conditions.get("UseHttps") == {"Fn::Equals": [{"Ref": "AllowPlainHttp"}, "false"]}, "condition UseHttps is AllowPlainHttp false")
https_rule = [r for r in rules.values() if r.get("RuleCondition") == {"Fn::Equals": [{"Ref": "AllowPlainHttp"}, "false"]}]
asserted = {ref_name(a["Assert"]["Fn::Not"][0]["Fn::Equals"][0]) for r in https_rule for a in r.get("Assertions", [])
            if "Fn::Not" in a["Assert"]}
check(asserted >= {"DomainName", "CertificateArn"}, "a rule rejects HTTPS without a domain name and a certificate", f"{asserted}")
http_l = [l["Properties"] for l in listeners.values() if l["Properties"].get("Port") == 80]
https_l = [(n, l) for n, l in listeners.items() if l["Properties"].get("Port") == 443]
redirect = cond_if(http_l[0].get("DefaultActions")) if http_l else None
check(redirect is not None and redirect[0] == "UseHttps"
      and redirect[1][0].get("Type") == "redirect"
      and redirect[1][0].get("RedirectConfig", {}).get("Protocol") == "HTTPS"
      and redirect[1][0]["RedirectConfig"].get("Port") == "443",
      "HTTP redirects to HTTPS (forwarding only with AllowPlainHttp)")
check(len(https_l) == 1 and https_l[0][1].get("Condition") == "UseHttps"
      and https_l[0][1]["Properties"].get("Protocol") == "HTTPS"
      and https_l[0][1]["Properties"].get("Certificates") == [{"CertificateArn": {"Ref": "CertificateArn"}}]
      and "TLS13" in https_l[0][1]["Properties"].get("SslPolicy", ""),
      "an HTTPS listener with the certificate parameter and a TLS 1.3 policy")
task_defs = of_type("AWS::ECS::TaskDefinition")
loader_td_name = next((n for n, t in task_defs.items()
                       if any(c.get("Name") == "csvpipe" for c in t["Properties"].get("ContainerDefinitions", []))), "")
loader_td = props(loader_td_name)
grafana_td_name = ref_name(svc.get("TaskDefinition"))
grafana_td = props(grafana_td_name)
gcdefs = grafana_td.get("ContainerDefinitions", [])
genv = {e["Name"]: e["Value"] for c in gcdefs for e in c.get("Environment", [])}
root = cond_if(genv.get("GF_SERVER_ROOT_URL"))
check(root is not None and root[0] == "UseHttps" and sub_text(root[1]) == "https://${DomainName}/",
      "GF_SERVER_ROOT_URL is https://DomainName/", f"{genv.get('GF_SERVER_ROOT_URL')}")
cookie = cond_if(genv.get("GF_SECURITY_COOKIE_SECURE"))
check(cookie is not None and cookie[0] == "UseHttps" and cookie[1] == "true", "Grafana's cookies are secure over HTTPS")
records = of_type("AWS::Route53::RecordSet")
check(len(records) == 1 and all(r.get("Condition") and is_param_not_empty(r["Condition"], "HostedZoneId")
                                 and ref_name(r["Properties"]["AliasTarget"]["DNSName"]) == alb_name
                                 and r["Properties"].get("Name") == {"Ref": "DomainName"} for r in records.values()),
      "an optional Route 53 alias record: DomainName to the load balancer when HostedZoneId is given")
check(P.get("AllowedCidr", {}).get("Default") != "0.0.0.0/0" and "Default" not in P.get("AllowedCidr", {}),
      "the allowed CIDR has no 0.0.0.0/0 default")

# Database roles: the master secret sets them up, nothing else reads it
secrets = of_type("AWS::SecretsManager::Secret")


def secret_user(name):
    gss = props(name).get("GenerateSecretString", {})
    t = gss.get("SecretStringTemplate")
    t = sub_text(t) if isinstance(t, dict) else t
    m = re.search(r'"username":\s*"([^"]+)"', t or "")
    return m.group(1) if m else None


role_secrets = {secret_user(n): n for n in secrets if secret_user(n) and n != master_secret}
check({"csvpipe_loader", "csvpipe_reader", "csvpipe_grafana"} <= set(role_secrets),
      "a secret per role: loader, read-only reader, Grafana's own", f"{role_secrets}")
loader_secret = role_secrets.get("csvpipe_loader")
reader_secret = role_secrets.get("csvpipe_reader")
grafana_secret = role_secrets.get("csvpipe_grafana")
check(ref_name(env.get("CSVPIPE_SQL_SECRET_ARN")) == loader_secret, "the Lambda's CSVPIPE_SQL_SECRET_ARN is the loader's secret")
readers = {}  # secret -> roles that may GetSecretValue it
role_of_doc = {}
for name, r in R.items():
    if r["Type"] != "AWS::IAM::Role":
        continue
    for pol in r["Properties"].get("Policies", []):
        for st_ in as_list(pol["PolicyDocument"].get("Statement", [])):
            acts = as_list(st_.get("Action", []))
            if st_.get("Effect") == "Allow" and any(a in ("secretsmanager:GetSecretValue", "secretsmanager:*", "*") for a in acts):
                for res in as_list(st_.get("Resource", [])):
                    if res == "*":
                        readers.setdefault("*", set()).add(name)
                    for x in refs(res):
                        readers.setdefault(x, set()).add(name)
setup_name = next(iter(setup_fns), "")
setup_role = ref_name(props(setup_name).get("Role"))
proxy_role = ref_name(proxy.get("RoleArn"))
check(not readers.get("*"), "no role reads every secret", f"{readers.get('*')}")
check(readers.get(master_secret, set()) == {setup_role, proxy_role},
      "only the set-up function and RDS Proxy can read the master secret (the loader cannot)",
      f"{sorted(readers.get(master_secret, set()))}")
fn_role = ref_name(fn.get("Role"))
loader_task_role = ref_name(loader_td.get("TaskRoleArn"))
loader_exec_role = ref_name(loader_td.get("ExecutionRoleArn"))
g_exec_role = ref_name(grafana_td.get("ExecutionRoleArn"))
g_task_role = ref_name(grafana_td.get("TaskRoleArn"))
readable = {role: {s_ for s_, rs in readers.items() if role in rs} for role in
            (fn_role, loader_task_role, loader_exec_role, g_exec_role, g_task_role)}
check(readable[fn_role] == {loader_secret} and readable[loader_task_role] == {loader_secret}
      and not readable[loader_exec_role],
      "the Lambda and the big-file tasks read only the loader's secret", f"{readable}")
check(readable[g_exec_role] - {"GrafanaAdminSecret"} == {reader_secret, grafana_secret} and not readable[g_task_role],
      "Grafana's task reads only the read-only secret (and its own state role's and admin password)",
      f"{readable[g_exec_role]}")
gsecrets = {e["Name"]: e["ValueFrom"] for c in gcdefs for e in c.get("Secrets", [])}
check(refs(gsecrets.get("CSVPIPE_DB_USER")) == {reader_secret} and refs(gsecrets.get("CSVPIPE_DB_PASSWORD")) == {reader_secret},
      "Grafana's datasource logs in as the read-only role")
check(genv.get("GF_DATABASE_TYPE") == "postgres" and genv.get("GF_DATABASE_NAME") == "grafana"
      and refs(gsecrets.get("GF_DATABASE_USER")) == {grafana_secret},
      "Grafana's own state is in database grafana on RDS, as its own role")
cr = next(iter(custom.values()), {}).get("Properties", {})
senv = props(setup_name).get("Environment", {}).get("Variables", {})
check(ref_name(senv.get("CSVPIPE_SETUP_MASTER_SECRET_ARN")) == master_secret
      and ref_name(senv.get("CSVPIPE_SETUP_LOADER_SECRET_ARN")) == loader_secret
      and ref_name(senv.get("CSVPIPE_SETUP_READER_SECRET_ARN")) == reader_secret
      and ref_name(senv.get("CSVPIPE_SETUP_GRAFANA_SECRET_ARN")) == grafana_secret
      and props(setup_name).get("ImageConfig", {}).get("Command") == ["db-setup", "--lambda"],
      "the set-up function runs `csvpipe db-setup --lambda` with the master and role secrets")
custom_name = next(iter(custom), "")
check(custom_name in as_list(R.get(fn_name, {}).get("DependsOn", []))
      and custom_name in as_list(R.get(svc_name, {}).get("DependsOn", [])),
      "the ingest function and the Grafana service wait for the roles")

# RDS Proxy and TLS
check(proxy.get("RequireTLS") is True and proxy.get("EngineFamily") == "POSTGRESQL"
      and {ref_name(a["SecretArn"]) for a in proxy.get("Auth", [])} == {master_secret, loader_secret, reader_secret, grafana_secret},
      "RDS Proxy: TLS required, the users' secrets")
ptg = [t["Properties"] for t in of_type("AWS::RDS::DBProxyTargetGroup").values()]
check(len(ptg) == 1 and ref_name(ptg[0].get("DBProxyName")) == proxy_name
      and [ref_name(i) for i in ptg[0].get("DBInstanceIdentifiers", [])] == [db_name]
      and is_param_ref(ptg[0].get("ConnectionPoolConfigurationInfo", {}).get("MaxConnectionsPercent")),
      "the proxy's target is the database, its share of max_connections a parameter")
proxy_rules = [r for sg in proxy_sgs for r in ingress(sg)]
check({ref_name(r.get("SourceSecurityGroupId")) for r in proxy_rules}
      == set(lambda_sg) | set(task_sgs) | {ref_name(env.get("CSVPIPE_ECS_SECURITY_GROUPS"))}
      and all(not r.get("CidrIp") for r in proxy_rules),
      "only the Lambdas, the big-file tasks and Grafana reach the proxy",
      f"{[ref_name(r.get('SourceSecurityGroupId')) for r in proxy_rules]}")
for what, vars_ in (("the ingest function", env), ("the set-up function", senv),
                    ("the big-file task", {e["Name"]: e["Value"] for c in loader_td.get("ContainerDefinitions", [])
                                           for e in map(if_true, c.get("Environment", []))})):
    check(ref_name(vars_.get("PGHOST")) == proxy_name and vars_.get("PGSSLMODE") == "verify-full"
          and str(vars_.get("PGSSLROOTCERT", "")).startswith("/etc/ssl/certs/"),
          f"{what} connects to the proxy with sslmode=verify-full against the system CA bundle")
check(genv.get("GF_DATABASE_SSL_MODE") == "verify-full" and ref_name(genv.get("CSVPIPE_DB_HOST")) == proxy_name,
      "Grafana connects to the proxy with verify-full too")

# Least privilege: the actions csvpipe calls, read from its source
SRC = os.path.join(os.environ.get("CP_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "src")


def src(path):
    with open(os.path.join(SRC, path)) as f:
        return f.read()


s3c, ddbc, secc, ecsc = src("aws/s3.c"), src("aws/dynamodb.c"), src("aws/secrets.c"), src("aws/ecs.c")
gluec = src("aws/glue.c")
itemsc = src("load/items_dynamodb.c")
calls = {  # IAM action: evidence in the code that it is called at run time
    "s3:GetObject": '.method = "HEAD"' in s3c and '.method = "GET"' in s3c,
    "s3:GetObjectVersion": "versionId=" in s3c,
    "s3:PutObject": '"uploads="' in s3c and '.method = "PUT"' in s3c,
    "s3:AbortMultipartUpload": "uploadId=" in s3c and '.method = "DELETE"' in s3c,
    "s3:DeleteObject": "cp_s3_delete" in s3c,
    "dynamodb:BatchWriteItem": "DynamoDB_20120810.BatchWriteItem" in ddbc and "cp_ddb_writer_add" in itemsc,
    "secretsmanager:GetSecretValue": "secretsmanager.GetSecretValue" in secc,
    "ecs:RunTask": '"RunTask"' in ecsc,
    "ecs:DescribeTasks": '"DescribeTasks"' in ecsc,
    "iam:PassRole": '"RunTask"' in ecsc,  # RunTask passes the task's roles
    "s3:ListBucket": '"list-type=2&prefix="' in s3c,  # a partitioned load's stale files
    "glue:GetTable": '"GetTable"' in gluec,
    "glue:CreateTable": '"CreateTable"' in gluec,
    "glue:UpdateTable": '"UpdateTable"' in gluec,
    "glue:BatchCreatePartition": '"BatchCreatePartition"' in gluec,
    "glue:BatchDeletePartition": '"BatchDeletePartition"' in gluec,
}
check(all(calls.values()), "every action csvpipe calls is found in its source", f"{[k for k, v in calls.items() if not v]}")
platform = {"logs:CreateLogStream", "logs:PutLogEvents", "sqs:SendMessage", "ec2:CreateNetworkInterface",
            "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"}


def actions_of(role):
    out = set()
    for pol in props(role).get("Policies", []):
        for st_ in as_list(pol["PolicyDocument"].get("Statement", [])):
            if st_.get("Effect") == "Allow":
                out |= set(as_list(st_.get("Action", [])))
    return out


for role, what in ((fn_role, "the ingest Lambda"), (loader_task_role, "the big-file task")):
    extra = actions_of(role) - platform - set(calls)
    check(not extra, f"{what}'s role grants only actions csvpipe calls", f"{sorted(extra)}")
check(actions_of(fn_role) >= set(calls), "the ingest Lambda may make every call csvpipe makes",
      f"{sorted(set(calls) - actions_of(fn_role))}")
check(actions_of(loader_task_role) >= set(calls) - {"ecs:RunTask", "ecs:DescribeTasks", "iam:PassRole"},
      "the big-file task may make every load call (no ECS)")

# Big files on ECS Fargate
cluster = next(iter(of_type("AWS::ECS::Cluster")), "")
lc = next(iter(loader_td.get("ContainerDefinitions", [])), {})
check(loader_td.get("RequiresCompatibilities") == ["FARGATE"] and loader_td.get("NetworkMode") == "awsvpc"
      and is_param_ref(loader_td.get("Cpu")) and is_param_ref(loader_td.get("Memory"))
      and lc.get("EntryPoint") == ["/usr/local/bin/csvpipe"]
      and "LambdaRepository" in refs(lc.get("Image")),
      "a Fargate task definition runs the Lambda's image with entry point csvpipe")
check(ref_name(lc.get("LogConfiguration", {}).get("Options", {}).get("awslogs-group")) in lgs, "the big-file task logs to its log group")
check(ref_name(env.get("CSVPIPE_ECS_CLUSTER")) == cluster and ref_name(env.get("CSVPIPE_ECS_TASK_DEFINITION")) == loader_td_name
      and env.get("CSVPIPE_ECS_CONTAINER") == lc.get("Name")
      and refs(env.get("CSVPIPE_ECS_SUBNETS")) == set(private)
      and ref_name(env.get("CSVPIPE_ECS_SECURITY_GROUPS")) not in (None, *lambda_sg, *task_sgs),
      "the Lambda knows the cluster, task definition, container, private subnets and the tasks' own security group")
stmts = [st_ for pol in props(fn_role).get("Policies", []) for st_ in as_list(pol["PolicyDocument"]["Statement"])]
run_st = [st_ for st_ in stmts if "ecs:RunTask" in as_list(st_.get("Action", []))]
pass_st = [st_ for st_ in stmts if "iam:PassRole" in as_list(st_.get("Action", []))]
check(len(run_st) == 1 and (sub_text(run_st[0]["Resource"]) or "").endswith(":task-definition/${Name}-loader:*")
      and props(loader_td_name).get("Family") == {"Fn::Sub": "${Name}-loader"}
      and "ecs:cluster" in str(run_st[0].get("Condition")),
      "ecs:RunTask on the big-file task definition only, in the stack's cluster")
check(len(pass_st) == 1 and sorted(ref_name(x) for x in as_list(pass_st[0]["Resource"])) == sorted([loader_task_role, loader_exec_role])
      and pass_st[0].get("Condition", {}).get("StringEquals", {}).get("iam:PassedToService") == "ecs-tasks.amazonaws.com",
      "iam:PassRole on the task's two roles only, to ECS tasks only")
check(endpoint("ecs") is not None, "an ECS interface endpoint (the Lambda has no internet)")
check(ref_name(lc.get("Environment") and {e["Name"]: e["Value"] for e in map(if_true, lc["Environment"])}.get("CSVPIPE_SQL_SECRET_ARN")) == loader_secret,
      "the big-file task loads as the loader role")

# Fargate CPU/memory pairs: a rule for every CPU value that allows exactly the valid memory
FARGATE = {256: [512, 1024, 2048], 512: list(range(1024, 4097, 1024)), 1024: list(range(2048, 8193, 1024)),
           2048: list(range(4096, 16385, 1024)), 4096: list(range(8192, 30721, 1024))}
for cpu_p, mem_p in (("GrafanaCpu", "GrafanaMemory"), ("LoaderTaskCpu", "LoaderTaskMemory")):
    ok = True
    for cpu in P[cpu_p]["AllowedValues"]:
        rs = [r for r in rules.values() if r.get("RuleCondition") == {"Fn::Equals": [{"Ref": cpu_p}, str(cpu)]}]
        allowed = set()
        for r in rs:
            for a in r.get("Assertions", []):
                c = a["Assert"].get("Fn::Contains")
                if c and c[1] == {"Ref": mem_p}:
                    allowed |= {int(x) for x in c[0]}
        offered = {int(m) for m in P[mem_p]["AllowedValues"]}
        if allowed != set(FARGATE[int(cpu)]) & offered or not allowed:
            ok = False
    check(ok, f"Rules reject invalid Fargate pairs of {cpu_p}/{mem_p}")

check(all(props(r).get("ImageTagMutability") == "IMMUTABLE" for r in repos), "ECR tags are immutable")
check(alb_attrs.get("access_logs.s3.enabled") == "true" and alb_attrs.get("access_logs.s3.prefix"),
      "the load balancer writes access logs")
lbp = [p_["Properties"] for p_ in of_type("AWS::S3::BucketPolicy").values() if ref_name(p_["Properties"]["Bucket"]) == logs_bucket]
check(bool(lbp) and any(st_.get("Effect") == "Allow" and st_.get("Action") == "s3:PutObject"
                        for st_ in as_list(lbp[0]["PolicyDocument"]["Statement"])),
      "the log bucket lets Elastic Load Balancing write")
check("postgresql" in db.get("EnableCloudwatchLogsExports", []), "RDS exports its PostgreSQL log to CloudWatch")

# ---------------------------------------------------------------- the lake (issue 16)
glue_dbs = of_type("AWS::Glue::Database")
lake_db = next(iter(glue_dbs), None)
check(len(glue_dbs) == 1 and props(lake_db).get("DatabaseInput", {}).get("Name") == {"Ref": "LakeDatabaseName"},
      "a Glue database for the lake, named by a parameter")
loader_env = {e["Name"]: e["Value"] for c in loader_td.get("ContainerDefinitions", [])
              for e in map(if_true, c.get("Environment", []))}
for what, vars_ in (("the ingest function", env), ("the big-file task", loader_env)):
    check(sub_text(vars_.get("CSVPIPE_CATALOG")) == "glue:${" + str(lake_db) + "}",
          f"{what} registers its datasets in that database (CSVPIPE_CATALOG)")
part_env = env.get("CSVPIPE_PARTITION_BY", {}).get("Fn::If", [None, None, None])
check(P.get("PartitionBy", {}).get("Default") == "" and part_env == ["HasPartitionBy", {"Ref": "PartitionBy"}, {"Ref": "AWS::NoValue"}]
      and loader_env.get("CSVPIPE_PARTITION_BY") == {"Ref": "PartitionBy"},
      "CSVPIPE_PARTITION_BY: the PartitionBy parameter, empty (unset) by default, for the function and the task")
for role, what in ((fn_role, "the ingest Lambda"), (loader_task_role, "the big-file task")):
    glue_st = [st_ for pol in props(role).get("Policies", []) for st_ in as_list(pol["PolicyDocument"]["Statement"])
               if any(str(a).startswith("glue:") for a in as_list(st_.get("Action", [])))]
    res = [sub_text(r) or "" for st_ in glue_st for r in as_list(st_.get("Resource"))]
    check(bool(res) and all(r.endswith(":catalog") or r.endswith(":database/${" + str(lake_db) + "}")
                            or r.endswith(":table/${" + str(lake_db) + "}/*") for r in res),
          f"{what}'s Glue permissions are scoped to the lake database and its tables", f"{res}")
    list_st = [st_ for pol in props(role).get("Policies", []) for st_ in as_list(pol["PolicyDocument"]["Statement"])
               if st_.get("Action") == "s3:ListBucket" and ref_name(st_.get("Resource")) in output_buckets]
    check(len(list_st) == 1 and sorted(list_st[0].get("Condition", {}).get("StringLike", {}).get("s3:prefix", []))
          == ["json/*", "parquet/*"], f"{what} lists the output bucket under parquet/ and json/ only")
e = endpoint("glue")
check(e is not None and e.get("VpcEndpointType") == "Interface" and e.get("PrivateDnsEnabled") is True
      and sorted(ref_name(s_) for s_ in e.get("SubnetIds", [])) == private,
      "interface endpoint for Glue in the private subnets (the Lambda has no internet)")
wg = next(iter(workgroups.values()), {}).get("Properties", {})
wgc = wg.get("WorkGroupConfiguration", {})
check(len(workgroups) == 1 and wgc.get("EnforceWorkGroupConfiguration") is True
      and wgc.get("ResultConfiguration", {}).get("EncryptionConfiguration", {}).get("EncryptionOption") in ("SSE_S3", "SSE_KMS", "CSE_KMS"),
      "an Athena workgroup whose encrypted results go to its own bucket, enforced")
rules_ = props(athena_bucket).get("LifecycleConfiguration", {}).get("Rules", []) if athena_bucket else []
check(any(r.get("Status") == "Enabled" and r.get("ExpirationInDays") for r in rules_),
      "Athena's results expire (lifecycle rule)")

# ---------------------------------------------------------------- outputs
outs = tpl.get("Outputs", {})
for what, needle in (("input bucket", input_bucket), ("output bucket", output_buckets[0] if output_buckets else "?"),
                     ("Grafana URL", alb_name), ("DB endpoint", db_name), ("table name", next(iter(tables), "?"))):
    check(any(needle in refs(o.get("Value")) for o in outs.values()), f"output: {what}")

rep.done()
