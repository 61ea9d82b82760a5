#include "client/s3_client.h"

#include <cstdio>
#include <fstream>

#include "wire/checksum.h"
#include "wire/sigv4.h"

namespace eddy::client {

namespace {

ObjectInfo info_of(const HttpResponse& r) {
  ObjectInfo i;
  if (auto v = r.header("Content-Length")) i.content_length = std::strtoll(std::string(*v).c_str(), nullptr, 10);
  if (auto v = r.header("ETag")) i.etag = std::string(*v);
  if (auto v = r.header("Content-Type")) i.content_type = std::string(*v);
  if (auto v = r.header("Last-Modified")) i.last_modified = std::string(*v);
  return i;
}

// A HEAD has no body to name the error: 404 is what GET would call NoSuchKey.
void name_head_error(AwsError& e, const std::string& bucket, const std::string& key) {
  if (e.status == 404 && (e.code.empty() || e.code == "NotFound")) {
    e.code = "NoSuchKey";
    if (e.message.empty()) e.message = "The specified key does not exist.";
  }
  if (e.status == 403 && (e.code.empty() || e.code == "Forbidden")) e.code = "AccessDenied";
  (void)bucket;
  (void)key;
}

std::optional<std::string> file_sha256(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  wire::checksum::Hasher h(wire::checksum::Algorithm::sha256);
  char buf[64 * 1024];
  while (in) {
    in.read(buf, sizeof buf);
    if (in.gcount() > 0) h.update(buf, static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) return std::nullopt;
  return h.final_hex();
}

template <typename T>
Outcome<T> failed(AwsError e) {
  Outcome<T> o;
  o.error = std::move(e);
  return o;
}

}  // namespace

S3Client::S3Client(Session& session) : session_(session), endpoint_(session.endpoint("s3")) {}

std::string S3Client::object_path(const std::string& bucket, const std::string& key) {
  return "/" + wire::sigv4::uri_encode(bucket, true) + "/" + wire::sigv4::uri_encode(key, false);
}

Outcome<ObjectInfo> S3Client::get_object(const std::string& bucket, const std::string& key,
                                         const std::filesystem::path& file) {
  const std::filesystem::path part = file.string() + ".part";
  std::ofstream out;
  bool write_failed = false;
  BodySink sink;
  sink.accept = [&](int status) {
    if (status < 200 || status >= 300) return false;
    out.close();
    out.clear();
    out.open(part, std::ios::binary | std::ios::trunc);  // a retried GET starts the file again
    write_failed = !out;
    return true;
  };
  sink.write = [&](std::string_view chunk) {
    if (write_failed) return false;
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    if (!out) write_failed = true;
    return !write_failed;
  };
  HttpRequest req;
  req.target = object_path(bucket, key);
  AwsError err;
  auto resp = session_.call("s3", endpoint_, std::move(req), &err, &sink);
  out.close();
  std::error_code ec;
  if (write_failed) {
    std::filesystem::remove(part, ec);
    return failed<ObjectInfo>(AwsError{0, "LocalFileError", "cannot write " + part.string(), 1});
  }
  if (!resp || resp->status < 200 || resp->status >= 300) {
    std::filesystem::remove(part, ec);
    return failed<ObjectInfo>(err);
  }
  std::filesystem::rename(part, file, ec);
  if (ec)
    return failed<ObjectInfo>(
        AwsError{0, "LocalFileError", "cannot rename to " + file.string() + ": " + ec.message(), 1});
  Outcome<ObjectInfo> o;
  o.value = info_of(*resp);
  o.value->content_length = static_cast<int64_t>(std::filesystem::file_size(file, ec));
  return o;
}

Outcome<std::string> S3Client::get_object_text(const std::string& bucket, const std::string& key) {
  HttpRequest req;
  req.target = object_path(bucket, key);
  AwsError err;
  auto resp = session_.call("s3", endpoint_, std::move(req), &err);
  if (!resp || resp->status < 200 || resp->status >= 300) return failed<std::string>(err);
  Outcome<std::string> o;
  o.value = std::move(resp->body);
  return o;
}

Outcome<ObjectInfo> S3Client::put_object(const std::string& bucket, const std::string& key,
                                         const std::filesystem::path& file, const std::string& content_type) {
  auto hash = file_sha256(file);
  if (!hash) return failed<ObjectInfo>(AwsError{0, "LocalFileError", "cannot read " + file.string(), 1});
  HttpRequest req;
  req.method = "PUT";
  req.target = object_path(bucket, key);
  req.headers.emplace_back("Content-Type", content_type.empty() ? "application/octet-stream" : content_type);
  req.body_file = file;
  AwsError err;
  auto resp = session_.call("s3", endpoint_, std::move(req), &err, nullptr, *hash);
  if (!resp || resp->status < 200 || resp->status >= 300) return failed<ObjectInfo>(err);
  Outcome<ObjectInfo> o;
  o.value = info_of(*resp);
  return o;
}

Outcome<ObjectInfo> S3Client::put_object_text(const std::string& bucket, const std::string& key,
                                              const std::string& body) {
  HttpRequest req;
  req.method = "PUT";
  req.target = object_path(bucket, key);
  req.headers.emplace_back("Content-Type", "text/plain");
  req.body = body;
  AwsError err;
  auto resp = session_.call("s3", endpoint_, std::move(req), &err);
  if (!resp || resp->status < 200 || resp->status >= 300) return failed<ObjectInfo>(err);
  Outcome<ObjectInfo> o;
  o.value = info_of(*resp);
  return o;
}

Outcome<ObjectInfo> S3Client::head_object(const std::string& bucket, const std::string& key) {
  HttpRequest req;
  req.method = "HEAD";
  req.target = object_path(bucket, key);
  AwsError err;
  auto resp = session_.call("s3", endpoint_, std::move(req), &err);
  if (!resp || resp->status < 200 || resp->status >= 300) {
    name_head_error(err, bucket, key);
    return failed<ObjectInfo>(err);
  }
  Outcome<ObjectInfo> o;
  o.value = info_of(*resp);
  return o;
}

}  // namespace eddy::client
