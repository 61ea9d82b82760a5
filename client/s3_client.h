#pragma once
// The S3 calls the harness needs (REST/XML protocol, SigV4, path-style addressing so that
// --endpoint works with any bucket name), streaming bodies to and from files.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "client/kinesis_client.h"  // Outcome
#include "client/session.h"

namespace eddy::client {

struct ObjectInfo {
  int64_t content_length = 0;
  std::string etag;
  std::string content_type;
  std::string last_modified;
};

class S3Client {
 public:
  explicit S3Client(Session& session);

  // Streams the object into `file` (written to file.part, renamed when complete). A missing
  // object is error.code "NoSuchKey" (404), a missing bucket "NoSuchBucket".
  Outcome<ObjectInfo> get_object(const std::string& bucket, const std::string& key, const std::filesystem::path& file);
  // Small objects into memory (checksums files).
  Outcome<std::string> get_object_text(const std::string& bucket, const std::string& key);
  Outcome<ObjectInfo> put_object(const std::string& bucket, const std::string& key, const std::filesystem::path& file,
                                 const std::string& content_type = {});
  Outcome<ObjectInfo> put_object_text(const std::string& bucket, const std::string& key, const std::string& body);
  // HEAD has no body: a missing object is "NoSuchKey" (404) here as well, as the SDKs report "Not Found".
  Outcome<ObjectInfo> head_object(const std::string& bucket, const std::string& key);

  // "/bucket/key" with the key percent-encoded (slashes kept).
  static std::string object_path(const std::string& bucket, const std::string& key);

 private:
  Session& session_;
  Url endpoint_;
};

}  // namespace eddy::client
