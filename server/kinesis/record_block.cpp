#include "server/kinesis/record_block.h"

namespace eddy::kinesis {

namespace {
constexpr size_t kHeader = 8 + 1;  // arrival, format

uint32_t load_u16(std::string_view v, size_t pos) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(v[pos])) << 8) | static_cast<unsigned char>(v[pos + 1]);
}
}  // namespace

void record_key_into(char* out, uint32_t stream_id, uint32_t shard, uint64_t counter) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(stream_id >> (24 - 8 * i));
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<char>(shard >> (24 - 8 * i));
  for (int i = 0; i < 8; ++i) out[8 + i] = static_cast<char>(counter >> (56 - 8 * i));
}

std::string record_key(uint32_t stream_id, uint32_t shard, uint64_t counter) {
  std::string k(16, '\0');
  record_key_into(k.data(), stream_id, shard, counter);
  return k;
}

void RecordBlockWriter::reserve(size_t records, size_t key_and_data_bytes) {
  value_.reserve(kHeader + 4 + records * 6 + key_and_data_bytes);
}

void RecordBlockWriter::set_arrival(int64_t arrival_ms) {
  std::string be;  // 8 bytes: fits the string's own buffer
  store::put_u64(be, static_cast<uint64_t>(arrival_ms));
  value_.replace(0, be.size(), be);
}

void RecordBlockWriter::start(int64_t arrival_ms) {
  value_.clear();
  store::put_u64(value_, static_cast<uint64_t>(arrival_ms));
  value_.push_back(1);
  store::put_u32(value_, 0);
  count_ = 0;
}

void RecordBlockWriter::add(std::string_view partition_key, std::string_view data) {
  const size_t at = value_.size();
  value_.resize(at + 6);
  char* p = value_.data() + at;
  p[0] = static_cast<char>((partition_key.size() >> 8) & 0xff);
  p[1] = static_cast<char>(partition_key.size() & 0xff);
  for (int i = 0; i < 4; ++i) p[2 + i] = static_cast<char>(data.size() >> (24 - 8 * i));
  value_.append(partition_key);
  value_.append(data);
  ++count_;
}

std::string_view RecordBlockWriter::finish() {
  for (int i = 0; i < 4; ++i) value_[kHeader + i] = static_cast<char>(count_ >> (24 - 8 * i));
  return value_;
}

bool parse_block_header(std::string_view v, BlockHeader& out) {
  if (v.size() < kHeader + 2) return false;
  out.arrival_ms = static_cast<int64_t>(store::get_u64(v, 0));
  if (v[8] == 0) {
    out.count = 1;
    return v.size() >= kHeader + 2 + load_u16(v, kHeader);
  }
  if (v[8] != 1 || v.size() < kHeader + 4) return false;
  out.count = store::get_u32(v, kHeader);
  return out.count > 0;
}

RecordCursor::RecordCursor(store::Iterator& it, uint32_t stream_id, uint32_t shard)
    : it_(it), stream_id_(stream_id), shard_(shard) {}

bool RecordCursor::decode() {
  if (format_ == 0) {
    const uint32_t pk_len = load_u16(value_, kHeader);
    rec_.partition_key = value_.substr(kHeader + 2, pk_len);
    rec_.data = value_.substr(kHeader + 2 + pk_len);
    return true;
  }
  if (value_.size() - pos_ < 6) return false;
  const uint32_t pk_len = load_u16(value_, pos_);
  const uint32_t data_len = store::get_u32(value_, pos_ + 2);
  if (value_.size() - pos_ - 6 < static_cast<size_t>(pk_len) + data_len) return false;
  rec_.partition_key = value_.substr(pos_ + 6, pk_len);
  rec_.data = value_.substr(pos_ + 6 + pk_len, data_len);
  return true;
}

bool RecordCursor::enter_block() {
  if (it_.key().size() != 16) return false;
  value_ = it_.value();
  BlockHeader h;
  if (!parse_block_header(value_, h)) return false;
  format_ = static_cast<uint8_t>(value_[8]);
  count_ = h.count;
  index_ = 0;
  pos_ = kHeader + 4;
  rec_.counter = store::get_u64(it_.key(), 8);
  rec_.arrival_ms = h.arrival_ms;
  return decode();
}

void RecordCursor::settle() {
  for (; it_.valid(); it_.next())
    if (enter_block()) {
      valid_ = true;
      return;
    }
  valid_ = false;
}

void RecordCursor::seek_to_first() {
  it_.seek(record_key(stream_id_, shard_, 0));
  settle();
}

void RecordCursor::seek(uint64_t counter) {
  const std::string key = record_key(stream_id_, shard_, counter);
  it_.seek_for_prev(key);
  if (!it_.valid()) {
    it_.seek(key);
    settle();
    return;
  }
  if (enter_block() && counter - rec_.counter < count_) {
    valid_ = true;
    while (rec_.counter < counter && valid_) next();
    return;
  }
  it_.next();
  settle();
}

void RecordCursor::next() {
  if (!valid_) return;
  if (index_ + 1 < count_ && format_ == 1) {
    pos_ += 6 + rec_.partition_key.size() + rec_.data.size();
    ++index_;
    ++rec_.counter;
    if (decode()) return;
  }
  it_.next();
  settle();
}

}  // namespace eddy::kinesis
