# Where the AWS client finds credentials, each proven by a request moto verifies (signature
# checking on): the environment, the shared credentials file with a profile, a fake ECS
# container endpoint (with its authorization token) and a fake IMDSv2, both on loopback.
source "$(dirname "$0")/lib.bash"
source "$CP_SOURCE_DIR/tests/aws/moto.bash"

moto_start
moto_enable_auth
python3 "$AWS_PY" mb csvpipe-in
echo "a,b" >"$TMP/obj"
python3 "$AWS_PY" put csvpipe-in k.csv "$TMP/obj"
AK=$AWS_ACCESS_KEY_ID
SK=$AWS_SECRET_ACCESS_KEY

run "$AWS_TOOL" creds
expect_rc "credentials from the environment" 0
expect_out "environment first" "^environment $AK -$"
run "$AWS_TOOL" get s3://csvpipe-in/k.csv
expect_rc "GET with environment credentials" 0

unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
cat >"$TMP/credentials" <<EOC
[default]
aws_access_key_id = AKIAWRONGWRONGWRONG0
aws_secret_access_key = wrong

[ci]
# the moto IAM user
aws_access_key_id = $AK
aws_secret_access_key = $SK
EOC
export AWS_SHARED_CREDENTIALS_FILE="$TMP/credentials"
AWS_PROFILE=ci run "$AWS_TOOL" creds
expect_rc "credentials from the shared file" 0
expect_out "shared file, profile ci" "^shared credentials file $AK -$"
AWS_PROFILE=ci run "$AWS_TOOL" get s3://csvpipe-in/k.csv
expect_rc "GET with the profile's credentials" 0
run "$AWS_TOOL" get s3://csvpipe-in/k.csv
expect_rc "the default profile has wrong keys" 1
expect_err "and says so" "HTTP 403.*credentials"

export AWS_SHARED_CREDENTIALS_FILE="$TMP/none"
run "$AWS_TOOL" get s3://csvpipe-in/k.csv
expect_rc "no credentials anywhere" 1
expect_err "says where credentials come from" "no AWS credentials: set AWS_ACCESS_KEY_ID"

# temporary credentials of a role assumed in moto: moto checks their session token, so it
# must travel as X-Amz-Security-Token inside the signature
read -r TAK TSK TTOK < <(AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK python3 - <<'PY'
import boto3, json, os
ep = os.environ["MOTO_URL"]
iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1")
user = iam.get_user(UserName="csvpipe-test")["User"]["Arn"]
role = iam.create_role(RoleName="csvpipe-task", AssumeRolePolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": user},
                                            "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
iam.put_role_policy(RoleName="csvpipe-task", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
c = boto3.client("sts", endpoint_url=ep, region_name="us-east-1").assume_role(
    RoleArn=role, RoleSessionName="csvpipe")["Credentials"]
print(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
PY
)
rm -f "$TMP/fake.port"
FAKE_AK=$TAK FAKE_SK=$TSK FAKE_TOKEN=$TTOK CSVPIPE_FAKE_TOKEN="Bearer t0k" \
    bg_start fake python3 "$CP_SOURCE_DIR/tests/aws/fake_creds.py" "$TMP/fake.port" 120
wait_file "$TMP/fake.port" 20
FAKE="http://127.0.0.1:$(cat "$TMP/fake.port")"

AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAKE/creds AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer t0k" \
    run "$AWS_TOOL" creds
expect_rc "credentials from the container endpoint" 0
expect_out "container endpoint" "^container endpoint $TAK token$"
AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAKE/creds AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer t0k" \
    run "$AWS_TOOL" get s3://csvpipe-in/k.csv
expect_rc "GET with container credentials and a session token" 0
AWS_CONTAINER_CREDENTIALS_FULL_URI=$FAKE/creds AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer nope" \
    run "$AWS_TOOL" creds
expect_rc "a wrong container token" 1
expect_err "is reported" "container credentials endpoint.*HTTP 401"
AWS_CONTAINER_CREDENTIALS_FULL_URI=http://example.com/creds run "$AWS_TOOL" creds
expect_rc "a non-loopback http container URI is refused" 1

AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=$FAKE run "$AWS_TOOL" creds
expect_rc "credentials from instance metadata" 0
expect_out "IMDSv2" "^instance metadata $TAK token$"
AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT=$FAKE \
    run "$AWS_TOOL" get s3://csvpipe-in/k.csv
expect_rc "GET with instance metadata credentials" 0
expect_eq "IMDSv2 token first, then role, then credentials" \
    "$(grep -c 'PUT /latest/api/token 200' "$TMP/fake.log")" 2
AWS_EC2_METADATA_SERVICE_ENDPOINT=$FAKE run "$AWS_TOOL" creds
expect_rc "AWS_EC2_METADATA_DISABLED=true skips IMDS" 1

finish
