#include "client/producer/producer.h"

namespace eddy::producer {

namespace {
// A failed ListShards is tried again after this long, not in a tight loop.
constexpr auto kRefreshBackoff = std::chrono::milliseconds(500);
}  // namespace

Producer::Producer(ProducerConfig config, Transport& transport, Clock& clock, Options options)
    : core_(std::move(config)), transport_(transport), clock_(clock), options_(options) {}

Producer::~Producer() { stop(); }

bool Producer::start(std::string* error) {
  std::unique_lock lock(mu_);
  if (!refresh_shards(lock, error)) return false;
  if (options_.threaded && threads_.empty()) {
    const std::size_t n = std::max<std::size_t>(1, core_.config().max_connections);
    for (std::size_t i = 0; i < n; ++i) threads_.emplace_back([this] { sender_loop(); });
  }
  return true;
}

void Producer::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  room_cv_.notify_all();
  for (std::thread& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

bool Producer::refresh_shards(std::unique_lock<std::mutex>& lock, std::string* error) {
  refreshing_ = true;
  lock.unlock();
  ListShardsOutcome out = transport_.list_shards();
  lock.lock();
  refreshing_ = false;
  if (!out.ok || out.shards.empty()) {
    refresh_not_before_ = clock_.now() + kRefreshBackoff;
    if (error)
      *error = out.ok ? "ListShards returned no shards"
                      : out.error_code + (out.error_message.empty() ? "" : ": " + out.error_message);
    return false;
  }
  core_.set_shards(std::move(out.shards), clock_.now());
  return true;
}

void Producer::send(std::unique_lock<std::mutex>& lock, Batch batch) {
  lock.unlock();
  // The digests and the request are made outside the lock, from the records where they lie.
  ProducerCore::seal(batch);
  std::vector<PutEntry> entries(batch.records.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const KinesisRecord& r = batch.records[i];
    entries[i].partition_key = r.partition_key;
    if (r.explicit_hash_key) entries[i].explicit_hash_key = *r.explicit_hash_key;
    entries[i].data = r.data;
  }
  PutRecordsOutcome out = transport_.put_records(entries);
  lock.lock();
  core_.complete(std::move(batch), out, clock_.now());
  room_cv_.notify_all();
}

void Producer::sender_loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const TimePoint now = clock_.now();
    core_.poll(now);
    if (core_.shard_map_stale() && !refreshing_ && now >= refresh_not_before_) {
      refresh_shards(lock, nullptr);
      continue;
    }
    if (auto b = core_.take_batch()) {
      if (core_.has_batch()) work_cv_.notify_one();
      send(lock, std::move(*b));
      work_cv_.notify_one();  // retries may be due; another sender keeps the timers
      continue;
    }
    TimePoint wake = core_.next_wakeup(now);
    core_.take_wakeup_flag();
    if (core_.shard_map_stale() && !refreshing_) wake = std::min(wake, refresh_not_before_);
    if (wake == TimePoint::max())
      work_cv_.wait(lock);
    else if (wake > now)
      work_cv_.wait_until(lock, wake);
  }
}

PutStatus Producer::put(std::string_view pk, std::string_view data,
                        std::optional<std::string_view> ehk, bool block, std::string* error,
                        std::optional<wire::u128> hash) {
  std::unique_lock lock(mu_);
  for (;;) {
    const PutStatus st = core_.put(pk, ehk, data, clock_.now(), error, hash);
    if (st != PutStatus::would_block || !block || !options_.threaded || stopping_) {
      if (core_.take_wakeup_flag()) work_cv_.notify_one();
      return st;
    }
    room_cv_.wait(lock);
  }
}

std::size_t Producer::put_all(std::span<const UserRecordRef> records,
                              const std::function<void(std::size_t, const std::string&)>& on_invalid) {
  std::unique_lock lock(mu_);
  std::string why;
  std::size_t i = 0;
  while (i < records.size()) {
    const UserRecordRef& r = records[i];
    const PutStatus st = core_.put(r.partition_key, r.explicit_hash_key, r.data, clock_.now(), &why, r.hash);
    if (st == PutStatus::would_block) {
      if (!options_.threaded || stopping_) break;
      if (core_.take_wakeup_flag()) work_cv_.notify_one();
      room_cv_.wait(lock);
      continue;
    }
    if (st == PutStatus::invalid && on_invalid) on_invalid(i, why);
    ++i;
  }
  if (core_.take_wakeup_flag()) work_cv_.notify_one();
  return i;
}

bool Producer::has_room(std::size_t bytes) const {
  std::lock_guard lock(mu_);
  const Stats& s = core_.stats();
  return s.buffered_bytes == 0 || s.buffered_bytes + bytes <= core_.config().max_buffer_bytes;
}

bool Producer::wait_for_room(std::size_t bytes, std::optional<TimePoint> deadline) {
  std::unique_lock lock(mu_);
  auto room = [&] {
    const Stats& s = core_.stats();
    return stopping_ || s.buffered_bytes == 0 ||
           s.buffered_bytes + bytes <= core_.config().max_buffer_bytes;
  };
  if (!options_.threaded) return room();
  if (deadline) return room_cv_.wait_until(lock, *deadline, room);
  room_cv_.wait(lock, room);
  return true;
}

void Producer::pump() {
  std::unique_lock lock(mu_);
  bool refreshed = false;
  for (;;) {
    const TimePoint now = clock_.now();
    core_.poll(now);
    if (core_.shard_map_stale() && !refreshed) {
      refreshed = true;
      refresh_shards(lock, nullptr);
      continue;
    }
    auto b = core_.take_batch();
    if (!b) break;
    send(lock, std::move(*b));
  }
  core_.take_wakeup_flag();
}

bool Producer::flush(std::optional<TimePoint> deadline) {
  std::unique_lock lock(mu_);
  core_.set_flushing(true);
  bool done = false;
  if (!options_.threaded) {
    lock.unlock();
    pump();
    lock.lock();
    done = core_.idle();
  } else {
    work_cv_.notify_all();
    auto idle = [&] { return core_.idle() || stopping_; };
    if (deadline)
      done = room_cv_.wait_until(lock, *deadline, idle);
    else
      room_cv_.wait(lock, idle), done = true;
    done = done && core_.idle();
  }
  core_.set_flushing(false);
  return done;
}

Stats Producer::stats() const {
  std::lock_guard lock(mu_);
  return core_.stats();
}

std::string Producer::last_error() const {
  std::lock_guard lock(mu_);
  return core_.last_error();
}

bool Producer::idle() const {
  std::lock_guard lock(mu_);
  return core_.idle();
}

}  // namespace eddy::producer
