#include "server/store/store.h"

#include "server/store/memory.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>
#include <sys/statvfs.h>

#include <atomic>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

#include "server/periodic_task.h"

namespace eddy::store {

namespace {
constexpr const char* kFamilyNames[] = {"default", "records", "objects", "blobs", "metrics"};

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view view(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// The records family's memtable insert hint: a record key is stream (4 bytes), shard (4) and
// counter (8), and a shard's keys arrive in counter order, so RocksDB keeps one skiplist
// position per shard and inserts next to it instead of searching from the top (PutRecord: the
// memtable insert was ~9,200 instructions of a put's ~58,600; docs/performance.md). Only
// 16-byte keys use it. RocksDB keys its hints by prefix alone, for the memtable's range
// deletions as well as its rows (MemTable::Add): a range deletion with a hinted key would be
// inserted by a position in the other skiplist, and the skiplist's assertions fire (an
// earlier attempt saw it when retention trimmed a shard that was appended to again).
// Retention and DeleteStream delete from 8- and 4-byte keys (keys::shard_records,
// keys::stream_records), outside the domain.
class RecordShardPrefix final : public rocksdb::SliceTransform {
 public:
  static constexpr size_t kKeyBytes = 16, kPrefixBytes = 8;
  const char* Name() const override { return "eddy.RecordShardPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), kPrefixBytes);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() == kKeyBytes; }
};

// Free bytes for an unprivileged writer on the filesystem holding `path` (max when unknown).
uint64_t free_bytes(const std::string& path) {
  struct statvfs st {};
  if (statvfs(path.c_str(), &st) != 0) return UINT64_MAX;
  return uint64_t(st.f_bavail) * st.f_frsize;
}

// Below this much free space the periodic WAL sync goes through RocksDB's write queue (an
// empty synced write) instead of SyncWAL() beside the writers: in the queue it is ordered after
// any append that fails, sees the background error that append raised and touches no file,
// where SyncWAL() could reach a WAL writer that has just failed an append and abort.
constexpr uint64_t kLowSpaceBytes = 1ull << 30;
// A resume flushes the memtables (up to 8 MiB for one family) and opens a new WAL and
// MANIFEST: with less free than this it is not tried, so that a failed flush that leaves a few
// MiB behind does not make the store flap between resumed and full.
constexpr uint64_t kResumeMinBytes = 16ull << 20;

const char* reason_name(rocksdb::BackgroundErrorReason r) {
  switch (r) {
    case rocksdb::BackgroundErrorReason::kFlush: return "flush";
    case rocksdb::BackgroundErrorReason::kCompaction: return "compaction";
    case rocksdb::BackgroundErrorReason::kWriteCallback: return "write";
    case rocksdb::BackgroundErrorReason::kMemTable: return "memtable";
    case rocksdb::BackgroundErrorReason::kManifestWrite: return "manifest write";
    case rocksdb::BackgroundErrorReason::kFlushNoWAL: return "flush";
    case rocksdb::BackgroundErrorReason::kManifestWriteNoWAL: return "manifest write";
  }
  return "background work";
}

// The store's fault state, shared with RocksDB's event listener (which may outlive nothing but
// is called from RocksDB's threads). `stopped` is the one flag the WAL sync reads: RocksDB
// accepts no writes (a hard error or worse), so nothing may touch the WAL.
struct Faults {
  std::string path;
  std::atomic<bool> stopped{false};
  std::atomic<bool> any{false};
  mutable std::mutex mu;
  StoreHealth health;  // under mu
  std::chrono::steady_clock::time_point since;

  void set(const rocksdb::Status& s, const char* where) {
    const bool no_space = s.IsNoSpace() || s.ToString().find("No space left") != std::string::npos;
    const bool hard = s.severity() >= rocksdb::Status::Severity::kHardError || where == std::string_view("write");
    std::lock_guard lk(mu);
    const bool first = health.ok;
    if (first) {
      ++health.errors;
      since = std::chrono::steady_clock::now();
    }
    if (!first && (stopped || !hard)) return;  // the first reason stays (later writes repeat it)
    health.ok = false;
    health.no_space = health.no_space || no_space;
    health.reason = std::string(no_space ? "disk full: " : "storage error: ") + where + " failed under " +
                    path + ": " + s.ToString() +
                    (hard ? "; writes are refused until eddy resumes (it retries every second once there is room)"
                          : "; writes go on");
    if (hard) stopped = true;
    any = true;
    if (first) spdlog::error("store: {}", health.reason);
  }
  StoreHealth health_copy() const {
    std::lock_guard lk(mu);
    return health;
  }
  void clear(const char* how) {
    std::lock_guard lk(mu);
    if (health.ok) return;
    auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
    spdlog::warn("store: resumed ({}) after {:.1f} s in error: {}", how, secs, health.reason);
    ++health.recoveries;
    health.ok = true;
    health.no_space = false;
    health.reason.clear();
    stopped = false;
    any = false;
  }
};

// The WAL fault seam (StoreOptions::wal_fault_seam): appends to *.log files fail with ENOSPC
// while `fail` is set, below RocksDB's WritableFileWriter, exactly where a full disk fails them.
class SeamWalFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  SeamWalFile(std::unique_ptr<rocksdb::FSWritableFile> f, std::shared_ptr<std::atomic<bool>> fail)
      : FSWritableFileOwnerWrapper(std::move(f)), fail_(std::move(fail)) {}
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* d) override {
    if (*fail_) return injected();
    return target()->Append(data, o, d);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& v, rocksdb::IODebugContext* d) override {
    if (*fail_) return injected();
    return target()->Append(data, o, v, d);
  }

 private:
  static rocksdb::IOStatus injected() {
    return rocksdb::IOStatus::NoSpace("injected: No space left on device (Store::fail_wal_appends)");
  }
  std::shared_ptr<std::atomic<bool>> fail_;
};

class SeamFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  SeamFileSystem(const std::shared_ptr<rocksdb::FileSystem>& base, std::shared_ptr<std::atomic<bool>> fail)
      : FileSystemWrapper(base), fail_(std::move(fail)) {}
  const char* Name() const override { return "EddyWalFaultSeam"; }
  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* d) override {
    auto s = target()->NewWritableFile(f, o, r, d);
    if (s.ok() && f.size() > 4 && f.compare(f.size() - 4, 4, ".log") == 0)
      *r = std::make_unique<SeamWalFile>(std::move(*r), fail_);
    return s;
  }

 private:
  std::shared_ptr<std::atomic<bool>> fail_;
};

// RocksDB's own log lines go to eddy's log instead of a LOG file in the data dir: on a full
// disk an append to that file fails, and Debian's librocksdb then aborts on the next line it
// logs there (the same assertion as for the WAL, from EnvLogger, during the flush error's
// "waiting after background flush error"). Warnings and errors only; the options header
// RocksDB prints at open is left out.
class SpdLogger final : public rocksdb::Logger {
 public:
  SpdLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::WARN_LEVEL) {}
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override { Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap); }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < rocksdb::InfoLogLevel::WARN_LEVEL || level == rocksdb::InfoLogLevel::HEADER_LEVEL) return;
    char buf[1024];
    std::vsnprintf(buf, sizeof buf, format, ap);
    if (level == rocksdb::InfoLogLevel::WARN_LEVEL)
      spdlog::warn("rocksdb: {}", buf);
    else
      spdlog::error("rocksdb: {}", buf);
  }
};

class FaultListener final : public rocksdb::EventListener {
 public:
  explicit FaultListener(std::shared_ptr<Faults> f) : f_(std::move(f)) {}
  const char* Name() const override { return "eddy-faults"; }
  void OnBackgroundError(rocksdb::BackgroundErrorReason reason, rocksdb::Status* error) override {
    if (error && !error->ok()) f_->set(*error, reason_name(reason));
  }
  // RocksDB's own recovery from a full disk (its SstFileManager polling every 5 s) would
  // hold the error handler and make every Resume() in between answer Busy: the store's
  // recovery task resumes instead, every recover_interval_ms, and tests drive it directly.
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status, bool* auto_recovery) override {
    if (auto_recovery) *auto_recovery = false;
  }
  void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override {
    if (info.new_bg_error.ok()) f_->clear("recovery");
  }

 private:
  std::shared_ptr<Faults> f_;
};
}  // namespace

const char* family_name(Family f) {
  // "meta" lives in RocksDB's default column family.
  return f == Family::meta ? "meta" : kFamilyNames[static_cast<int>(f)];
}

void put_u32(std::string& out, uint32_t v) {
  char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  out.append(b, 4);
}
void put_u64(std::string& out, uint64_t v) {
  put_u32(out, static_cast<uint32_t>(v >> 32));
  put_u32(out, static_cast<uint32_t>(v));
}
uint32_t get_u32(std::string_view in, size_t pos) {
  auto b = reinterpret_cast<const unsigned char*>(in.data() + pos);
  return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
}
uint64_t get_u64(std::string_view in, size_t pos) {
  return (uint64_t(get_u32(in, pos)) << 32) | get_u32(in, pos + 4);
}

// The open stores, for open_stores_memory(): a store is listed from its open to its close.
namespace {
struct OpenDb {
  rocksdb::DB* db;
  const std::vector<rocksdb::ColumnFamilyHandle*>* handles;
};
std::mutex g_open_mu;
std::vector<OpenDb> g_open;  // under g_open_mu
}  // namespace

StoreMemory open_stores_memory() {
  StoreMemory m;
  std::lock_guard lk(g_open_mu);
  for (const OpenDb& o : g_open) {
    auto sum = [&](const std::string& property) {
      uint64_t total = 0;
      for (auto* h : *o.handles) {
        uint64_t v = 0;
        if (o.db->GetIntProperty(h, property, &v)) total += v;
      }
      return total;
    };
    m.table_readers += sum(rocksdb::DB::Properties::kEstimateTableReadersMem);
    m.memtables += sum(rocksdb::DB::Properties::kCurSizeAllMemTables);
    m.table_bytes += sum(rocksdb::DB::Properties::kLiveSstFilesSize);
    m.blob_files += sum(rocksdb::DB::Properties::kNumBlobFiles);
    m.blob_bytes += sum(rocksdb::DB::Properties::kLiveBlobFileSize);
    for (auto* h : *o.handles)
      for (int level = 0; level < 7; ++level) {
        std::string v;
        if (o.db->GetProperty(h, rocksdb::DB::Properties::kNumFilesAtLevelPrefix + std::to_string(level), &v))
          m.table_files += std::strtoull(v.c_str(), nullptr, 10);
      }
    // One block cache serves a store's families: read once.
    if (!o.handles->empty()) {
      uint64_t v = 0;
      if (o.db->GetIntProperty(o.handles->front(), rocksdb::DB::Properties::kBlockCacheUsage, &v)) m.block_cache += v;
      if (o.db->GetIntProperty(o.handles->front(), rocksdb::DB::Properties::kBlockCachePinnedUsage, &v))
        m.block_cache_pinned += v;
    }
  }
  return m;
}

struct Store::Impl {
  StoreOptions options;
  std::unique_ptr<rocksdb::Env> mem_env;
  std::unique_ptr<rocksdb::Env> seam_env;  // wal_fault_seam
  std::shared_ptr<std::atomic<bool>> seam_wal_fail = std::make_shared<std::atomic<bool>>(false);
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  // fsync=interval: the WAL is synced this often when something was written.
  std::unique_ptr<PeriodicTask> syncer;
  std::atomic<bool> dirty{false};
  // Background errors (a full disk) and the task that resumes from them.
  std::shared_ptr<Faults> faults = std::make_shared<Faults>();
  std::unique_ptr<PeriodicTask> recoverer;
  std::atomic<int> sync_failures{0};
  int resume_failures = 0;  // the recovery task's thread (and run_now(), never at the same time)

  void sync_wal() {
    // No WAL sync while RocksDB refuses writes: a WAL writer that failed an append keeps its
    // error until a resume, and syncing it trips Debian's librocksdb assertion
    // `sync_without_flush_called_` (WritableFileWriter::AssertFalseAndGetStatusForPrevError;
    // RocksDB 9.3 turned it into an error). `dirty` stays set for after the resume.
    if (faults->stopped) return;
    if (!dirty.exchange(false)) return;
    rocksdb::Status s;
    if (free_bytes(options.path) < kLowSpaceBytes) {
      rocksdb::WriteBatch empty;
      rocksdb::WriteOptions wo;
      wo.sync = true;
      s = db->Write(wo, &empty);
    } else {
      s = db->SyncWAL();
    }
    if (!s.ok()) {
      dirty = true;  // again next period
      if (sync_failures++ % 60 == 0) spdlog::error("store: WAL sync failed: {}", s.ToString());
      if (s.IsIOError()) faults->set(s, "WAL sync");
    } else {
      sync_failures = 0;
    }
  }

  bool recover() {
    if (!faults->any) return true;
    if (free_bytes(options.path) < kResumeMinBytes) return false;
    rocksdb::Status s = db->Resume();
    if (s.ok()) {
      faults->clear("Resume()");
      dirty = true;
      resume_failures = 0;
      return true;
    }
    if (resume_failures++ % 60 == 0) spdlog::warn("store: resume failed (tried every second): {}", s.ToString());
    return false;
  }
  // The test seam (fail_next_writes): `armed` keeps the write path to one relaxed load.
  std::atomic<bool> seam_armed{false};
  std::mutex seam_mu;
  int seam_after = 0, seam_fail = 0;

  ~Impl() {
    syncer.reset();
    recoverer.reset();
    if (!db) return;
    {
      std::lock_guard lk(g_open_mu);
      std::erase_if(g_open, [this](const OpenDb& o) { return o.db == db; });
    }
    if (faults->stopped) {
      // In error: no WAL sync and no memtable flush at close (either would touch the failed
      // WAL writer). Every acknowledged write is in the WAL and is replayed at the next open.
      spdlog::warn("store: closing while in error, without flush: {}", faults->health_copy().reason);
      if (auto s = db->SetDBOptions({{"avoid_flush_during_shutdown", "true"}}); !s.ok())
        spdlog::error("store: cannot skip the flush at close: {}", s.ToString());
    } else if (auto s = db->FlushWAL(!options.in_memory); !s.ok()) {
      spdlog::error("store: WAL flush at close failed: {}", s.ToString());
    }
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    if (auto s = db->Close(); !s.ok()) spdlog::warn("store: close: {}", s.ToString());
    delete db;
  }
};

// ---- WriteBatch ---------------------------------------------------------------------------

struct WriteBatch::Impl {
  Impl() = default;
  explicit Impl(size_t reserve) : batch(reserve) {}
  rocksdb::WriteBatch batch;
  const std::vector<rocksdb::ColumnFamilyHandle*>* handles = nullptr;
  rocksdb::ColumnFamilyHandle* h(Family f) const { return (*handles)[static_cast<int>(f)]; }
};

WriteBatch::WriteBatch(const Store& store) : impl_(std::make_unique<Impl>()) {
  impl_->handles = &store.impl_->handles;
}
WriteBatch::WriteBatch(const Store& store, size_t reserve_bytes)
    : impl_(std::make_unique<Impl>(reserve_bytes + 12)) {  // + the batch header
  impl_->handles = &store.impl_->handles;
}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;

void WriteBatch::put(Family f, std::string_view key, std::string_view value) {
  impl_->batch.Put(impl_->h(f), slice(key), slice(value));
}
void WriteBatch::del(Family f, std::string_view key) { impl_->batch.Delete(impl_->h(f), slice(key)); }
void WriteBatch::delete_range(Family f, std::string_view begin, std::string_view end) {
  impl_->batch.DeleteRange(impl_->h(f), slice(begin), slice(end));
}
size_t WriteBatch::count() const { return impl_->batch.Count(); }
size_t WriteBatch::data_size() const { return impl_->batch.GetDataSize(); }
void WriteBatch::clear() { impl_->batch.Clear(); }

// ---- Iterator -----------------------------------------------------------------------------

namespace {
class RocksIterator final : public Iterator {
 public:
  RocksIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string lower,
                std::string upper)
      : lower_(std::move(lower)), upper_(std::move(upper)) {
    rocksdb::ReadOptions ro;
    if (!lower_.empty()) {
      lower_slice_ = rocksdb::Slice(lower_);
      ro.iterate_lower_bound = &lower_slice_;
    }
    if (!upper_.empty()) {
      upper_slice_ = rocksdb::Slice(upper_);
      ro.iterate_upper_bound = &upper_slice_;
    }
    it_.reset(db->NewIterator(ro, cf));
  }
  void seek(std::string_view key) override { it_->Seek(slice(key)); }
  void seek_for_prev(std::string_view key) override { it_->SeekForPrev(slice(key)); }
  bool valid() const override { return it_->Valid(); }
  void next() override { it_->Next(); }
  void prev() override { it_->Prev(); }
  std::string_view key() const override { return view(it_->key()); }
  std::string_view value() const override { return view(it_->value()); }
  Status status() const override {
    auto s = it_->status();
    return s.ok() ? Status::good() : Status::error(s.ToString());
  }

 private:
  std::string lower_, upper_;
  rocksdb::Slice lower_slice_, upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};
}  // namespace

// ---- Store --------------------------------------------------------------------------------

Store::Store() : impl_(std::make_unique<Impl>()) {}
Store::~Store() = default;

std::unique_ptr<Store> Store::open(const StoreOptions& options, Status* status) {
  std::unique_ptr<Store> store(new Store());
  auto& impl = *store->impl_;
  impl.options = options;

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 3;
  db_options.max_total_wal_size = 256ull << 20;
  db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_options.info_log = std::make_shared<SpdLogger>();
  db_options.db_write_buffer_size = 24 << 20;
  // RocksDB ignores the memtable insert hints (RecordShardPrefix) when write groups insert
  // into the memtable concurrently; on two cores those groups were small anyway.
  db_options.allow_concurrent_memtable_write = false;
  // Start-up (docs/performance.md, "Scale"): the table files are opened by the thread that
  // opens the store - RocksDB otherwise starts 16 threads per column family for it at every
  // open, 80 short-lived threads for eddy's five families, most of an empty store's open -
  // and the open reads no table's properties for compaction statistics nor stats every file.
  db_options.max_file_opening_threads = 1;
  db_options.skip_stats_update_on_db_open = true;
  db_options.skip_checking_sst_file_sizes_on_db_open = true;
  impl.faults->path = options.in_memory ? "memory" : options.path;
  db_options.listeners.push_back(std::make_shared<FaultListener>(impl.faults));
  std::string path = options.path;
  if (options.in_memory) {
    impl.mem_env.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    db_options.env = impl.mem_env.get();
    path = "/eddy-in-memory";
  } else {
    if (options.wal_fault_seam) {
      impl.seam_env = rocksdb::NewCompositeEnv(
          std::make_shared<SeamFileSystem>(rocksdb::FileSystem::Default(), impl.seam_wal_fail));
      db_options.env = impl.seam_env.get();
    }
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) {
      if (status) *status = Status::error("cannot create data directory " + path + ": " + ec.message());
      return nullptr;
    }
  }

  // A small block cache and small memtables: eddy is a test tool and should stay lean.
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(8 << 20);
  // Debian's RocksDB is built without SSE4.2, so CRC32c runs in software: XXH3 is far cheaper.
  table.checksum = rocksdb::kXXH3;
  // Records are only ever read by seeking an iterator, where a bloom filter never helps.
  rocksdb::BlockBasedTableOptions records_table = table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (int i = 0; i < static_cast<int>(Family::count_); ++i) {
    rocksdb::ColumnFamilyOptions cf;
    // Records take the write traffic; the other families are small. A shared write buffer
    // manager caps all memtables together (eddy should stay well under 64 MiB RSS).
    const Family f = static_cast<Family>(i);
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(f == Family::records ? records_table : table));
    // Records arrive in key order per shard and leave by retention: universal compaction
    // rewrites them far less often than leveled compaction would.
    if (f == Family::records) {
      cf.memtable_insert_with_hint_prefix_extractor = std::make_shared<RecordShardPrefix>();
      cf.compaction_style = rocksdb::kCompactionStyleUniversal;
      cf.level0_file_num_compaction_trigger = 8;
      cf.compaction_options_universal.max_size_amplification_percent = 400;
      // Record blocks from PutRecords (4 KiB and up) go to blob files: compaction then moves
      // keys and blob references, not the records themselves. Retention deletes the oldest
      // records first, so a blob file's blocks die together and the file is dropped once no
      // table refers to it. PutRecords, 10 s runs: ~1.2M -> ~1.55M records/s; GetRecords
      // unchanged. Single-record rows stay inline.
      cf.enable_blob_files = true;
      cf.min_blob_size = 4096;
      cf.blob_file_size = 64 << 20;
    }
    cf.write_buffer_size = f == Family::records || f == Family::blobs ? (8 << 20) : (2 << 20);
    cf.max_write_buffer_number = 2;
    // Test data is short-lived and CPU is the scarce resource: no block compression.
    cf.compression = rocksdb::kNoCompression;
    if (f == Family::blobs) {
      cf.enable_blob_files = true;
      cf.min_blob_size = 4096;
      cf.blob_file_size = 64 << 20;
    }
    cfs.emplace_back(kFamilyNames[i], cf);
  }
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, cfs, &impl.handles, &impl.db);
  if (!s.ok()) {
    if (status) *status = Status::error("cannot open RocksDB at " + path + ": " + s.ToString());
    return nullptr;
  }
  {
    std::lock_guard lk(g_open_mu);
    g_open.push_back({impl.db, &impl.handles});
  }
  if (options.fsync == FsyncMode::interval && !options.in_memory) {
    impl.syncer = std::make_unique<PeriodicTask>(
        "store: WAL sync", std::chrono::milliseconds(impl.options.fsync_interval_ms), [&impl] { impl.sync_wal(); });
    impl.syncer->start();
  }
  if (!options.in_memory) {
    impl.recoverer = std::make_unique<PeriodicTask>(
        "store: recovery", std::chrono::milliseconds(std::max(1, impl.options.recover_interval_ms)),
        [&impl] { (void)impl.recover(); });
    impl.recoverer->start();
  }
  if (status) *status = Status::good();
  return store;
}

Status Store::write(WriteBatch& batch) {
  auto& impl = *impl_;
  auto& wb = batch.impl_->batch;
  if (impl.seam_armed.load(std::memory_order_relaxed)) {
    std::lock_guard lk(impl.seam_mu);
    if (impl.seam_after > 0) {
      --impl.seam_after;
    } else if (impl.seam_fail > 0) {
      if (--impl.seam_fail == 0) impl.seam_armed = false;
      batch.impl_->batch.Clear();
      return Status::error("IO error: injected write failure (Store::fail_next_writes)");
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = impl.options.fsync == FsyncMode::always && !impl.options.in_memory;
  rocksdb::Status s = impl.db->Write(wo, &wb);
  wb.Clear();
  if (!s.ok()) {
    // RocksDB reports a failed WAL append to the listener (a background error) before it
    // returns; an I/O error is recorded here too in case it did not.
    if (s.IsIOError()) impl.faults->set(s, "write");
    if (impl.faults->stopped) return Status::error(impl.faults->health_copy().reason);
    return Status::error(s.ToString());
  }
  impl.dirty = true;
  return Status::good();
}

Status Store::get(Family f, std::string_view key, std::string* value, bool* found) const {
  rocksdb::ReadOptions ro;
  // Object data is read without checking its blob record's CRC32C: Debian's RocksDB computes
  // CRC32C in software (no SSE4.2), which took more than half the CPU of a large GetObject
  // (perf, 8 MiB objects). The data's MD5 (ETag) and checksum were taken when it was written;
  // the WAL and table files keep their checks.
  if (f == Family::blobs) ro.verify_checksums = false;
  rocksdb::Status s = impl_->db->Get(ro, impl_->handles[static_cast<int>(f)], slice(key), value);
  if (s.IsNotFound()) {
    *found = false;
    return Status::good();
  }
  if (!s.ok()) return Status::error(s.ToString());
  *found = true;
  return Status::good();
}

std::optional<std::string> Store::get(Family f, std::string_view key) const {
  std::string v;
  bool found = false;
  if (!get(f, key, &v, &found) || !found) return std::nullopt;
  return v;
}

std::unique_ptr<Iterator> Store::iterate(Family f, std::string_view lower, std::string_view upper) const {
  return std::make_unique<RocksIterator>(impl_->db, impl_->handles[static_cast<int>(f)],
                                         std::string(lower), std::string(upper));
}

Status Store::flush() {
  auto& impl = *impl_;
  if (impl.faults->stopped) return Status::error("not flushed: " + health().reason);
  rocksdb::Status s = impl.db->FlushWAL(!impl.options.in_memory);
  if (!s.ok()) return Status::error(s.ToString());
  rocksdb::FlushOptions fo;
  fo.wait = true;
  s = impl.db->Flush(fo, impl.handles);
  if (!s.ok()) return Status::error(s.ToString());
  return Status::good();
}

void Store::compact_range(Family f, std::string_view begin, std::string_view end) {
  rocksdb::Slice b = slice(begin), e = slice(end);
  impl_->db->CompactRange(rocksdb::CompactRangeOptions(), impl_->handles[static_cast<int>(f)], &b, &e);
}

bool Store::in_memory() const { return impl_->options.in_memory; }

StoreHealth Store::health() const { return impl_->faults->health_copy(); }

bool Store::recover_now() {
  if (impl_->recoverer) {
    impl_->recoverer->run_now();
    return health().ok;
  }
  return impl_->recover();
}

void Store::sync_now() {
  if (impl_->syncer) impl_->syncer->run_now();
}

void Store::fail_wal_appends(bool on) { *impl_->seam_wal_fail = on; }

void Store::fail_next_writes(int n, int after) {
  std::lock_guard lk(impl_->seam_mu);
  impl_->seam_after = n > 0 ? after : 0;
  impl_->seam_fail = n;
  impl_->seam_armed = n > 0;
}

}  // namespace eddy::store
