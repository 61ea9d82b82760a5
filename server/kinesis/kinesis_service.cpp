// The Kinesis service's front: KinesisService (pimpl) and the request pipeline (handle).
#include "server/kinesis/kinesis_service.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "server/auth/authenticator.h"
#include "server/kinesis/keys.h"
#include "server/kinesis/record_block.h"
#include "server/kinesis/service_impl.h"
#include "wire/base64.h"

namespace eddy::kinesis {

using nlohmann::json;

namespace {
constexpr std::string_view kTargetPrefix = "Kinesis_20131202.";

std::string random_bytes(size_t n) {
  std::string s(n, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(s.data()), static_cast<int>(n));
  return s;
}

// x-amz-id-2: 72 opaque bytes in base64, as AWS sends.
std::string amz_id_2() { return wire::opaque_base64(72); }

// The encoding of a request by its Content-Type; nullopt for another type (an empty body of
// another type is answered in CBOR, as AWS does).
std::optional<Encoding> encoding_of(const http::Request& req) {
  std::string_view ct = req.headers.get("Content-Type");
  auto semi = ct.find(';');
  if (semi != std::string_view::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  if (http::iequals(ct, kJsonContentType) || http::iequals(ct, "application/json")) return Encoding::json;
  if (http::iequals(ct, kCborContentType) || req.body.empty()) return Encoding::cbor;
  return std::nullopt;
}

// A failed authentication as Kinesis answers it: {"__type": code, "message": message} in the
// request's encoding (CBOR for another type).
http::Response auth_failure(Encoding enc, const auth::AuthResult& result) {
  http::Response res;
  res.status = result.status;
  res.headers.add("Content-Type", enc == Encoding::json ? kJsonContentType : kCborContentType);
  res.headers.add("x-amzn-ErrorType", result.code);
  res.body = encode_error(enc, ApiError{result.code, result.message, result.status});
  return res;
}

}  // namespace

// ---- KinesisService ---------------------------------------------------------------------------

KinesisService::KinesisService(const Config& config, Clock& clock, store::Store& store)
    : impl_(std::make_unique<ServiceImpl>(config, clock, store)) {}

KinesisService::~KinesisService() = default;

bool KinesisService::load(std::string* error) { return impl_->load(error); }

void KinesisService::set_authenticator(const auth::Authenticator* a) { impl_->auth_ = a; }

http::Dispatch KinesisService::dispatch(http::Request&) {
  http::BufferBody b;
  b.max_bytes = impl_->config_.max_kinesis_body_bytes;
  b.handle = [impl = impl_.get()](http::Request& r) { return impl->handle(r, true); };
  b.too_large = [](http::Request&) {
    http::Response res;
    res.status = 413;
    res.headers.add("x-amz-id-2", amz_id_2());
    res.headers.add("Content-Type", "text/plain");
    res.body = "Request Entity Too Large\n";
    return res;
  };
  return b;
}

http::Response KinesisService::handle(http::Request& req) { return impl_->handle(req, false); }

http::Response KinesisService::internal_failure(const http::Request& req) const {
  // By Content-Type alone: the body may not have been read when the handler threw.
  const std::string_view type = kCborContentType;
  const bool cbor = http::iequals(req.headers.get("Content-Type").substr(0, type.size()), type);
  return impl_->fail(cbor ? Encoding::cbor : Encoding::json, ApiError::internal());
}

void KinesisService::add_hooks(KinesisHooks* hooks) { impl_->hooks_.push_back(hooks); }

void KinesisService::trim_expired() { impl_->trim_expired(); }

std::vector<std::shared_ptr<Stream>> KinesisService::streams_snapshot() const { return impl_->streams_snapshot(); }

std::shared_ptr<Stream> KinesisService::find_stream_by_name(const std::string& name) const {
  return impl_->find_stream_by_name(name);
}

bool KinesisService::change_stream(Stream& s, const std::function<void()>& change) {
  return impl_->change_stream(s, change).ok;
}

const Config& KinesisService::config() const { return impl_->config_; }

// ---- ServiceImpl: state, load, answers, the pipeline -------------------------------------------

ServiceImpl::ServiceImpl(const Config& config, Clock& clock, store::Store& store)
    : config_(config), clock_(clock), store_(store) {
  for (const auto& [name, op] : kOperations) ops_.emplace(name, op);
  subscriptions_ = make_subscription_hub(clock);
  hooks_.push_back(subscription_hooks(*subscriptions_));
}

bool ServiceImpl::load(std::string* error) {
  // The secret that signs iterators and NextTokens: persisted, so they survive restarts.
  auto secret = store_.get(store::Family::meta, keys::kIteratorSecret);
  if (!secret) {
    secret = random_bytes(32);
    store::WriteBatch b(store_);
    b.put(store::Family::meta, keys::kIteratorSecret, *secret);
    if (auto st = store_.write(b); !st) {
      if (error) *error = st.message;
      return false;
    }
  }
  next_tokens_ = std::make_unique<NextTokenCodec>(*secret);
  iterators_ = std::make_unique<ShardIteratorCodec>(*secret);
  load_account_settings();
  if (auto v = store_.get(store::Family::meta, keys::kNextStreamId); v && v->size() == 4)
    next_stream_id_ = store::get_u32(*v, 0);

  auto it = store_.iterate(store::Family::meta, keys::kStreamsBegin, keys::kStreamsEnd);
  for (it->seek(keys::kStreamsBegin); it->valid(); it->next()) {
    json j = json::parse(it->value(), nullptr, false);
    auto s = std::make_shared<Stream>();
    if (j.is_discarded() || !Stream::from_json(j, *s)) {
      if (error) *error = "corrupt stream record " + std::string(it->key());
      return false;
    }
    // Counters: the persisted high-water mark, or past the last stored record.
    for (auto& sh : s->shards) {
      if (auto c = store_.get(store::Family::meta, keys::counter(s->id, sh.index)); c && c->size() == 8)
        sh.next_counter = std::max(sh.next_counter, store::get_u64(*c, 0));
      auto rit = store_.iterate(store::Family::records, keys::shard_records(s->id, sh.index),
                                keys::prefix_end(keys::shard_records(s->id, sh.index)));
      rit->seek_for_prev(record_key(s->id, sh.index, UINT64_MAX));
      BlockHeader h;
      if (rit->valid() && rit->key().size() == 16 && parse_block_header(rit->value(), h))
        sh.next_counter = std::max(sh.next_counter, store::get_u64(rit->key(), 8) + h.count);
    }
    next_stream_id_ = std::max(next_stream_id_, s->id + 1);
    by_id_[s->id] = s;
    streams_[s->name] = s;
  }
  return it->status().ok || (error && (*error = it->status().message, false));
}

http::Response ServiceImpl::fail(Encoding enc, const ApiError& e) {
  http::Response res;
  res.status = e.status;
  res.headers.add("Content-Type", enc == Encoding::json ? kJsonContentType : kCborContentType);
  res.headers.add("x-amzn-ErrorType", e.type);
  res.headers.add("x-amz-id-2", amz_id_2());
  res.body = encode_error(enc, e);
  return res;
}

http::Response ServiceImpl::fail(Call& c, const ApiError& e) { return fail(c.enc, e); }

http::Response ServiceImpl::ok(Call& c, const json& out) {
  http::Response res;
  res.headers.add("Content-Type", c.enc == Encoding::json ? kJsonContentType : kCborContentType);
  res.headers.add("x-amz-id-2", amz_id_2());
  res.body = encode(c.enc, out);
  return res;
}

http::Response ServiceImpl::ok_body(Encoding enc, std::string body) {
  http::Response res;
  res.headers.reserve(4);  // these two, then x-amzn-RequestId and Date from the front end
  res.headers.add("Content-Type", enc == Encoding::json ? kJsonContentType : kCborContentType);
  res.headers.add("x-amz-id-2", amz_id_2());
  res.body = std::move(body);
  return res;
}

http::Response ServiceImpl::ok_empty(Call& c) {
  http::Response res;
  res.headers.add("Content-Type", c.enc == Encoding::json ? kJsonContentType : kCborContentType);
  res.headers.add("x-amz-id-2", amz_id_2());
  if (c.enc == Encoding::cbor) res.body = encode_cbor(json::object());
  return res;
}

// The pipeline, top to bottom:
//   1. address   the encoding (Content-Type) and the operation (X-Amz-Target); their verdicts
//                wait for auth, so that an unsigned request is refused as such whatever it names
//   2. auth      the signature, for requests from the front end (not in-process calls), unless
//                --auth off; a failure is answered in the request's encoding, before any hook
//   3. decode    the JSON or CBOR fast path for PutRecord(s), else the body into a json tree
//   4. before    hooks' before_operation: fault rules, then control-plane limits
//   5. operation kOperations' member (ops_*.cpp); an ApiError it throws is answered here
//   6. after     hooks' after_operation (a pending PutRecord runs them when it is answered)
http::Response ServiceImpl::handle(http::Request& req, bool authenticate) {
  // 1. address
  const std::optional<Encoding> encoding = encoding_of(req);
  std::string_view target = req.headers.get("X-Amz-Target");
  std::string_view op_name;
  if (target.substr(0, kTargetPrefix.size()) == kTargetPrefix) op_name = target.substr(kTargetPrefix.size());

  // 2. auth
  if (authenticate && auth_ && auth_->mode() != auth::Mode::off) {
    const auth::AuthResult a = auth_->check(req, "kinesis");
    if (!a.ok) return auth_failure(encoding.value_or(Encoding::cbor), a);
  }

  if (!encoding) {
    http::Response res;
    res.status = 404;
    res.headers.add("x-amz-id-2", amz_id_2());
    res.body = "<UnknownOperationException/>\n";
    return res;
  }
  const Encoding enc = *encoding;
  auto op = ops_.find(op_name);
  if (op == ops_.end()) return fail(enc, ApiError{"UnknownOperationException", "", 400, ApiError::MessageKey::none});

  // 3. decode
  Call c(req, enc);
  c.operation = std::string(op_name);
  c.now = clock_.now_ms();
  ApiError err;
  if (op_name == "PutRecords" || op_name == "PutRecord") {
    c.fast_put = std::make_unique<FastPut>();
    if (!parse_put_fast(op_name, enc == Encoding::cbor, req.body, *c.fast_put)) c.fast_put.reset();
  }
  if (c.fast_put) {
    if (c.fast_put->name) c.stream_name = std::string(*c.fast_put->name);
    else if (auto a = c.fast_put->arn; a && a->find(":stream/") != std::string_view::npos)
      c.stream_name = std::string(a->substr(a->find(":stream/") + 8));
    if (op_name == "PutRecord") c.partition_key = std::string(c.fast_put->entries[0].partition_key);
  } else if (req.body.empty() || !decode_body(enc, req.body, c.input, err)) {
    return fail(c, ApiError::serialization(""));
  }
  // Names for hooks and logs (validated by the operation itself).
  if (auto n = c.input.find("StreamName"); n != c.input.end() && n->is_string()) {
    c.stream_name = n->get<std::string>();
  } else if (auto a = c.input.find("StreamARN"); a != c.input.end() && a->is_string()) {
    auto s = a->get<std::string>();
    auto p = s.find(":stream/");
    if (p != std::string::npos) c.stream_name = s.substr(p + 8);
  } else if (auto k = c.input.find("ConsumerARN"); k != c.input.end() && k->is_string()) {
    // <stream ARN>/consumer/<name>:<epoch>: the consumer's stream (its per-stream limits).
    const auto& s = k->get_ref<const std::string&>();
    auto p = s.find(":stream/");
    auto e = s.rfind("/consumer/");
    if (p != std::string::npos && e != std::string::npos && e > p + 8) c.stream_name = s.substr(p + 8, e - p - 8);
  }
  // The shard a call names: GetShardIterator's ShardId, SplitShard's ShardToSplit, MergeShards'
  // ShardToMerge (fault rules' `shard` matcher; docs/throttling.md).
  for (const char* member : {"ShardId", "ShardToSplit", "ShardToMerge"}) {
    if (auto s = c.input.find(member); s != c.input.end() && s->is_string()) {
      c.shard_id = s->get<std::string>();
      break;
    }
  }
  if (auto k = c.input.find("PartitionKey"); k != c.input.end() && k->is_string())
    c.partition_key = k->get<std::string>();

  // 6. after (every answer from here on passes through it)
  auto after = [&](http::Response r) {
    if (r.pending) return r;  // the operation runs the hooks when it finishes it
    for (auto* h : hooks_) h->after_operation(c.info(), r);
    return r;
  };
  // 4. before
  for (auto* h : hooks_)
    if (auto e = h->before_operation(c.info())) return after(fail(c, *e));
  // 5. operation
  try {
    return after((this->*(op->second))(c));
  } catch (const ApiError& e) {
    return after(fail(c, e));
  } catch (const std::exception& e) {
    spdlog::error("kinesis {} failed: {}", c.operation, e.what());
    return after(fail(c, ApiError::internal()));
  }
}

}  // namespace eddy::kinesis
