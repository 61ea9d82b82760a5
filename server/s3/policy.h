#pragma once
// IAM-style resource policies (an S3 bucket policy today; a Kinesis resource policy could use
// the same evaluator): the JSON document parsed once (nlohmann-json), then evaluated per
// request. Nothing here knows S3: the caller says which action and resource a request is,
// who asks, and the values of the condition keys it has (docs/s3.md, "Bucket policies").
//
// Evaluation as AWS does it within one policy: an explicit Deny of a matching statement wins,
// else a matching Allow allows, else the policy says nothing (the caller falls back to ACLs or
// ownership).
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace eddy::policy {

// Who asks and what about.
struct Request {
  std::string action;    // "s3:GetObject"
  std::string resource;  // "arn:aws:s3:::bucket/key"
  bool anonymous = false;
  std::string account;       // 12-digit account id of the requester ("" when anonymous)
  std::string user_arn;      // "arn:aws:iam::<account>:user/<name>" or a role ARN, if known
  std::string canonical_id;  // S3 canonical user id of the account
  // Condition keys present in this request, names lowercased ("aws:sourceip", "s3:prefix",
  // "s3:existingobjecttag/<key>" keeps the tag key's case after the slash).
  std::map<std::string, std::vector<std::string>> context;
};

enum class Effect { none, allow, deny };

class Document {
 public:
  // Checks a Resource / an Action of the document for the service (false: "invalid").
  using Check = std::function<bool(std::string_view)>;
  // The document, or the reason it is malformed (AWS's MalformedPolicy messages).
  static std::variant<std::shared_ptr<const Document>, std::string> parse(std::string_view json, const Check& resource_ok,
                                                                          const Check& action_ok);
  Effect evaluate(const Request& r) const;
  // A policy is public when an Allow statement grants everyone ("*") without a condition that
  // pins the caller down (source IP range, account, ...): AWS's PolicyStatus.IsPublic.
  bool is_public() const;

  struct Condition {
    std::string op;          // "StringLike" (without IfExists / set qualifiers)
    bool if_exists = false;
    int set = 0;             // 0 single, 1 ForAllValues, 2 ForAnyValue
    std::string key;         // lowercased
    std::vector<std::string> values;
  };
  struct Statement {
    bool allow = true;
    bool any_principal = false;   // "*" / {"AWS": "*"}
    bool not_principal = false;
    std::vector<std::string> principals;  // AWS principals: account ids, ARNs
    std::vector<std::string> canonical;   // CanonicalUser ids
    bool not_action = false;
    std::vector<std::string> actions;     // lowercased patterns
    bool not_resource = false;
    std::vector<std::string> resources;   // patterns
    std::vector<Condition> conditions;
  };

 private:
  std::vector<Statement> statements_;
};

// '*' matches any run of characters, '?' one character (unless `question_mark` is false: CORS
// patterns know only '*').
bool wildcard_match(std::string_view pattern, std::string_view s, bool ignore_case = false, bool question_mark = true);

}  // namespace eddy::policy
