#include "server/metrics/pricing.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "server/metrics/embedded.h"

namespace eddy::metrics {

using nlohmann::json;

namespace {

bool number_at(const json& obj, const char* section, const char* field, double& out, std::string* error) {
  auto it = obj.find(field);
  if (it == obj.end() || !it->is_number() || it->get<double>() < 0) {
    if (error) *error = std::string("price table: ") + section + "." + field + " must be a number >= 0";
    return false;
  }
  out = it->get<double>();
  return true;
}

// An optional price: 0 when absent.
bool optional_number_at(const json& obj, const char* section, const char* field, double& out, std::string* error) {
  if (!obj.contains(field)) {
    out = 0;
    return true;
  }
  return number_at(obj, section, field, out, error);
}

bool bytes_at(const json& obj, const char* section, const char* field, uint64_t& out, std::string* error) {
  auto it = obj.find(field);
  if (it == obj.end() || !it->is_number_integer() || it->get<int64_t>() <= 0) {
    if (error) *error = std::string("price table: ") + section + "." + field + " must be a positive integer (bytes)";
    return false;
  }
  out = it->get<uint64_t>();
  return true;
}

const json* object_at(const json& j, const char* path0, const char* path1, std::string* error) {
  const json* cur = &j;
  for (const char* p : {path0, path1}) {
    if (!p) break;
    auto it = cur->find(p);
    if (it == cur->end() || !it->is_object()) {
      if (error) *error = std::string("price table: missing object \"") + p + "\"";
      return nullptr;
    }
    cur = &*it;
  }
  return cur;
}

}  // namespace

void PriceTable::to_json(json& j) const {
  j = json{{"name", name},
           {"currency", currency},
           {"kinesis",
            {{"provisioned",
              {{"shard_hour", shard_hour},
               {"put_payload_unit_per_million", put_payload_unit_per_million},
               {"put_payload_unit_bytes", put_payload_unit_bytes},
               {"extended_retention_shard_hour", extended_retention_shard_hour},
               {"efo_consumer_shard_hour", efo_consumer_shard_hour},
               {"efo_retrieval_per_gb", efo_retrieval_per_gb}}},
             {"on_demand",
              {{"stream_hour", on_demand_stream_hour},
               {"ingest_per_gb", on_demand_ingest_per_gb},
               {"retrieval_per_gb", on_demand_retrieval_per_gb},
               {"record_rounding_bytes", on_demand_record_rounding_bytes},
               {"efo_retrieval_per_gb", on_demand_efo_retrieval_per_gb}}}}},
           {"s3",
            {{"class_a_per_thousand", s3_class_a_per_thousand},
             {"class_b_per_thousand", s3_class_b_per_thousand},
             {"storage_gb_month", s3_storage_gb_month}}}};
}

bool parse_price_table(const std::string& text, PriceTable& out, std::string* error) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    if (error) *error = "price table: not a JSON object";
    return false;
  }
  PriceTable t;
  t.name = j.value("name", std::string("unnamed"));
  t.currency = j.value("currency", std::string("USD"));
  const json* prov = object_at(j, "kinesis", "provisioned", error);
  if (!prov) return false;
  const json* od = object_at(j, "kinesis", "on_demand", error);
  if (!od) return false;
  const json* s3 = object_at(j, "s3", nullptr, error);
  if (!s3) return false;
  if (!number_at(*prov, "kinesis.provisioned", "shard_hour", t.shard_hour, error) ||
      !number_at(*prov, "kinesis.provisioned", "put_payload_unit_per_million", t.put_payload_unit_per_million, error) ||
      !bytes_at(*prov, "kinesis.provisioned", "put_payload_unit_bytes", t.put_payload_unit_bytes, error) ||
      !number_at(*prov, "kinesis.provisioned", "extended_retention_shard_hour", t.extended_retention_shard_hour,
                 error) ||
      !number_at(*od, "kinesis.on_demand", "stream_hour", t.on_demand_stream_hour, error) ||
      !number_at(*od, "kinesis.on_demand", "ingest_per_gb", t.on_demand_ingest_per_gb, error) ||
      !number_at(*od, "kinesis.on_demand", "retrieval_per_gb", t.on_demand_retrieval_per_gb, error) ||
      !bytes_at(*od, "kinesis.on_demand", "record_rounding_bytes", t.on_demand_record_rounding_bytes, error) ||
      !optional_number_at(*prov, "kinesis.provisioned", "efo_consumer_shard_hour", t.efo_consumer_shard_hour, error) ||
      !optional_number_at(*prov, "kinesis.provisioned", "efo_retrieval_per_gb", t.efo_retrieval_per_gb, error) ||
      !optional_number_at(*od, "kinesis.on_demand", "efo_retrieval_per_gb", t.on_demand_efo_retrieval_per_gb, error) ||
      !number_at(*s3, "s3", "class_a_per_thousand", t.s3_class_a_per_thousand, error) ||
      !number_at(*s3, "s3", "class_b_per_thousand", t.s3_class_b_per_thousand, error) ||
      !number_at(*s3, "s3", "storage_gb_month", t.s3_storage_gb_month, error))
    return false;
  out = std::move(t);
  return true;
}

bool load_price_table(const std::string& path, PriceTable& out, std::string* error) {
  if (path.empty()) {
    const embedded::Asset* a = embedded::find_asset("us-east-1.json");
    if (!a) {
      if (error) *error = "no embedded price table";
      return false;
    }
    return parse_price_table(std::string(a->data), out, error);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (error) *error = "cannot read price table " + path;
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string err;
  if (!parse_price_table(ss.str(), out, &err)) {
    if (error) *error = path + ": " + err;
    return false;
  }
  return true;
}

}  // namespace eddy::metrics
