// File: engine/config/check.h
//
// `wsgate-engine --check-config FILE` (nginx -t): every error of a snapshot, not only the first.
// Compile() stops at the first bad field; CheckSnapshot compiles, drops the element the error
// names (apis[2], or a singular field such as settings), compiles again, and so on, so one run
// lists every independent error with its field path in the file's own numbering. An error that
// only follows from a dropped element ("unknown policy 'Gold'" after throttle_policies[0] (Gold)
// failed) is not reported twice. Pure: opens no sockets; resolves endpoint hosts and reads the
// certificate files the snapshot names, as the engine would.
//
//   CheckResult r = CheckSnapshot(proto);
//   for (const std::string& e : r.errors) std::cerr << path << ": " << e << "\n";
#pragma once

#include <string>
#include <vector>

#include "engine/config/compile.h"
#include "wsgate/v1/config.pb.h"

namespace wsgate::engine::config {

struct CheckResult {
  std::vector<std::string> errors;  // "field.path: what is wrong", in the order found
  bool truncated = false;           // stopped after max_errors
};

CheckResult CheckSnapshot(const v1::Snapshot& proto, const Resolver& resolver = SystemResolver(),
                          const TlsDefaults& tls_defaults = {}, size_t max_errors = 50);

}  // namespace wsgate::engine::config
