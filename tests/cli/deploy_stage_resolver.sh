#!/usr/bin/env bash
# tests/deploy/rehearsal.py on a template of its own: every kind of reference the stack
# may give the function (ECS cluster, task definition, subnets and security groups joined,
# roles, an RDS proxy, a secret whose string is built from the database's endpoint, a
# dynamic reference, conditions, mappings, selects, lists) resolves to a live stand-in in
# moto or the test's PostgreSQL, and the master user logs in with the generated password
# only; a reference nothing maps (a resource its condition leaves out, a type without a
# stand-in, an unknown attribute, a parameter without a default, an SSM reference) fails
# and names the variable.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/pg/pg.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"
REHEARSAL="$CP_SOURCE_DIR/tests/deploy/rehearsal.py"
cd "$TMP"
pg_start
moto_start
trap 'pg_cleanup; aws_cleanup' EXIT
ADMIN="host=$PG_DIR port=$PG_PORT user=csvpipe"

cat >tpl.yaml <<'EOF'
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Name: { Type: String, Default: demo }
  Mode: { Type: String, Default: fast, AllowedValues: [fast, slow] }
  Zones: { Type: CommaDelimitedList, Default: "a,b" }
  NoDefault: { Type: String }
Mappings:
  Sizes: { fast: { Cpu: "1024" }, slow: { Cpu: "256" } }
Conditions:
  IsFast: !Equals [!Ref Mode, fast]
  Never: !Not [!Condition IsFast]
Resources:
  In:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: !Sub "${Name}-in"
      NotificationConfiguration:
        LambdaConfigurations:
          - Event: "s3:ObjectCreated:*"
            Filter: { S3Key: { Rules: [{ Name: prefix, Value: up/ }, { Name: suffix, Value: .csv }] } }
            Function: !GetAtt Fn.Arn
  Vpc: { Type: AWS::EC2::VPC, Properties: { CidrBlock: 10.9.0.0/16 } }
  SubA: { Type: AWS::EC2::Subnet, Properties: { VpcId: !Ref Vpc, CidrBlock: 10.9.1.0/24, AvailabilityZone: !Select [0, !GetAZs ""] } }
  SubB: { Type: AWS::EC2::Subnet, Properties: { VpcId: !Ref Vpc, CidrBlock: 10.9.2.0/24 } }
  Sg: { Type: AWS::EC2::SecurityGroup, Properties: { GroupDescription: tasks, VpcId: !Ref Vpc } }
  Cluster: { Type: AWS::ECS::Cluster, Properties: { ClusterName: !Sub "${Name}-cluster" } }
  TaskRole: { Type: AWS::IAM::Role, Properties: { AssumeRolePolicyDocument: {} } }
  Task:
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: !Sub "${Name}-big"
      Memory: "2048"
      ContainerDefinitions:
        - Name: csvpipe
          Image: x
          EntryPoint: [/usr/local/bin/csvpipe]
          Command: [run, --help]
          Environment:
            - { Name: OUT, Value: !Sub "s3://${In}/" }
            - { Name: PGHOST, Value: !GetAtt Proxy.Endpoint }
            - !If [Never, { Name: GONE, Value: x }, !Ref AWS::NoValue]
  Master:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: !Sub "${Name}/master"
      GenerateSecretString:
        SecretStringTemplate: '{"username": "demo_master", "dbname": "demo"}'
        GenerateStringKey: password
        PasswordLength: 20
        ExcludeCharacters: "\"@/\\'"
  MasterAttachment:
    Type: AWS::SecretsManager::SecretTargetAttachment
    Properties: { SecretId: !Ref Master, TargetId: !Ref Db, TargetType: AWS::RDS::DBInstance }
  Db:
    Type: AWS::RDS::DBInstance
    Properties:
      DBName: demo
      MasterUsername: !Sub "{{resolve:secretsmanager:${Master}:SecretString:username}}"
      MasterUserPassword: !Sub "{{resolve:secretsmanager:${Master}:SecretString:password}}"
  Proxy: { Type: AWS::RDS::DBProxy, Properties: { DBProxyName: !Sub "${Name}-proxy" } }
  Loader:
    Type: AWS::SecretsManager::Secret
    Properties:
      Name: !Sub "${Name}/loader"
      SecretString: !Sub '{"username": "loader", "password": "pw", "host": "${Proxy.Endpoint}", "port": ${Db.Endpoint.Port}, "dbname": "demo"}'
  Never1: { Type: AWS::SQS::Queue, Condition: Never }
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: !Sub "${Name}-fn"
      MemorySize: 1024
      Timeout: 60
      Environment:
        Variables:
          CLUSTER: !Ref Cluster
          CLUSTER_ARN: !GetAtt Cluster.Arn
          TASK: !Ref Task
          SUBNETS: !Join [",", [!Ref SubA, !Ref SubB]]
          SG: !GetAtt Sg.GroupId
          ROLE: !GetAtt TaskRole.Arn
          SECRET: !Ref Loader
          MASTER: !Ref Master
          CPU: !FindInMap [Sizes, !Ref Mode, Cpu]
          ZONE: !Select [1, !Ref Zones]
          FAST: !If [IsFast, "yes", "no"]
          GONE: !If [Never, "x", !Ref AWS::NoValue]
          USER: "{{resolve:secretsmanager:demo/master:SecretString:username}}"
          LITERAL: 7
          PGHOST: !GetAtt Proxy.Endpoint
          PGPORT: "5432"
EOF

run python3 "$REHEARSAL" stage --template tpl.yaml --out stage.json --pg-admin "$ADMIN" \
    --pg-host localhost --pg-port "$PG_PORT"
expect_rc "stage the synthetic template" 0
sed 's/^/    /' "$TMP/err" | head -5
if [ "$rc" -eq 0 ]; then
    python3 - stage.json "$PG_PORT" >checks.out <<'PY'
import json, os, sys
import boto3
j = json.load(open(sys.argv[1]))
env, port = j["environment"], int(sys.argv[2])
c = lambda n: boto3.client(n, endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
def check(cond, what):
    print(("ok - " if cond else "not ok - ") + what + ("" if cond else f": {json.dumps(env)}"))
check(j["function"] == "Fn" and j["timeout_s"] == 60, "the function the notification invokes, its timeout")
check(j["lambda_environment"]["AWS_LAMBDA_FUNCTION_NAME"] == "demo-fn"
      and j["lambda_environment"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "1024", "name and memory for the Lambda variables")
check(j["notifications"] == [{"bucket": "demo-in", "event": "s3:ObjectCreated:*", "prefix": "up/", "suffix": ".csv"}],
      "the notification: bucket, event, filter")
check(env["CLUSTER"] == "demo-cluster" and c("ecs").describe_clusters(clusters=[env["CLUSTER_ARN"]])["clusters"],
      "ECS cluster: name and ARN of a moto cluster")
td = c("ecs").describe_task_definition(taskDefinition=env["TASK"])["taskDefinition"]
check(td["family"] == "demo-big" and [x["name"] for x in td["containerDefinitions"]] == ["csvpipe"],
      "task definition: a moto task definition of the family and container names")
subnets = c("ec2").describe_subnets(SubnetIds=env["SUBNETS"].split(","))["Subnets"]
check(sorted(s["CidrBlock"] for s in subnets) == ["10.9.1.0/24", "10.9.2.0/24"]
      and len({s["VpcId"] for s in subnets}) == 1 and "us-east-1a" in {s["AvailabilityZone"] for s in subnets},
      "subnets joined: moto subnets of the template's ranges, one VPC, the selected zone")
check(c("ec2").describe_security_groups(GroupIds=[env["SG"]])["SecurityGroups"][0]["VpcId"] == subnets[0]["VpcId"],
      "security group in the same VPC")
check(env["ROLE"].startswith("arn:aws:iam::123456789012:role/"), "role ARN of a moto role")
loader = json.loads(c("secretsmanager").get_secret_value(SecretId=env["SECRET"])["SecretString"])
check(loader == {"username": "loader", "password": "pw", "host": "localhost", "port": port, "dbname": "demo"},
      "a secret string built from the proxy's and the database's endpoints")
master = json.loads(c("secretsmanager").get_secret_value(SecretId=env["MASTER"])["SecretString"])
check(master["username"] == "demo_master" and len(master["password"]) == 20
      and not set(master["password"]) & set("\"@/\\'") and master["host"] == "localhost"
      and master["port"] == port and master["engine"] == "postgres" and master["dbname"] == "demo",
      "the master secret: template, generated password of its length and alphabet, attachment's fields")
check(env["CPU"] == "1024" and env["ZONE"] == "b" and env["FAST"] == "yes" and "GONE" not in env
      and env["LITERAL"] == "7", "mappings, list parameters, conditions, AWS::NoValue, numbers")
check(env["USER"] == "demo_master", "a dynamic reference to a stand-in secret")
check(j["postgres"]["databases"] == ["demo"], "the database RDS would create")
check(env["PGHOST"] == "localhost" and env["PGPORT"] == str(port),
      "PGHOST an RDS Proxy's endpoint: PGPORT 5432 mapped to the test's server")
cd = td["containerDefinitions"][0]
check(cd.get("entryPoint") == ["/usr/local/bin/csvpipe"] and cd.get("command") == ["run", "--help"]
      and {e["name"]: e["value"] for e in cd.get("environment", [])} == {"OUT": "s3://demo-in/", "PGHOST": "localhost", "PGPORT": str(port)}
      and j["task_definitions"]["Task"]["family"] == "demo-big",
      "task definition registered with the container's entry point, command and environment (proxy port mapped, NoValue dropped)")
json.dump(master, open("master.json", "w"))
PY
    cat checks.out
    passes=$((passes + $(grep -c '^ok' checks.out || true)))
    failures=$((failures + $(grep -c '^not ok' checks.out || true)))
    # The master user logs in over TCP with the generated password only.
    sed -i 's/^host.*trust$/host all all 127.0.0.1\/32 scram-sha-256/' "$PG_DATA/pg_hba.conf"
    pg_ctl_run reload >/dev/null
    pw=$(json_get master.json 'j["password"]')
    expect_eq "the master user logs in to its database with the secret's password" \
        "$(PGPASSWORD=$pw psql "host=127.0.0.1 port=$PG_PORT user=demo_master dbname=demo" -X -t -A -c 'SELECT current_user' 2>&1)" \
        "demo_master"
    expect_eq "and not with another" \
        "$(PGPASSWORD=wrong psql "host=127.0.0.1 port=$PG_PORT user=demo_master dbname=demo" -X -t -A -c 'SELECT 1' >/dev/null 2>&1 && echo in || echo refused)" \
        "refused"
fi

# Each of these must fail, naming the variable and the reference (one Python process for
# all: loading cfn-lint's template decoder is most of a run's time).
cat >bad.tsv <<'EOF'
a resource its condition leaves out	!GetAtt Never1.Arn	Never1: its condition Never is false
unknown attribute	!GetAtt Vpc.CidrBlockAssociations	Vpc.CidrBlockAssociations
no default	!Ref NoDefault	NoDefault: the parameter has no default
ssm	"{{resolve:ssm:/x}}"	only Secrets Manager
type without a stand-in	!Ref MasterAttachment	no local stand-in for a AWS::SecretsManager::SecretTargetAttachment
EOF
# Two more: a port a proxy does not serve, a task definition's variable nothing maps.
printf '%s\t%s\t%s\n' "a proxy on a port but 5432" "PGPORT: \"6432\"" "PGPORT 6432 with PGHOST an RDS Proxy endpoint" \
    "a task definition's variable nothing maps" "TASK_BAD" "TASK: Task container csvpipe Environment BAD: !GetAtt Vpc.CidrBlockAssociations" >>bad.tsv
run python3 - tpl.yaml bad.tsv "$ADMIN" "$PG_PORT" <<'PY'
import argparse, contextlib, io, os, re, sys, urllib.request
sys.path.insert(0, os.path.join(os.environ["CP_SOURCE_DIR"], "tests", "deploy"))
import rehearsal
text = open(sys.argv[1]).read()
for n, line in enumerate(open(sys.argv[2])):
    name, value, pattern = line.rstrip("\n").split("\t")
    path = f"bad-{n}.yaml"
    if value.startswith("PGPORT: "):
        bad, pattern = text.replace('          PGPORT: "5432"', "          " + value), r"Fn: " + re.escape(pattern)
    elif value == "TASK_BAD":
        bad = text.replace("            - { Name: OUT,", "            - { Name: BAD, Value: !GetAtt Vpc.CidrBlockAssociations }\n            - { Name: OUT,")
        pattern = r"Variables\." + re.escape(pattern)
    else:
        bad = text.replace("          LITERAL: 7", "          LITERAL: 7\n          BAD: " + value)
        pattern = r"Variables\.BAD: .*" + re.escape(pattern)
    open(path, "w").write(bad)
    urllib.request.urlopen(urllib.request.Request(os.environ["MOTO_URL"] + "/moto-api/reset", method="POST")).read()
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        rc = rehearsal.stage(argparse.Namespace(template=path, param=[], pg_admin=sys.argv[3],
                                                pg_host="localhost", pg_port=sys.argv[4], out="bad.json"))
    ok = rc == 1 and re.search(pattern, err.getvalue())
    print(("ok - " if ok else "not ok - ") + f"{name}: staging fails naming the variable and the reference"
          + ("" if ok else f": exit {rc}: {err.getvalue().strip()[-300:]}"))
PY
expect_rc "the failing cases ran" 0
cat "$TMP/out"
passes=$((passes + $(grep -c '^ok' "$TMP/out" || true)))
failures=$((failures + $(grep -c '^not ok' "$TMP/out" || true)))
finish
