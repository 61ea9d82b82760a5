#include "client/kinesis_client.h"

#include <nlohmann/json.hpp>

#include "wire/base64.h"

namespace eddy::client {

using nlohmann::json;

namespace {

constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";

bool is_arn(const std::string& stream) { return stream.rfind("arn:", 0) == 0; }

void set_stream(json& in, const std::string& stream) {
  if (is_arn(stream))
    in["StreamARN"] = stream;
  else
    in["StreamName"] = stream;
}

std::string str_or(const json& j, const char* k) {
  auto it = j.find(k);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

ShardInfo shard_from(const json& s) {
  ShardInfo info;
  info.shard_id = str_or(s, "ShardId");
  info.parent_shard_id = str_or(s, "ParentShardId");
  info.adjacent_parent_shard_id = str_or(s, "AdjacentParentShardId");
  if (auto r = s.find("HashKeyRange"); r != s.end() && r->is_object()) {
    info.hash_range.start = wire::parse_u128(str_or(*r, "StartingHashKey")).value_or(0);
    info.hash_range.end = wire::parse_u128(str_or(*r, "EndingHashKey")).value_or(wire::kMaxHashKey);
  } else {
    info.hash_range = {0, wire::kMaxHashKey};
  }
  if (auto r = s.find("SequenceNumberRange"); r != s.end() && r->is_object()) {
    info.starting_sequence_number = str_or(*r, "StartingSequenceNumber");
    info.ending_sequence_number = str_or(*r, "EndingSequenceNumber");
  }
  return info;
}

template <typename T>
Outcome<T> failed(AwsError e) {
  Outcome<T> o;
  o.error = std::move(e);
  return o;
}

template <typename T>
Outcome<T> parse_failed(std::string_view op) {
  return failed<T>(AwsError{200, "SerializationException", "cannot read the " + std::string(op) + " response", 1});
}

}  // namespace

KinesisClient::KinesisClient(Session& session) : session_(session), endpoint_(session.endpoint("kinesis")) {}

Outcome<std::string> KinesisClient::call(std::string_view operation, const std::string& json_input) {
  HttpRequest req;
  req.method = "POST";
  req.target = "/";
  req.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
  req.headers.emplace_back("X-Amz-Target", std::string(kTargetPrefix) + std::string(operation));
  req.body = json_input;
  Outcome<std::string> out;
  auto resp = session_.call("kinesis", endpoint_, std::move(req), &out.error);
  if (resp && resp->status >= 200 && resp->status < 300) out.value = std::move(resp->body);
  return out;
}

Outcome<std::vector<ShardInfo>> KinesisClient::list_shards(const std::string& stream) {
  std::vector<ShardInfo> shards;
  std::string token;
  for (;;) {
    json in = json::object();
    if (token.empty())
      set_stream(in, stream);
    else
      in["NextToken"] = token;
    auto r = call("ListShards", in.dump());
    if (!r) return failed<std::vector<ShardInfo>>(r.error);
    auto j = json::parse(*r, nullptr, false);
    if (!j.is_object()) return parse_failed<std::vector<ShardInfo>>("ListShards");
    if (auto s = j.find("Shards"); s != j.end() && s->is_array())
      for (const auto& e : *s) shards.push_back(shard_from(e));
    token = str_or(j, "NextToken");
    if (token.empty()) break;
  }
  Outcome<std::vector<ShardInfo>> o;
  o.value = std::move(shards);
  return o;
}

Outcome<StreamSummary> KinesisClient::describe_stream_summary(const std::string& stream) {
  json in = json::object();
  set_stream(in, stream);
  auto r = call("DescribeStreamSummary", in.dump());
  if (!r) return failed<StreamSummary>(r.error);
  auto j = json::parse(*r, nullptr, false);
  if (!j.is_object() || !j.contains("StreamDescriptionSummary")) return parse_failed<StreamSummary>("DescribeStreamSummary");
  const json& d = j["StreamDescriptionSummary"];
  StreamSummary s;
  s.stream_name = str_or(d, "StreamName");
  s.stream_arn = str_or(d, "StreamARN");
  s.stream_status = str_or(d, "StreamStatus");
  if (auto m = d.find("StreamModeDetails"); m != d.end() && m->is_object()) s.stream_mode = str_or(*m, "StreamMode");
  if (auto c = d.find("OpenShardCount"); c != d.end() && c->is_number()) s.open_shard_count = c->get<int>();
  if (auto c = d.find("RetentionPeriodHours"); c != d.end() && c->is_number()) s.retention_period_hours = c->get<int>();
  Outcome<StreamSummary> o;
  o.value = std::move(s);
  return o;
}

Outcome<std::vector<std::string>> KinesisClient::list_streams() {
  std::vector<std::string> names;
  std::string token;
  for (;;) {
    json in = json::object();
    if (!token.empty()) in["NextToken"] = token;
    auto r = call("ListStreams", in.dump());
    if (!r) return failed<std::vector<std::string>>(r.error);
    auto j = json::parse(*r, nullptr, false);
    if (!j.is_object()) return parse_failed<std::vector<std::string>>("ListStreams");
    if (auto s = j.find("StreamNames"); s != j.end() && s->is_array())
      for (const auto& e : *s)
        if (e.is_string()) names.push_back(e.get<std::string>());
    token = str_or(j, "NextToken");
    bool more = j.value("HasMoreStreams", false);
    if (token.empty() || !more) break;
  }
  Outcome<std::vector<std::string>> o;
  o.value = std::move(names);
  return o;
}

Outcome<PutRecordsResult> KinesisClient::put_records(const std::string& stream,
                                                     const std::vector<PutRecordsEntry>& entries) {
  // Built as text: the entries' data is most of the body, base64-encoded straight into it.
  std::string body;
  std::size_t guess = 64;
  for (const auto& e : entries) guess += e.data.size() * 4 / 3 + e.partition_key.size() * 2 + 96;
  body.reserve(guess);
  body += "{";
  body += json(is_arn(stream) ? "StreamARN" : "StreamName").dump();
  body += ":";
  body += json(stream).dump();
  body += ",\"Records\":[";
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    if (i) body += ',';
    body += "{\"Data\":\"";
    wire::base64_encode_append(e.data, body);
    body += "\",\"PartitionKey\":";
    body += json(e.partition_key).dump(-1, ' ', false, json::error_handler_t::replace);
    if (e.explicit_hash_key) {
      body += ",\"ExplicitHashKey\":";
      body += json(*e.explicit_hash_key).dump();
    }
    body += '}';
  }
  body += "]}";
  auto r = call("PutRecords", body);
  if (!r) return failed<PutRecordsResult>(r.error);
  auto j = json::parse(*r, nullptr, false);
  if (!j.is_object()) return parse_failed<PutRecordsResult>("PutRecords");
  PutRecordsResult res;
  res.failed_record_count = j.value("FailedRecordCount", 0);
  if (auto recs = j.find("Records"); recs != j.end() && recs->is_array()) {
    res.records.reserve(recs->size());
    for (const auto& e : *recs) {
      PutRecordsResultEntry out;
      out.sequence_number = str_or(e, "SequenceNumber");
      out.shard_id = str_or(e, "ShardId");
      out.error_code = str_or(e, "ErrorCode");
      out.error_message = str_or(e, "ErrorMessage");
      res.records.push_back(std::move(out));
    }
  }
  Outcome<PutRecordsResult> o;
  o.value = std::move(res);
  return o;
}

Outcome<std::string> KinesisClient::get_shard_iterator(const std::string& stream, const std::string& shard_id,
                                                       const IteratorStart& start) {
  json in = json::object();
  set_stream(in, stream);
  in["ShardId"] = shard_id;
  in["ShardIteratorType"] = start.type;
  if (start.type == "AT_SEQUENCE_NUMBER" || start.type == "AFTER_SEQUENCE_NUMBER")
    in["StartingSequenceNumber"] = start.sequence_number;
  if (start.type == "AT_TIMESTAMP") in["Timestamp"] = start.timestamp;
  auto r = call("GetShardIterator", in.dump());
  if (!r) return failed<std::string>(r.error);
  auto j = json::parse(*r, nullptr, false);
  if (!j.is_object()) return parse_failed<std::string>("GetShardIterator");
  Outcome<std::string> o;
  o.value = str_or(j, "ShardIterator");
  return o;
}

Outcome<GetRecordsResult> KinesisClient::get_records(const std::string& shard_iterator, int limit) {
  json in = json::object();
  in["ShardIterator"] = shard_iterator;
  in["Limit"] = limit;
  auto r = call("GetRecords", in.dump());
  if (!r) return failed<GetRecordsResult>(r.error);
  auto j = json::parse(*r, nullptr, false);
  if (!j.is_object()) return parse_failed<GetRecordsResult>("GetRecords");
  GetRecordsResult res;
  res.next_shard_iterator = str_or(j, "NextShardIterator");
  if (auto m = j.find("MillisBehindLatest"); m != j.end() && m->is_number()) res.millis_behind_latest = m->get<int64_t>();
  if (auto recs = j.find("Records"); recs != j.end() && recs->is_array()) {
    res.records.reserve(recs->size());
    for (auto& e : *recs) {
      KinesisRecord k;
      k.sequence_number = str_or(e, "SequenceNumber");
      k.partition_key = str_or(e, "PartitionKey");
      if (auto d = e.find("Data"); d != e.end() && d->is_string()) {
        if (!wire::base64_decode_append(d->get_ref<const std::string&>(), k.data))
          return parse_failed<GetRecordsResult>("GetRecords (Data is not base64)");
      }
      if (auto t = e.find("ApproximateArrivalTimestamp"); t != e.end() && t->is_number())
        k.approximate_arrival = t->get<double>();
      res.records.push_back(std::move(k));
    }
  }
  if (auto c = j.find("ChildShards"); c != j.end() && c->is_array()) {
    for (const auto& s : *c) {
      ShardInfo info = shard_from(s);
      if (auto p = s.find("ParentShards"); p != s.end() && p->is_array()) {
        if (p->size() > 0 && (*p)[0].is_string()) info.parent_shard_id = (*p)[0].get<std::string>();
        if (p->size() > 1 && (*p)[1].is_string()) info.adjacent_parent_shard_id = (*p)[1].get<std::string>();
      }
      res.child_shards.push_back(std::move(info));
    }
  }
  Outcome<GetRecordsResult> o;
  o.value = std::move(res);
  return o;
}

}  // namespace eddy::client
