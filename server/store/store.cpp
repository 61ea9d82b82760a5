#include "server/store/store.h"

#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/table.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <vector>

#include "server/periodic_task.h"

namespace eddy::store {

namespace {
constexpr const char* kFamilyNames[] = {"default", "records", "objects", "blobs", "metrics"};

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view view(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }
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

struct Store::Impl {
  StoreOptions options;
  std::unique_ptr<rocksdb::Env> mem_env;
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  // fsync=interval: the WAL is synced this often when something was written.
  std::unique_ptr<PeriodicTask> syncer;
  std::atomic<bool> dirty{false};
  // The test seam (fail_next_writes): `armed` keeps the write path to one relaxed load.
  std::atomic<bool> seam_armed{false};
  std::mutex seam_mu;
  int seam_after = 0, seam_fail = 0;

  ~Impl() {
    syncer.reset();
    if (db) {
      if (auto s = db->FlushWAL(!options.in_memory); !s.ok())
        spdlog::error("store: WAL flush at close failed: {}", s.ToString());
      for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
      db->Close();
      delete db;
    }
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
  db_options.db_write_buffer_size = 24 << 20;
  std::string path = options.path;
  if (options.in_memory) {
    impl.mem_env.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
    db_options.env = impl.mem_env.get();
    path = "/eddy-in-memory";
  } else {
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
    // (memtable_insert_with_hint_prefix_extractor would make per-shard appends cheaper, but
    // Debian's librocksdb keeps its assertions, and one fires in the skiplist when a shard's
    // records are range-deleted and appended again.)
    if (f == Family::records) {
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
  if (options.fsync == FsyncMode::interval && !options.in_memory) {
    impl.syncer = std::make_unique<PeriodicTask>(
        "store: WAL sync", std::chrono::milliseconds(impl.options.fsync_interval_ms), [&impl] {
          if (!impl.dirty.exchange(false)) return;
          if (auto s = impl.db->SyncWAL(); !s.ok()) {
            impl.dirty = true;  // again next period
            spdlog::error("store: WAL sync failed: {}", s.ToString());
          }
        });
    impl.syncer->start();
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
  if (!s.ok()) return Status::error(s.ToString());
  impl.dirty = true;
  return Status::good();
}

Status Store::get(Family f, std::string_view key, std::string* value, bool* found) const {
  rocksdb::Status s = impl_->db->Get(rocksdb::ReadOptions(), impl_->handles[static_cast<int>(f)],
                                     slice(key), value);
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

void Store::fail_next_writes(int n, int after) {
  std::lock_guard lk(impl_->seam_mu);
  impl_->seam_after = n > 0 ? after : 0;
  impl_->seam_fail = n;
  impl_->seam_armed = n > 0;
}

}  // namespace eddy::store
