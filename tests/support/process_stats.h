// File: tests/support/process_stats.h — what a leak test measures about its own process.
#pragma once

#include <cstddef>

namespace wsgate::testing {

// Open file descriptors (entries of /proc/self/fd).
int CountOpenFds();
// Resident set size in bytes (/proc/self/statm).
size_t ResidentBytes();

}  // namespace wsgate::testing
