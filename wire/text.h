#pragma once
// ASCII text helpers for protocol text (header names and values, hosts, URIs, query
// parameters, INI lines): the one copy eddy uses. Locale-independent; bytes >= 0x80 pass
// through unchanged.
#include <string>
#include <string_view>
#include <vector>

namespace eddy::wire::text {

constexpr char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
std::string lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

// Spaces, tabs, CR and LF removed from both ends.
std::string_view trim(std::string_view s);

// The pieces of s between the separators, empty ones left out; with trim_items, each trimmed
// first ("a, b,,c" -> a, b, c): query strings, header lists, key=value lists.
std::vector<std::string_view> split(std::string_view s, char sep, bool trim_items = false);

// 0-15 for a hex digit, -1 otherwise.
constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX sequences decoded (a '%' not followed by two hex digits is kept as it is); with
// plus_as_space, '+' is a space (query strings, forms).
std::string percent_decode(std::string_view s, bool plus_as_space = false);

// Appends s as a JSON string, quotes included: '"', '\\' and control characters escaped
// (\n, \r, \t, \b, \f, else \u00xx); every other byte, UTF-8 included, copied as it is.
void append_json_string(std::string& out, std::string_view s);

}  // namespace eddy::wire::text
