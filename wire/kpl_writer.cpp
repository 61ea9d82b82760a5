#include "wire/kpl_writer.h"

#include "wire/checksum.h"

namespace eddy::wire::kpl {

namespace {

std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Tag byte of a field below 16: (number << 3) | wire type.
constexpr char kLengthDelimited = 2;
constexpr char kVarint = 0;
constexpr char tag(int field, char type) { return static_cast<char>((field << 3) | type); }

void put_bytes_field(std::string& out, int field, std::string_view bytes) {
  out.push_back(tag(field, kLengthDelimited));
  put_varint(out, bytes.size());
  out.append(bytes);
}

std::size_t bytes_field_size(std::size_t payload) { return 1 + varint_size(payload) + payload; }

}  // namespace

std::size_t AggregateWriter::KeyIndex::probe(std::string_view key, std::uint64_t hash, const std::string& table) const {
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = static_cast<std::size_t>(hash) & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.index == kEmpty) return i;
    if (s.hash == hash && s.length == key.size() &&
        std::string_view(table.data() + s.offset, s.length) == key)
      return i;
  }
}

std::optional<std::uint64_t> AggregateWriter::KeyIndex::find(std::string_view key, const std::string& table) const {
  if (slots_.empty()) return std::nullopt;
  const std::uint64_t hash = std::hash<std::string_view>{}(key);
  const std::size_t slot = probe(key, hash, table);
  last_key_ = key.data();
  last_length_ = key.size();
  last_hash_ = hash;
  last_slot_ = slot;
  if (slots_[slot].index == kEmpty) return std::nullopt;
  return slots_[slot].index;
}

void AggregateWriter::KeyIndex::insert(std::string_view key, std::size_t offset) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  std::uint64_t hash;
  std::size_t slot;
  if (last_key_ == key.data() && last_length_ == key.size() && last_key_ != nullptr) {
    hash = last_hash_;
    slot = last_slot_;
  } else {
    hash = std::hash<std::string_view>{}(key);
    const std::size_t mask = slots_.size() - 1;
    slot = static_cast<std::size_t>(hash) & mask;
    while (slots_[slot].index != kEmpty) slot = (slot + 1) & mask;
  }
  slots_[slot] = Slot{hash, static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(key.size()),
                      static_cast<std::uint32_t>(size_)};
  ++size_;
  last_key_ = nullptr;
}

void AggregateWriter::KeyIndex::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.index == kEmpty) continue;
    std::size_t i = static_cast<std::size_t>(s.hash) & mask;
    while (slots_[i].index != kEmpty) i = (i + 1) & mask;
    slots_[i] = s;
  }
  last_key_ = nullptr;
}

void AggregateWriter::KeyIndex::clear() {
  if (size_ > 0) std::fill(slots_.begin(), slots_.end(), Slot{});
  size_ = 0;
  last_key_ = nullptr;
}

std::size_t AggregateWriter::growth(std::string_view pk, std::optional<std::string_view> ehk,
                                    std::size_t data_size) const {
  std::size_t out = 0;
  std::uint64_t pk_idx = pk_index_.size();
  if (auto found = pk_index_.find(pk, pk_table_))
    pk_idx = *found;
  else
    out += bytes_field_size(pk.size());
  std::size_t inner = 1 + varint_size(pk_idx);
  if (ehk) {
    std::uint64_t ehk_idx = ehk_index_.size();
    if (auto found = ehk_index_.find(*ehk, ehk_table_))
      ehk_idx = *found;
    else
      out += bytes_field_size(ehk->size());
    inner += 1 + varint_size(ehk_idx);
  }
  inner += bytes_field_size(data_size);
  return out + bytes_field_size(inner);
}

std::size_t AggregateWriter::size_with(std::string_view pk, std::optional<std::string_view> ehk,
                                       std::size_t data_size) const {
  return size_bytes() + growth(pk, ehk, data_size);
}

void AggregateWriter::add(std::string_view pk, std::optional<std::string_view> ehk,
                          std::string_view data) {
  const std::uint64_t pk_idx = intern_key(pk_table_, pk_index_, 1, pk);
  const std::uint64_t ehk_idx = ehk ? intern_key(ehk_table_, ehk_index_, 2, *ehk) : 0;
  const std::size_t inner = 1 + varint_size(pk_idx) +
                            (ehk ? 1 + varint_size(ehk_idx) : 0) + bytes_field_size(data.size());
  records_.push_back(tag(3, kLengthDelimited));
  put_varint(records_, inner);
  records_.push_back(tag(1, kVarint));
  put_varint(records_, pk_idx);
  if (ehk) {
    records_.push_back(tag(2, kVarint));
    put_varint(records_, ehk_idx);
  }
  put_bytes_field(records_, 3, data);
  ++count_;
}

std::uint64_t AggregateWriter::intern_key(std::string& table, KeyIndex& index, int field, std::string_view key) {
  if (auto found = index.find(key, table)) return *found;
  table.push_back(tag(field, kLengthDelimited));
  put_varint(table, key.size());
  const std::size_t offset = table.size();
  table.append(key);
  index.insert(key, offset);
  return index.size() - 1;
}

void AggregateWriter::finish_into(std::string& out) const {
  out.reserve(out.size() + size_bytes());
  out.append(kMagic).append(pk_table_).append(ehk_table_).append(records_);
  checksum::Hasher md5(checksum::Algorithm::md5);
  md5.update(pk_table_);
  md5.update(ehk_table_);
  md5.update(records_);
  out.append(md5.final());
}

void AggregateWriter::finish_unsealed_into(std::string& out) const {
  out.reserve(out.size() + size_bytes());
  out.append(kMagic).append(pk_table_).append(ehk_table_).append(records_);
  out.append(kDigestSize, '\0');
}

void AggregateWriter::seal(std::string& record) {
  if (record.size() < kMagic.size() + kDigestSize) return;
  const std::string_view body(record.data() + kMagic.size(), record.size() - kMagic.size() - kDigestSize);
  const std::string digest = checksum::digest(checksum::Algorithm::md5, body);
  record.replace(record.size() - kDigestSize, kDigestSize, digest);
}

std::string AggregateWriter::finish() const {
  std::string out;
  finish_into(out);
  return out;
}

void AggregateWriter::clear() {
  pk_table_.clear();
  ehk_table_.clear();
  records_.clear();
  pk_index_.clear();
  ehk_index_.clear();
  count_ = 0;
}

}  // namespace eddy::wire::kpl
