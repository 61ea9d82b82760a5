// `eddy put`: user records from stdin lines or generated load, through the producer, and one
// JSON summary line at the end.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/kinesis_client.h"
#include "client/producer/commands.h"
#include "client/producer/kinesis_transport.h"
#include "client/producer/producer.h"
#include "client/tools.h"

namespace eddy::producer {

namespace {

std::atomic<bool> g_put_stop{false};
void on_put_signal(int) { g_put_stop = true; }

struct Rng {
  std::uint64_t s;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

// The Nth (1-based) field of a delimited line, or nullopt.
std::optional<std::string_view> field_of(std::string_view line, int n, std::string_view delim) {
  std::size_t start = 0;
  for (int i = 1;; ++i) {
    const std::size_t end = delim.empty() ? std::string_view::npos : line.find(delim, start);
    if (i == n) return line.substr(start, end == std::string_view::npos ? end : end - start);
    if (end == std::string_view::npos) return std::nullopt;
    start = end + delim.size();
  }
}

}  // namespace

int run_put(const PutOptions& o, Transport& transport, std::FILE* in, std::ostream& out,
            std::ostream& err, const std::atomic<bool>& stop) {
  auto fail = [&](const std::string& m) {
    err << "eddy put: " << m << std::endl;
    return 1;
  };
  ProducerConfig config;
  // A load generator wants its RSS small (docs/performance.md): 4 MiB of records in flight in
  // requests of at most 1 MiB keep eddy as busy as 64 MiB in 5 MiB requests do, at a fifth of
  // the memory. Flags and --config override both.
  config.max_buffer_bytes = 4u << 20;
  config.collection_max_size = 1u << 20;
  // Each pooled connection keeps buffers the size of the largest request it carried.
  config.max_connections = 4;
  std::string error;
  if (!o.kpl.build(config, &error)) return fail(error);
  SteadyClock clock;
  Producer producer(config, transport, clock);
  if (!producer.start(&error)) return fail("cannot list the shards of " + o.stream + ": " + error);

  const auto start = std::chrono::steady_clock::now();
  std::uint64_t invalid = 0;
  std::string first_invalid;
  // Records go to the producer in batches (one lock for many): views into the input buffer, a
  // data arena (generated load) and a key arena (random keys), all valid until put_all returns.
  constexpr std::size_t kBatch = 256;
  std::vector<Producer::UserRecordRef> batch;
  batch.reserve(kBatch);
  std::string key_arena(kBatch * 16, '0');
  const auto on_invalid = [&](std::size_t, const std::string& why) {
    if (invalid++ == 0) first_invalid = why;
  };
  auto flush_batch = [&] {
    if (batch.empty()) return;
    producer.put_all(batch, on_invalid);
    batch.clear();
  };
  Rng rng{0x9E3779B97F4A7C15ull ^ static_cast<std::uint64_t>(start.time_since_epoch().count())};
  auto random_key = [&]() -> std::string_view {
    static constexpr char hex[] = "0123456789abcdef";
    char* k = key_arena.data() + batch.size() * 16;
    std::uint64_t v = rng.next();
    for (int i = 15; i >= 0; --i, v >>= 4) k[i] = hex[v & 15];
    return {k, 16};
  };

  if (o.rate) {
    // Generated load: K keys with their hash keys worked out once.
    std::vector<std::string> keys;
    std::vector<wire::u128> hashes;
    for (std::uint64_t i = 0; i < o.keys; ++i) {
      keys.push_back("key-" + std::to_string(i));
      hashes.push_back(wire::hash_key_of_partition_key(keys.back()));
    }
    const double rate = *o.rate;
    // At a set rate, batches are a millisecond's worth (the timetable stays smooth).
    const std::size_t batch_max =
        rate > 0 ? std::clamp<std::size_t>(static_cast<std::size_t>(rate / 1000), 1, kBatch) : kBatch;
    std::string data_arena(batch_max * o.size, 'x');
    const auto end = start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                 std::chrono::duration<double>(o.duration));
    std::uint64_t n = 0;
    for (;;) {
      if (stop || (o.count > 0 && n >= o.count)) break;
      if ((n & 1023) == 0 || rate > 0) {
        const auto now = std::chrono::steady_clock::now();
        if (o.duration > 0 && now >= end) break;
        if (rate > 0) {
          const double due = std::chrono::duration<double>(now - start).count() * rate;
          if (static_cast<double>(n) >= due) {
            flush_batch();
            std::this_thread::sleep_for(std::chrono::microseconds(500));
            continue;
          }
        }
      }
      // Data: the record's number, then filler, so every record is distinct.
      char* d = data_arena.data() + batch.size() * o.size;
      char num[20];
      std::uint64_t v = n;
      for (int i = 19; i >= 0; --i, v /= 10) num[i] = static_cast<char>('0' + v % 10);
      std::memcpy(d, num, std::min<std::size_t>(sizeof num, o.size));
      const std::string_view data(d, o.size);
      if (o.keys > 0) {
        const std::size_t k = static_cast<std::size_t>(rng.next() % o.keys);
        batch.push_back({keys[k], data, std::nullopt, hashes[k]});
      } else {
        batch.push_back({random_key(), data, std::nullopt, std::nullopt});
      }
      ++n;
      if (batch.size() >= batch_max) flush_batch();
    }
    flush_batch();
  } else {
    // One record a line of stdin.
    std::vector<char> buf(1 << 20);
    std::string carry;
    auto line = [&](std::string_view l) {
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      if (l.empty()) return;
      if (!o.key.empty()) {
        batch.push_back({o.key, l, std::nullopt, std::nullopt});
      } else if (o.key_field > 0) {
        auto f = field_of(l, o.key_field, o.delimiter);
        if (!f || f->empty()) {
          if (invalid++ == 0) first_invalid = "a line has no field " + std::to_string(o.key_field);
          return;
        }
        batch.push_back({*f, l, std::nullopt, std::nullopt});
      } else {
        batch.push_back({random_key(), l, std::nullopt, std::nullopt});
      }
      if (batch.size() >= kBatch) flush_batch();
    };
    while (!stop) {
      const std::size_t got = std::fread(buf.data(), 1, buf.size(), in);
      if (got == 0) break;
      std::string_view chunk(buf.data(), got);
      std::size_t pos = 0;
      while (pos < chunk.size()) {
        const std::size_t nl = chunk.find('\n', pos);
        if (nl == std::string_view::npos) {
          carry.append(chunk.substr(pos));
          break;
        }
        if (!carry.empty()) {
          carry.append(chunk.substr(pos, nl - pos));
          line(carry);
          flush_batch();  // the carry is reused
          carry.clear();
        } else {
          line(chunk.substr(pos, nl - pos));
        }
        pos = nl + 1;
      }
      flush_batch();  // the buffer is read into again
    }
    if (!carry.empty()) line(carry);
    flush_batch();
  }

  // Everything accepted is sent, acknowledged, failed or expired before the summary.
  producer.flush();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  producer.stop();
  const Stats st = producer.stats();
  out << "{\"stream\":" << nlohmann::json(o.stream).dump() << ",\"userRecords\":" << st.user_records_put
      << ",\"acknowledged\":" << st.user_records_acked
      << ",\"kinesisRecords\":" << st.kinesis_records_acked
      << ",\"putRecordsCalls\":" << st.put_records_calls << ",\"retries\":" << st.retries + st.request_retries
      << ",\"recordRetries\":" << st.retries << ",\"requestRetries\":" << st.request_retries
      << ",\"throttledEntries\":" << st.throttled_entries
      << ",\"failed\":" << st.user_records_failed << ",\"expired\":" << st.user_records_expired
      << ",\"invalid\":" << invalid << ",\"elapsedSeconds\":" << json_seconds(elapsed)
      << ",\"userRecordsPerSecond\":"
      << static_cast<std::uint64_t>(elapsed > 0 ? static_cast<double>(st.user_records_acked) / elapsed : 0)
      << "}" << std::endl;
  if (st.user_records_failed > 0)
    return fail(std::to_string(st.user_records_failed) + " records failed (" +
                std::to_string(st.user_records_expired) + " expired); last error: " +
                producer.last_error());
  if (invalid > 0) return fail(std::to_string(invalid) + " lines were not sent: " + first_invalid);
  return 0;
}

void register_put_command(CLI::App& app) {
  auto o = std::make_shared<PutOptions>();
  auto* cmd = app.add_subcommand(
      "put", "Put user records into a stream through the KPL-style producer (stdin lines or generated load)");
  cmd->add_option("--stream", o->stream, "Stream name")->required();
  cmd->add_option("--key", o->key, "Partition key of every record (default: random per record)");
  cmd->add_option("--key-field", o->key_field, "Partition key: this field (1-based) of each line")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--delimiter", o->delimiter, "Field delimiter for --key-field")->capture_default_str();
  cmd->add_option_function<double>(
         "--rate", [o](double v) { o->rate = v; },
         "Generate records at this many per second instead of reading stdin (0: as fast as possible)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--size", o->size, "Bytes of data per generated record")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1048000}))
      ->capture_default_str();
  cmd->add_option("--duration", o->duration, "Seconds of generated load (0: no limit)")->capture_default_str();
  cmd->add_option("--count", o->count, "Stop generating after this many records (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--keys", o->keys, "Distinct partition keys of generated records (0: random per record)")
      ->capture_default_str();
  o->kpl.add_to(*cmd);
  client::add_session_options(*cmd, o->session);
  client::bind_tool_environment(*cmd, "put");
  cmd->callback([o] {
    std::string error;
    auto session = client::Session::create(o->session, &error);
    if (!session) throw CLI::RuntimeError(client::fail("put", error));
    client::KinesisClient kinesis(*session);
    KinesisTransport transport(kinesis, o->stream);
    // Request bodies of several MiB come and go many times a second: from the heap, and kept
    // there, instead of a fresh mmap (and a page fault per 4 KiB) each time.
    // Few arenas: MaxConnections sender threads would otherwise each keep one.
    mallopt(M_MMAP_THRESHOLD, 16 << 20);
    mallopt(M_TRIM_THRESHOLD, 16 << 20);
    mallopt(M_ARENA_MAX, 2);
    std::signal(SIGINT, on_put_signal);
    std::signal(SIGTERM, on_put_signal);
    const int rc = run_put(*o, transport, stdin, std::cout, std::cerr, g_put_stop);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace eddy::producer
