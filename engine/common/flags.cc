// File: engine/common/flags.cc
#include "engine/common/flags.h"

#include <iostream>

#include "absl/strings/numbers.h"
#include "engine/common/log.h"
#include "engine/common/log_format.h"
#include "absl/strings/str_cat.h"
#include "engine/common/absl_compat.h"

namespace wsgate::common {

FlagParser::FlagParser(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {}

void FlagParser::AddString(std::string name, std::string* value, std::string help, std::string value_name) {
  Flag f{std::move(name), std::move(help), std::move(value_name),
         value->empty() ? "" : absl::StrCat("\"", *value, "\""), nullptr};
  f.set = [value](std::string_view v) {
    *value = std::string(v);
    return absl::OkStatus();
  };
  flags_.push_back(std::move(f));
}

void FlagParser::AddInt(std::string name, int64_t* value, std::string help, int64_t min, int64_t max) {
  Flag f{name, std::move(help), "N", absl::StrCat(*value), nullptr};
  f.set = [value, name, min, max](std::string_view v) {
    int64_t parsed;
    if (!absl::SimpleAtoi(Sv(v), &parsed))
      return absl::InvalidArgumentError(absl::StrCat("--", name, ": '", Sv(v), "' is not a whole number"));
    if (parsed < min || parsed > max)
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, ": ", parsed, " is out of range [", min, ", ", max, "]"));
    *value = parsed;
    return absl::OkStatus();
  };
  flags_.push_back(std::move(f));
}

void FlagParser::AddBool(std::string name, bool* value, std::string help) {
  Flag f{std::move(name), std::move(help), "", *value ? "on" : "", nullptr};
  f.is_bool = true;
  f.bool_value = value;
  flags_.push_back(std::move(f));
}

void FlagParser::AddList(std::string name, std::vector<std::string>* values, std::string help,
                         std::string value_name) {
  Flag f{std::move(name), std::move(help), std::move(value_name), "", nullptr};
  f.help += " (repeatable)";
  f.set = [values](std::string_view v) {
    values->emplace_back(v);
    return absl::OkStatus();
  };
  flags_.push_back(std::move(f));
}

const char* BuildVersion() { return WSGATE_VERSION; }

FlagParser::Flag* FlagParser::Lookup(std::string_view name) {
  for (Flag& f : flags_)
    if (f.name == name) return &f;
  return nullptr;
}

const FlagParser::Flag* FlagParser::Lookup(std::string_view name) const {
  for (const Flag& f : flags_)
    if (f.name == name) return &f;
  return nullptr;
}

void FlagParser::MarkRequired(std::string_view name) {
  if (Flag* f = Lookup(name)) f->required = true;
}

absl::Status FlagParser::CheckRequired() const {
  for (const Flag& f : flags_)
    if (f.required && !f.seen)
      return absl::InvalidArgumentError(absl::StrCat("--", f.name, " is required (see --help)"));
  return absl::OkStatus();
}

bool FlagParser::IsSet(std::string_view name) const {
  const Flag* f = Lookup(name);
  return f != nullptr && f->seen;
}

std::vector<std::string> FlagParser::FlagNames() const {
  std::vector<std::string> out;
  for (const Flag& f : flags_) out.push_back(f.name);
  return out;
}

std::vector<std::string> FlagParser::BoolNames() const {
  std::vector<std::string> out;
  for (const Flag& f : flags_)
    if (f.is_bool) out.push_back(f.name);
  return out;
}

absl::Status FlagParser::Parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) positional_.emplace_back(argv[i]);
      break;
    }
    if (arg == "-h" || arg == "--help") {
      help_requested_ = true;
      continue;
    }
    if (arg.size() < 2 || arg[0] != '-') {
      positional_.emplace_back(arg);
      continue;
    }
    if (arg.substr(0, 2) != "--")
      return absl::InvalidArgumentError(absl::StrCat("unknown option '", Sv(arg), "' (options start with --)"));
    std::string_view body = arg.substr(2);
    size_t eq = body.find('=');
    std::string_view name = body.substr(0, eq);
    Flag* flag = Lookup(name);
    bool negated = false;
    if (flag == nullptr && name.substr(0, 3) == "no-") {
      flag = Lookup(name.substr(3));
      negated = flag != nullptr && flag->is_bool;
      if (!negated) flag = nullptr;
    }
    if (flag == nullptr)
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", Sv(name), " (see --help)"));
    flag->seen = true;
    if (flag->is_bool) {
      if (eq != std::string_view::npos) {
        std::string_view v = body.substr(eq + 1);
        if (v == "true" || v == "1" || v == "yes") *flag->bool_value = !negated;
        else if (v == "false" || v == "0" || v == "no") *flag->bool_value = negated;
        else return absl::InvalidArgumentError(absl::StrCat("--", Sv(name), ": expected true or false, got '", Sv(v), "'"));
      } else {
        *flag->bool_value = !negated;
      }
      continue;
    }
    std::string_view value;
    if (eq != std::string_view::npos) {
      value = body.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", Sv(name), " needs a value (", flag->value_name, ")"));
    }
    if (absl::Status s = flag->set(value); !s.ok()) return s;
  }
  return absl::OkStatus();
}

int FlagParser::ParseCommandLine(int argc, char** argv) {
  std::string log_level = "info";
  bool version = false;
  AddString("log-level", &log_level, "debug, info, warning or error", "LEVEL");
  std::string log_format = "text";
  AddString("log-format", &log_format, "text, or json (one JSON object a line; key=value words become fields)",
            "FORMAT");
  AddBool("version", &version, "print the version and exit");
  SetLogTag(program_);
  if (absl::Status s = Parse(argc, argv); !s.ok()) {
    std::cerr << program_ << ": " << s.message() << "\n";
    return 2;
  }
  if (help_requested_) {
    std::cout << Help();
    return 0;
  }
  if (version) {
    std::cout << program_ << " " << BuildVersion() << "\n";
    return 0;
  }
  if (!positional_.empty()) {
    std::cerr << program_ << ": unexpected argument '" << positional_[0] << "' (see --help)\n";
    return 2;
  }
  LogLevel level;
  if (!ParseLogLevel(log_level, &level)) {
    std::cerr << program_ << ": --log-level: '" << log_level << "' is not debug, info, warning or error\n";
    return 2;
  }
  SetLogLevel(level);
  LogFormat format;
  if (!ParseLogFormat(log_format, &format)) {
    std::cerr << program_ << ": --log-format: '" << log_format << "' is not text or json\n";
    return 2;
  }
  SetLogFormat(format);
  return -1;
}

std::string FlagParser::Help() const {
  std::string out = absl::StrCat("Usage: ", program_, " [options]\n\n", description_, "\n\nOptions:\n");
  for (const Flag& f : flags_) {
    std::string left = absl::StrCat("  --", f.name, f.value_name.empty() ? "" : absl::StrCat(" ", f.value_name));
    if (left.size() < 30) left.resize(30, ' ');
    else left += "\n" + std::string(30, ' ');
    absl::StrAppend(&out, left, f.help);
    // A help text that names its default itself ("lifetime (default 3600)") gets no second one.
    if (f.required) absl::StrAppend(&out, " (required)");
    else if (!f.default_text.empty() && f.help.find("(default") == std::string::npos)
      absl::StrAppend(&out, " (default ", f.default_text, ")");
    out += "\n";
  }
  absl::StrAppend(&out, "  -h, --help                  Show this help and exit\n");
  return out;
}

}  // namespace wsgate::common
