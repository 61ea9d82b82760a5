// The PostObject form reader and policy document (server/s3/s3_post_form.h). The first byte
// picks the piece size the body is fed in; the rest is the body (boundary "XyZ"). Feeding in
// pieces must not change what comes out (fields, file bytes, status) compared with feeding the
// body whole, and the kept fields stay within their bound. The policy field, if any, is parsed
// and checked against the fields.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "server/s3/s3_post_form.h"

using namespace eddy::s3::post;

namespace {

struct Outcome {
  FormReader::Status status;
  std::vector<Field> fields;
  std::string file;
};

Outcome run(const std::string& body, size_t piece) {
  Outcome o;
  FormReader r("XyZ", [](const std::string&) { return true; },
               [&](std::string_view d) { o.file.append(d); return true; }, 1024);
  o.status = FormReader::Status::ok;
  for (size_t i = 0; i < body.size() && o.status == FormReader::Status::ok; i += piece)
    o.status = r.feed(std::string_view(body).substr(i, piece));
  if (o.status == FormReader::Status::ok) o.status = r.finish();
  o.fields = r.fields();
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t piece = 1 + data[0] % 64;
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Outcome whole = run(body, body.size() + 1);
  const Outcome split = run(body, piece);
  if (whole.status != split.status) std::abort();
  if (whole.status == FormReader::Status::ok) {
    if (whole.file != split.file || whole.fields.size() != split.fields.size()) std::abort();
    size_t kept = 0;
    for (size_t i = 0; i < whole.fields.size(); ++i) {
      if (whole.fields[i].name != split.fields[i].name || whole.fields[i].value != split.fields[i].value) std::abort();
      kept += whole.fields[i].name.size() + whole.fields[i].value.size();
    }
    if (kept > 1024) std::abort();
    std::vector<std::pair<std::string, std::string>> values;
    for (const Field& f : whole.fields) {
      values.emplace_back(f.name, f.value);
      if (f.name == "policy") {
        Policy p;
        if (!parse_policy(f.value, p)) (void)check_policy(p, 0, values);
      }
    }
  }
  return 0;
}
