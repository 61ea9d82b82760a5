// Enhanced fan-out consumers: RegisterStreamConsumer, DescribeStreamConsumer,
// ListStreamConsumers, DeregisterStreamConsumer — ARNs, CREATING -> ACTIVE and DELETING on the
// manual clock, the 20-consumer limit, errors, ConsumerCount, DeleteStream's
// EnforceConsumerDeletion, and consumers surviving a restart.
#include <gtest/gtest.h>

#include <regex>

#include "tests/support/fixture_config.h"
#include "tests/support/kinesis_fixture.h"

using namespace eddy::test;
using nlohmann::json;

namespace {

class KinesisConsumers : public KinesisFixture {
 protected:
  json reg(const std::string& stream, const std::string& name) {
    return ok("RegisterStreamConsumer", {{"StreamARN", arn(stream)}, {"ConsumerName", name}})["Consumer"];
  }
  std::string consumer_arn(const std::string& stream, const std::string& name, int64_t created_s) {
    return arn(stream) + "/consumer/" + name + ":" + std::to_string(created_s);
  }
};

TEST_F(KinesisConsumers, RegisterDescribeListDeregister) {
  create_stream("efo", 2);
  const int64_t now_s = clock().now_ms() / 1000;
  auto c = reg("efo", "app-1");
  EXPECT_EQ(c["ConsumerName"], "app-1");
  EXPECT_EQ(c["ConsumerStatus"], "ACTIVE");
  EXPECT_EQ(c["ConsumerARN"], consumer_arn("efo", "app-1", now_s));
  EXPECT_TRUE(std::regex_match(c["ConsumerARN"].get<std::string>(),
                               std::regex("^(arn):aws.*:kinesis:.*:\\d{12}:.*stream\\/[a-zA-Z0-9_.-]+\\/consumer\\/"
                                          "[a-zA-Z0-9_.-]+:[0-9]+")));
  EXPECT_FALSE(c.contains("StreamARN"));
  EXPECT_NEAR(c["ConsumerCreationTimestamp"].get<double>(), static_cast<double>(clock().now_ms()) / 1000, 0.01);

  // Described by ARN, by stream and name, by all three.
  const std::string carn = c["ConsumerARN"];
  auto d = ok("DescribeStreamConsumer", {{"ConsumerARN", carn}})["ConsumerDescription"];
  EXPECT_EQ(d["ConsumerName"], "app-1");
  EXPECT_EQ(d["StreamARN"], arn("efo"));
  EXPECT_EQ(d["ConsumerStatus"], "ACTIVE");
  EXPECT_EQ(ok("DescribeStreamConsumer", {{"StreamARN", arn("efo")}, {"ConsumerName", "app-1"}})["ConsumerDescription"],
            d);
  EXPECT_EQ(ok("DescribeStreamConsumer", {{"StreamARN", arn("efo")}, {"ConsumerName", "app-1"}, {"ConsumerARN", carn}})
                ["ConsumerDescription"],
            d);

  reg("efo", "app-2");
  auto l = ok("ListStreamConsumers", {{"StreamARN", arn("efo")}});
  ASSERT_EQ(l["Consumers"].size(), 2u);
  EXPECT_EQ(l["Consumers"][0]["ConsumerName"], "app-1");
  EXPECT_EQ(l["Consumers"][1]["ConsumerName"], "app-2");
  EXPECT_FALSE(l.contains("NextToken"));
  EXPECT_EQ(ok("DescribeStreamSummary", {{"StreamName", "efo"}})["StreamDescriptionSummary"]["ConsumerCount"], 2);

  ok("DeregisterStreamConsumer", {{"ConsumerARN", carn}});
  ok("DeregisterStreamConsumer", {{"StreamARN", arn("efo")}, {"ConsumerName", "app-2"}});
  EXPECT_EQ(ok("ListStreamConsumers", {{"StreamARN", arn("efo")}})["Consumers"].size(), 0u);
  fails("DescribeStreamConsumer", {{"ConsumerARN", carn}}, "ResourceNotFoundException",
        "Consumer " + carn + " not found.");
  fails("DescribeStreamConsumer", {{"StreamARN", arn("efo")}, {"ConsumerName", "app-2"}}, "ResourceNotFoundException",
        "Consumer app-2 under stream efo and account " + account() + " not found.");
}

TEST_F(KinesisConsumers, ListPagesWithNextToken) {
  create_stream("pg", 1);
  for (int i = 0; i < 5; ++i) reg("pg", "c" + std::to_string(i));
  std::vector<std::string> names;
  json in{{"StreamARN", arn("pg")}, {"MaxResults", 2}};
  for (int page = 0; page < 5; ++page) {
    auto l = ok("ListStreamConsumers", in);
    for (auto& c : l["Consumers"]) names.push_back(c["ConsumerName"]);
    if (!l.contains("NextToken")) break;
    in["NextToken"] = l["NextToken"];
  }
  EXPECT_EQ(names, (std::vector<std::string>{"c0", "c1", "c2", "c3", "c4"}));
  fails("ListStreamConsumers", {{"StreamARN", arn("pg")}, {"NextToken", "bm9wZQ=="}}, "InvalidArgumentException",
        "Invalid NextToken.");
  fails("ListStreamConsumers", {{"StreamARN", arn("pg")}, {"MaxResults", 0}}, "ValidationException",
        "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value "
        "greater than or equal to 1");
}

class KinesisConsumerDelays : public KinesisConsumers {
 protected:
  void tune(eddy::Config& c) override {
    c.register_consumer_ms = 5000;
    c.deregister_consumer_ms = 3000;
  }
};

TEST_F(KinesisConsumerDelays, CreatingThenActiveThenDeletingThenGone) {
  create_stream("d", 1);
  auto c = reg("d", "slow");
  EXPECT_EQ(c["ConsumerStatus"], "CREATING");
  const std::string carn = c["ConsumerARN"];
  EXPECT_EQ(ok("DescribeStreamConsumer", {{"ConsumerARN", carn}})["ConsumerDescription"]["ConsumerStatus"], "CREATING");
  clock().advance_ms(4999);
  EXPECT_EQ(ok("DescribeStreamConsumer", {{"ConsumerARN", carn}})["ConsumerDescription"]["ConsumerStatus"], "CREATING");
  clock().advance_ms(1);
  EXPECT_EQ(ok("DescribeStreamConsumer", {{"ConsumerARN", carn}})["ConsumerDescription"]["ConsumerStatus"], "ACTIVE");
  ok("DeregisterStreamConsumer", {{"ConsumerARN", carn}});
  EXPECT_EQ(ok("ListStreamConsumers", {{"StreamARN", arn("d")}})["Consumers"][0]["ConsumerStatus"], "DELETING");
  // A consumer being deleted is not deleted twice, and its name is still taken.
  const int64_t created_s = std::stoll(carn.substr(carn.rfind(':') + 1));
  fails("DeregisterStreamConsumer", {{"ConsumerARN", carn}}, "ResourceInUseException",
        "Consumer slow with creation timestamp " + std::to_string(created_s) + " under stream d and account " +
            account() + " is not in ACTIVE status.");
  fails("RegisterStreamConsumer", {{"StreamARN", arn("d")}, {"ConsumerName", "slow"}}, "ResourceInUseException",
        "Consumer slow under stream d and account " + account() + " already exists.");
  clock().advance_ms(3000);
  EXPECT_EQ(ok("ListStreamConsumers", {{"StreamARN", arn("d")}})["Consumers"].size(), 0u);
  // The name is free again, with a new ARN (a later creation time).
  clock().advance_ms(1000);
  auto again = reg("d", "slow");
  EXPECT_NE(again["ConsumerARN"], carn);
}

// "Only 5 consumers can be created simultaneously": the sixth while five are CREATING (on any
// of the account's streams) is LimitExceededException; once one is ACTIVE the sixth goes in.
TEST_F(KinesisConsumerDelays, FiveCreatingAtOnce) {
  create_stream("cr1", 1);
  create_stream("cr2", 1);
  for (int i = 0; i < 3; ++i) reg("cr1", "a" + std::to_string(i));
  clock().advance_ms(1000);
  for (int i = 0; i < 2; ++i) reg("cr2", "b" + std::to_string(i));
  fails("RegisterStreamConsumer", {{"StreamARN", arn("cr2")}, {"ConsumerName", "b2"}}, "LimitExceededException",
        "Account " + account() + " already has 5 consumers in CREATING status. Wait until one of them is ACTIVE and "
        "retry.");
  clock().advance_ms(4000);  // cr1's three are ACTIVE (5 s), cr2's two still CREATING
  for (int i = 2; i < 5; ++i) reg("cr2", "b" + std::to_string(i));
  fails("RegisterStreamConsumer", {{"StreamARN", arn("cr1")}, {"ConsumerName", "a3"}}, "LimitExceededException");
  EXPECT_EQ(ok("ListStreamConsumers", {{"StreamARN", arn("cr2")}})["Consumers"].size(), 5u);
}

TEST_F(KinesisConsumers, TwentyPerStream) {
  create_stream("lim", 1);
  for (int i = 0; i < 20; ++i) reg("lim", "c" + std::to_string(i));
  fails("RegisterStreamConsumer", {{"StreamARN", arn("lim")}, {"ConsumerName", "c20"}}, "LimitExceededException",
        "Stream lim under account " + account() + " has reached the limit of 20 registered consumers.");
  // Another stream has its own 20.
  create_stream("lim2", 1);
  reg("lim2", "c0");
}

TEST_F(KinesisConsumers, Errors) {
  create_stream("e", 1);
  auto carn = reg("e", "one")["ConsumerARN"].get<std::string>();
  fails("RegisterStreamConsumer", {{"StreamARN", arn("e")}, {"ConsumerName", "one"}}, "ResourceInUseException",
        "Consumer one under stream e and account " + account() + " already exists.");
  fails("RegisterStreamConsumer", {{"StreamARN", arn("nope")}, {"ConsumerName", "x"}}, "ResourceNotFoundException",
        not_found("nope"));
  fails("RegisterStreamConsumer", {{"StreamARN", arn("e")}, {"ConsumerName", "bad name"}}, "ValidationException",
        "1 validation error detected: Value 'bad name' at 'consumerName' failed to satisfy constraint: Member must "
        "satisfy regular expression pattern: [a-zA-Z0-9_.-]+");
  fails("RegisterStreamConsumer", json::object(), "ValidationException",
        "2 validation errors detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be "
        "null; Value null at 'consumerName' failed to satisfy constraint: Member must not be null");
  fails("RegisterStreamConsumer", {{"StreamARN", "arn:aws:s3:::bucket"}, {"ConsumerName", "x"}}, "ValidationException");
  fails("RegisterStreamConsumer", {{"StreamARN", arn("e")}, {"ConsumerName", 5}}, "SerializationException");

  fails("DescribeStreamConsumer", json::object(), "InvalidArgumentException",
        "Either ConsumerARN or both ConsumerName and StreamARN must be provided.");
  fails("DescribeStreamConsumer", {{"ConsumerName", "one"}}, "InvalidArgumentException",
        "Either ConsumerARN or both ConsumerName and StreamARN must be provided.");
  fails("DescribeStreamConsumer", {{"ConsumerARN", carn}, {"ConsumerName", "two"}}, "InvalidArgumentException",
        "ConsumerARN " + carn + " and ConsumerName two do not refer to the same consumer.");
  create_stream("f", 1);
  fails("DescribeStreamConsumer", {{"ConsumerARN", carn}, {"StreamARN", arn("f")}}, "InvalidArgumentException",
        "ConsumerARN " + carn + " and StreamARN " + arn("f") + " do not refer to the same stream.");
  fails("DescribeStreamConsumer", {{"ConsumerARN", "arn:aws:kinesis:us-east-1:000000000000:stream/e"}},
        "ValidationException");
  // The right name with another creation time is another consumer.
  const std::string stale = arn("e") + "/consumer/one:1";
  fails("DescribeStreamConsumer", {{"ConsumerARN", stale}}, "ResourceNotFoundException",
        "Consumer " + stale + " not found.");
  fails("DeregisterStreamConsumer", {{"ConsumerARN", stale}}, "ResourceNotFoundException");
  fails("ListStreamConsumers", json::object(), "ValidationException",
        "1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null");
  fails("ListStreamConsumers", {{"StreamARN", arn("nope")}}, "ResourceNotFoundException", not_found("nope"));
}

TEST_F(KinesisConsumers, DeleteStreamNeedsEnforceConsumerDeletion) {
  create_stream("del", 1);
  reg("del", "c");
  fails("DeleteStream", {{"StreamName", "del"}}, "ResourceInUseException",
        "DeleteStream can't delete " + arn("del") +
            " because there are consumers associated with this data stream. To delete del anyway, set the "
            "EnforceConsumerDeletion parameter to true to force the deletion of all the consumers that are "
            "associated with it.");
  fails("DeleteStream", {{"StreamName", "del"}, {"EnforceConsumerDeletion", false}}, "ResourceInUseException");
  ok("DeleteStream", {{"StreamName", "del"}, {"EnforceConsumerDeletion", true}});
  fails("DescribeStreamSummary", {{"StreamName", "del"}}, "ResourceNotFoundException");
  // A stream of the same name starts without consumers.
  create_stream("del", 1);
  EXPECT_EQ(ok("ListStreamConsumers", {{"StreamARN", arn("del")}})["Consumers"].size(), 0u);
}

TEST_F(KinesisConsumers, CborShapes) {
  create_stream("cb", 1);
  auto r = kinesis_cbor("RegisterStreamConsumer", {{"StreamARN", arn("cb")}, {"ConsumerName", "c"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["Consumer"]["ConsumerStatus"], "ACTIVE");
  r = kinesis_cbor("DescribeStreamConsumer", {{"StreamARN", arn("cb")}, {"ConsumerName", "c"}});
  ASSERT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(r.body["ConsumerDescription"]["StreamARN"], arn("cb"));
}

class KinesisConsumersRestart : public KinesisConsumers {
 protected:
  void tune(eddy::Config& c) override {
    use_disk_store(c, temp_dir("eddy-consumers"));
    c.register_consumer_ms = 1000;
  }
};

TEST_F(KinesisConsumersRestart, ConsumersAreKeptWithTheStream) {
  create_stream("keep", 1);
  auto c = reg("keep", "durable");
  ASSERT_EQ(c["ConsumerStatus"], "CREATING");
  restart();
  auto d = ok("DescribeStreamConsumer", {{"ConsumerARN", c["ConsumerARN"]}})["ConsumerDescription"];
  EXPECT_EQ(d["ConsumerName"], "durable");
  EXPECT_EQ(d["ConsumerCreationTimestamp"], c["ConsumerCreationTimestamp"]);
}

}  // namespace
