// File: engine/common/flags.h
//
// A small declarative command-line parser shared by every wsgate binary, so they all accept the
// same forms (--name=value, --name value, --flag, --no-flag) and print the same kind of --help.
// Errors name the flag and say what was expected.
//
//   FlagParser flags("chat-backend", "The WSO2 sample chat backend, re-implemented.");
//   int64_t port = 8080;
//   flags.AddInt("port", &port, "TCP port to listen on", 0, 65535);
//   if (absl::Status s = flags.Parse(argc, argv); !s.ok()) { ...print s.message()...; exit(2); }
//   if (flags.help_requested()) { std::cout << flags.Help(); exit(0); }
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace wsgate::common {

// The build's version ("0.1.0", the CMake project version), which --version prints.
const char* BuildVersion();

class FlagParser {
 public:
  FlagParser(std::string program, std::string description);

  void AddString(std::string name, std::string* value, std::string help, std::string value_name = "TEXT");
  void AddInt(std::string name, int64_t* value, std::string help, int64_t min, int64_t max);
  void AddBool(std::string name, bool* value, std::string help);
  // A repeatable flag: every occurrence appends.
  void AddList(std::string name, std::vector<std::string>* values, std::string help,
               std::string value_name = "TEXT");

  // A flag that must be given: Help() says "(required)" instead of a default, and
  // CheckRequired() names the first one missing ("--version is required"). Call after Add...().
  void MarkRequired(std::string_view name);
  // OK, or "--NAME is required (see --help)" for the first required flag Parse() did not see.
  absl::Status CheckRequired() const;
  // Whether Parse() saw the flag (in any form, --no-NAME included).
  bool IsSet(std::string_view name) const;
  // Every flag's name (without --), in the order added; booleans also in BoolNames().
  std::vector<std::string> FlagNames() const;
  std::vector<std::string> BoolNames() const;

  // Parses argv[1..]. Arguments that are not flags are collected in positional(); "--" ends flags.
  absl::Status Parse(int argc, char** argv);

  // What every wsgate binary does with its command line: adds --log-level and --version, parses,
  // prints --help or --version (exit 0) or a one-line error naming the flag (exit 2), refuses stray arguments, and sets the
  // log level and tag. Returns -1 to go on, or the exit code.
  int ParseCommandLine(int argc, char** argv);
  bool help_requested() const { return help_requested_; }
  const std::vector<std::string>& positional() const { return positional_; }
  std::string Help() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string value_name;  // empty for booleans
    std::string default_text;
    std::function<absl::Status(std::string_view)> set;
    bool is_bool = false;
    bool* bool_value = nullptr;
    bool required = false;
    bool seen = false;
  };
  Flag* Lookup(std::string_view name);
  const Flag* Lookup(std::string_view name) const;

  std::string program_;
  std::string description_;
  std::vector<Flag> flags_;
  std::vector<std::string> positional_;
  bool help_requested_ = false;
};

}  // namespace wsgate::common
