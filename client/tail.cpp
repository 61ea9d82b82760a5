#include "client/tail.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <charconv>
#include <cmath>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "client/iso8601.h"
#include "client/records_cbor.h"
#include "client/retry.h"
#include "client/tools.h"
#include "wire/base64.h"
#include "wire/text.h"

namespace eddy::client {

namespace {

// --- JSON output ---------------------------------------------------------------------------

// Length of the valid UTF-8 sequence at s[i], 0 if invalid (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF).
std::size_t utf8_seq(std::string_view s, std::size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  auto cont = [&](std::size_t k) { return i + k < s.size() && (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xE0 && c1 < 0xA0) return 0;
    if (c == 0xED && c1 > 0x9F) return 0;
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    auto c1 = static_cast<unsigned char>(s[i + 1]);
    if (c == 0xF0 && c1 < 0x90) return 0;
    if (c == 0xF4 && c1 > 0x8F) return 0;
    return 4;
  }
  return 0;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    // ASCII runs eight bytes at a time.
    while (i + 8 <= s.size()) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (w & 0x8080808080808080ull) break;
      i += 8;
    }
    if (i >= s.size()) break;
    std::size_t n = utf8_seq(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// Appends s as a JSON string (quotes included). s must be valid UTF-8.
void append_json_string(std::string_view s, std::string& out) { wire::text::append_json_string(out, s); }

// Whether every byte of s is printable ASCII other than '"' and '\\' (JSON copies it as it is,
// and it is valid UTF-8): one pass, eight bytes at a time, the common case of text data.
bool plain_ascii(std::string_view s) {
  constexpr uint64_t k01 = 0x0101010101010101ull, k80 = 0x8080808080808080ull;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    const uint64_t q = w ^ (k01 * '"'), b = w ^ (k01 * '\\');
    if ((w | ((w - k01 * 0x20) & ~w) | ((q - k01) & ~q) | ((b - k01) & ~b)) & k80) return false;
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return false;
  }
  return true;
}

// Appends a plain_ascii s, quoted.
void append_plain(std::string_view s, std::string& out) {
  out += '"';
  out.append(s);
  out += '"';
}

// A partition key is UTF-8 on the wire; bytes that are not are shown as U+FFFD.
void append_text(std::string_view s, std::string& out) {
  if (plain_ascii(s)) return append_plain(s, out);
  if (valid_utf8(s)) return append_json_string(s, out);
  std::string fixed;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_seq(s, i);
    if (n == 0) {
      fixed += "\xEF\xBF\xBD";
      ++i;
    } else {
      fixed.append(s.data() + i, n);
      i += n;
    }
  }
  append_json_string(fixed, out);
}

// --- checkpoints -----------------------------------------------------------------------------

struct ShardCheckpoint {
  std::string sequence_number;
  int64_t sub_sequence_number = -1;  // last user record printed of an aggregate; -1: the whole record
  bool finished = false;             // closed shard read to its end
};

using Checkpoints = std::map<std::string, ShardCheckpoint>;

bool load_checkpoint(const std::string& path, const std::string& stream, Checkpoints& out, std::string* error) {
  std::ifstream in(path);
  if (!in) return true;  // first run
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object() || !j.contains("shards") || !j["shards"].is_object()) {
    *error = "checkpoint file " + path + " is not an eddy tail checkpoint";
    return false;
  }
  if (j.value("stream", std::string()) != stream) {
    *error = "checkpoint file " + path + " belongs to stream '" + j.value("stream", std::string()) + "'";
    return false;
  }
  for (auto& [id, v] : j["shards"].items()) {
    if (!v.is_object()) continue;
    ShardCheckpoint c;
    c.sequence_number = v.value("sequenceNumber", std::string());
    c.sub_sequence_number = v.value("subSequenceNumber", int64_t{-1});
    c.finished = v.value("finished", false);
    out[id] = c;
  }
  return true;
}

bool save_checkpoint(const std::string& path, const std::string& stream, const Checkpoints& cps, std::string* error) {
  nlohmann::json j;
  j["stream"] = stream;
  j["shards"] = nlohmann::json::object();
  for (const auto& [id, c] : cps) {
    nlohmann::json v = nlohmann::json::object();
    if (!c.sequence_number.empty()) v["sequenceNumber"] = c.sequence_number;
    if (c.sub_sequence_number >= 0) v["subSequenceNumber"] = c.sub_sequence_number;
    if (c.finished) v["finished"] = true;
    j["shards"][id] = v;
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(2) << "\n";
    out.flush();
    if (!out) {
      *error = "cannot write checkpoint " + tmp;
      return false;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    *error = "cannot write checkpoint " + path + ": " + ec.message();
    return false;
  }
  return true;
}

std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int) {
  g_stop.store(true);
}

}  // namespace

namespace {

void append_head(const TailRecord& r, std::string& out) {
  out += "{\"shardId\":";
  append_json_string(r.shard_id, out);
  out += ",\"sequenceNumber\":";
  append_json_string(r.sequence_number, out);
  out += ",\"subSequenceNumber\":";
}

void append_arrival(const TailRecord& r, std::string& out) {
  out += ",\"arrival\":\"";
  append_iso8601_ms(std::llround(r.arrival * 1000.0), out);
  out += '"';
}

// From subSequenceNumber's value on; head and arrival written by the caller's way.
template <typename Arrival>
void append_rest(const TailRecord& r, std::string& out, Arrival&& arrival) {
  char num[24];
  const auto [end, ec] = std::to_chars(num, num + sizeof num, r.sub_sequence_number);
  out.append(num, ec == std::errc() ? end : num);
  out += ",\"partitionKey\":";
  append_text(r.partition_key, out);
  if (r.explicit_hash_key) {
    out += ",\"explicitHashKey\":";
    append_text(*r.explicit_hash_key, out);
  }
  arrival();
  if (plain_ascii(r.data)) {
    out += ",\"data\":";
    append_plain(r.data, out);
  } else if (valid_utf8(r.data)) {
    out += ",\"data\":";
    append_json_string(r.data, out);
  } else {
    out += ",\"dataBase64\":\"";
    wire::base64_encode_append(r.data, out);
    out += '"';
  }
  out += "}\n";
}

}  // namespace

void append_tail_json(const TailRecord& r, std::string& out) {
  append_head(r, out);
  append_rest(r, out, [&] { append_arrival(r, out); });
}

void append_tail_json(const TailRecord& r, std::string& out, TailLineCache& cache) {
  if (cache.arrival != r.arrival || cache.sequence_number != r.sequence_number || cache.shard_id != r.shard_id) {
    cache.shard_id.assign(r.shard_id);
    cache.sequence_number.assign(r.sequence_number);
    cache.arrival = r.arrival;
    cache.head.clear();
    append_head(r, cache.head);
    cache.arrival_text.clear();
    append_arrival(r, cache.arrival_text);
  }
  out += cache.head;
  append_rest(r, out, [&] { out += cache.arrival_text; });
}

bool deaggregate(const KinesisRecord& record, std::string_view shard_id, const wire::HashRange& range,
                 wire::kpl::AggregateReader& reader, const std::function<void(const TailRecord&)>& emit,
                 std::string* warning) {
  TailRecord t;
  t.shard_id = shard_id;
  t.sequence_number = record.sequence_number;
  t.arrival = record.approximate_arrival;
  const auto status = reader.reset(record.data);
  if (status != wire::kpl::DecodeStatus::ok) {
    // Not an aggregate, or one the KCL would not open (bad digest, bad protobuf): as is.
    if (status != wire::kpl::DecodeStatus::not_aggregated && warning)
      *warning = "record " + std::string(record.sequence_number) + " of " + std::string(shard_id) + " has the KPL magic but " +
                 std::string(wire::kpl::to_string(status)) + ": passed on undecoded";
    t.partition_key = record.partition_key;
    t.data = record.data;
    emit(t);
    return true;
  }
  // Every sub-record must belong to this shard, else the KCL drops the whole record (each
  // distinct key hashed once, not each sub-record).
  if (const auto i = reader.first_outside(range)) {
    if (warning)
      *warning = "record " + std::string(record.sequence_number) + " of " + std::string(shard_id) + " dropped: sub-record " +
                 std::to_string(*i) + " (partition key '" + std::string(reader[*i].partition_key) +
                 "') has a hash key outside the shard, as the KCL drops it";
    return false;
  }
  for (std::size_t i = 0; i < reader.size(); ++i) {
    const auto u = reader[i];
    t.sub_sequence_number = static_cast<int64_t>(i);
    t.partition_key = u.partition_key;
    t.explicit_hash_key = u.explicit_hash_key;
    t.data = u.data;
    emit(t);
  }
  return true;
}

int run_tail(const TailOptions& o, Session& session, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& m) {
    err << "eddy tail: " << m << std::endl;
    return 1;
  };
  if (o.stream.empty()) return fail("--stream is required");
  IteratorStart initial;
  if (o.from == "trim_horizon" || o.from == "TRIM_HORIZON") {
    initial.type = "TRIM_HORIZON";
  } else if (o.from == "latest" || o.from == "LATEST") {
    initial.type = "LATEST";
  } else if (o.from.rfind("at_timestamp:", 0) == 0) {
    auto ms = parse_iso8601_ms(o.from.substr(13));
    if (!ms) return fail("--from at_timestamp: '" + o.from.substr(13) + "' is not an ISO 8601 time");
    initial.type = "AT_TIMESTAMP";
    initial.timestamp = static_cast<double>(*ms) / 1000.0;
  } else {
    return fail("--from must be trim_horizon, latest or at_timestamp:ISO8601, not '" + o.from + "'");
  }

  Checkpoints checkpoints;
  std::string cerr_text;
  if (!o.checkpoint.empty() && !load_checkpoint(o.checkpoint, o.stream, checkpoints, &cerr_text))
    return fail(cerr_text);

  KinesisClient kinesis(session);
  struct ShardState {
    ShardInfo info;
    std::string iterator;
    bool started = false;
    bool done = false;       // closed and read to its end
    bool caught_up = false;  // at the tip (without --follow: stop reading it)
    std::chrono::steady_clock::time_point next_read{};
  };
  std::map<std::string, ShardState> shards;
  std::vector<std::string> order;  // discovery order (ListShards lists parents first)
  auto learn = [&](const std::vector<ShardInfo>& list) {
    for (const auto& s : list) {
      if (shards.count(s.shard_id)) continue;
      ShardState st;
      st.info = s;
      if (auto c = checkpoints.find(s.shard_id); c != checkpoints.end() && c->second.finished) st.done = true;
      shards.emplace(s.shard_id, st);
      order.push_back(s.shard_id);
    }
  };
  auto listed = kinesis.list_shards(o.stream);
  if (!listed) return fail(listed.error.str());
  learn(*listed);
  std::set<std::string> initial_shards(order.begin(), order.end());

  auto parent_done = [&](const std::string& id) {
    if (id.empty()) return true;
    auto it = shards.find(id);
    return it == shards.end() || it->second.done;  // a parent past retention is not listed
  };

  // One slot per shard read at once (--parallel), kept between rounds: the answer's buffer (its
  // capacity reused, no fresh 10 MiB per call), the answer read from it, and the JSON lines
  // printed from it. Each slot's thread reads and, unless --max-records needs one count across
  // shards, de-aggregates and prints its answer too; the lines are written out in shard order.
  struct Slot {
    HttpResponse resp;
    GetRecordsResult page;
    AwsError error;
    bool ok = false;
    bool printed = false;  // slot.out holds the answer's lines
    ShardCheckpoint cp;    // the shard's checkpoint once they are written
    std::string out, warnings;
    wire::kpl::AggregateReader reader;
    TailLineCache line_cache;
  };
  std::vector<Slot> slots(static_cast<std::size_t>(std::max(1, o.parallel)));
  const bool cbor = o.protocol != "json";
  const Url endpoint = session.endpoint("kinesis");
  auto fetch = [&](Slot& slot, const std::string& iterator) {
    slot.printed = false;
    if (cbor) {
      slot.ok = get_records_cbor(session, endpoint, iterator, o.limit, slot.resp, slot.page, &slot.error);
      return;
    }
    auto got = kinesis.get_records(iterator, o.limit);
    slot.ok = got.ok();
    if (slot.ok) slot.page = std::move(*got);
    else slot.error = std::move(got.error);
  };
  int64_t printed = 0;
  // The user records of the slot's answer (read from `st`) as JSON lines in slot.out, warnings in
  // slot.warnings; slot.cp (set from the shard's checkpoint first) moves on. With --max-records,
  // stops there (counted in `printed`; called then for one slot at a time) and returns true.
  auto print_answer = [&](const ShardState& st, Slot& slot) {
    ShardCheckpoint& cp = slot.cp;
    slot.out.clear();
    // A line is the record's data and ~200 bytes around it: reserved once (the capacity stays
    // with the slot), not grown by doubling, each doubling a copy and fresh pages to fault in.
    std::size_t data = 0;
    for (const KinesisRecord& rec : slot.page.records) data += rec.data.size() + rec.partition_key.size();
    reserve_large(slot.out, data * 4 + 4096);
    slot.warnings.clear();
    slot.printed = true;
    bool stop = false;
    std::string warning;
    for (const KinesisRecord& rec : slot.page.records) {
      // Resuming inside an aggregate: skip the user records already printed.
      const int64_t skip_upto =
          (rec.sequence_number == cp.sequence_number && cp.sub_sequence_number >= 0) ? cp.sub_sequence_number : -1;
      int64_t last_sub = -1;
      warning.clear();
      deaggregate(
          rec, st.info.shard_id, st.info.hash_range, slot.reader,
          [&](const TailRecord& t) {
            if (stop || t.sub_sequence_number <= skip_upto) return;
            append_tail_json(t, slot.out, slot.line_cache);
            last_sub = t.sub_sequence_number;
            if (o.max_records > 0 && ++printed >= o.max_records) stop = true;
          },
          &warning);
      if (!warning.empty()) slot.warnings += "eddy tail: warning: " + warning + "\n";
      cp.sequence_number = rec.sequence_number;
      cp.sub_sequence_number = -1;
      if (stop) {
        // Stopped inside an aggregate: remember how far (unless it was its last record).
        if (slot.reader.status() == wire::kpl::DecodeStatus::ok && last_sub >= 0 &&
            static_cast<std::size_t>(last_sub + 1) < slot.reader.size())
          cp.sub_sequence_number = last_sub;
        break;
      }
    }
    return stop;
  };
  bool stop = false;
  auto last_list = std::chrono::steady_clock::now();

  while (!stop && !g_stop.load()) {
    bool any_pending = false, did_read = false;
    auto now = std::chrono::steady_clock::now();
    auto soonest = now + std::chrono::milliseconds(o.poll_ms);
    // The shards due now, up to --parallel of them, read at once; their answers are then
    // printed one shard after the other, in discovery order.
    std::vector<ShardState*> due;
    for (std::size_t idx = 0; idx < order.size() && due.size() < static_cast<std::size_t>(o.parallel); ++idx) {
      ShardState& st = shards[order[idx]];
      if (st.done || (st.caught_up && !o.follow)) continue;
      // Parents before children: a child waits until every parent is read to its end.
      if (!parent_done(st.info.parent_shard_id) || !parent_done(st.info.adjacent_parent_shard_id)) {
        any_pending = true;
        continue;
      }
      any_pending = true;
      if (st.next_read > now) {
        soonest = std::min(soonest, st.next_read);
        continue;
      }
      due.push_back(&st);
    }
    // Where to (re)start: after the checkpoint (at it, inside an aggregate), else --from;
    // children found after start-up are read from their beginning, as the KCL does.
    auto open_iterator = [&](ShardState& st) -> std::optional<AwsError> {
      const ShardCheckpoint& cp = checkpoints[st.info.shard_id];
      IteratorStart start = initial_shards.count(st.info.shard_id) ? initial : IteratorStart{};
      if (!cp.sequence_number.empty()) {
        start.type = cp.sub_sequence_number >= 0 ? "AT_SEQUENCE_NUMBER" : "AFTER_SEQUENCE_NUMBER";
        start.sequence_number = cp.sequence_number;
      }
      auto it = kinesis.get_shard_iterator(o.stream, st.info.shard_id, start);
      if (!it) return it.error;
      st.iterator = *it;
      st.started = true;
      return std::nullopt;
    };
    for (ShardState* st : due)
      if (!st->started)
        if (auto e = open_iterator(*st)) return fail(e->str());
    std::vector<ShardCheckpoint*> cps;
    for (ShardState* st : due) cps.push_back(&checkpoints[st->info.shard_id]);
    auto read_slot = [&](std::size_t i) {
      Slot& slot = slots[i];
      fetch(slot, due[i]->iterator);
      if (slot.ok && o.max_records == 0) {
        slot.cp = *cps[i];
        print_answer(*due[i], slot);
      }
    };
    if (due.size() == 1) {
      read_slot(0);
    } else if (!due.empty()) {
      std::vector<std::thread> readers;
      readers.reserve(due.size());
      for (std::size_t i = 0; i < due.size(); ++i) readers.emplace_back(read_slot, i);
      for (auto& t : readers) t.join();
    }
    for (std::size_t di = 0; di < due.size() && !stop; ++di) {
      ShardState& st = *due[di];
      ShardCheckpoint& cp = *cps[di];
      Slot& slot = slots[di];
      if (!slot.ok && slot.error.code == "ExpiredIteratorException") {
        if (auto e = open_iterator(st)) return fail(e->str());
        fetch(slot, st.iterator);
      }
      if (!slot.ok && is_throttling_error(slot.error.code)) {
        // Still throttled after the session's retries: wait a second on this shard, as the KCL
        // backs off, instead of giving up.
        err << "eddy tail: warning: " << st.info.shard_id << ": " << slot.error.str() << "; backing off\n";
        st.next_read = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        continue;
      }
      if (!slot.ok) return fail(slot.error.str());
      did_read = true;
      if (!slot.printed) {
        slot.cp = cp;
        stop = print_answer(st, slot);
      }
      if (!slot.warnings.empty()) err << slot.warnings;
      out.write(slot.out.data(), static_cast<std::streamsize>(slot.out.size()));
      out.flush();
      if (!out) return fail("cannot write the output");
      cp = slot.cp;  // only now that its lines are out
      const GetRecordsResult* got = &slot.page;
      if (got->next_shard_iterator.empty()) {
        st.done = true;
        cp.finished = !stop;
        learn(got->child_shards);
      } else {
        st.iterator = got->next_shard_iterator;
        if (got->records.empty() && got->millis_behind_latest == 0) {
          st.caught_up = true;
          st.next_read = now + std::chrono::milliseconds(o.poll_ms);
        } else {
          st.caught_up = false;
          // Following, stay within GetRecords' 5 calls a second per shard. Catching up without
          // --follow reads as fast as answers come; throttling is retried with backoff.
          st.next_read = o.follow ? now + std::chrono::milliseconds(200) : now;
        }
      }
      if (!o.checkpoint.empty() && !save_checkpoint(o.checkpoint, o.stream, checkpoints, &cerr_text))
        return fail(cerr_text);
    }
    if (stop) break;
    if (!o.follow && !any_pending) break;
    now = std::chrono::steady_clock::now();
    // New shards (a reshard while following): list again at most every poll interval.
    if (o.follow && !did_read && now - last_list >= std::chrono::milliseconds(o.poll_ms)) {
      auto again = kinesis.list_shards(o.stream);
      if (!again) return fail(again.error.str());
      learn(*again);
      last_list = now;
    }
    // Nothing was due: sleep until the next shard is (at most 100 ms, to notice a signal).
    if (!did_read && soonest > now)
      std::this_thread::sleep_for(
          std::min<std::chrono::steady_clock::duration>(soonest - now, std::chrono::milliseconds(100)));
  }
  return 0;
}

void register_tail_command(CLI::App& app) {
  auto o = std::make_shared<TailOptions>();
  auto* cmd =
      app.add_subcommand("tail", "Print a stream's user records as JSON lines (every shard, KPL de-aggregated)");
  cmd->add_option("--stream", o->stream, "Stream name or ARN")->required();
  cmd->add_option("--from", o->from, "trim_horizon, latest or at_timestamp:ISO8601 (with no checkpoint)")
      ->capture_default_str();
  cmd->add_option("--checkpoint", o->checkpoint, "Resume from and record progress in this JSON file");
  cmd->add_flag("--follow", o->follow, "Keep polling for new records (within GetRecords' 5 calls/s per shard)");
  cmd->add_option("--limit", o->limit, "GetRecords Limit per call")->check(CLI::Range(1, 10000))->capture_default_str();
  cmd->add_option("--poll-ms", o->poll_ms, "With --follow: wait after a shard is at its tip")
      ->check(CLI::Range(int64_t{200}, int64_t{600000}))
      ->capture_default_str();
  cmd->add_option("--parallel", o->parallel, "Shards read at once (GetRecords calls in flight)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--protocol", o->protocol, "GetRecords' encoding: cbor (no base64, as the Java SDK) or json")
      ->check(CLI::IsMember({"cbor", "json"}))
      ->capture_default_str();
  cmd->add_option("--max-records", o->max_records, "Stop after this many user records (0: no limit)")
      ->capture_default_str();
  add_session_options(*cmd, o->session);
  bind_tool_environment(*cmd, "tail");
  cmd->callback([o] {
    run_tool("tail", [&] {
      std::string error;
      auto session = Session::create(o->session, &error);
      if (!session) return fail("tail", error);
      std::signal(SIGINT, on_stop_signal);
      std::signal(SIGTERM, on_stop_signal);
      std::ios::sync_with_stdio(false);
      return run_tail(*o, *session, std::cout, std::cerr);
    });
  });
}

}  // namespace eddy::client
