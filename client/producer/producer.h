#pragma once
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "client/producer/clock.h"
#include "client/producer/producer_core.h"
#include "client/producer/transport.h"

// A KPL-style producer for one stream: ProducerCore driven against a Transport.
//
// Threaded (the default): MaxConnections sender threads take batches and call PutRecords in
// parallel; one of them at a time also keeps the timers and refreshes the shard map. put()
// blocks while the buffer is full (or returns would_block with block = false).
//
// Manual (threads = 0): nothing runs by itself; pump() does everything due at the clock's
// now(), sending synchronously. Tests use this with a ManualClock.
namespace eddy::producer {

class Producer {
 public:
  struct Options {
    bool threaded = true;
  };

  Producer(ProducerConfig config, Transport& transport, Clock& clock, Options options);
  Producer(ProducerConfig config, Transport& transport, Clock& clock)
      : Producer(std::move(config), transport, clock, Options{}) {}
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Loads the shard map (ListShards). false, with a one-line reason, if the stream cannot be
  // listed (unknown stream, bad credentials, unreachable endpoint).
  bool start(std::string* error);

  // block: wait while the buffer is full (threaded mode only). invalid: *error says why.
  PutStatus put(std::string_view partition_key, std::string_view data,
                std::optional<std::string_view> explicit_hash_key = std::nullopt,
                bool block = true, std::string* error = nullptr,
                std::optional<wire::u128> hash = std::nullopt);

  // One user record for put_all().
  struct UserRecordRef {
    std::string_view partition_key;
    std::string_view data;
    std::optional<std::string_view> explicit_hash_key;
    std::optional<wire::u128> hash;  // as put()'s
  };
  // put() of many records under one lock, in order, blocking while the buffer is full (threaded
  // mode). An invalid record is skipped and reported to on_invalid(index, why). Returns how
  // many records were taken: all of them, unless the producer stopped (or, in manual mode, the
  // buffer filled up).
  std::size_t put_all(std::span<const UserRecordRef> records,
                      const std::function<void(std::size_t, const std::string&)>& on_invalid = {});

  // Sends everything buffered now and waits until every record is acknowledged, failed or
  // expired, or until `deadline`. true when nothing is left.
  bool flush(std::optional<TimePoint> deadline = std::nullopt);

  // Manual mode: does all that is due at now() (timers, sends, retries, shard map), until
  // nothing more is.
  void pump();

  // Blocks (threaded mode) until put() would accept `bytes` more, or `deadline`.
  bool wait_for_room(std::size_t bytes, std::optional<TimePoint> deadline = std::nullopt);
  // Whether put() would now accept `bytes` more without would_block.
  bool has_room(std::size_t bytes) const;

  Stats stats() const;
  std::size_t max_buffer_bytes() const { return core_.config().max_buffer_bytes; }
  std::string last_error() const;
  bool idle() const;

  // Stops the sender threads (what is buffered stays unsent: flush() first).
  void stop();

 private:
  void sender_loop();
  bool refresh_shards(std::unique_lock<std::mutex>& lock, std::string* error);
  void send(std::unique_lock<std::mutex>& lock, Batch batch);

  ProducerCore core_;
  Transport& transport_;
  Clock& clock_;
  Options options_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // senders wait here
  std::condition_variable room_cv_;   // put() and flush() wait here
  std::vector<std::thread> threads_;
  bool stopping_ = false;
  bool refreshing_ = false;
  TimePoint refresh_not_before_{};
};

}  // namespace eddy::producer
