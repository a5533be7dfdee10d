// File: tests/support/local_server.cc
#include "tests/support/local_server.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

namespace wsgate::testing {

std::string FindProgram(const std::string& name, std::initializer_list<const char*> fallbacks) {
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    size_t start = 0;
    while (start <= p.size()) {
      size_t end = p.find(':', start);
      if (end == std::string::npos) end = p.size();
      std::string candidate = p.substr(start, end - start) + "/" + name;
      if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
      start = end + 1;
    }
  }
  for (const char* c : fallbacks)
    if (::access(c, X_OK) == 0) return c;
  return "";
}

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  const char* d = ::mkdtemp(buf.data());
  return d == nullptr ? std::string() : std::string(d);
}

void RemoveTree(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace wsgate::testing
