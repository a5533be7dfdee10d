// File: engine/common/check.h
//
// Invariant checks. WSGATE_CHECK is always on and aborts with file:line and the failed condition:
// use it where continuing would corrupt state (STYLE.md §3). WSGATE_DCHECK compiles away in NDEBUG
// builds: use it for invariants on hot paths.
#pragma once

namespace wsgate::common::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition, const char* message);
}  // namespace wsgate::common::internal

#define WSGATE_CHECK(cond)                                                             \
  do {                                                                                 \
    if (__builtin_expect(!(cond), 0))                                                  \
      ::wsgate::common::internal::CheckFailed(__FILE__, __LINE__, #cond, nullptr);     \
  } while (0)

#define WSGATE_CHECK_MSG(cond, msg)                                                    \
  do {                                                                                 \
    if (__builtin_expect(!(cond), 0))                                                  \
      ::wsgate::common::internal::CheckFailed(__FILE__, __LINE__, #cond, (msg));       \
  } while (0)

#ifdef NDEBUG
#define WSGATE_DCHECK(cond) \
  do {                      \
    (void)sizeof(cond);     \
  } while (0)
#else
#define WSGATE_DCHECK(cond) WSGATE_CHECK(cond)
#endif
