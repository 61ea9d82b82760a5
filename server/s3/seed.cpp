#include "server/s3/seed.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "server/kinesis/kinesis_service.h"
#include "server/s3/s3_service.h"
#include "wire/text.h"

namespace eddy::s3 {

namespace fs = std::filesystem;

namespace {

std::string content_type_for(const fs::path& p) {
  const std::string ext = wire::text::lower(p.extension().string());
  static const std::pair<const char*, const char*> kTypes[] = {
      {".jar", "application/java-archive"}, {".pom", "application/xml"}, {".xml", "application/xml"},
      {".ivy", "application/xml"},          {".json", "application/json"}, {".txt", "text/plain"},
      {".sha1", "text/plain"},              {".md5", "text/plain"},      {".sha256", "text/plain"},
      {".html", "text/html"},               {".csv", "text/csv"},        {".zip", "application/zip"},
      {".gz", "application/gzip"},          {".png", "image/png"},       {".jpg", "image/jpeg"}};
  for (auto& [e, t] : kTypes)
    if (ext == e) return t;
  return {};
}


bool seed_streams(const fs::path& file, kinesis::KinesisService& kinesis, std::string* error) {
  std::ifstream in(file);
  nlohmann::json list = nlohmann::json::parse(in, nullptr, false);
  if (list.is_discarded() || !list.is_array()) {
    *error = file.string() + ": expected a JSON list of {\"StreamName\": ..., \"ShardCount\": ...}";
    return false;
  }
  for (auto& s : list) {
    if (!s.is_object() || !s.contains("StreamName") || !s["StreamName"].is_string()) {
      *error = file.string() + ": every entry needs a StreamName";
      return false;
    }
    nlohmann::json input = {{"StreamName", s["StreamName"]}};
    if (s.contains("ShardCount")) input["ShardCount"] = s["ShardCount"];
    if (s.contains("StreamModeDetails")) input["StreamModeDetails"] = s["StreamModeDetails"];
    if (!s.contains("ShardCount") && !s.contains("StreamModeDetails")) input["ShardCount"] = 1;
    http::Request req;
    req.method = "POST";
    req.target = req.path = "/";
    req.request_id = "seed";
    req.headers.add("Content-Type", "application/x-amz-json-1.1");
    req.headers.add("X-Amz-Target", "Kinesis_20131202.CreateStream");
    req.body = input.dump();
    http::Response res = kinesis.handle(req);
    if (res.status != 200 && res.body.find("ResourceInUseException") == std::string::npos) {
      *error = file.string() + ": CreateStream " + s["StreamName"].get<std::string>() + " failed: " + res.body;
      return false;
    }
    spdlog::info("seed: stream {}", s["StreamName"].get<std::string>());
  }
  return true;
}

}  // namespace

bool seed_from_dirs(const std::vector<std::string>& dirs, S3Service& s3, kinesis::KinesisService& kinesis,
                    std::string* error) {
  std::string local;
  if (!error) error = &local;
  for (auto& d : dirs) {
    std::error_code ec;
    fs::path root(d);
    if (!fs::is_directory(root, ec)) {
      *error = "--seed " + d + ": not a directory";
      return false;
    }
    std::vector<fs::path> entries;
    for (auto& e : fs::directory_iterator(root, ec)) entries.push_back(e.path());
    if (ec) {
      *error = "--seed " + d + ": " + ec.message();
      return false;
    }
    std::sort(entries.begin(), entries.end());
    for (auto& p : entries) {
      if (p.filename() == "streams.json") {
        if (!seed_streams(p, kinesis, error)) return false;
        continue;
      }
      if (!fs::is_directory(p)) continue;
      const std::string bucket = p.filename().string();
      std::string acl = "private", object_acl;
      if (std::ifstream marker(p / ".eddy-acl"); marker) {
        std::stringstream ss;
        ss << marker.rdbuf();
        acl = std::string(wire::text::trim(ss.str()));
      }
      fs::path side = root / (bucket + ".json");
      if (fs::exists(side)) {
        std::ifstream in(side);
        auto j = nlohmann::json::parse(in, nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
          *error = side.string() + ": expected a JSON object like {\"acl\": \"public-read\"}";
          return false;
        }
        if (j.contains("acl") && j["acl"].is_string()) acl = j["acl"].get<std::string>();
        if (j.contains("object_acl") && j["object_acl"].is_string()) object_acl = j["object_acl"].get<std::string>();
      }
      if (object_acl.empty()) object_acl = acl;
      if (auto e = s3.seed_bucket(bucket, acl)) {
        *error = "--seed " + d + ": " + *e;
        return false;
      }
      size_t count = 0;
      for (auto it = fs::recursive_directory_iterator(p, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec) break;
        if (!it->is_regular_file()) continue;
        fs::path rel = fs::relative(it->path(), p);
        if (rel == ".eddy-acl") continue;
        std::ifstream in(it->path(), std::ios::binary);
        if (!in) {
          *error = "--seed: cannot read " + it->path().string();
          return false;
        }
        if (auto e = s3.seed_object(bucket, rel.generic_string(), in, content_type_for(rel), object_acl)) {
          *error = "--seed: " + it->path().string() + ": " + *e;
          return false;
        }
        ++count;
      }
      if (ec) {
        *error = "--seed " + p.string() + ": " + ec.message();
        return false;
      }
      spdlog::info("seed: bucket {} ({}, {} object(s))", bucket, acl, count);
    }
  }
  return true;
}

}  // namespace eddy::s3
