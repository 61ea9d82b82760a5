#pragma once
// The only door to RocksDB: column families, write batches, iterators. Nothing outside
// server/store includes a RocksDB header.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "server/config.h"

namespace eddy::store {

enum class Family : int { meta = 0, records, objects, blobs, metrics, count_ };
const char* family_name(Family f);

// The outcome of a storage call. [[nodiscard]]: a failed write must be answered, undone or
// logged. Where dropping one is right, say so with ignore_failure(why) (grep for it).
struct [[nodiscard]] Status {
  bool ok = true;
  std::string message;
  static Status good() { return {}; }
  static Status error(std::string m) { return {false, std::move(m)}; }
  explicit operator bool() const { return ok; }
  // Drops this status on purpose; `why` is for the reader (a string literal saying why no
  // caller needs to know).
  void ignore_failure(const char* why) const { (void)why; }
};

class Store;

// Operations applied atomically by Store::write. Built against one store.
class WriteBatch {
 public:
  explicit WriteBatch(const Store& store);
  // With room for about `reserve_bytes` of keys and values (one allocation instead of the
  // growth steps of RocksDB's buffer).
  WriteBatch(const Store& store, size_t reserve_bytes);
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;
  void put(Family f, std::string_view key, std::string_view value);
  void del(Family f, std::string_view key);
  // Deletes [begin, end).
  void delete_range(Family f, std::string_view begin, std::string_view end);
  size_t count() const;
  size_t data_size() const;
  void clear();

 private:
  friend class Store;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Iterator {
 public:
  virtual ~Iterator() = default;
  virtual void seek(std::string_view key) = 0;
  virtual void seek_for_prev(std::string_view key) = 0;  // last key <= key
  virtual bool valid() const = 0;
  virtual void next() = 0;
  virtual void prev() = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  virtual Status status() const = 0;
};

struct StoreOptions {
  std::string path;          // data directory (ignored when in_memory)
  bool in_memory = false;    // RocksDB on an in-memory Env: nothing touches the disk
  FsyncMode fsync = FsyncMode::interval;
  int fsync_interval_ms = 1000;
  // While the store is in a background error (a full disk), how often it tries to resume.
  int recover_interval_ms = 1000;
  // Test seam (store_faults_test): WAL files go through a wrapper whose appends fail with
  // ENOSPC while Store::fail_wal_appends(true). On-disk stores only.
  bool wal_fault_seam = false;
};

// What /_eddy/health reports about storage: ok, or degraded with the reason.
struct StoreHealth {
  bool ok = true;
  bool no_space = false;     // the error is a full disk (ENOSPC)
  std::string reason;        // empty when ok
  uint64_t errors = 0;       // times the store went into error since open
  uint64_t recoveries = 0;   // times it resumed
};

class Store {
 public:
  static std::unique_ptr<Store> open(const StoreOptions& options, Status* status);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Atomic; in the WAL before it returns (and fsynced with fsync=always).
  Status write(WriteBatch& batch);
  std::optional<std::string> get(Family f, std::string_view key) const;
  Status get(Family f, std::string_view key, std::string* value, bool* found) const;
  // Iterates over keys in [lower, upper) (empty bounds: unbounded). The bounds are copied.
  std::unique_ptr<Iterator> iterate(Family f, std::string_view lower = {},
                                    std::string_view upper = {}) const;
  // WAL sync and memtable flush: called at shutdown.
  Status flush();
  // Drops deleted ranges' files (after large DeleteRange trims).
  void compact_range(Family f, std::string_view begin, std::string_view end);
  bool in_memory() const;

  // Storage faults (docs/reliability.md, "Full disk"). A failed WAL append or flush (ENOSPC,
  // EIO) puts RocksDB in a background error: it refuses every write (deletes too) until it
  // resumes, while reads go on. Meanwhile the store syncs nothing (a WAL sync after a failed
  // append aborts Debian's librocksdb) and tries to resume every recover_interval_ms.
  StoreHealth health() const;
  // One recovery attempt now (the recovery task's run; a test hook): RocksDB's Resume() when
  // the store is in error. Returns whether the store is healthy afterwards.
  bool recover_now();
  // One run of the WAL sync task now (fsync=interval; a test hook).
  void sync_now();

  // Test seam (storage_failure_test): after `after` more successful calls of write(), the
  // next `n` fail, each with an "injected" I/O error, without reaching RocksDB. n = 0 ends it.
  void fail_next_writes(int n, int after = 0);
  // Test seam (needs StoreOptions::wal_fault_seam): while on, every append to a WAL file fails
  // inside RocksDB with "No space left on device", as on a full disk.
  void fail_wal_appends(bool on);

 private:
  friend class WriteBatch;
  Store();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Big-endian key helpers: keys compare bytewise, so integers go in big-endian.
void put_u32(std::string& out, uint32_t v);
void put_u64(std::string& out, uint64_t v);
uint32_t get_u32(std::string_view in, size_t pos);
uint64_t get_u64(std::string_view in, size_t pos);

}  // namespace eddy::store
