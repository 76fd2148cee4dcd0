"""awspy.py - boto3 as the independent reader and writer for the AWS tests.

Usage: awspy.py COMMAND ARGS...   (endpoint and credentials from the environment)
  mb BUCKET                  create a bucket
  versioning BUCKET          turn versioning on
  put BUCKET KEY FILE        upload a file
  md5 BUCKET KEY             md5 of an object (hex)
  exists BUCKET KEY          prints yes or no
  ls BUCKET PREFIX           the keys under PREFIX, one per line, sorted
  get BUCKET KEY FILE        download an object
  rm BUCKET KEY              delete an object
  uploads BUCKET             number of multipart uploads in progress
  parts-md5 BUCKET KEY       the object's ETag (shows its part count)
  secret NAME VALUE          create a Secrets Manager secret
  ddb-scan TABLE OUT         every item of a table as NDJSON (DynamoDB JSON) into OUT
  ddb-check TABLE N SOURCE   keyless items of SOURCE: exactly rows 1..N, each once, right values
  ddb-missing TABLE DATASET SOURCE N
                             the rows of 1..N whose keyless item a Scan lacks, and for each
                             whether GetItem finds it (a Scan's miss, or an item not stored)
"""
import hashlib
import json
import os
import sys

import boto3

ep = os.environ.get("AWS_ENDPOINT_URL")


def client(name):
    return boto3.client(name, endpoint_url=ep, region_name=os.environ.get("AWS_REGION", "us-east-1"))


def scan(table):
    ddb = client("dynamodb")
    items, kw = [], {"TableName": table}
    while True:
        r = ddb.scan(**kw)
        items += r["Items"]
        if "LastEvaluatedKey" not in r:
            return items
        kw["ExclusiveStartKey"] = r["LastEvaluatedKey"]


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "mb":
        client("s3").create_bucket(Bucket=args[0])
    elif cmd == "versioning":
        client("s3").put_bucket_versioning(Bucket=args[0],
                                           VersioningConfiguration={"Status": "Enabled"})
    elif cmd == "put":
        client("s3").upload_file(args[2], args[0], args[1])
    elif cmd == "md5":
        body = client("s3").get_object(Bucket=args[0], Key=args[1])["Body"]
        h = hashlib.md5()
        for chunk in iter(lambda: body.read(1 << 20), b""):
            h.update(chunk)
        print(h.hexdigest())
    elif cmd == "exists":
        try:
            client("s3").head_object(Bucket=args[0], Key=args[1])
            print("yes")
        except client("s3").exceptions.ClientError as e:
            if e.response["Error"]["Code"] not in ("404", "NoSuchKey"):
                raise
            print("no")
    elif cmd == "ls":
        keys, kw = [], {"Bucket": args[0], "Prefix": args[1]}
        while True:
            r = client("s3").list_objects_v2(**kw)
            keys += [o["Key"] for o in r.get("Contents", [])]
            if not r.get("IsTruncated"):
                break
            kw["ContinuationToken"] = r["NextContinuationToken"]
        for k in sorted(keys):
            print(k)
    elif cmd == "get":
        client("s3").download_file(args[0], args[1], args[2])
    elif cmd == "rm":
        client("s3").delete_object(Bucket=args[0], Key=args[1])
    elif cmd == "uploads":
        r = client("s3").list_multipart_uploads(Bucket=args[0])
        print(len(r.get("Uploads", [])))
    elif cmd == "parts-md5":
        print(client("s3").head_object(Bucket=args[0], Key=args[1])["ETag"].strip('"'))
    elif cmd == "secret":
        client("secretsmanager").create_secret(Name=args[0], SecretString=args[1])
    elif cmd == "ddb-scan":
        with open(args[1], "w") as f:
            for it in scan(args[0]):
                f.write(json.dumps(it, sort_keys=True) + "\n")
    elif cmd == "ddb-check":
        table, n, source = args[0], int(args[1]), args[2]
        items = [it for it in scan(table) if it["_source"]["S"] == source]
        rows = sorted(int(it["_row"]["N"]) for it in items)
        problems = []
        if rows != list(range(1, n + 1)):
            problems.append(f"{len(rows)} items, rows {rows[:3]}..{rows[-3:]}; want 1..{n}")
        for it in items:
            r = int(it["_row"]["N"])
            want_pk = f"sales#{source}#{r % 128}"
            if it["pk"]["S"] != want_pk or it["sk"]["S"] != f"{r:012d}":
                problems.append(f"row {r}: key {it['pk']['S']} / {it['sk']['S']}")
            if it["id"] != {"N": str(r)} or it["price"] != {"N": f"{r}.90"}:
                problems.append(f"row {r}: id {it['id']} price {it['price']}")
            if it["name"] != {"S": f"name \"{r}\" é"}:
                problems.append(f"row {r}: name {it['name']}")
            if "note" in it and r % 3 != 0:
                problems.append(f"row {r}: null note present")
            if r % 3 == 0 and it.get("note") != {"S": f"n{r}"}:
                problems.append(f"row {r}: note {it.get('note')}")
            if it["_dataset"] != {"S": "sales"}:
                problems.append(f"row {r}: _dataset {it['_dataset']}")
        for p in problems[:10]:
            print("problem:", p)
        print(f"{len(items)} items, {len(problems)} problems")
        return 1 if problems else 0
    elif cmd == "ddb-missing":
        table, dataset, source, n = args[0], args[1], args[2], int(args[3])
        seen = {int(it["_row"]["N"]) for it in scan(table) if it["_source"]["S"] == source}
        missing = [r for r in range(1, n + 1) if r not in seen]
        ddb = client("dynamodb")
        for r in missing[:20]:
            key = {"pk": {"S": f"{dataset}#{source}#{r % 128}"}, "sk": {"S": f"{r:012d}"}}
            stored = "Item" in ddb.get_item(TableName=table, Key=key, ConsistentRead=True)
            print(f"row {r}: {'in the table, missed by the Scan' if stored else 'not in the table'}")
        print(f"{len(missing)} of {n} rows missing from the Scan")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
