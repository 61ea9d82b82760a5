#include "server/s3/tagging.h"

#include <algorithm>
#include <set>

#include "server/s3/s3_internal.h"
#include "wire/text.h"

namespace eddy::s3::tagging {

namespace {

S3Error invalid_tag(std::string message) { return err("InvalidTag", std::move(message), 400); }

// Length in characters (UTF-8 code points), as S3 counts it.
size_t chars(std::string_view s) {
  size_t n = 0;
  for (char ch : s)
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++n;
  return n;
}

// S3 returns tag sets ordered by key.
void sort_by_key(Pairs& tags) {
  std::stable_sort(tags.begin(), tags.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

}  // namespace

std::optional<S3Error> validate(const Pairs& tags, size_t max_tags) {
  if (tags.size() > max_tags)
    return invalid_tag(max_tags == kMaxObjectTags ? "Object tags cannot be greater than 10"
                                                  : "Bucket tag count cannot be greater than 50");
  std::set<std::string> seen;
  for (const auto& [k, v] : tags) {
    if (k.empty() || chars(k) > 128) return invalid_tag("The TagKey you have provided is invalid");
    if (chars(v) > 256) return invalid_tag("The TagValue you have provided is invalid");
    if (k.rfind("aws:", 0) == 0) return invalid_tag("Your TagKey cannot be prefixed with aws:");
    if (!seen.insert(k).second) return invalid_tag("Cannot provide multiple Tags with the same key");
  }
  return std::nullopt;
}

std::variant<Pairs, S3Error> parse_xml(std::string_view body, size_t max_tags) {
  pugi::xml_document doc;
  if (auto e = parse_xml_body(body, "Tagging", doc)) return *e;
  auto sets = children(doc.document_element(), "TagSet");
  if (sets.size() != 1) return malformed_xml();
  Pairs tags;
  for (auto t : children(sets.front(), "Tag")) {
    if (children(t, "Key").size() != 1 || children(t, "Value").size() > 1) return malformed_xml();
    tags.emplace_back(child_text(t, "Key"), child_text(t, "Value"));
  }
  if (auto e = validate(tags, max_tags)) return *e;
  sort_by_key(tags);
  return tags;
}

std::variant<Pairs, S3Error> parse_header(std::string_view header) {
  Pairs tags;
  std::set<std::string> seen;
  const S3Error bad = invalid_argument(
      "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name "
      "duplicates.",
      "x-amz-tagging", std::string(header));
  for (std::string_view item : wire::text::split(header, '&')) {
    auto eq = item.find('=');
    std::string k = wire::text::percent_decode(item.substr(0, eq), true);
    std::string v = eq == std::string_view::npos ? std::string() : wire::text::percent_decode(item.substr(eq + 1), true);
    if (!seen.insert(k).second) return bad;
    tags.emplace_back(std::move(k), std::move(v));
  }
  if (auto e = validate(tags, kMaxObjectTags)) return *e;
  sort_by_key(tags);
  return tags;
}

std::string to_xml(const Pairs& tags) {
  XmlOut x("Tagging");
  auto set = XmlOut::add(x.root(), "TagSet");
  for (const auto& [k, v] : tags) {
    auto t = XmlOut::add(set, "Tag");
    XmlOut::add(t, "Key", k);
    XmlOut::add(t, "Value", v);
  }
  return x.str();
}

}  // namespace eddy::s3::tagging
