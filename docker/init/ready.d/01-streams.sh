#!/bin/sh
# Runs once eddy serves (mounted at /etc/eddy/init/ready.d by docker-compose.yml): the stream
# the bridge writes to and a bucket for artifacts. LocalStack init scripts work here unchanged.
set -e
awslocal kinesis create-stream --stream-name logs --shard-count 2
awslocal s3api create-bucket --bucket artifacts >/dev/null
echo "created stream logs and bucket artifacts"
