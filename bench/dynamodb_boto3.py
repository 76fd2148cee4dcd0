"""dynamodb_boto3.py TABLE NDJSON (endpoint: AWS_ENDPOINT_URL_DYNAMODB): the boto3 side of bench/dynamodb_vs_boto3.sh.

Puts every item of NDJSON (csvpipe's --json-style dynamodb output: one {"Item": {...}} in
DynamoDB JSON a line, the items csvpipe's DynamoDB sink writes) into TABLE with
Table.batch_writer(), the way a boto3 program loads a table: 25 items a request, one request
at a time, UnprocessedItems resent. One process, one thread. Prints the items written and
the seconds the loop took (reading, deserializing and writing)."""
import json
import os
import sys
import time

import boto3
from boto3.dynamodb.types import TypeDeserializer

table_name, path = sys.argv[1:]
endpoint = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
table = boto3.resource("dynamodb", endpoint_url=endpoint).Table(table_name)
des = TypeDeserializer()
n = 0
t0 = time.monotonic()
with table.batch_writer() as w, open(path, encoding="utf-8") as f:
    for line in f:
        item = json.loads(line)["Item"]
        w.put_item(Item={k: des.deserialize(v) for k, v in item.items()})
        n += 1
print(n, round(time.monotonic() - t0, 3))
