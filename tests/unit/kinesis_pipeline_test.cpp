// The Kinesis pipeline's authentication step (kinesis_service.cpp): requests from the front end
// (dispatch) are authenticated before any other verdict; in-process calls (handle: tests,
// benchmarks, --seed) are trusted.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <variant>

#include "server/auth/authenticator.h"
#include "server/http/message.h"
#include "tests/support/in_process_kinesis.h"

using namespace eddy;
using nlohmann::json;

namespace {

class KinesisPipeline : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    ASSERT_TRUE(k_.open(&err)) << err;
    k_.svc->set_authenticator(&auth_);
  }
  static http::Request unsigned_request(std::string_view content_type, std::string_view op) {
    return test::kinesis_request(op, "{}", content_type);
  }
  // As the front end does: dispatch, the body is already read, then the BufferBody's handler.
  http::Response through_front_end(http::Request& req) {
    http::Dispatch d = k_.svc->dispatch(req);
    auto* buffered = std::get_if<http::BufferBody>(&d);
    EXPECT_NE(buffered, nullptr);
    return buffered ? buffered->handle(req) : http::Response{};
  }

  test::InProcessKinesis k_;
  std::unique_ptr<auth::CredentialStore> credentials_ = auth::make_credential_store();
  auth::Authenticator auth_{auth::Mode::verify, *credentials_, k_.clock};
};

}  // namespace

TEST_F(KinesisPipeline, FrontEndRequestsAreAuthenticated) {
  auto req = unsigned_request("application/x-amz-json-1.1", "ListStreams");
  auto res = through_front_end(req);
  EXPECT_EQ(res.status, 400);
  EXPECT_EQ(res.headers.get("Content-Type"), "application/x-amz-json-1.1");
  EXPECT_EQ(res.headers.get("x-amzn-ErrorType"), "MissingAuthenticationTokenException");
  EXPECT_EQ(json::parse(res.body)["message"], "Missing Authentication Token");
}

TEST_F(KinesisPipeline, AuthComesBeforeTheTypeAndOperationVerdicts) {
  // An unknown operation, and an unknown Content-Type: the auth error still comes first (in
  // CBOR for a type that is neither JSON nor CBOR).
  auto unknown_op = unsigned_request("application/x-amz-json-1.1", "NoSuchThing");
  EXPECT_EQ(through_front_end(unknown_op).headers.get("x-amzn-ErrorType"), "MissingAuthenticationTokenException");
  auto other_type = unsigned_request("text/plain", "ListStreams");
  auto res = through_front_end(other_type);
  EXPECT_EQ(res.headers.get("x-amzn-ErrorType"), "MissingAuthenticationTokenException");
  EXPECT_EQ(res.headers.get("Content-Type"), "application/x-amz-cbor-1.1");
}

TEST_F(KinesisPipeline, InProcessCallsAreTrusted) {
  auto req = unsigned_request("application/x-amz-json-1.1", "ListStreams");
  auto res = k_.svc->handle(req);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(json::parse(res.body)["StreamNames"], json::array());
}
