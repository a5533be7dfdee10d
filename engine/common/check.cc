// File: engine/common/check.cc — the out-of-line failure path of WSGATE_CHECK.
#include "engine/common/check.h"

#include <cstdio>
#include <cstdlib>

namespace wsgate::common::internal {

void CheckFailed(const char* file, int line, const char* condition, const char* message) {
  std::fprintf(stderr, "FATAL %s:%d: check failed: %s%s%s\n", file, line, condition,
               message ? ": " : "", message ? message : "");
  std::fflush(stderr);
  std::abort();
}

}  // namespace wsgate::common::internal
