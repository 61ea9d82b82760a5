// PutRecord's group commit, driven through a fake loop: the puts a loop has read together are
// answered once the loop settles, with one stream lock and one write, in arrival order.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server/http/message.h"
#include "tests/support/in_process_kinesis.h"
#include "wire/base64.h"

using namespace eddy;
using namespace eddy::kinesis;
using nlohmann::json;

namespace {

class PutGroupCommit : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string err;
    ASSERT_TRUE(k_.open(&err)) << err;
    ASSERT_EQ(call("CreateStream", {{"StreamName", "s"}, {"ShardCount", 1}}).status, 200);
  }
  // Requests stay alive for the whole test: a pending answer refers to its request.
  http::Request& request(const std::string& op, const json& in, http::Loop* loop) {
    auto& req = *requests_.emplace_back(std::make_unique<http::Request>(test::kinesis_request(op, in.dump())));
    req.request_id = "req-" + std::to_string(requests_.size());
    req.loop = loop;
    return req;
  }
  http::Response call(const std::string& op, const json& in) { return k_.svc->handle(request(op, in, nullptr)); }
  http::Response put(const std::string& stream, const std::string& key) {
    return k_.svc->handle(request("PutRecord", {{"StreamName", stream}, {"PartitionKey", key}, {"Data", wire::base64_encode(key)}},
                                &loop_));
  }
  static json body(http::Response& r) { return json::parse(r.body); }

  test::InProcessKinesis k_;
  std::vector<std::unique_ptr<http::Request>> requests_;
  http::Loop loop_;  // the tests play the front end: they count its ready requests by hand
};

TEST_F(PutGroupCommit, LonePutIsCommittedAtOnce) {
  auto r = put("s", "k");
  ASSERT_TRUE(r.pending);
  ASSERT_TRUE(r.pending->done());
  auto out = r.pending->take();
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(body(out)["ShardId"], "shardId-000000000000");
}

TEST_F(PutGroupCommit, PutsReadTogetherAreAnsweredWhenTheLoopSettles) {
  // As the front end does: both requests were read whole in one turn of the loop, and each
  // stays ready until its handler has returned.
  loop_.enter_ready();
  loop_.enter_ready();
  auto a = put("s", "a");
  ASSERT_TRUE(a.pending);
  EXPECT_FALSE(a.pending->done());
  loop_.leave_ready();
  auto b = put("s", "b");
  EXPECT_FALSE(a.pending->done());
  EXPECT_FALSE(b.pending->done());
  // Not yet written: a reader sees nothing.
  auto itr = call("GetShardIterator",
                  {{"StreamName", "s"}, {"ShardId", "shardId-000000000000"}, {"ShardIteratorType", "TRIM_HORIZON"}});
  auto it = body(itr);
  auto none = call("GetRecords", {{"ShardIterator", it["ShardIterator"]}});
  EXPECT_EQ(body(none)["Records"].size(), 0u);

  bool resumed = false;
  a.pending->on_complete([&] { resumed = true; });
  k_.clock.advance_ms(7);
  loop_.leave_ready();  // the last handler has returned: the loop has settled
  ASSERT_TRUE(a.pending->done());
  ASSERT_TRUE(b.pending->done());
  EXPECT_TRUE(resumed);
  auto ra = a.pending->take(), rb = b.pending->take();
  ASSERT_EQ(ra.status, 200);
  ASSERT_EQ(rb.status, 200);
  // In arrival order, both readable, stamped when they were committed.
  EXPECT_LT(body(ra)["SequenceNumber"].get<std::string>(), body(rb)["SequenceNumber"].get<std::string>());
  auto got = call("GetRecords", {{"ShardIterator", it["ShardIterator"]}});
  auto recs = body(got)["Records"];
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0]["PartitionKey"], "a");
  EXPECT_EQ(recs[0]["SequenceNumber"], body(ra)["SequenceNumber"]);
  EXPECT_EQ(recs[1]["PartitionKey"], "b");
  EXPECT_EQ(recs[0]["ApproximateArrivalTimestamp"], recs[1]["ApproximateArrivalTimestamp"]);
  EXPECT_DOUBLE_EQ(recs[0]["ApproximateArrivalTimestamp"].get<double>(), (1'700'000'000'000 + 7) / 1000.0);
}

TEST_F(PutGroupCommit, EachPutOfAGroupGetsItsOwnAnswer) {
  ASSERT_EQ(call("CreateStream", {{"StreamName", "t"}, {"ShardCount", 2}}).status, 200);
  loop_.enter_ready();
  auto a = put("s", "a");
  auto t = put("t", "x");
  auto gone = put("s", "b");
  // The stream is deleted before the group is committed: its puts answer as AWS would.
  ASSERT_EQ(call("DeleteStream", {{"StreamName", "s"}}).status, 200);
  auto big = k_.svc->handle(request("PutRecord",
                                  {{"StreamName", "t"}, {"PartitionKey", "k"},
                                   {"Data", wire::base64_encode(std::string(1024 * 1024, 'x'))}},
                                  &loop_));
  loop_.leave_ready();
  for (auto* r : {&a, &t, &gone, &big}) ASSERT_TRUE(r->pending && r->pending->done());
  auto ra = a.pending->take(), rt = t.pending->take(), rg = gone.pending->take(), rbig = big.pending->take();
  EXPECT_EQ(ra.status, 400);
  EXPECT_EQ(body(ra)["__type"], "ResourceNotFoundException");
  EXPECT_EQ(rg.status, 400);
  EXPECT_EQ(body(rg)["__type"], "ResourceNotFoundException");
  EXPECT_EQ(rt.status, 200);
  EXPECT_EQ(rbig.status, 400);
  EXPECT_EQ(body(rbig)["__type"], "ValidationException");
}

TEST(HttpLoop, WhenSettledWaitsForTheReadyRequests) {
  http::Loop loop;
  int runs = 0;
  loop.when_settled([&] { ++runs; });
  EXPECT_EQ(runs, 1);  // nothing ready: at once
  loop.enter_ready();
  loop.enter_ready();
  loop.when_settled([&] { ++runs; });
  loop.leave_ready();
  EXPECT_EQ(runs, 1);
  loop.leave_ready();
  EXPECT_EQ(runs, 2);
  // A request dropped with its loop lowers the count without running anything.
  loop.enter_ready();
  loop.when_settled([&] { ++runs; });
  loop.leave_ready(false);
  EXPECT_EQ(loop.ready(), 0u);
  EXPECT_EQ(runs, 2);
  loop.enter_ready();
  loop.leave_ready();
  EXPECT_EQ(runs, 3);
}

TEST(HttpPending, CompletesOnceAndWakesItsWaiter) {
  http::Pending p;
  EXPECT_FALSE(p.done());
  int woken = 0;
  p.on_complete([&] { ++woken; });
  http::Response r;
  r.status = 201;
  p.complete(std::move(r));
  EXPECT_TRUE(p.done());
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(p.take().status, 201);
}

}  // namespace
