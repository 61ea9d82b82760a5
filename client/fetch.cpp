#include "client/fetch.h"

#include <filesystem>
#include <fstream>
#include <iostream>

#include "client/s3_client.h"
#include "client/tools.h"
#include "wire/checksum.h"
#include "wire/sigv4.h"

namespace eddy::client {

namespace fs = std::filesystem;

std::optional<std::string> expand_ivy_pattern(const std::string& pattern,
                                              const std::map<std::string, std::string>& tokens, std::string* error) {
  // Expands [token]s of `text`; `missing` is set when one has no (or an empty) value.
  auto expand = [&](std::string_view text, std::string& out, std::string& missing) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '[') {
        out += text[i];
        continue;
      }
      auto close = text.find(']', i);
      if (close == std::string_view::npos) {
        out += text.substr(i);
        break;
      }
      std::string name(text.substr(i + 1, close - i - 1));
      auto it = tokens.find(name);
      if (it == tokens.end() || it->second.empty()) {
        if (missing.empty()) missing = name;
      } else {
        out += it->second;
      }
      i = close;
    }
  };
  std::string result, missing;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '(') {
      auto close = pattern.find(')', i);
      if (close == std::string::npos) {
        if (error) *error = "unbalanced '(' in pattern " + pattern;
        return std::nullopt;
      }
      std::string part, part_missing;
      expand(std::string_view(pattern).substr(i + 1, close - i - 1), part, part_missing);
      if (part_missing.empty()) result += part;  // an optional part with a missing token goes
      i = close;
      continue;
    }
    auto next = pattern.find('(', i);
    std::string_view chunk = std::string_view(pattern).substr(i, next == std::string::npos ? std::string::npos : next - i);
    expand(chunk, result, missing);
    i += chunk.size() - 1;
  }
  if (!missing.empty()) {
    if (error) *error = "pattern " + pattern + " needs [" + missing + "] (pass --" + missing + ")";
    return std::nullopt;
  }
  return result;
}

namespace {

struct Repo {
  bool s3 = false;
  std::string bucket;
  std::string prefix;  // "" or "libs/" (ends with '/')
  Url http;            // https:// form
  std::string where(const std::string& path) const {
    return s3 ? "s3://" + bucket + "/" + prefix + path : http.str() + "/" + path;
  }
};

std::optional<Repo> parse_repo(const std::string& text, std::string* error) {
  Repo r;
  if (text.rfind("s3://", 0) == 0) {
    r.s3 = true;
    std::string rest = text.substr(5);
    auto slash = rest.find('/');
    r.bucket = rest.substr(0, slash);
    if (slash != std::string::npos) r.prefix = rest.substr(slash + 1);
    while (!r.prefix.empty() && r.prefix.front() == '/') r.prefix.erase(0, 1);
    if (!r.prefix.empty() && r.prefix.back() != '/') r.prefix += '/';
    if (r.bucket.empty()) {
      *error = "--repo " + text + ": no bucket";
      return std::nullopt;
    }
    return r;
  }
  auto u = Url::parse(text, error);
  if (!u) {
    *error = "--repo must be s3://BUCKET/PREFIX/ or an http(s):// URL: " + *error;
    return std::nullopt;
  }
  r.http = *u;
  return r;
}

std::optional<std::string> file_digest_hex(const fs::path& file, wire::checksum::Algorithm a) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  wire::checksum::Hasher h(a);
  char buf[64 * 1024];
  while (in) {
    in.read(buf, sizeof buf);
    if (in.gcount() > 0) h.update(buf, static_cast<std::size_t>(in.gcount()));
  }
  return h.final_hex();
}

// The first word of a checksum file ("<hex>" or "<hex>  name"), lowercased.
std::string checksum_word(const std::string& text) {
  auto b = text.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  auto e = text.find_first_of(" \t\r\n", b);
  std::string w = text.substr(b, e == std::string::npos ? std::string::npos : e - b);
  for (char& c : w) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return w;
}

// Reads a repository: S3 (signed, through S3Client) or public HTTP(S) (unsigned GETs).
class RepoReader {
 public:
  RepoReader(const Repo& repo, Session& session) : repo_(repo), session_(session), s3_(session) {}

  // Downloads path into file. "NoSuchKey" code when absent.
  std::optional<AwsError> get_file(const std::string& path, const fs::path& file) {
    if (repo_.s3) {
      auto r = s3_.get_object(repo_.bucket, repo_.prefix + path, file);
      if (!r) return r.error;
      return std::nullopt;
    }
    const fs::path part = file.string() + ".part";
    std::ofstream out;
    bool bad = false;
    BodySink sink;
    sink.accept = [&](int status) {
      if (status != 200) return false;
      out.open(part, std::ios::binary | std::ios::trunc);
      bad = !out;
      return true;
    };
    sink.write = [&](std::string_view c) {
      out.write(c.data(), static_cast<std::streamsize>(c.size()));
      bad = bad || !out;
      return !bad;
    };
    HttpResponse resp;
    auto e = http_get(path, resp, &sink);
    out.close();
    std::error_code ec;
    if (e || bad) {
      fs::remove(part, ec);
      if (bad) return AwsError{0, "LocalFileError", "cannot write " + part.string(), 1};
      return e;
    }
    fs::rename(part, file, ec);
    if (ec) return AwsError{0, "LocalFileError", ec.message(), 1};
    return std::nullopt;
  }

  std::optional<AwsError> get_text(const std::string& path, std::string& text) {
    if (repo_.s3) {
      auto r = s3_.get_object_text(repo_.bucket, repo_.prefix + path);
      if (!r) return r.error;
      text = *r;
      return std::nullopt;
    }
    HttpResponse resp;
    auto e = http_get(path, resp, nullptr);
    if (!e) text = resp.body;
    return e;
  }

 private:
  std::optional<AwsError> http_get(const std::string& path, HttpResponse& resp, const BodySink* sink) {
    HttpRequest req;
    req.target = repo_.http.path + "/" + wire::sigv4::uri_encode(path, false);
    for (int attempt = 1;; ++attempt) {
      TransportError te;
      if (!session_.http().send(repo_.http, req, resp, &te, sink)) {
        if (session_.retry().should_retry(attempt, 0, "")) {
          session_.retry().sleep(session_.retry().delay(attempt));
          continue;
        }
        return AwsError{0, "TransportError", te.message, attempt};
      }
      if (resp.status == 200) return std::nullopt;
      AwsError e = parse_error(resp);
      if (session_.retry().should_retry(attempt, resp.status, e.code)) {
        session_.retry().sleep(session_.retry().delay(attempt));
        continue;
      }
      if (resp.status == 404 && (e.code.empty() || e.code == "NotFound")) e.code = "NoSuchKey";
      if (resp.status == 403 && (e.code.empty() || e.code == "Forbidden")) e.code = "AccessDenied";
      e.attempts = attempt;
      return e;
    }
  }

  const Repo& repo_;
  Session& session_;
  S3Client s3_;
};

std::string not_found_line(const AwsError& e, const std::string& where, bool anonymous) {
  if (e.code == "NoSuchKey") return "NoSuchKey: " + where + " does not exist";
  if (anonymous && e.code == "AccessDenied") return "AccessDenied: " + where + " does not exist or is not public-read";
  if (e.code == "NoSuchBucket") return "NoSuchBucket: " + where + ": " + e.message;
  return e.str() + " (" + where + ")";
}

int fetch_one(const FetchOptions& o, const Repo& repo, const std::string& path, Session& session, std::ostream& out,
              std::ostream& err) {
  RepoReader reader(repo, session);
  std::error_code ec;
  fs::create_directories(o.out, ec);
  const fs::path file = fs::path(o.out) / fs::path(path).filename();
  if (auto e = reader.get_file(path, file)) {
    err << "eddy fetch: " << not_found_line(*e, repo.where(path), !repo.s3) << std::endl;
    return 1;
  }
  std::string verified;
  if (!o.no_checksums) {
    for (auto [ext_c, alg] : {std::pair{".sha1", wire::checksum::Algorithm::sha1},
                              std::pair{".md5", wire::checksum::Algorithm::md5}}) {
      const std::string ext = ext_c;
      std::string text;
      if (auto e = reader.get_text(path + ext, text)) {
        if (e->code == "NoSuchKey") continue;  // no checksum published beside it
        // Anonymous readers of S3 get 403, not 404, for a key that does not exist.
        if (!repo.s3 && e->code == "AccessDenied") continue;
        fs::remove(file, ec);
        err << "eddy fetch: " << e->str() << " (" << repo.where(path + ext) << ")" << std::endl;
        return 1;
      }
      std::string want = checksum_word(text);
      auto have = file_digest_hex(file, alg);
      if (!have || *have != want) {
        fs::remove(file, ec);
        err << "eddy fetch: checksum mismatch: " << repo.where(path) << " has " << ext.substr(1) << " "
            << have.value_or("?") << ", " << repo.where(path + ext) << " says " << want << std::endl;
        return 1;
      }
      verified += (verified.empty() ? "" : "+") + ext.substr(1);
    }
  }
  out << "fetched " << repo.where(path) << " -> " << file.string() << " (" << fs::file_size(file, ec) << " bytes, "
      << (verified.empty() ? std::string("no checksum published") : verified + " verified") << ")" << std::endl;
  return 0;
}

int publish(const FetchOptions& o, const Repo& repo, Session& session, std::ostream& out, std::ostream& err) {
  if (!repo.s3) {
    err << "eddy fetch: --publish needs an s3:// repository" << std::endl;
    return 1;
  }
  S3Client s3(session);
  for (const std::string& f : o.publish) {
    const fs::path file(f);
    std::error_code ec;
    if (!fs::is_regular_file(file, ec)) {
      err << "eddy fetch: " << f << ": no such file" << std::endl;
      return 1;
    }
    std::map<std::string, std::string> tokens = {{"organisation", o.organisation}, {"organization", o.organisation},
                                                 {"module", o.artifact},         {"artifact", o.artifact},
                                                 {"revision", o.revision}};
    std::string ext = file.extension().string();
    tokens["ext"] = tokens["type"] = ext.empty() ? o.ext : ext.substr(1);
    if (o.artifact.empty()) tokens["artifact"] = tokens["module"] = file.stem().string();
    std::string why;
    auto path = expand_ivy_pattern(o.pattern, tokens, &why);
    if (!path) {
      err << "eddy fetch: " << why << std::endl;
      return 1;
    }
    const std::string key = repo.prefix + *path;
    auto put = s3.put_object(repo.bucket, key, file);
    if (!put) {
      err << "eddy fetch: " << put.error.str() << " (" << repo.where(*path) << ")" << std::endl;
      return 1;
    }
    for (auto [sfx, alg] : {std::pair{".sha1", wire::checksum::Algorithm::sha1},
                            std::pair{".md5", wire::checksum::Algorithm::md5}}) {
      auto hex = file_digest_hex(file, alg);
      auto r = s3.put_object_text(repo.bucket, key + sfx, hex.value_or(""));
      if (!r) {
        err << "eddy fetch: " << r.error.str() << " (" << repo.where(*path + sfx) << ")" << std::endl;
        return 1;
      }
    }
    out << "published " << f << " -> " << repo.where(*path) << " (+ .sha1, .md5)" << std::endl;
  }
  return 0;
}

}  // namespace

int run_fetch(const FetchOptions& o, std::ostream& out, std::ostream& err, Environment env) {
  std::string why;
  auto repo = parse_repo(o.repo, &why);
  if (!repo) {
    err << "eddy fetch: " << why << std::endl;
    return 1;
  }
  SessionOptions so = o.session;
  // A public HTTP(S) repository needs no credentials or region.
  if (!repo->s3 && so.region.empty()) so.region = "us-east-1";
  auto session = Session::create(so, &why, std::move(env));
  if (!session) {
    err << "eddy fetch: " << why << std::endl;
    return 1;
  }
  if (!o.publish.empty()) return publish(o, *repo, *session, out, err);
  std::map<std::string, std::string> tokens = {{"organisation", o.organisation}, {"organization", o.organisation},
                                               {"module", o.artifact},         {"artifact", o.artifact},
                                               {"revision", o.revision},       {"ext", o.ext},
                                               {"type", o.ext}};
  auto path = expand_ivy_pattern(o.pattern, tokens, &why);
  if (!path) {
    err << "eddy fetch: " << why << std::endl;
    return 1;
  }
  return fetch_one(o, *repo, *path, *session, out, err);
}

void register_fetch_command(CLI::App& app) {
  auto o = std::make_shared<FetchOptions>();
  auto* cmd = app.add_subcommand("fetch", "Fetch (or --publish) an artifact by ivy pattern from S3 or a public HTTPS repository");
  cmd->add_option("--repo", o->repo, "s3://BUCKET/PREFIX/ or https://HOST/PATH/")->required();
  cmd->add_option("--pattern", o->pattern, "Ivy pattern: [organisation] [artifact] [revision] [ext], (optional parts)")
      ->capture_default_str();
  cmd->add_option("--organisation,--organization", o->organisation, "[organisation]");
  cmd->add_option("--artifact", o->artifact, "[artifact] (also [module])");
  cmd->add_option("--revision", o->revision, "[revision]");
  cmd->add_option("--ext", o->ext, "[ext] (also [type])")->capture_default_str();
  cmd->add_option("--out", o->out, "Directory to download into")->capture_default_str();
  cmd->add_option("--publish", o->publish, "Upload these files (with .sha1 and .md5) instead of fetching");
  cmd->add_flag("--no-checksums", o->no_checksums, "Do not verify .sha1/.md5 files");
  add_session_options(*cmd, o->session);
  bind_tool_environment(*cmd, "fetch");
  cmd->callback([o] {
    int rc = 1;
    try {
      rc = run_fetch(*o, std::cout, std::cerr);
    } catch (const std::exception& e) {
      rc = fail("fetch", e.what());  // a bug, but still one line and no core dump
    }
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace eddy::client
