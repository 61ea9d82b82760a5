#include "client/kinesis_client.h"

#include <boost/json.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>

#include "wire/base64.h"
#include "wire/cbor.h"
#include "wire/text.h"

namespace eddy::client {

using nlohmann::json;

namespace {

constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";
constexpr const char* kJsonContentType = "application/x-amz-json-1.1";
constexpr const char* kCborContentType = "application/x-amz-cbor-1.1";

// The Java SDKs' switches: v1 reads AWS_CBOR_DISABLE (set: JSON), v2 CBOR_ENABLED (false: JSON).
bool cbor_enabled_by_environment() {
  const char* off = std::getenv("AWS_CBOR_DISABLE");
  const char* on = std::getenv("CBOR_ENABLED");
  return !(off && *off) && !(on && std::string_view(on) == "false");
}

bool is_arn(const std::string& stream) {
  return stream.rfind("arn:", 0) == 0;
}

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

KinesisClient::KinesisClient(Session& session)
    : session_(session), endpoint_(session.endpoint("kinesis")), cbor_(cbor_enabled_by_environment()) {}

Outcome<std::string> KinesisClient::call(std::string_view operation, std::string json_input) {
  return call_encoded(operation, std::move(json_input), false);
}

Outcome<std::string> KinesisClient::call_encoded(std::string_view operation, std::string body, bool cbor) {
  HttpRequest req;
  req.method = "POST";
  req.target = "/";
  req.headers.emplace_back("Content-Type", cbor ? kCborContentType : kJsonContentType);
  req.headers.emplace_back("X-Amz-Target", std::string(kTargetPrefix) + std::string(operation));
  req.body = std::move(body);
  Outcome<std::string> out;
  auto resp = session_.call("kinesis", endpoint_, std::move(req), &out.error);
  if (resp && resp->status >= 200 && resp->status < 300) {
    out.value = std::move(resp->body);
  } else if (resp && cbor && out.error.message.empty()) {
    // A CBOR error body ({"__type": .., "message": ..}): the code came from x-amzn-ErrorType,
    // the message is read here.
    auto j = json::from_cbor(resp->body, true, false, json::cbor_tag_handler_t::ignore);
    if (j.is_object()) {
      for (const char* k : {"message", "Message"})
        if (auto m = j.find(k); m != j.end() && m->is_string()) {
          out.error.message = m->get<std::string>();
          break;
        }
      if (auto t = j.find("__type"); out.error.code.empty() && t != j.end() && t->is_string()) {
        out.error.code = t->get<std::string>();
        out.error.code = out.error.code.substr(out.error.code.rfind('#') + 1);
      }
    }
  }
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
  if (!j.is_object() || !j.contains("StreamDescriptionSummary"))
    return parse_failed<StreamSummary>("DescribeStreamSummary");
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
  std::vector<PutRecordsEntryView> views(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i)
    views[i] = {entries[i].data, entries[i].partition_key,
                entries[i].explicit_hash_key ? std::optional<std::string_view>(*entries[i].explicit_hash_key)
                                             : std::nullopt};
  return put_records(stream, std::span<const PutRecordsEntryView>(views));
}

Outcome<PutRecordsResult> KinesisClient::put_records(const std::string& stream,
                                                     std::span<const PutRecordsEntryView> entries) {
  // The entries' data is most of the body: copied into it once as CBOR byte strings, or
  // base64-encoded straight into it as JSON text.
  const bool cbor = cbor_;
  std::string body;
  std::size_t guess = 64 + stream.size();
  for (const auto& e : entries)
    guess += (cbor ? e.data.size() + e.partition_key.size() : (e.data.size() + 2) / 3 * 4 + e.partition_key.size() * 2) +
             (e.explicit_hash_key ? e.explicit_hash_key->size() + 24 : 0) + 48;
  body.reserve(guess);
  if (cbor) {
    namespace cb = wire::cbor;
    cb::append_head(body, cb::kMap, 2);
    cb::append_text(body, is_arn(stream) ? "StreamARN" : "StreamName");
    cb::append_text(body, stream);
    cb::append_text(body, "Records");
    cb::append_head(body, cb::kArray, entries.size());
    for (const auto& e : entries) {
      cb::append_head(body, cb::kMap, e.explicit_hash_key ? 3 : 2);
      cb::append_text(body, "Data");
      cb::append_bytes(body, e.data);
      cb::append_text(body, "PartitionKey");
      cb::append_text(body, e.partition_key);
      if (e.explicit_hash_key) {
        cb::append_text(body, "ExplicitHashKey");
        cb::append_text(body, *e.explicit_hash_key);
      }
    }
  } else {
    body += is_arn(stream) ? "{\"StreamARN\":" : "{\"StreamName\":";
    wire::text::append_json_string(body, stream);
    body += ",\"Records\":[";
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      if (i) body += ',';
      body += "{\"Data\":\"";
      wire::base64_encode_append(e.data, body);
      body += "\",\"PartitionKey\":";
      wire::text::append_json_string(body, e.partition_key);
      if (e.explicit_hash_key) {
        body += ",\"ExplicitHashKey\":";
        wire::text::append_json_string(body, *e.explicit_hash_key);
      }
      body += '}';
    }
    body += "]}";
  }
  auto r = call_encoded("PutRecords", std::move(body), cbor);
  if (!r) return failed<PutRecordsResult>(r.error);
  // By its first byte ('{' is no CBOR map): a server may answer JSON whatever it was sent.
  const bool cbor_answer = !r->empty() && (*r)[0] != '{';
  auto j = cbor_answer ? json::from_cbor(*r, true, false, json::cbor_tag_handler_t::ignore) : json::parse(*r, nullptr, false);
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
  o.error.attempts = r.error.attempts;  // transport retries of a successful call
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

namespace {

// GetRecords answers carry up to 10 MiB of base64: read with Boost.JSON (a monotonic arena, no
// per-character string building), Data decoded straight into each record.
namespace bj = boost::json;

std::string_view sv(const bj::string& s) { return {s.data(), s.size()}; }

std::string bj_str(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(sv(v->get_string())) : std::string();
}

double bj_number(const bj::value& v) {
  bj::error_code ec;
  double d = v.to_number<double>(ec);
  return ec ? 0 : d;
}

}  // namespace

Outcome<GetRecordsResult> KinesisClient::get_records(const std::string& shard_iterator, int limit) {
  json in = json::object();
  in["ShardIterator"] = shard_iterator;
  in["Limit"] = limit;
  auto r = call("GetRecords", in.dump());
  if (!r) return failed<GetRecordsResult>(r.error);
  bj::monotonic_resource arena;
  bj::error_code ec;
  bj::value doc = bj::parse(*r, ec, &arena);
  if (ec || !doc.is_object()) return parse_failed<GetRecordsResult>("GetRecords");
  const bj::object& j = doc.get_object();
  GetRecordsResult res;
  res.next_shard_iterator = bj_str(j, "NextShardIterator");
  if (const bj::value* m = j.if_contains("MillisBehindLatest")) res.millis_behind_latest = static_cast<int64_t>(bj_number(*m));
  if (const bj::value* recs = j.if_contains("Records"); recs && recs->is_array()) {
    const bj::array& arr = recs->get_array();
    // One arena for the whole response, sized up front: every record's sequence number,
    // partition key and decoded data appended to it, the views taken once it is complete.
    std::size_t total = 0;
    for (const bj::value& ev : arr) {
      if (!ev.is_object()) return parse_failed<GetRecordsResult>("GetRecords");
      const bj::object& e = ev.get_object();
      for (const char* f : {"SequenceNumber", "PartitionKey"})
        if (const bj::value* v = e.if_contains(f); v && v->is_string()) total += v->get_string().size();
      if (const bj::value* d = e.if_contains("Data"); d && d->is_string()) total += d->get_string().size() / 4 * 3 + 3;
    }
    res.arena = std::make_unique<std::string>();
    std::string& arena = *res.arena;
    arena.reserve(total);
    std::vector<std::size_t> ends;  // three per record: where its key, key and data end
    ends.reserve(arr.size() * 3);
    res.records.resize(arr.size());
    for (std::size_t i = 0; i < arr.size(); ++i) {
      const bj::object& e = arr[i].get_object();
      for (const char* f : {"SequenceNumber", "PartitionKey"}) {
        if (const bj::value* v = e.if_contains(f); v && v->is_string()) arena.append(sv(v->get_string()));
        ends.push_back(arena.size());
      }
      if (const bj::value* d = e.if_contains("Data"); d && d->is_string()) {
        if (!wire::base64_decode_append(sv(d->get_string()), arena))
          return parse_failed<GetRecordsResult>("GetRecords (Data is not base64)");
      }
      ends.push_back(arena.size());
      if (const bj::value* t = e.if_contains("ApproximateArrivalTimestamp"))
        res.records[i].approximate_arrival = bj_number(*t);
    }
    std::size_t at = 0;
    for (std::size_t i = 0; i < res.records.size(); ++i) {
      std::string_view* views[3] = {&res.records[i].sequence_number, &res.records[i].partition_key,
                                    &res.records[i].data};
      for (int k = 0; k < 3; ++k) {
        const std::size_t end = ends[i * 3 + static_cast<std::size_t>(k)];
        *views[k] = std::string_view(arena.data() + at, end - at);
        at = end;
      }
    }
  }
  if (const bj::value* c = j.if_contains("ChildShards"); c && c->is_array()) {
    for (const bj::value& sv_ : c->get_array()) {
      if (!sv_.is_object()) continue;
      const bj::object& s = sv_.get_object();
      ShardInfo info;
      info.shard_id = bj_str(s, "ShardId");
      info.hash_range = {0, wire::kMaxHashKey};
      if (const bj::value* h = s.if_contains("HashKeyRange"); h && h->is_object()) {
        info.hash_range.start = wire::parse_u128(bj_str(h->get_object(), "StartingHashKey")).value_or(0);
        info.hash_range.end = wire::parse_u128(bj_str(h->get_object(), "EndingHashKey")).value_or(wire::kMaxHashKey);
      }
      if (const bj::value* p = s.if_contains("ParentShards"); p && p->is_array()) {
        const auto& a = p->get_array();
        if (a.size() > 0 && a[0].is_string()) info.parent_shard_id = std::string(sv(a[0].get_string()));
        if (a.size() > 1 && a[1].is_string()) info.adjacent_parent_shard_id = std::string(sv(a[1].get_string()));
      }
      res.child_shards.push_back(std::move(info));
    }
  }
  Outcome<GetRecordsResult> o;
  o.value = std::move(res);
  return o;
}

}  // namespace eddy::client
