// File: tests/support/local_server.h
//
// Pieces the real-server fixtures share (redis_server.cc, postgres_server.cc): finding a program,
// a private temporary directory. (Their ports come from free_port.h's ReserveLoopbackPort.)
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

namespace wsgate::testing {

// `name` on $PATH, else the first of `fallbacks` that is executable, else "".
std::string FindProgram(const std::string& name, std::initializer_list<const char*> fallbacks);
// A new directory /tmp/<prefix>XXXXXX (mode 0700), or "" when it cannot be made.
std::string MakeTempDir(const std::string& prefix);
// Removes `dir` and everything in it; no-op for "".
void RemoveTree(const std::string& dir);

}  // namespace wsgate::testing
