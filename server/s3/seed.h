#pragma once
// `eddy serve --seed DIR`: preloads buckets, objects and Kinesis streams at start-up.
//   DIR/<bucket>/...          every subfolder is a bucket, every file below it an object
//                             (key = path relative to the bucket folder, '/'-separated)
//   DIR/<bucket>/.eddy-acl    optional: a canned ACL ("public-read") for the bucket and its objects
//   DIR/<bucket>.json         optional: {"acl": "public-read", "object_acl": "public-read"}
//   DIR/streams.json          optional: [{"StreamName": "s", "ShardCount": 2}, ...]
#include <string>
#include <vector>

namespace eddy::kinesis { class KinesisService; }

namespace eddy::s3 {

class S3Service;

// False with a message on the first problem (unreadable folder, bad JSON, invalid name).
bool seed_from_dirs(const std::vector<std::string>& dirs, S3Service& s3, kinesis::KinesisService& kinesis,
                    std::string* error);

}  // namespace eddy::s3
