// File: tools/wsgatectl/text.h — pure conversions between wsgatectl's command line and
// admin.proto: flag and argument values in (each error names the flag and what it takes), reply
// text out. No gRPC, no I/O.
//
//   absl::StatusOr<v1::KeyType> type = ParseKeyType("sandbox");  // v1::SANDBOX
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "wsgate/v1/admin.pb.h"

namespace wsgate::tools::ctl {

namespace v1 = wsgate::v1;

// --type: PRODUCTION or SANDBOX, any case.
absl::StatusOr<v1::KeyType> ParseKeyType(const std::string& text);
// The REVISION argument: a number.
absl::StatusOr<uint32_t> ParseRevision(const std::string& text);
// --alg: RS256, ES256 or EdDSA, any case.
absl::StatusOr<v1::SigningAlgorithm> ParseSigningAlgorithm(const std::string& text);
// --level: a PolicyLevel name, any case; `if_empty` when the flag was not given.
absl::StatusOr<v1::PolicyLevel> ParsePolicyLevel(const std::string& text, v1::PolicyLevel if_empty);
// --unit: a TimeUnit name, any case; TIME_UNIT_UNSPECIFIED when the flag was not given.
absl::StatusOr<v1::TimeUnit> ParseTimeUnit(const std::string& text);

// A lifecycle state as WSO2 writes it (PRE-RELEASED, not PRE_RELEASED).
std::string StateText(v1::LifecycleState state);
// `api get`: the API's endpoints, plans, topics and deployed revisions, one item a line, no
// final newline.
std::string ApiText(const v1::ApiInfo& api);

}  // namespace wsgate::tools::ctl
