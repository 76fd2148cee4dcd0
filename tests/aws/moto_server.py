"""moto_server.py - moto's server for the AWS tests, with DynamoDB's actions one at a time.

Usage: moto_server.py [moto_server's arguments]   (e.g. -H 127.0.0.1 -p PORT)

moto's server answers each request on its own thread, and its DynamoDB model is not safe
for that: Table.put_item stores an item with `self.items[hash_value][range_value] = item`,
where self.items is a defaultdict(dict) keyed by DynamoType, whose __hash__ is Python code.
Two requests that write the first items of the same partition key at once can both miss
the key, each make its own dict, and the later store replaces the earlier one's dict with
the item in it: an item acknowledged with 200 is gone (moto 5.2.1,
moto/dynamodb/models/table.py). csvpipe's writer keeps up to 64 BatchWriteItem requests in
flight, and a keyless load writes the first item of its 128 partition keys in the first
few of them, so on a busy machine a load lost an item now and then. DynamoDB itself
applies every acknowledged write; here each DynamoDB action runs under one lock, as one
atomic step. The other services are left as moto serves them.

CP_MOTO_SWITCH_INTERVAL=SECONDS sets Python's thread switch interval (default 0.005), so
that a test can make thread races in the server likely instead of rare.
"""
import os
import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

interval = os.environ.get("CP_MOTO_SWITCH_INTERVAL")
if interval:
    sys.setswitchinterval(float(interval))

_dynamodb = threading.Lock()
_call_action = DynamoHandler.call_action


def _one_at_a_time(self):
    with _dynamodb:
        return _call_action(self)


DynamoHandler.call_action = _one_at_a_time

if __name__ == "__main__":
    sys.exit(main())
