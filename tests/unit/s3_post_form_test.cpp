// The PostObject form reader and policy document (server/s3/s3_post_form.h): multipart bodies
// fed whole and byte by byte, delimiter look-alikes inside the file (a sender never puts the delimiter itself there), the bound on fields, and
// the policy's parsing and evaluation.
#include <gtest/gtest.h>

#include "server/s3/s3_post_form.h"
#include "wire/base64.h"

namespace eddy::s3::post {
namespace {

struct Read {
  FormReader::Status status = FormReader::Status::ok;
  std::vector<Field> fields;
  std::string filename;
  std::string file;
  bool file_seen = false;
};

Read read(const std::string& body, size_t piece, size_t max_fields = 20 * 1024, const std::string& boundary = "XyZ") {
  Read out;
  FormReader r(boundary, [&](const std::string& fn) { out.filename = fn; return true; },
               [&](std::string_view d) { out.file.append(d); return true; }, max_fields);
  for (size_t i = 0; i < body.size() && out.status == FormReader::Status::ok; i += piece)
    out.status = r.feed(std::string_view(body).substr(i, piece));
  if (out.status == FormReader::Status::ok) out.status = r.finish();
  out.fields = r.fields();
  out.file_seen = r.file_seen();
  return out;
}

const std::string kBody =
    "preamble to ignore\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuploads/${filename}\r\n"
    "--XyZ  \r\ncontent-disposition: form-data; name=\"Content-Type\"; filename=\"ignored\"\r\n\r\ntext/plain\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\nline1\r\n--XyY look-alike\r\n-XyZ\r\n--Xy\r\n"
    "--XyZ\r\nContent-Disposition: form-data; name=\"after\"\r\n\r\nignored\r\n"
    "--XyZ--\r\nepilogue";

TEST(S3PostForm, ReadsFieldsAndStreamsTheFileInAnyPieces) {
  for (size_t piece : {size_t(1), size_t(2), size_t(7), size_t(4096)}) {
    SCOPED_TRACE(piece);
    Read r = read(kBody, piece);
    ASSERT_EQ(r.status, FormReader::Status::ok);
    ASSERT_EQ(r.fields.size(), 2u);
    EXPECT_EQ(r.fields[0].name, "key");
    EXPECT_EQ(r.fields[0].value, "uploads/${filename}");
    EXPECT_EQ(r.fields[1].name, "Content-Type");
    EXPECT_EQ(r.fields[1].value, "text/plain");
    EXPECT_TRUE(r.file_seen);
    EXPECT_EQ(r.filename, "a \"b\".txt");
    EXPECT_EQ(r.file, "line1\r\n--XyY look-alike\r\n-XyZ\r\n--Xy");
  }
}

TEST(S3PostForm, RefusesMalformedAndOversizedForms) {
  // No closing delimiter.
  EXPECT_EQ(read("--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc", 3).status,
            FormReader::Status::malformed);
  // A part that is not form-data, or names nothing.
  EXPECT_EQ(read("--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nv\r\n--XyZ--", 5).status,
            FormReader::Status::malformed);
  EXPECT_EQ(read("--XyZ\r\n\r\nv\r\n--XyZ--", 5).status, FormReader::Status::malformed);
  // Garbage after a delimiter.
  EXPECT_EQ(read("--XyZjunk\r\n", 5).status, FormReader::Status::malformed);
  // Fields beyond the bound, in a value, in headers, or a preamble.
  EXPECT_EQ(read("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n" + std::string(200, 'v') + "\r\n--XyZ--", 16, 100)
                .status,
            FormReader::Status::too_large);
  EXPECT_EQ(read("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\nX: " + std::string(200, 'h'), 16, 100).status,
            FormReader::Status::too_large);
  EXPECT_EQ(read(std::string(300, 'p'), 16, 100).status, FormReader::Status::too_large);
  // The file itself is not bounded.
  Read big = read("--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" + std::string(5000, 'f') + "\r\n--XyZ--",
                  333, 100);
  EXPECT_EQ(big.status, FormReader::Status::ok);
  EXPECT_EQ(big.file.size(), 5000u);
}

TEST(S3PostForm, Boundary) {
  EXPECT_EQ(form_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(form_boundary("Multipart/Form-Data;boundary=\"a b;c\""), "a b;c");
  EXPECT_EQ(form_boundary("multipart/mixed; boundary=abc"), std::nullopt);
  EXPECT_EQ(form_boundary("multipart/form-data"), std::nullopt);
  EXPECT_EQ(form_boundary("multipart/form-data; boundary=" + std::string(71, 'b')), std::nullopt);
}

std::optional<PolicyError> parse(const std::string& json, Policy& p) { return parse_policy(wire::base64_encode(json), p); }

TEST(S3PostPolicy, ParsesAndChecks) {
  Policy p;
  ASSERT_EQ(parse(R"({"expiration": "2030-01-01T00:00:00.000Z", "conditions": [{"bUcKeT": "b"},
                      ["StArTs-WiTh", "$KeY", "up/"], ["content-length-range", "1", 10], ["eq", "$acl", "private"]]})",
                  p),
            std::nullopt);
  EXPECT_EQ(p.expiration_ms, 1893456000000);
  ASSERT_EQ(p.length_range(), (std::pair<uint64_t, uint64_t>{1, 10}));
  std::vector<std::pair<std::string, std::string>> values{{"bucket", "b"}, {"key", "up/x"}, {"acl", "private"},
                                                          {"policy", "..."}, {"x-ignore-a", "1"}};
  EXPECT_EQ(check_policy(p, 0, values), std::nullopt);
  auto expired = check_policy(p, 1893456000000, values);
  ASSERT_TRUE(expired);
  EXPECT_EQ(expired->message, "Invalid according to Policy: Policy expired.");
  values[1].second = "down/x";
  auto failed = check_policy(p, 0, values);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 403);
  EXPECT_EQ(failed->message, "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$KeY\", \"up/\"]");
  values[1].second = "up/x";
  values.emplace_back("content-type", "text/plain");
  auto extra = check_policy(p, 0, values);
  ASSERT_TRUE(extra);
  EXPECT_EQ(extra->message, "Invalid according to Policy: Extra input fields: content-type");
}

TEST(S3PostPolicy, InvalidDocuments) {
  Policy p;
  auto message = [&](const std::string& json) {
    auto e = parse(json, p);
    return e ? e->code + ": " + e->message : std::string("ok");
  };
  EXPECT_EQ(message("not json"), "InvalidPolicyDocument: Invalid Policy: Invalid JSON.");
  EXPECT_EQ(message(R"({"EXPIRATION": "2030-01-01T00:00:00Z", "conditions": []})"),
            "InvalidPolicyDocument: Invalid Policy: Policy missing expiration.");
  EXPECT_EQ(message(R"({"expiration": "2030-01-01T00:00:00Z", "CONDITIONS": []})"),
            "InvalidPolicyDocument: Invalid Policy: Policy missing conditions.");
  EXPECT_EQ(message(R"({"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 0]]})"),
            "InvalidPolicyDocument: Invalid Policy: Invalid content-length-range condition: it takes two bounds.");
  EXPECT_EQ(message(R"({"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "key", "x"]]})"),
            "InvalidPolicyDocument: Invalid Policy: Invalid eq condition: the field must start with '$': \"key\".");
  EXPECT_EQ(message(R"({"expiration": "2030-01-01T00:00:00Z", "conditions": [["in", "$key", "x"]]})"),
            "InvalidPolicyDocument: Invalid Policy: Invalid Condition: unknown operation \"in\".");
  EXPECT_EQ(parse_policy("!!!", p)->message, "Invalid Policy: Policy is not base64.");
}

}  // namespace
}  // namespace eddy::s3::post
