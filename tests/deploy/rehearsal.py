#!/usr/bin/env python3
"""The deployed stack, staged locally: the ingest Lambda's settings read from the
CloudFormation template and every resource they name stood in for by moto or by the test's
PostgreSQL.

  rehearsal.py stage --out STAGE.json --pg-admin CONNINFO --pg-host HOST --pg-port PORT
                     [--template T] [--param KEY=VALUE]...

Endpoint and credentials of moto from the environment (AWS_ENDPOINT_URL, AWS_REGION). The
function is the one the template's S3 notification invokes. Its Environment.Variables are
resolved the way CloudFormation would:

  !Ref Parameter          the parameter's default (or --param; a parameter without either
                          fails); pseudo parameters: moto's account and region
  !Ref / !GetAtt / !Sub / dynamic references {{resolve:secretsmanager:...}} of a resource
                          a local stand-in chosen by the resource's Type (STANDINS below),
                          created on first use from the resource's own properties
  !If / !Equals / !Not / !And / !Or / !Select / !Join / !Split / !FindInMap / !GetAZs
                          evaluated; AWS::NoValue drops the variable

A reference nothing here can map (an unknown type or attribute, an import, an SSM parameter)
is an error that names the variable and the reference: the test fails rather than run with a
setting the deployed function would not have.

The stand-ins by type:
  AWS::S3::Bucket                 a moto bucket named by BucketName
  AWS::DynamoDB::Table            a moto table with the template's key schema and attributes
  AWS::SecretsManager::Secret     a moto secret: GenerateSecretString's template plus a
                                  password of its length and alphabet; a
                                  SecretTargetAttachment to a database adds host, port,
                                  engine and dbInstanceIdentifier, as AWS does
  AWS::RDS::DBInstance/DBCluster  the local PostgreSQL: its master user (MasterUsername,
                                  MasterUserPassword, dynamic references resolved) and DBName
                                  are created there as RDS creates them; Endpoint.Address is
                                  --pg-host, Endpoint.Port --pg-port
  AWS::RDS::DBProxy(Endpoint)     the same PostgreSQL (Endpoint is --pg-host); a proxy
                                  serves PostgreSQL on 5432 only, so an environment whose
                                  PGHOST is its endpoint gets PGPORT --pg-port (any PGPORT
                                  but 5432 there is an error)
  AWS::ECS::Cluster               a moto cluster; AWS::ECS::TaskDefinition a moto task
                                  definition registered from the template's: family, CPU,
                                  memory, each container's name, entry point, command and
                                  environment resolved as above (the image under test)
  AWS::EC2::VPC/Subnet/SecurityGroup, AWS::IAM::Role, AWS::SQS::Queue, AWS::SNS::Topic
                                  moto resources of the same names and address ranges
  AWS::Logs::LogGroup, AWS::ECR::Repository, AWS::Lambda::Function
                                  names and ARNs only
  AWS::Glue::Database             a moto Glue database named by DatabaseInput.Name

STAGE.json holds: "function" (logical id), "environment" (the template's variables,
resolved), "lambda_environment" (what the Lambda service adds: function name, memory, region,
TZ, ...), "timeout_s", "vpc" (the function's subnets and security groups), "notifications"
(bucket, events, prefix and suffix of each S3 notification that invokes the function),
"setup" (the function behind the custom resource that runs db-setup: its command and
environment, resolved the same way), "task_definitions" (logical id -> family, ARN and the
containers as registered in moto), "mapped" (the address mappings made), "postgres"
(databases created) and "standins" (logical id -> type, local name and what !Ref gives).
"""
import argparse
import json
import os
import random
import re
import string
import subprocess
import sys

import boto3

from cfn import TEMPLATE, load_template

ACCOUNT = "123456789012"  # moto's default account
STACK = "csvpipe"


class CannotMap(Exception):
    pass


def quote_ident(name):
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text):
    return "'" + text.replace("'", "''") + "'"


class Stage:
    def __init__(self, tpl, params, pg_admin, pg_host, pg_port, endpoint, region):
        self.tpl = tpl
        self.res = tpl.get("Resources", {})
        self.params = params
        self.pg_admin = pg_admin
        self.pg_host = pg_host
        self.pg_port = int(pg_port)
        self.endpoint = endpoint
        self.region = region
        self.standins = {}  # logical id -> {"type", "name", ...}
        self.proxy_hosts = set()  # stand-in endpoints of RDS proxies
        self.mapped = []  # the address mappings made, for the test's log
        self.databases = []
        self.rng = random.Random(12)
        self._clients = {}

    def client(self, name):
        if name not in self._clients:
            self._clients[name] = boto3.client(name, endpoint_url=self.endpoint, region_name=self.region)
        return self._clients[name]

    # ------------------------------------------------------------------ intrinsics
    def param(self, name):
        if name in self.params:
            p = self.tpl.get("Parameters", {}).get(name, {})
            if p.get("Type", "").startswith(("List<", "CommaDelimitedList")):
                return self.params[name].split(",")
            return self.params[name]
        pseudo = {"AWS::AccountId": ACCOUNT, "AWS::Region": self.region, "AWS::Partition": "aws",
                  "AWS::URLSuffix": "amazonaws.com", "AWS::StackName": STACK,
                  "AWS::StackId": f"arn:aws:cloudformation:{self.region}:{ACCOUNT}:stack/{STACK}/rehearsal"}
        if name in pseudo:
            return pseudo[name]
        p = self.tpl.get("Parameters", {}).get(name)
        if p is None:
            raise CannotMap(f"!Ref {name}: neither a parameter nor a resource of the template")
        if "Default" not in p:
            raise CannotMap(f"!Ref {name}: the parameter has no default (pass --param {name}=...)")
        value = p["Default"]
        if p.get("Type", "").startswith(("List<", "CommaDelimitedList")) and isinstance(value, str):
            return value.split(",")
        return value if isinstance(value, list) else str(value)

    def condition(self, name):
        conds = self.tpl.get("Conditions", {})
        if name not in conds:
            raise CannotMap(f"condition {name} is not in the template")
        return bool(self.resolve(conds[name]))

    def resolve(self, node):
        """node with every intrinsic function evaluated; NoValue for AWS::NoValue."""
        if isinstance(node, list):
            out = [self.resolve(v) for v in node]
            return [v for v in out if v is not NoValue]
        if isinstance(node, str):
            return self.dynamic_refs(node)
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (fn, arg), = node.items()
            if fn == "Ref":
                return self.ref(arg)
            if fn == "Fn::GetAtt":
                logical, attr = (arg if isinstance(arg, list) else arg.split(".", 1))
                return self.getatt(logical, self.resolve(attr))
            if fn == "Fn::Sub":
                return self.sub(arg)
            if fn == "Fn::Join":
                return self.resolve(arg[0]).join(str(v) for v in self.resolve(arg[1]))
            if fn == "Fn::Select":
                return self.resolve(arg[1])[int(self.resolve(arg[0]))]
            if fn == "Fn::Split":
                return self.resolve(arg[1]).split(self.resolve(arg[0]))
            if fn == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
            if fn == "Fn::Equals":
                a, b = (self.resolve(v) for v in arg)
                return str(a) == str(b)
            if fn == "Fn::Not":
                return not self.resolve(arg[0])
            if fn == "Fn::And":
                return all(self.resolve(v) for v in arg)
            if fn == "Fn::Or":
                return any(self.resolve(v) for v in arg)
            if fn == "Condition":
                return self.condition(arg)
            if fn == "Fn::FindInMap":
                m, k1, k2 = (self.resolve(v) for v in arg)
                return self.tpl["Mappings"][m][k1][k2]
            if fn == "Fn::GetAZs":
                return [f"{self.region}{z}" for z in "abc"]
            if fn.startswith("Fn::") or fn == "Ref":
                raise CannotMap(f"{fn} {json.dumps(arg)}: not something a local stand-in can answer")
        out = {}
        for k, v in node.items():
            r = self.resolve(v)
            if r is not NoValue:
                out[k] = r
        return out

    def sub(self, arg):
        text, local = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def one(m):
            name = m.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in local:
                return str(local[name])
            if "." in name and not name.startswith("AWS::"):
                logical, attr = name.split(".", 1)
                return str(self.getatt(logical, attr))
            return str(self.ref(name))

        return self.dynamic_refs(re.sub(r"\$\{([^}]+)\}", one, text))

    def dynamic_refs(self, text):
        def one(m):
            parts = m.group(1).split(":")
            if parts[0] != "secretsmanager":
                raise CannotMap(f"{{{{resolve:{m.group(1)}}}}}: only Secrets Manager references have a stand-in")
            # secretsmanager:ID[:SecretString[:KEY[:STAGE[:VERSION]]]]; ID may be an ARN.
            if parts[1] == "arn":
                secret_id, rest = ":".join(parts[1:8]), parts[8:]
            else:
                secret_id, rest = parts[1], parts[2:]
            value = self.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
            if len(rest) >= 2 and rest[1]:
                return str(json.loads(value)[rest[1]])
            return value

        return re.sub(r"\{\{resolve:([^}]+)\}\}", one, text)

    # ------------------------------------------------------------------ stand-ins
    def resource(self, logical):
        r = self.res.get(logical)
        if r is None:
            raise CannotMap(f"{logical}: not a resource of the template")
        if "Condition" in r and not self.condition(r["Condition"]):
            raise CannotMap(f"{logical}: its condition {r['Condition']} is false with these parameters")
        return r

    def ref(self, name):
        if name == "AWS::NoValue":
            return NoValue
        if name in self.res:
            return self.standin(name)["ref"]
        return self.param(name)

    def getatt(self, logical, attr):
        s = self.standin(logical)
        if attr not in s["attrs"]:
            raise CannotMap(f"!GetAtt {logical}.{attr}: no stand-in for this attribute of {s['type']}")
        return s["attrs"][attr]

    def prop(self, logical, key, default=None):
        v = self.resource(logical).get("Properties", {}).get(key)
        return default if v is None else self.resolve(v)

    def name_of(self, logical, key, fallback=None):
        return self.prop(logical, key) or fallback or f"{STACK}-{logical.lower()}"

    def standin(self, logical):
        if logical in self.standins:
            s = self.standins[logical]
            if s.get("pending"):
                raise CannotMap(f"{logical}: refers to itself through its own properties")
            return s
        r = self.resource(logical)
        kind = r["Type"]
        make = STANDINS.get(kind)
        if make is None:
            raise CannotMap(f"{logical}: no local stand-in for a {kind}")
        self.standins[logical] = {"type": kind, "pending": True}
        s = make(self, logical)
        s["type"] = kind
        self.standins[logical] = s
        if kind in AFTER:
            AFTER[kind](self, logical, s)
        return s

    def map_proxy_port(self, env, where):
        """env with PGPORT the test server's when PGHOST is a proxy's endpoint: RDS Proxy
        serves PostgreSQL on 5432 only, so any other PGPORT is an error."""
        if env.get("PGHOST") not in self.proxy_hosts:
            return env
        port = env.get("PGPORT", "5432")
        if port != "5432":
            raise CannotMap(f"{where}: PGPORT {port} with PGHOST an RDS Proxy endpoint (a proxy listens on 5432)")
        env = dict(env, PGPORT=str(self.pg_port))
        self.mapped.append(f"{where}: PGHOST {env['PGHOST']}:5432 (RDS Proxy) -> {self.pg_host}:{self.pg_port}")
        return env

    def environment(self, logical):
        """A function's Environment.Variables, resolved, the proxy's port mapped."""
        variables = self.resource(logical).get("Properties", {}).get("Environment", {}).get("Variables", {})
        env = {}
        for k, v in variables.items():
            try:
                r = self.resolve(v)
            except CannotMap as e:
                raise CannotMap(f"{logical} Environment.Variables.{k}: {e}") from None
            if r is NoValue:
                continue
            if isinstance(r, (dict, list)):
                raise CannotMap(f"{logical} Environment.Variables.{k}: resolves to {json.dumps(r)}, not a string")
            env[k] = str(r).lower() if isinstance(r, bool) else str(r)
        return self.map_proxy_port(env, logical)

    def psql(self, sql):
        """One query on the admin connection (a libpq conninfo) to database postgres."""
        r = subprocess.run(["psql", self.pg_admin + " dbname=postgres", "-X", "-q", "-t", "-A",
                            "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"rehearsal: psql failed: {sql.split(' PASSWORD ')[0]}: {r.stderr.strip()}")
        return r.stdout.strip()

    def structure(self, node):
        """node with only Fn::If evaluated (and AWS::NoValue dropped): references stay."""
        if isinstance(node, list):
            return [v for v in (self.structure(x) for x in node) if v is not NoValue]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Fn::If"}:
            cond, yes, no = node["Fn::If"]
            return self.structure(yes if self.condition(cond) else no)
        if node == {"Ref": "AWS::NoValue"}:
            return NoValue
        return {k: v for k, v in ((k, self.structure(v)) for k, v in node.items()) if v is not NoValue}


class _NoValue:
    def __repr__(self):
        return "AWS::NoValue"


NoValue = _NoValue()


def bucket(st, logical):
    name = st.name_of(logical, "BucketName")
    st.client("s3").create_bucket(Bucket=name)
    versioning = st.prop(logical, "VersioningConfiguration")
    if versioning:
        st.client("s3").put_bucket_versioning(Bucket=name, VersioningConfiguration=versioning)
    return {"ref": name, "name": name, "attrs": {"Arn": f"arn:aws:s3:::{name}"}}


def table(st, logical):
    name = st.name_of(logical, "TableName")
    p = st.resource(logical).get("Properties", {})
    kw = {"TableName": name, "KeySchema": st.resolve(p["KeySchema"]),
          "AttributeDefinitions": st.resolve(p["AttributeDefinitions"]), "BillingMode": "PAY_PER_REQUEST"}
    if "GlobalSecondaryIndexes" in p:
        kw["GlobalSecondaryIndexes"] = st.resolve(p["GlobalSecondaryIndexes"])
    arn = st.client("dynamodb").create_table(**kw)["TableDescription"]["TableArn"]
    return {"ref": name, "name": name, "attrs": {"Arn": arn}}


def generated(st, spec):
    alphabet = string.ascii_letters + string.digits
    if not spec.get("ExcludePunctuation"):
        alphabet += string.punctuation
    if spec.get("IncludeSpace"):
        alphabet += " "
    alphabet = "".join(c for c in alphabet if c not in spec.get("ExcludeCharacters", ""))
    return "".join(st.rng.choice(alphabet) for _ in range(int(spec.get("PasswordLength", 32))))


def secret(st, logical):
    name = st.name_of(logical, "Name")
    value = st.prop(logical, "SecretString")
    spec = st.prop(logical, "GenerateSecretString")
    if value is None and spec is not None:
        if "SecretStringTemplate" in spec:
            doc = json.loads(spec["SecretStringTemplate"])
            doc[spec["GenerateStringKey"]] = generated(st, spec)
            value = json.dumps(doc)
        else:
            value = generated(st, spec)
    if value is None:
        raise CannotMap(f"{logical}: a secret with neither SecretString nor GenerateSecretString")
    arn = st.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
    return {"ref": arn, "name": name, "attrs": {"Id": arn}}


def after_secret(st, logical, s):
    """SecretTargetAttachments naming this secret: the target's connection details join it,
    and the target database gets created (its master user may come from this secret)."""
    for other, r in st.res.items():
        if r["Type"] != "AWS::SecretsManager::SecretTargetAttachment":
            continue
        if r.get("Properties", {}).get("SecretId") != {"Ref": logical}:
            continue
        target = r["Properties"]["TargetId"].get("Ref")
        kind = st.res.get(target, {}).get("Type")
        if kind not in ("AWS::RDS::DBInstance", "AWS::RDS::DBCluster"):
            raise CannotMap(f"{other}: TargetId is not a !Ref of an RDS instance or cluster")
        sm = st.client("secretsmanager")
        doc = json.loads(sm.get_secret_value(SecretId=s["ref"])["SecretString"])
        ident_key = "dbClusterIdentifier" if kind.endswith("Cluster") else "dbInstanceIdentifier"
        doc.update({"host": st.pg_host, "port": st.pg_port, "engine": "postgres", ident_key: db_identifier(st, target)})
        sm.put_secret_value(SecretId=s["ref"], SecretString=json.dumps(doc))
        s["attached_to"] = target
        if not st.standins.get(target, {}).get("pending"):
            st.standin(target)


def db_identifier(st, logical):
    key = "DBClusterIdentifier" if st.res[logical]["Type"].endswith("Cluster") else "DBInstanceIdentifier"
    return st.name_of(logical, key)


def database(st, logical):
    """The test's PostgreSQL as RDS makes an instance: the master user and the database."""
    ident = db_identifier(st, logical)
    user = st.prop(logical, "MasterUsername")
    password = st.prop(logical, "MasterUserPassword")
    dbname = st.prop(logical, "DBName") or st.prop(logical, "DatabaseName")
    if not user or not password:
        raise CannotMap(f"{logical}: no MasterUsername/MasterUserPassword to create the master user from")
    exists = st.psql(f"SELECT 1 FROM pg_roles WHERE rolname = {quote_literal(user)}")
    verb = "ALTER" if exists else "CREATE"
    st.psql(f"{verb} ROLE {quote_ident(user)} LOGIN CREATEDB CREATEROLE PASSWORD {quote_literal(password)}")
    if dbname:
        if not st.psql(f"SELECT 1 FROM pg_database WHERE datname = {quote_literal(dbname)}"):
            st.psql(f"CREATE DATABASE {quote_ident(dbname)} OWNER {quote_ident(user)}")
        st.databases.append(dbname)
    return {"ref": ident, "name": ident, "master_user": user, "dbname": dbname, "attrs": {
        "Endpoint.Address": st.pg_host, "Endpoint.Port": str(st.pg_port), "ReadEndpoint.Address": st.pg_host,
        "DBInstanceArn": f"arn:aws:rds:{st.region}:{ACCOUNT}:db:{ident}"}}


def proxy(st, logical):
    """RDS Proxy: the test's PostgreSQL. A proxy for PostgreSQL listens on 5432 only, so the
    clients' PGHOST of its endpoint and PGPORT 5432 are mapped to the test's server
    (Stage.map_proxy_port)."""
    name = st.name_of(logical, "DBProxyName")
    st.proxy_hosts.add(st.pg_host)
    return {"ref": name, "name": name, "attrs": {
        "Endpoint": st.pg_host, "DBProxyArn": f"arn:aws:rds:{st.region}:{ACCOUNT}:db-proxy:{name}"}}


def ecs_cluster(st, logical):
    name = st.name_of(logical, "ClusterName")
    arn = st.client("ecs").create_cluster(clusterName=name)["cluster"]["clusterArn"]
    return {"ref": name, "name": name, "attrs": {"Arn": arn}}


def task_definition(st, logical):
    """A moto task definition registered as the template's: family, CPU, memory and each
    container's name, entry point, command and environment resolved like the function's
    (a variable nothing maps fails here too). The image is the one under test."""
    p = st.resource(logical).get("Properties", {})
    family = st.name_of(logical, "Family")
    containers = []
    for c in p.get("ContainerDefinitions", []):
        name = st.resolve(c["Name"])
        env = {}
        for e in st.structure(c.get("Environment", [])):
            try:
                value = st.resolve(e["Value"])
            except CannotMap as err:
                raise CannotMap(f"{logical} container {name} Environment {e.get('Name')}: {err}") from None
            if value is not NoValue:
                env[st.resolve(e["Name"])] = str(value)
        env = st.map_proxy_port(env, f"{logical} container {name}")
        d = {"name": name, "image": "localhost/csvpipe-lambda:latest", "essential": True,
             "memory": int(st.resolve(p.get("Memory", 512))),
             "environment": [{"name": k, "value": v} for k, v in sorted(env.items())]}
        for key, api in (("EntryPoint", "entryPoint"), ("Command", "command")):
            if key in c:
                d[api] = [str(v) for v in st.resolve(c[key])]
        containers.append(d)
    arn = st.client("ecs").register_task_definition(
        family=family, containerDefinitions=containers, networkMode=st.resolve(p.get("NetworkMode", "awsvpc")),
        requiresCompatibilities=st.resolve(p.get("RequiresCompatibilities", ["FARGATE"])),
        cpu=str(st.resolve(p.get("Cpu", "256"))),
        memory=str(st.resolve(p.get("Memory", "512"))))["taskDefinition"]["taskDefinitionArn"]
    return {"ref": arn, "name": family, "arn": arn, "containers": containers,
            "attrs": {"TaskDefinitionArn": arn}}


def vpc(st, logical):
    ec2 = st.client("ec2")
    vid = ec2.create_vpc(CidrBlock=st.prop(logical, "CidrBlock", "10.0.0.0/16"))["Vpc"]["VpcId"]
    # As the template sets them (moto's RunTask in a subnet needs DNS hostnames, as AWS's
    # private DNS names of the tasks' interfaces do).
    for key in ("EnableDnsSupport", "EnableDnsHostnames"):
        value = st.prop(logical, key)
        if value is not None:
            ec2.modify_vpc_attribute(VpcId=vid, **{key: {"Value": str(value).lower() == "true"}})
    return {"ref": vid, "name": vid, "attrs": {}}


def subnet(st, logical):
    kw = {"VpcId": st.prop(logical, "VpcId"), "CidrBlock": st.prop(logical, "CidrBlock")}
    az = st.prop(logical, "AvailabilityZone")
    if az:
        kw["AvailabilityZone"] = az
    sid = st.client("ec2").create_subnet(**kw)["Subnet"]["SubnetId"]
    return {"ref": sid, "name": sid, "attrs": {"SubnetId": sid}}


def security_group(st, logical):
    name = st.name_of(logical, "GroupName", f"{STACK}-{logical}")
    gid = st.client("ec2").create_security_group(
        GroupName=name, Description=st.prop(logical, "GroupDescription", logical),
        VpcId=st.prop(logical, "VpcId"))["GroupId"]
    return {"ref": gid, "name": name, "attrs": {"GroupId": gid}}


def role(st, logical):
    name = st.name_of(logical, "RoleName", f"{STACK}-{logical}")
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {
        "Service": ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"]}}]}
    arn = st.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    return {"ref": name, "name": name, "attrs": {"Arn": arn}}


def queue(st, logical):
    name = st.name_of(logical, "QueueName")
    url = st.client("sqs").create_queue(QueueName=name)["QueueUrl"]
    return {"ref": url, "name": name, "attrs": {"Arn": f"arn:aws:sqs:{st.region}:{ACCOUNT}:{name}", "QueueName": name}}


def topic(st, logical):
    name = st.name_of(logical, "TopicName")
    arn = st.client("sns").create_topic(Name=name)["TopicArn"]
    return {"ref": arn, "name": name, "attrs": {"TopicName": name}}


def log_group(st, logical):
    name = st.name_of(logical, "LogGroupName")
    return {"ref": name, "name": name, "attrs": {"Arn": f"arn:aws:logs:{st.region}:{ACCOUNT}:log-group:{name}:*"}}


def repository(st, logical):
    name = st.name_of(logical, "RepositoryName")
    return {"ref": name, "name": name, "attrs": {
        "Arn": f"arn:aws:ecr:{st.region}:{ACCOUNT}:repository/{name}",
        "RepositoryUri": f"{ACCOUNT}.dkr.ecr.{st.region}.amazonaws.com/{name}"}}


def glue_database(st, logical):
    name = st.resolve(st.resource(logical).get("Properties", {}).get("DatabaseInput", {}).get("Name"))
    st.client("glue").create_database(DatabaseInput={"Name": name})
    return {"ref": name, "name": name, "attrs": {}}


def function(st, logical):
    name = st.name_of(logical, "FunctionName")
    return {"ref": name, "name": name, "attrs": {"Arn": f"arn:aws:lambda:{st.region}:{ACCOUNT}:function:{name}"}}


STANDINS = {
    "AWS::S3::Bucket": bucket,
    "AWS::DynamoDB::Table": table,
    "AWS::SecretsManager::Secret": secret,
    "AWS::RDS::DBInstance": database,
    "AWS::RDS::DBCluster": database,
    "AWS::RDS::DBProxy": proxy,
    "AWS::RDS::DBProxyEndpoint": proxy,
    "AWS::ECS::Cluster": ecs_cluster,
    "AWS::ECS::TaskDefinition": task_definition,
    "AWS::EC2::VPC": vpc,
    "AWS::EC2::Subnet": subnet,
    "AWS::EC2::SecurityGroup": security_group,
    "AWS::IAM::Role": role,
    "AWS::SQS::Queue": queue,
    "AWS::SNS::Topic": topic,
    "AWS::Logs::LogGroup": log_group,
    "AWS::ECR::Repository": repository,
    "AWS::Lambda::Function": function,
    "AWS::Glue::Database": glue_database,
}
# What else a stand-in brings along once it exists (attachments that name it).
AFTER = {"AWS::SecretsManager::Secret": after_secret}


def invoked_by_s3(st):
    """(function logical id, [notification]) of the one function S3 notifications invoke."""
    found = {}
    for logical, r in st.res.items():
        if r["Type"] != "AWS::S3::Bucket":
            continue
        conf = st.structure(r.get("Properties", {}).get("NotificationConfiguration", NoValue))
        if conf is NoValue:
            continue
        for lc in conf.get("LambdaConfigurations", []):
            fn = lc["Function"]
            if "Fn::GetAtt" in fn:
                ga = fn["Fn::GetAtt"]
                target = ga[0] if isinstance(ga, list) else ga.split(".")[0]
            else:
                target = fn.get("Ref")
            rules = {r["Name"].lower(): r["Value"] for r in lc.get("Filter", {}).get("S3Key", {}).get("Rules", [])}
            found.setdefault(target, []).append({"bucket_logical": logical, "event": st.resolve(lc["Event"]),
                                                  "prefix": st.resolve(rules.get("prefix", "")),
                                                  "suffix": st.resolve(rules.get("suffix", ""))})
    if len(found) != 1:
        raise CannotMap(f"expected one function invoked by S3 notifications, found {sorted(found)}")
    return next(iter(found.items()))


def database_setup(st):
    """The function behind the custom resource that sets up the database roles (a custom
    resource whose ServiceToken is a function of the image run with db-setup): its command
    and environment, resolved. None when the template has none."""
    for logical, r in st.res.items():
        if not r["Type"].startswith("Custom::") and r["Type"] != "AWS::CloudFormation::CustomResource":
            continue
        if "Condition" in r and not st.condition(r["Condition"]):
            continue
        token = r.get("Properties", {}).get("ServiceToken", {})
        ga = token.get("Fn::GetAtt") if isinstance(token, dict) else None
        if not ga:
            continue
        fn = ga[0] if isinstance(ga, list) else ga.split(".")[0]
        image = st.prop(fn, "ImageConfig", {})
        command = image.get("EntryPoint", []) + image.get("Command", [])
        if "db-setup" not in command:
            continue
        return {"resource": logical, "function": fn, "command": command, "environment": st.environment(fn)}
    return None


def stage(args):
    tpl = load_template(args.template)
    params = dict(p.split("=", 1) for p in args.param)
    unknown = sorted(set(params) - set(tpl.get("Parameters", {})))
    if unknown:
        print(f"rehearsal: --param {', '.join(unknown)}: not a parameter of the template", file=sys.stderr)
        return 2
    st = Stage(tpl, params, args.pg_admin, args.pg_host, args.pg_port,
               os.environ["AWS_ENDPOINT_URL"], os.environ.get("AWS_REGION", "us-east-1"))
    try:
        logical, notes = invoked_by_s3(st)
        fn = st.resource(logical)
        props = fn.get("Properties", {})
        env = st.environment(logical)
        for n in notes:
            n["bucket"] = st.standin(n.pop("bucket_logical"))["name"]
        name = st.name_of(logical, "FunctionName")
        memory = str(st.prop(logical, "MemorySize", 128))
        timeout = int(st.prop(logical, "Timeout", 3))
        log_group_name = st.resolve(props.get("LoggingConfig", {}).get("LogGroup", f"/aws/lambda/{name}"))
        vpc = st.prop(logical, "VpcConfig", {})
        setup = database_setup(st)
    except CannotMap as e:
        print(f"rehearsal: cannot stage the template: {e}", file=sys.stderr)
        return 1
    # What the Lambda service itself sets in a function's environment (reserved variables;
    # credentials come from the test's moto settings).
    lambda_env = {
        "AWS_LAMBDA_FUNCTION_NAME": name, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": memory,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_GROUP_NAME": log_group_name,
        "AWS_LAMBDA_LOG_STREAM_NAME": "2024/03/01/[$LATEST]rehearsal",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "AWS_EXECUTION_ENV": "AWS_Lambda_Image",
        "AWS_REGION": st.region, "AWS_DEFAULT_REGION": st.region, "TZ": ":UTC", "LANG": "en_US.UTF-8",
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LD_LIBRARY_PATH": "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
    }
    out = {"function": logical, "environment": env, "lambda_environment": lambda_env, "timeout_s": timeout,
           "vpc": {"subnets": vpc.get("SubnetIds", []), "security_groups": vpc.get("SecurityGroupIds", [])},
           "notifications": notes, "postgres": {"databases": st.databases}, "setup": setup,
           "task_definitions": {k: {"family": v["name"], "arn": v["arn"], "containers": v["containers"]}
                                for k, v in st.standins.items() if v["type"] == "AWS::ECS::TaskDefinition"},
           "mapped": st.mapped,
           "standins": {k: {"type": v["type"], "name": v["name"], "ref": v["ref"]} for k, v in st.standins.items()}}
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("stage")
    s.add_argument("--template", default=TEMPLATE)
    s.add_argument("--param", action="append", default=[])
    s.add_argument("--pg-admin", required=True,
                   help="libpq conninfo (keyword=value, no dbname) of a superuser of the test's PostgreSQL")
    s.add_argument("--pg-host", required=True, help="the database host the image connects to")
    s.add_argument("--pg-port", required=True)
    s.add_argument("--out", required=True)
    args = ap.parse_args()
    return stage(args)


if __name__ == "__main__":
    sys.exit(main())
