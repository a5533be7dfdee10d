// File: tools/wsgatectl/output.cc
#include "tools/wsgatectl/output.h"

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace wsgate::tools::ctl {
namespace {

// Whether a plain scalar `s` would read back as something other than this string.
bool NeedsQuotes(const std::string& s) {
  if (s.empty()) return true;
  std::string lower = absl::AsciiStrToLower(s);
  for (const char* word : {"true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"})
    if (lower == word) return true;
  double d;
  return absl::SimpleAtod(s, &d) || s.front() == ' ' || s.back() == ' ';
}

void Emit(YAML::Emitter& out, const nlohmann::ordered_json& j) {  // keeps the proto field order
  if (j.is_object()) {
    if (j.empty()) {
      out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
      return;
    }
    out << YAML::BeginMap;
    for (auto it = j.begin(); it != j.end(); ++it) {
      out << YAML::Key << it.key() << YAML::Value;
      Emit(out, it.value());
    }
    out << YAML::EndMap;
  } else if (j.is_array()) {
    if (j.empty()) {
      out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
      return;
    }
    out << YAML::BeginSeq;
    for (const auto& value : j) Emit(out, value);
    out << YAML::EndSeq;
  } else if (j.is_string()) {
    const std::string& s = j.get_ref<const std::string&>();
    if (NeedsQuotes(s)) out << YAML::DoubleQuoted;
    out << s;
  } else if (j.is_boolean()) {
    out << (j.get<bool>() ? "true" : "false");
  } else if (j.is_null()) {
    out << YAML::Null;
  } else {
    out << j.dump();  // a number, as JSON writes it
  }
}

}  // namespace

bool IsOutputFormat(const std::string& format) { return format == "text" || format == "json" || format == "yaml"; }

std::string FormatReply(const google::protobuf::Message& reply, const std::string& format) {
  std::string json;
  google::protobuf::util::JsonPrintOptions o;
  o.add_whitespace = true;
  o.preserve_proto_field_names = true;
  o.always_print_primitive_fields = true;  // zeros, false and empty lists too: a stable shape
  (void)google::protobuf::util::MessageToJsonString(reply, &json, o);
  std::string out = format == "yaml" ? JsonToYaml(json) : json;
  if (out.empty() || out.back() != '\n') out += "\n";
  return out;
}

std::string JsonToYaml(const std::string& json) {
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(json, nullptr, /*allow_exceptions=*/false);
  YAML::Emitter out;
  Emit(out, doc);
  std::string text = out.c_str();
  return text + "\n";
}

}  // namespace wsgate::tools::ctl
