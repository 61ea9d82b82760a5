"""boto3 (botocore's own event-stream parser, over HTTP/1.1) against eddy's enhanced fan-out:
register a consumer, list and describe it, tag it, SubscribeToShard from TRIM_HORIZON with a
record put before, records put after subscribing arriving on the open stream, the
ResourceInUseException of a second subscription, then a split: the last event carries
ChildShards. Also DescribeAccountSettings and the resource-policy round trip, so every operation
boto3's model has is reached at least once in this file or test_boto3.py.

Run by test_boto3_efo.sh with EDDY_URL set to a running server."""

import json
import os
import threading

from botocore.exceptions import ClientError

from boto_e2e import check, kinesis_client

URL = os.environ["EDDY_URL"]


def client():
    return kinesis_client(URL)


kinesis = client()


kinesis.create_stream(StreamName="efo", ShardCount=1)
arn = kinesis.describe_stream_summary(StreamName="efo")["StreamDescriptionSummary"]["StreamARN"]
consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="py")["Consumer"]
carn = consumer["ConsumerARN"]
check(carn.startswith(arn + "/consumer/py:"), carn)
check(kinesis.describe_stream_consumer(ConsumerARN=carn)["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE", "not ACTIVE")
check([c["ConsumerName"] for c in kinesis.list_stream_consumers(StreamARN=arn)["Consumers"]] == ["py"], "list")
kinesis.tag_resource(ResourceARN=carn, Tags={"team": "py"})
check(kinesis.list_tags_for_resource(ResourceARN=carn)["Tags"] == [{"Key": "team", "Value": "py"}], "tags")
policy = json.dumps({"Version": "2012-10-17", "Statement": []})
kinesis.put_resource_policy(ResourceARN=arn, Policy=policy)
check(kinesis.get_resource_policy(ResourceARN=arn)["Policy"] == policy, "policy")
check(kinesis.describe_account_settings()["MinimumThroughputBillingCommitment"]["Status"] == "DISABLED", "settings")

first = kinesis.put_record(StreamName="efo", PartitionKey="k", Data=b"before")["SequenceNumber"]
sub = kinesis.subscribe_to_shard(
    ConsumerARN=carn, ShardId="shardId-000000000000", StartingPosition={"Type": "TRIM_HORIZON"}
)
try:
    client().subscribe_to_shard(ConsumerARN=carn, ShardId="shardId-000000000000", StartingPosition={"Type": "LATEST"})
    raise AssertionError("a second subscription was accepted")
except ClientError as e:
    check(e.response["Error"]["Code"] == "ResourceInUseException", str(e))

got, sent, children = [], [first], None
other = client()
for event in sub["EventStream"]:
    e = event["SubscribeToShardEvent"]
    got += [r["SequenceNumber"] for r in e["Records"]]
    if len(got) == 1 and len(sent) == 1:
        for i in range(3):
            sent.append(other.put_record(StreamName="efo", PartitionKey=f"p{i}", Data=f"after-{i}".encode())["SequenceNumber"])
    if len(got) == 4 and children is None:
        children = []
        # Split while subscribed: the stream ends with the children.
        other.split_shard(StreamName="efo", ShardToSplit="shardId-000000000000",
                          NewStartingHashKey=str(2**127))
    if "ChildShards" in e and e["ChildShards"]:
        children = [c["ShardId"] for c in e["ChildShards"]]
        check("ContinuationSequenceNumber" not in e or e["ContinuationSequenceNumber"] is None, "continuation at the end")
check(got == sent, f"records {got} != {sent}")
check(children == ["shardId-000000000001", "shardId-000000000002"], f"children {children}")
print("PASS: boto3 enhanced fan-out: 4 records (3 put after subscribing), ChildShards after a split")
