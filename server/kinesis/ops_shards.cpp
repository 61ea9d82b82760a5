// Shards: ListShards, SplitShard, MergeShards, UpdateShardCount.
#include "server/kinesis/service_impl.h"

#include <algorithm>
#include <mutex>

#include "server/kinesis/sequence_number.h"

namespace eddy::kinesis {

using nlohmann::json;

void ServiceImpl::shard_json(const Stream& s, const Shard& sh, json& o) const {
  o = json::object();
  o["ShardId"] = sh.id();
  if (sh.parent) o["ParentShardId"] = Shard::shard_id(*sh.parent);
  if (sh.adjacent_parent) o["AdjacentParentShardId"] = Shard::shard_id(*sh.adjacent_parent);
  o["HashKeyRange"] = hash_range_json(sh.range);
  json seq = json::object();
  seq["StartingSequenceNumber"] = SequenceNumber{s.id, sh.index, 0}.str();
  if (!sh.open()) seq["EndingSequenceNumber"] = SequenceNumber{s.id, sh.index, sh.next_counter - 1}.str();
  o["SequenceNumberRange"] = std::move(seq);
}

json ServiceImpl::shard_page(const Stream& s, size_t max, const std::function<bool(const Shard&)>& listed, bool* more,
                             std::string* last) const {
  json shards = json::array();
  *more = false;
  for (const auto& sh : s.shards) {
    if (!listed(sh)) continue;
    if (shards.size() >= max) {
      *more = true;
      break;
    }
    json o;
    shard_json(s, sh, o);
    shards.push_back(std::move(o));
    if (last) *last = sh.id();
  }
  return shards;
}

ServiceImpl::Position ServiceImpl::read_position(const json* in, Encoding enc, const char* member) {
  Position p;
  if (!in) return p;
  Reader r{*in, enc};
  p.type = r.string("Type");
  p.member = r.string(member);
  p.timestamp = r.timestamp("Timestamp");
  check(r);
  return p;
}

http::Response ServiceImpl::list_shards(Call& c) {
  auto start = c.in.string("ExclusiveStartShardId");
  auto max_results = c.in.integer("MaxResults");
  auto token = c.in.string("NextToken");
  auto created = c.in.timestamp("StreamCreationTimestamp");
  StreamRef ref(c.in);
  const json* filter = c.in.object("ShardFilter");
  check(c.in);
  Position f = read_position(filter, c.enc, "ShardId");
  auto& ftype = f.type;
  auto& fshard = f.member;
  auto& fts = f.timestamp;
  Validator v;
  v.string("exclusiveStartShardId", start, false, 1, 128, Validator::kNamePattern);
  v.integer("maxResults", max_results, false, 1, 10000);
  v.string("nextToken", token, false, 1, 1048576);
  ref.validate(v, false);
  if (filter) {
    v.enumeration("shardFilter.type", ftype, true,
                  {"AFTER_SHARD_ID", "AT_TRIM_HORIZON", "FROM_TRIM_HORIZON", "AT_LATEST", "AT_TIMESTAMP",
                   "FROM_TIMESTAMP"});
    v.string("shardFilter.shardId", fshard, false, 1, 128, Validator::kNamePattern);
  }
  check(v);

  // A NextToken carries the stream, the filter and the last shard listed.
  json state;
  if (token) {
    if (ref.name) throw errors::next_token_with("StreamName");
    if (ref.arn) throw errors::next_token_with("StreamARN");
    if (start)
      throw errors::next_token_with("ExclusiveStartShardId");
    if (filter) throw errors::next_token_with("ShardFilter");
    if (created)
      throw errors::next_token_with("StreamCreationTimestamp");
    auto opened = next_tokens_->open(*token);
    if (!opened || !opened->contains("s") || !opened->contains("t")) throw errors::malformed_shard_token();
    state = std::move(*opened);
    if (c.now - state["t"].get<int64_t>() > kIteratorLifetimeMs)
      throw errors::expired_next_token();
    ref.name = state["s"].get<std::string>();
    if (state.contains("f")) ftype = state["f"].get<std::string>();
    if (state.contains("fs")) fshard = state["fs"].get<std::string>();
    if (state.contains("ft")) fts = state["ft"].get<int64_t>();
    if (state.contains("a")) start = state["a"].get<std::string>();
  } else if (!ref.name && !ref.arn) {
    throw errors::next_token_or_stream_name();
  }
  if (ftype && (*ftype == "AT_TIMESTAMP" || *ftype == "FROM_TIMESTAMP") && !fts)
    throw errors::filter_needs_timestamp(*ftype);
  if (ftype && *ftype == "AFTER_SHARD_ID" && !fshard)
    throw errors::filter_needs_shard_id();

  if (token) ref.arn.reset();  // the token names the stream
  auto s = resolve(c, ref);
  std::lock_guard lk(s->mu);
  if (created && *created / 1000 != s->created_ms / 1000)
    throw errors::stream_not_found(account(), s->name);
  // AWS documents 1..10000 as valid but returns at most 1000 shards a page.
  size_t max = static_cast<size_t>(std::min<int64_t>(max_results.value_or(1000), 1000));
  int64_t horizon = c.now - static_cast<int64_t>(s->retention_hours) * kHourMs;
  std::optional<std::string> after = start;
  if (ftype && *ftype == "AFTER_SHARD_ID") after = fshard;
  auto included = [&](const Shard& sh) {
    if (!ftype || *ftype == "AFTER_SHARD_ID") return true;
    bool initial = !sh.parent && !sh.adjacent_parent;
    int64_t opened = initial ? INT64_MIN : sh.created_ms;
    if (*ftype == "AT_LATEST") return sh.open();
    if (*ftype == "FROM_TRIM_HORIZON") return sh.open() || *sh.closed_ms >= horizon;
    if (*ftype == "AT_TRIM_HORIZON")
      return opened <= horizon && (sh.open() || *sh.closed_ms > horizon);
    int64_t ts = std::max(*fts, horizon);
    if (*ftype == "AT_TIMESTAMP") return opened <= *fts && (sh.open() || *sh.closed_ms >= *fts);
    return sh.open() || *sh.closed_ms >= ts;  // FROM_TIMESTAMP
  };
  bool more = false;
  std::string last;
  json shards = shard_page(
      *s, max, [&](const Shard& sh) { return !(after && sh.id() <= *after) && included(sh); }, &more, &last);
  json out = json{{"Shards", std::move(shards)}};
  if (more) {
    json t = json{{"s", s->name}, {"t", c.now}, {"a", last}};
    if (ftype) t["f"] = *ftype;
    if (fshard) t["fs"] = *fshard;
    if (fts) t["ft"] = *fts;
    out["NextToken"] = next_tokens_->seal(std::move(t));
  }
  return ok(c, out);
}

http::Response ServiceImpl::split_shard(Call& c) {
  auto key = c.in.string("NewStartingHashKey");
  const StreamRef ref(c.in);
  auto shard_id = c.in.string("ShardToSplit");
  check(c.in);
  Validator v;
  v.string("newStartingHashKey", key, true, 0, SIZE_MAX, Validator::kHashKeyPattern);
  ref.validate(v);
  v.string("shardToSplit", shard_id, true, 1, 128, Validator::kNamePattern);
  check(v);
  auto idx = Shard::parse_id(*shard_id);
  const std::string shown_name = ref.shown_name();
  if (!idx)
    throw errors::shard_not_found(account(), shown_name, *shard_id);
  auto s = resolve(c, ref);
  uint32_t open_total = account_open_shards();
  std::lock_guard lk(s->mu);
  if (s->status != "ACTIVE")
    throw errors::stream_not_active(account(), s->name, s->status);
  Shard* sh = s->find(*idx);
  if (!sh)
    throw errors::shard_not_found(account(), s->name, Shard::shard_id(*idx));
  if (!sh->open())
    throw errors::shard_closed(account(), s->name, sh->id());
  if (open_total + 1 > config_.shard_limit) {
    throw errors::shard_limit(account(), open_total, config_.shard_limit, 1);
  }
  auto k = wire::parse_u128(*key);
  if (!k || *k <= sh->range.start + 1 || *k >= sh->range.end) {
    throw errors::bad_split_key(account(), s->name, sh->id(), *key, wire::to_decimal(sh->range.start), wire::to_decimal(sh->range.end));
  }
  auto shards_before = s->shards;
  sh->closed_ms = c.now;
  Shard a, b;
  a.index = static_cast<uint32_t>(s->shards.size());
  a.range = {sh->range.start, *k - 1};
  a.parent = sh->index;
  a.created_ms = c.now;
  b.index = a.index + 1;
  b.range = {*k, sh->range.end};
  b.parent = sh->index;
  b.created_ms = c.now;
  s->shards.push_back(a);
  s->shards.push_back(b);
  commit_shard_map(c, *s, std::move(shards_before));
  return ok_empty(c);
}

void ServiceImpl::commit_shard_map(Call& c, Stream& s, std::vector<Shard> before) {
  const std::string status_before = s.status;
  const int64_t until_before = s.status_until_ms;
  if (config_.update_stream_ms > 0) {
    s.set_status("UPDATING", c.now + config_.update_stream_ms);
  }
  store::WriteBatch batch(store_);
  persist(s, batch);
  if (auto st = store_.write(batch); !st) {
    s.shards = std::move(before);
    s.set_status(status_before, until_before);
    throw ApiError::internal();
  }
}

http::Response ServiceImpl::merge_shards(Call& c) {
  auto a_id = c.in.string("ShardToMerge");
  auto b_id = c.in.string("AdjacentShardToMerge");
  Validator v;
  const StreamRef ref = stream_ref(c.in);
  v.string("shardToMerge", a_id, true, 1, 128, Validator::kNamePattern);
  v.string("adjacentShardToMerge", b_id, true, 1, 128, Validator::kNamePattern);
  ref.validate(v);
  check(v);
  const std::string shown_name = ref.shown_name();
  auto ia = Shard::parse_id(*a_id), ib = Shard::parse_id(*b_id);
  for (auto [parsed, given] : {std::pair{ia, a_id}, std::pair{ib, b_id}})
    if (!parsed)
      throw errors::shard_not_found(account(), shown_name, *given);
  auto s = resolve(c, ref);
  std::lock_guard lk(s->mu);
  if (s->status != "ACTIVE")
    throw errors::stream_not_active(account(), s->name, s->status);
  Shard* a = s->find(*ia);
  Shard* b = s->find(*ib);
  for (auto [sh, idx] : {std::pair{a, *ia}, std::pair{b, *ib}})
    if (!sh)
      throw errors::shard_not_found(account(), s->name, Shard::shard_id(idx));
  for (Shard* sh : {a, b})
    if (!sh->open())
      throw errors::shard_closed(account(), s->name, sh->id());
  bool adjacent = (a->range.end != wire::kMaxHashKey && a->range.end + 1 == b->range.start) ||
                  (b->range.end != wire::kMaxHashKey && b->range.end + 1 == a->range.start);
  if (!adjacent || a == b)
    throw errors::shards_not_adjacent(account(), s->name, a->id(), b->id());
  auto shards_before = s->shards;
  a->closed_ms = c.now;
  b->closed_ms = c.now;
  Shard m;
  m.index = static_cast<uint32_t>(s->shards.size());
  m.range = {std::min(a->range.start, b->range.start), std::max(a->range.end, b->range.end)};
  m.parent = a->index;
  m.adjacent_parent = b->index;
  m.created_ms = c.now;
  s->shards.push_back(m);
  commit_shard_map(c, *s, std::move(shards_before));
  return ok_empty(c);
}

http::Response ServiceImpl::update_shard_count(Call& c) {
  auto target = c.in.integer("TargetShardCount");
  auto scaling = c.in.string("ScalingType");
  auto s = resolve(c, [&](Validator& v) {
    v.integer("targetShardCount", target, true, 1, std::nullopt);
    v.enumeration("scalingType", scaling, true, {"UNIFORM_SCALING"});
  });
  uint32_t account_open = account_open_shards();
  std::lock_guard lk(s->mu);
  if (s->mode == StreamMode::on_demand)
    throw errors::on_demand_cannot_reshard(account(), s->name);
  if (s->status != "ACTIVE")
    throw errors::stream_not_active(account(), s->name, s->status);
  uint32_t open = s->open_shard_count();
  int64_t t = *target;
  std::string counts = "Current open shard count: " + std::to_string(open) + ", Target shard count: " + std::to_string(t);
  if (t > open * 2)
    throw errors::scale_up_over_double(open, t);
  if (t < (open + 1) / 2)
    throw errors::scale_down_below_half(open, t);
  if (static_cast<int64_t>(account_open - open) + t > static_cast<int64_t>(config_.shard_limit))
    throw errors::target_shard_count_over_limit(config_.shard_limit, open, t);
  if (t == open) return ok(c, json{{"StreamName", s->name}, {"CurrentShardCount", open}, {"TargetShardCount", t},
                                   {"StreamARN", s->arn(config_.region, config_.account_id)}});
  // Close every open shard and open `t` new ones over the whole key space; each new shard's
  // parents are the old shards its range overlaps (at most two are recorded, as AWS does).
  auto shards_before = s->shards;
  std::vector<Shard*> old;
  for (auto& sh : s->shards)
    if (sh.open()) old.push_back(&sh);
  std::sort(old.begin(), old.end(), [](Shard* x, Shard* y) { return x->range.start < y->range.start; });
  std::vector<std::pair<uint32_t, wire::HashRange>> old_ranges;
  for (Shard* o : old) {
    o->closed_ms = c.now;
    old_ranges.emplace_back(o->index, o->range);
  }
  auto ranges = wire::even_split(static_cast<uint32_t>(t));
  uint32_t next = static_cast<uint32_t>(s->shards.size());
  for (uint32_t i = 0; i < t; ++i) {
    Shard n;
    n.index = next + i;
    n.range = ranges[i];
    n.created_ms = c.now;
    for (auto& [oi, r] : old_ranges) {
      if (r.end < n.range.start || r.start > n.range.end) continue;
      if (!n.parent) n.parent = oi;
      else if (!n.adjacent_parent) n.adjacent_parent = oi;
    }
    s->shards.push_back(n);
  }
  commit_shard_map(c, *s, std::move(shards_before));
  return ok(c, json{{"StreamName", s->name}, {"CurrentShardCount", open}, {"TargetShardCount", t},
                    {"StreamARN", s->arn(config_.region, config_.account_id)}});
}

}  // namespace eddy::kinesis
