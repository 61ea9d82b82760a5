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

std::size_t AggregateWriter::growth(std::string_view pk, std::optional<std::string_view> ehk,
                                    std::size_t data_size) const {
  std::size_t out = 0;
  std::uint64_t pk_idx = pk_index_.size();
  if (auto it = pk_index_.find(pk); it != pk_index_.end())
    pk_idx = it->second;
  else
    out += bytes_field_size(pk.size());
  std::size_t inner = 1 + varint_size(pk_idx);
  if (ehk) {
    std::uint64_t ehk_idx = ehk_index_.size();
    if (auto it = ehk_index_.find(*ehk); it != ehk_index_.end())
      ehk_idx = it->second;
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
  auto [pk_it, pk_new] = pk_index_.try_emplace(std::string(pk), pk_index_.size());
  if (pk_new) put_bytes_field(pk_table_, 1, pk);
  std::uint64_t ehk_idx = 0;
  if (ehk) {
    auto [ehk_it, ehk_new] = ehk_index_.try_emplace(std::string(*ehk), ehk_index_.size());
    if (ehk_new) put_bytes_field(ehk_table_, 2, *ehk);
    ehk_idx = ehk_it->second;
  }
  const std::size_t inner = 1 + varint_size(pk_it->second) +
                            (ehk ? 1 + varint_size(ehk_idx) : 0) + bytes_field_size(data.size());
  records_.push_back(tag(3, kLengthDelimited));
  put_varint(records_, inner);
  records_.push_back(tag(1, kVarint));
  put_varint(records_, pk_it->second);
  if (ehk) {
    records_.push_back(tag(2, kVarint));
    put_varint(records_, ehk_idx);
  }
  put_bytes_field(records_, 3, data);
  ++count_;
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
