#!/usr/bin/env python3
"""Structural checks of deploy/cloudformation/csvpipe.yaml: every piece issue 8 asks for is
there and keeps its promises (network isolation, encryption, no recursive invocation,
least-privilege IAM). Prints one ok/not ok line per check; exits 1 on any failure.
"""
import sys

from cfn import Report, load_template, refs, walk

tpl = load_template(sys.argv[1]) if len(sys.argv) > 1 else load_template()
R = tpl["Resources"]
P = tpl.get("Parameters", {})
rep = Report()
check = rep.check


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
check(len(buckets) == 2, "an input bucket and a separate output bucket", f"{sorted(buckets)}")
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
check(len(functions) == 1, "one Lambda function", f"{sorted(functions)}")
fn_name = next(iter(functions), "")
fn = props(fn_name)


def notifications(bucket):
    nc = props(bucket).get("NotificationConfiguration")
    if isinstance(nc, dict) and "Fn::If" in nc:  # the bootstrap deploy has no function yet
        nc = nc["Fn::If"][1]
    return nc or {}


notifying = [b for b in buckets if notifications(b)]
check(len(notifying) == 1, "exactly one bucket sends notifications", f"{notifying}")
input_bucket = notifying[0] if notifying else None
output_buckets = [b for b in buckets if b != input_bucket]
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
for k in ("MemorySize", "Timeout", "ReservedConcurrentExecutions"):
    check(is_param_ref(fn.get(k)), f"function {k} is a parameter")
fn_subnets = sorted(ref_name(s) for s in fn.get("VpcConfig", {}).get("SubnetIds", []))
check(fn_subnets == private, "function runs in the private subnets", f"{fn_subnets}")
check({"CSVPIPE_OUT", "CSVPIPE_SQL_SECRET_ARN", "CSVPIPE_NOSQL"} <= set(env), "function environment names out, SQL secret, NoSQL table")
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
      == [("s3:GetObject", "${Name}-input-${AWS::AccountId}-${AWS::Region}/${SchemaPrefix}*"),
          ("s3:ListBucket", "${Name}-input-${AWS::AccountId}-${AWS::Region}")]
      and all(g.get("Condition", {"StringLike": {"s3:prefix": {"Fn::Sub": "${SchemaPrefix}*"}}})
              == {"StringLike": {"s3:prefix": {"Fn::Sub": "${SchemaPrefix}*"}}} for g in schema_grants),
      "schema files: GetObject under SchemaPrefix, ListBucket only for that prefix", f"{schema_grants}")
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
secret_arn = env.get("CSVPIPE_SQL_SECRET_ARN")
attach = [a for a in of_type("AWS::SecretsManager::SecretTargetAttachment").values()
          if ref_name(a["Properties"]["TargetId"]) == db_name]
check((ref_name(secret_arn) in {ref_name(a["Properties"]["SecretId"]) for a in attach})
      or (isinstance(secret_arn, dict) and "MasterUserSecret" in str(secret_arn)),
      "CSVPIPE_SQL_SECRET_ARN is the database's secret (with host, port, dbname attached)")
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
check(db_rules and all("CidrIp" not in r and "CidrIpv6" not in r and "SourcePrefixListId" not in r for r in db_rules)
      and {ref_name(r.get("SourceSecurityGroupId")) for r in db_rules} == set(lambda_sg) | set(task_sgs),
      "only the Lambda and Grafana security groups reach RDS",
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
cdefs = td.get("ContainerDefinitions", [])
check(all(ref_name(c.get("LogConfiguration", {}).get("Options", {}).get("awslogs-group")) in lgs for c in cdefs),
      "Grafana containers log to their log group")
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

# ---------------------------------------------------------------- outputs
outs = tpl.get("Outputs", {})
for what, needle in (("input bucket", input_bucket), ("output bucket", output_buckets[0] if output_buckets else "?"),
                     ("Grafana URL", alb_name), ("DB endpoint", db_name), ("table name", next(iter(tables), "?"))):
    check(any(needle in refs(o.get("Value")) for o in outs.values()), f"output: {what}")

rep.done()
