// S3 XML request bodies through S3Service::dispatch (they are parsed inside their handlers):
// the first byte picks PutBucketAcl, PutBucketCors, DeleteObjects (with or without a matching
// Content-MD5), CompleteMultipartUpload, PutObjectAcl or CreateBucket; the rest is the body.
// Bucket "fzb" with object "obj" and one open multipart upload is made once.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz/in_process.h"
#include "server/s3/s3_service.h"
#include "wire/checksum.h"

using namespace eddy;

namespace {

http::Response call(std::string method, std::string path, std::string query, std::string body,
                    bool with_md5 = false) {
  http::Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.target = r.query.empty() ? r.path : r.path + "?" + r.query;
  r.headers.add("Host", "127.0.0.1");
  r.headers.add("Content-Length", std::to_string(body.size()));
  if (with_md5)
    r.headers.add("Content-MD5", wire::checksum::digest_base64(wire::checksum::Algorithm::md5, body));
  auto d = fuzz::app().s3().dispatch(r);
  return fuzz::run(std::move(d), r, std::move(body));
}

const std::string& upload_id() {
  static const std::string id = [] {
    const auto must = [](http::Response r) {
      if (r.status != 200) {
        std::fprintf(stderr, "setup: status %d: %s\n", r.status, r.body.c_str());
        std::abort();
      }
      return r;
    };
    must(call("PUT", "/fzb", "", ""));
    must(call("PUT", "/fzb/obj", "", "hello"));
    auto res = must(call("POST", "/fzb/obj", "uploads", ""));
    const auto a = res.body.find("<UploadId>"), b = res.body.find("</UploadId>");
    if (a == std::string::npos || b == std::string::npos) std::abort();
    return res.body.substr(a + 10, b - a - 10);
  }();
  return id;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string& upload = upload_id();
  std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  http::Response res;
  switch (data[0] % 7) {
    case 0: res = call("PUT", "/fzb", "acl", body); break;
    case 1: res = call("PUT", "/fzb", "cors", body); break;
    case 2: res = call("POST", "/fzb", "delete", body, true); break;
    case 3: res = call("POST", "/fzb", "delete", body, false); break;
    case 4: res = call("POST", "/fzb/obj", "uploadId=" + upload, body); break;
    case 5: res = call("PUT", "/fzb/obj", "acl", body); break;
    case 6:
      res = call("PUT", "/fz-new", "", body);
      if (res.status == 200) call("DELETE", "/fz-new", "", "");
      break;
  }
  // EDDY_FUZZ_VERBOSE=1: print every answer (to check that the seeds get where they should).
  static const bool verbose = std::getenv("EDDY_FUZZ_VERBOSE") != nullptr;
  if (verbose) std::fprintf(stderr, "status %d: %.300s\n", res.status, res.body.c_str());
  if (res.status == 500) {
    std::fprintf(stderr, "status %d: %s\n", res.status, res.body.c_str());
    std::abort();
  }
  // DeleteObjects may have removed the object the ACL case needs.
  if (res.status == 200 && (data[0] % 7 == 2 || data[0] % 7 == 3)) call("PUT", "/fzb/obj", "", "hello");
  return 0;
}
