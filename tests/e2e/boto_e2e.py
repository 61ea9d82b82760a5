"""Shared by the Python end-to-end tests: boto3's Kinesis client as they make it (test
credentials, no SDK retries) and the check they assert with."""

import boto3
from botocore.config import Config


def kinesis_client(url, connect_timeout=5, read_timeout=30):
    return boto3.client(
        "kinesis",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=connect_timeout,
                      read_timeout=read_timeout),
    )


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)
