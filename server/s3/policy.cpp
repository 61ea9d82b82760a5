#include "server/s3/policy.h"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>

namespace eddy::policy {

namespace {

using json = nlohmann::json;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// A field that may be one string or a list of strings; nullopt: neither.
std::optional<std::vector<std::string>> strings(const json& v) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return out;
  }
  if (!v.is_array()) return std::nullopt;
  for (const auto& e : v) {
    if (!e.is_string()) return std::nullopt;
    out.push_back(e.get<std::string>());
  }
  return out;
}

// Condition values: strings, numbers and booleans, as IAM accepts them.
std::optional<std::vector<std::string>> condition_values(const json& v) {
  std::vector<std::string> out;
  auto one = [&](const json& e) {
    if (e.is_string()) out.push_back(e.get<std::string>());
    else if (e.is_boolean()) out.push_back(e.get<bool>() ? "true" : "false");
    else if (e.is_number_integer()) out.push_back(std::to_string(e.get<int64_t>()));
    else if (e.is_number()) out.push_back(e.dump());
    else return false;
    return true;
  };
  if (v.is_array()) {
    for (const auto& e : v)
      if (!one(e)) return std::nullopt;
    return out;
  }
  if (!one(v)) return std::nullopt;
  return out;
}

constexpr std::string_view kOperators[] = {
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
    "StringNotLike", "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
    "NumericGreaterThan", "NumericGreaterThanEquals", "DateEquals", "DateNotEquals", "DateLessThan",
    "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals", "Bool", "BinaryEquals", "IpAddress",
    "NotIpAddress", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike", "Null"};

bool negated(std::string_view op) {
  return op == "StringNotEquals" || op == "StringNotEqualsIgnoreCase" || op == "StringNotLike" ||
         op == "NumericNotEquals" || op == "DateNotEquals" || op == "NotIpAddress" || op == "ArnNotEquals" ||
         op == "ArnNotLike";
}

std::optional<double> number(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string t(s);
  char* end = nullptr;
  double d = std::strtod(t.c_str(), &end);
  if (*end != '\0') return std::nullopt;
  return d;
}

// Epoch seconds, or ISO 8601 ("2026-12-07", "2026-12-07T14:00:00Z", with fractions).
std::optional<double> date(std::string_view s) {
  if (auto n = number(s)) return n;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  std::string t(s);
  int got = std::sscanf(t.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec);
  if (got != 3 && got != 6) return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = sec;
  return static_cast<double>(timegm(&tm));
}

// An IPv4 or IPv6 address, or a CIDR block of them.
struct Cidr {
  int family = 0;
  unsigned char addr[16] = {};
  int bits = 0;
};

std::optional<Cidr> parse_cidr(std::string_view s) {
  std::string t(s);
  Cidr c;
  auto slash = t.find('/');
  std::string host = t.substr(0, slash);
  if (inet_pton(AF_INET, host.c_str(), c.addr) == 1) {
    c.family = AF_INET;
    c.bits = 32;
  } else if (inet_pton(AF_INET6, host.c_str(), c.addr) == 1) {
    c.family = AF_INET6;
    c.bits = 128;
  } else {
    return std::nullopt;
  }
  if (slash != std::string::npos) {
    std::string b = t.substr(slash + 1);
    char* end = nullptr;
    long n = std::strtol(b.c_str(), &end, 10);
    if (b.empty() || *end != '\0' || n < 0 || n > c.bits) return std::nullopt;
    c.bits = static_cast<int>(n);
  }
  return c;
}

bool in_cidr(const Cidr& block, std::string_view address) {
  auto a = parse_cidr(address);
  if (!a) return false;
  // IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) compare as IPv4.
  if (a->family == AF_INET6 && block.family == AF_INET) {
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a->addr, kMapped, 12) != 0) return false;
    std::memmove(a->addr, a->addr + 12, 4);
    a->family = AF_INET;
  }
  if (a->family != block.family) return false;
  int bits = block.bits;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    const unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
    if ((a->addr[i] & mask) != (block.addr[i] & mask)) return false;
  }
  return true;
}

// One value against one policy value under a (non-negated form of an) operator.
bool value_matches(std::string_view op, std::string_view policy_value, std::string_view value) {
  if (op == "StringEquals" || op == "StringNotEquals" || op == "BinaryEquals" || op == "ArnEquals" ||
      op == "ArnNotEquals")
    return op.starts_with("Arn") ? wildcard_match(policy_value, value) : policy_value == value;
  if (op == "StringEqualsIgnoreCase" || op == "StringNotEqualsIgnoreCase") return lower(policy_value) == lower(value);
  if (op == "StringLike" || op == "StringNotLike" || op == "ArnLike" || op == "ArnNotLike")
    return wildcard_match(policy_value, value);
  if (op == "Bool") return lower(policy_value) == lower(value);
  if (op == "IpAddress" || op == "NotIpAddress") {
    auto block = parse_cidr(policy_value);
    return block && in_cidr(*block, value);
  }
  const bool numeric = op.starts_with("Numeric");
  auto pv = numeric ? number(policy_value) : date(policy_value);
  auto v = numeric ? number(value) : date(value);
  if (!pv || !v) return false;
  std::string_view cmp = op.substr(numeric ? 7 : 4);
  if (cmp == "Equals" || cmp == "NotEquals") return *v == *pv;
  if (cmp == "LessThan") return *v < *pv;
  if (cmp == "LessThanEquals") return *v <= *pv;
  if (cmp == "GreaterThan") return *v > *pv;
  if (cmp == "GreaterThanEquals") return *v >= *pv;
  return false;
}

bool condition_holds(const Document::Condition& c, const Request& r) {
  auto it = r.context.find(c.key);
  const bool present = it != r.context.end() && !it->second.empty();
  if (c.op == "Null") {
    // "true": the key must be absent; "false": present.
    for (const auto& v : c.values)
      if ((lower(v) == "true") == !present) return true;
    return false;
  }
  if (!present) {
    if (c.if_exists) return true;
    if (c.set == 1) return true;  // ForAllValues over nothing holds
    return negated(c.op);
  }
  const bool neg = negated(c.op);
  auto any_policy_value = [&](const std::string& v) {
    for (const auto& pv : c.values)
      if (value_matches(c.op, pv, v)) return true;
    return false;
  };
  const auto& values = it->second;
  if (c.set == 1) {
    for (const auto& v : values)
      if (any_policy_value(v) == neg) return false;
    return true;
  }
  if (c.set == 2) {
    for (const auto& v : values)
      if (any_policy_value(v) != neg) return true;
    return false;
  }
  // A single-valued key (several values only where the request carries several).
  if (neg) {
    for (const auto& v : values)
      if (any_policy_value(v)) return false;
    return true;
  }
  for (const auto& v : values)
    if (any_policy_value(v)) return true;
  return false;
}

bool account_of(std::string_view principal, std::string* account) {
  // "123456789012", "arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:user/x", ...
  if (principal.rfind("arn:", 0) != 0) {
    *account = std::string(principal);
    return true;
  }
  // arn:partition:service:region:account:resource
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    pos = principal.find(':', pos);
    if (pos == std::string_view::npos) return false;
    ++pos;
  }
  auto end = principal.find(':', pos);
  if (end == std::string_view::npos) return false;
  *account = std::string(principal.substr(pos, end - pos));
  return principal.substr(end + 1) == "root";
}

bool principal_matches(const Document::Statement& s, const Request& r) {
  bool match = s.any_principal;
  if (!match && !r.anonymous) {
    for (const auto& p : s.principals) {
      std::string account;
      const bool whole_account = account_of(p, &account);
      if ((whole_account && account == r.account) || (!r.user_arn.empty() && p == r.user_arn)) {
        match = true;
        break;
      }
    }
    for (const auto& id : s.canonical)
      if (id == r.canonical_id) match = true;
  }
  return s.not_principal ? !match : match;
}

bool action_matches(const Document::Statement& s, const Request& r) {
  const std::string action = lower(r.action);
  bool match = false;
  for (const auto& a : s.actions)
    if (wildcard_match(a, action)) {
      match = true;
      break;
    }
  return s.not_action ? !match : match;
}

bool resource_matches(const Document::Statement& s, const Request& r) {
  bool match = false;
  for (const auto& p : s.resources)
    if (wildcard_match(p, r.resource)) {
      match = true;
      break;
    }
  return s.not_resource ? !match : match;
}

// Condition keys that pin the caller down, so an Allow to "*" under them is not public.
constexpr std::string_view kRestrictingKeys[] = {"aws:sourceip", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount",
                                                 "aws:sourcearn", "aws:sourceowner", "aws:principalorgid",
                                                 "aws:principalaccount", "aws:principalarn", "aws:userid",
                                                 "aws:username", "s3:dataaccesspointaccount"};

}  // namespace

bool wildcard_match(std::string_view pattern, std::string_view s, bool ignore_case, bool question_mark) {
  auto eq = [&](char a, char b) {
    return ignore_case ? std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b))
                       : a == b;
  };
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < pattern.size() && ((question_mark && pattern[p] == '?') || eq(pattern[p], s[i]))) {
      ++p;
      ++i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::variant<std::shared_ptr<const Document>, std::string> Document::parse(std::string_view text, const Check& resource_ok,
                                                                           const Check& action_ok) {
  const std::string kNotJson = "Policies must be valid JSON and the first byte must be '{'";
  if (text.empty() || text.front() != '{') return kNotJson;
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return kNotJson;
  auto doc_out = std::make_shared<Document>();
  if (doc.contains("Version")) {
    const json& v = doc["Version"];
    if (!v.is_string() || (v != "2012-10-17" && v != "2008-10-17")) return std::string("Invalid policy version");
  }
  if (!doc.contains("Statement")) return std::string("Missing required field Statement");
  json list = doc["Statement"];
  if (list.is_object()) list = json::array({list});
  if (!list.is_array() || list.empty()) return std::string("Missing required field Statement");
  for (const json& st : list) {
    if (!st.is_object()) return std::string("Statement is not an object");
    Statement s;
    if (!st.contains("Effect")) return std::string("Missing required field Effect");
    if (st["Effect"] == "Allow") s.allow = true;
    else if (st["Effect"] == "Deny") s.allow = false;
    else return "Invalid effect: " + (st["Effect"].is_string() ? st["Effect"].get<std::string>() : st["Effect"].dump());

    const bool has_p = st.contains("Principal"), has_np = st.contains("NotPrincipal");
    if (has_p == has_np) return std::string(has_p ? "Statement has both Principal and NotPrincipal" : "Missing required field Principal");
    if (has_np && s.allow) return std::string("NotPrincipal is not supported with Effect Allow");
    s.not_principal = has_np;
    const json& p = st[has_p ? "Principal" : "NotPrincipal"];
    if (p.is_string()) {
      if (p != "*") return std::string("Invalid principal in policy");
      s.any_principal = true;
    } else if (p.is_object() && !p.empty()) {
      for (const auto& [kind, who] : p.items()) {
        auto names = strings(who);
        if (!names || names->empty()) return std::string("Invalid principal in policy");
        if (kind == "AWS") {
          for (auto& n : *names) {
            if (n == "*") s.any_principal = true;
            else s.principals.push_back(n);
          }
        } else if (kind == "CanonicalUser") {
          s.canonical.insert(s.canonical.end(), names->begin(), names->end());
        } else if (kind != "Service" && kind != "Federated") {
          return std::string("Invalid principal in policy");
        }
      }
    } else {
      return std::string("Invalid principal in policy");
    }

    // "Action"/"NotAction" and "Resource"/"NotResource": exactly one of the two, a non-empty list
    // of valid patterns.
    auto patterns = [&](const std::string& field, const std::string& what, const Check& valid, bool& negated,
                        std::vector<std::string>& out, bool lowercase) -> std::optional<std::string> {
      const std::string not_field = "Not" + field;
      const bool has = st.contains(field), has_not = st.contains(not_field);
      if (has == has_not)
        return has ? "Statement has both " + field + " and " + not_field : "Missing required field " + field;
      negated = has_not;
      auto list = strings(st[has ? field : not_field]);
      if (!list || list->empty()) return "Policy has invalid " + what;
      for (auto& v : *list) {
        if (!valid(v)) return "Policy has invalid " + what;
        out.push_back(lowercase ? lower(v) : v);
      }
      return std::nullopt;
    };
    if (auto e = patterns("Action", "action", action_ok, s.not_action, s.actions, true)) return *e;
    if (auto e = patterns("Resource", "resource", resource_ok, s.not_resource, s.resources, false)) return *e;

    if (st.contains("Condition")) {
      const json& conds = st["Condition"];
      if (!conds.is_object()) return std::string("Invalid Condition block");
      for (const auto& [name, block] : conds.items()) {
        Condition base;
        std::string_view op = name;
        if (op.starts_with("ForAllValues:")) {
          base.set = 1;
          op.remove_prefix(13);
        } else if (op.starts_with("ForAnyValue:")) {
          base.set = 2;
          op.remove_prefix(12);
        }
        if (op.ends_with("IfExists") && op != "Null") {
          base.if_exists = true;
          op.remove_suffix(8);
        }
        if (std::find(std::begin(kOperators), std::end(kOperators), op) == std::end(kOperators))
          return "Invalid Condition type : " + name;
        base.op = std::string(op);
        if (!block.is_object() || block.empty()) return "Invalid Condition block for " + name;
        for (const auto& [key, values] : block.items()) {
          auto vs = condition_values(values);
          if (!vs) return "Invalid Condition value for " + key;
          Condition c = base;
          // Tag keys after the slash keep their case; the prefix is case-insensitive.
          auto slash = key.find('/');
          c.key = slash == std::string::npos ? lower(key) : lower(key.substr(0, slash)) + key.substr(slash);
          c.values = std::move(*vs);
          if (c.op == "IpAddress" || c.op == "NotIpAddress")
            for (auto& v : c.values)
              if (!parse_cidr(v)) return "Invalid IP address in condition: " + v;
          s.conditions.push_back(std::move(c));
        }
      }
    }
    doc_out->statements_.push_back(std::move(s));
  }
  return std::shared_ptr<const Document>(std::move(doc_out));
}

Effect Document::evaluate(const Request& r) const {
  Effect result = Effect::none;
  for (const Statement& s : statements_) {
    if (!principal_matches(s, r) || !action_matches(s, r) || !resource_matches(s, r)) continue;
    bool holds = true;
    for (const Condition& c : s.conditions)
      if (!condition_holds(c, r)) {
        holds = false;
        break;
      }
    if (!holds) continue;
    if (!s.allow) return Effect::deny;
    result = Effect::allow;
  }
  return result;
}

bool Document::is_public() const {
  for (const Statement& s : statements_) {
    if (!s.allow || !s.any_principal || s.not_principal) continue;
    bool restricted = false;
    for (const Condition& c : s.conditions) {
      if (std::find(std::begin(kRestrictingKeys), std::end(kRestrictingKeys), c.key) != std::end(kRestrictingKeys)) {
        // A source IP range wider than /8 (or any wildcard value) pins nobody down.
        restricted = true;
        for (const auto& v : c.values)
          if (v.find('*') != std::string::npos || v == "0.0.0.0/0" || v == "::/0") restricted = false;
      }
    }
    if (!restricted) return true;
  }
  return false;
}

}  // namespace eddy::policy
