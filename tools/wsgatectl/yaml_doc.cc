// File: tools/wsgatectl/yaml_doc.cc
#include "tools/wsgatectl/yaml_doc.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace wsgate::tools::ctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The message field whose fields appear inline in its parent's mapping.
const FieldDescriptor* InlinedField(const Descriptor* d) {
  if (d == v1::DeclaredApi::descriptor()) return d->FindFieldByName("spec");
  if (d == v1::DeclaredEnvironment::descriptor()) return d->FindFieldByName("environment");
  return nullptr;
}

// "${NAME}" and "${NAME:-default}" in a string value are replaced by the environment variable
// (decK-style), so one checked-in file serves several deployments; "$${" is a literal "${".
absl::StatusOr<std::string> ExpandEnv(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out += text[i++];
      continue;
    }
    size_t end = text.find('}', i);
    if (end == std::string::npos) return absl::InvalidArgumentError("'${' without a closing '}' (write $${ for a literal ${)");
    std::string inner = text.substr(i + 2, end - i - 2);
    size_t dash = inner.find(":-");
    std::string name = inner.substr(0, dash);
    if (name.empty() || name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
      return absl::InvalidArgumentError(absl::StrCat("'${", inner, "}': not an environment variable name"));
    const char* value = std::getenv(name.c_str());
    if (value != nullptr && *value != '\0') {
      out += value;
    } else if (dash != std::string::npos) {
      out += inner.substr(dash + 2);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("environment variable ", name, " is not set (or write ${", name, ":-DEFAULT})"));
    }
    i = end + 1;
  }
  return out;
}

class Parser {
 public:
  Parser(std::string file, SourceMap* where) : file_(std::move(file)), where_(where) {}

  absl::Status Fail(const YAML::Node& node, const std::string& path, const std::string& why) const {
    return absl::InvalidArgumentError(
        absl::StrCat(file_, ":", node.Mark().line + 1, ": ", path.empty() ? "" : DisplayPath(path) + ": ", why));
  }

  absl::Status ParseMessage(const YAML::Node& node, Message* msg, const std::string& path) {
    if (node.IsNull()) return absl::OkStatus();
    if (!node.IsMap()) return Fail(node, path, "expected a mapping of field: value");
    const Descriptor* d = msg->GetDescriptor();
    const FieldDescriptor* inlined = InlinedField(d);
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) return Fail(it->first, path, "a key must be a plain name");
      std::string key = it->first.Scalar();
      const FieldDescriptor* f = d->FindFieldByName(key);
      Message* target = msg;
      std::string prefix = path.empty() ? "" : path + ".";
      if ((f == nullptr || f == inlined) && inlined != nullptr) {
        f = inlined->message_type()->FindFieldByName(key);
        target = msg->GetReflection()->MutableMessage(msg, inlined);
        prefix += inlined->name() + ".";
      }
      if (f == nullptr) return Fail(it->first, prefix + key, absl::StrCat("unknown field (known: ", Known(d), ")"));
      std::string field_path = prefix + key;
      where_->Add(field_path, file_, static_cast<int>(it->first.Mark().line) + 1);
      if (absl::Status s = ParseField(it->second, target, f, field_path); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

 private:
  static std::string Known(const Descriptor* d) {
    std::vector<std::string> names;
    const FieldDescriptor* inlined = InlinedField(d);
    if (inlined != nullptr)
      for (int i = 0; i < inlined->message_type()->field_count(); ++i)
        names.push_back(inlined->message_type()->field(i)->name());
    for (int i = 0; i < d->field_count(); ++i)
      if (d->field(i) != inlined) names.push_back(d->field(i)->name());
    return absl::StrJoin(names, ", ");
  }

  absl::Status ParseField(const YAML::Node& value, Message* msg, const FieldDescriptor* f, const std::string& path) {
    const Reflection* r = msg->GetReflection();
    if (!f->is_repeated()) {
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) return ParseMessage(value, r->MutableMessage(msg, f), path);
      return ParseScalar(value, msg, f, path, false);
    }
    if (value.IsNull()) return absl::OkStatus();
    if (!value.IsSequence()) return Fail(value, path, "expected a list");
    int base = r->FieldSize(*msg, f);  // sections of several files append
    for (size_t i = 0; i < value.size(); ++i) {
      std::string item = absl::StrCat(path, "[", base + static_cast<int>(i), "]");
      where_->Add(item, file_, static_cast<int>(value[i].Mark().line) + 1);
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        if (absl::Status s = ParseMessage(value[i], r->AddMessage(msg, f), item); !s.ok()) return s;
      } else if (absl::Status s = ParseScalar(value[i], msg, f, item, true); !s.ok()) {
        return s;
      }
    }
    return absl::OkStatus();
  }

  absl::Status ParseScalar(const YAML::Node& v, Message* msg, const FieldDescriptor* f, const std::string& path,
                           bool add) {
    if (!v.IsScalar()) return Fail(v, path, "expected a single value, not a list or mapping");
    const Reflection* r = msg->GetReflection();
    const std::string& text = v.Scalar();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING: {
        absl::StatusOr<std::string> value = ExpandEnv(text);
        if (!value.ok()) return Fail(v, path, std::string(value.status().message()));
        add ? r->AddString(msg, f, *value) : r->SetString(msg, f, *value);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        std::string t = absl::AsciiStrToLower(text);
        if (t != "true" && t != "false") return Fail(v, path, absl::StrCat("expected true or false, got '", text, "'"));
        add ? r->AddBool(msg, f, t == "true") : r->SetBool(msg, f, t == "true");
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_ENUM: {
        std::string upper = absl::AsciiStrToUpper(absl::StrReplaceAll(text, {{"-", "_"}}));
        const auto* value = f->enum_type()->FindValueByName(upper);
        if (value == nullptr || value->number() == 0) {
          std::vector<std::string> names;
          for (int i = 1; i < f->enum_type()->value_count(); ++i) names.push_back(f->enum_type()->value(i)->name());
          return Fail(v, path, absl::StrCat("'", text, "' is not one of ", absl::StrJoin(names, ", ")));
        }
        add ? r->AddEnum(msg, f, value) : r->SetEnum(msg, f, value);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_UINT32:
      case FieldDescriptor::CPPTYPE_UINT64:
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64: {
        bool is_unsigned = f->cpp_type() == FieldDescriptor::CPPTYPE_UINT32 || f->cpp_type() == FieldDescriptor::CPPTYPE_UINT64;
        bool is_32 = f->cpp_type() == FieldDescriptor::CPPTYPE_UINT32 || f->cpp_type() == FieldDescriptor::CPPTYPE_INT32;
        long double max = is_32 ? (is_unsigned ? 4294967295.0L : 2147483647.0L)
                                : (is_unsigned ? 18446744073709551615.0L : 9223372036854775807.0L);
        long double min = is_unsigned ? 0 : -max - 1;
        size_t used = 0;
        long double n = 0;
        bool digits = !text.empty() && text.find_first_not_of("-0123456789") == std::string::npos;
        if (digits) n = std::stold(text, &used);
        if (!digits || used != text.size() || n < min || n > max)
          return Fail(v, path, absl::StrCat("expected a whole number in [", static_cast<int64_t>(min), ", ",
                                            is_unsigned && !is_32 ? std::string("2^64-1") : absl::StrCat(static_cast<uint64_t>(max)),
                                            "], got '", text, "'"));
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_UINT32) {
          add ? r->AddUInt32(msg, f, static_cast<uint32_t>(n)) : r->SetUInt32(msg, f, static_cast<uint32_t>(n));
        } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_UINT64) {
          uint64_t u = std::stoull(text);
          add ? r->AddUInt64(msg, f, u) : r->SetUInt64(msg, f, u);
        } else if (f->cpp_type() == FieldDescriptor::CPPTYPE_INT32) {
          add ? r->AddInt32(msg, f, static_cast<int32_t>(n)) : r->SetInt32(msg, f, static_cast<int32_t>(n));
        } else {
          int64_t i = std::stoll(text);
          add ? r->AddInt64(msg, f, i) : r->SetInt64(msg, f, i);
        }
        return absl::OkStatus();
      }
      default:
        return Fail(v, path, "this field type has no YAML form");
    }
  }

  std::string file_;
  SourceMap* where_;
};

void EmitScalar(YAML::Emitter& out, const Message& m, const FieldDescriptor* f, int index) {
  const Reflection* r = m.GetReflection();
  bool rep = index >= 0;
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      out << (rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f));
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      out << ((rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false");
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      out << (rep ? r->GetRepeatedEnum(m, f, index) : r->GetEnum(m, f))->name();
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      out << (rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      out << (rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      out << (rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      out << (rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
      break;
    default:
      out << YAML::Null;
  }
}

void EmitFields(YAML::Emitter& out, const Message& m);

void EmitField(YAML::Emitter& out, const Message& m, const FieldDescriptor* f) {
  const Reflection* r = m.GetReflection();
  out << YAML::Key << f->name() << YAML::Value;
  if (!f->is_repeated()) {
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      out << YAML::BeginMap;
      EmitFields(out, r->GetMessage(m, f));
      out << YAML::EndMap;
    } else {
      EmitScalar(out, m, f, -1);
    }
    return;
  }
  bool messages = f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
  out << (messages ? YAML::Block : YAML::Flow) << YAML::BeginSeq;
  for (int i = 0; i < r->FieldSize(m, f); ++i) {
    if (messages) {
      out << YAML::BeginMap;
      EmitFields(out, r->GetRepeatedMessage(m, f, i));
      out << YAML::EndMap;
    } else {
      EmitScalar(out, m, f, i);
    }
  }
  out << YAML::EndSeq;
}

// Every set field, in proto order; the inlined message's fields first, in place of it.
void EmitFields(YAML::Emitter& out, const Message& m) {
  const Descriptor* d = m.GetDescriptor();
  const FieldDescriptor* inlined = InlinedField(d);
  if (inlined != nullptr) EmitFields(out, m.GetReflection()->GetMessage(m, inlined));
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f == inlined) continue;
    bool set = f->is_repeated() ? m.GetReflection()->FieldSize(m, f) > 0 : m.GetReflection()->HasField(m, f);
    if (set) EmitField(out, m, f);
  }
}

}  // namespace

std::string DisplayPath(const std::string& path) {
  return absl::StrReplaceAll(path, {{".spec.", "."}, {".environment.", "."}});
}

std::string SourceMap::Locate(const std::string& message) const {
  size_t colon = message.find(": ");
  if (colon == std::string::npos) return message;
  std::string path = message.substr(0, colon);
  for (std::string prefix = path; !prefix.empty();) {
    auto it = where_.find(prefix);
    if (it != where_.end())
      return absl::StrCat(it->second.first, ":", it->second.second, ": ", DisplayPath(path), message.substr(colon));
    size_t cut = prefix.find_last_of(".[");
    if (cut == std::string::npos) break;
    prefix.resize(cut);
  }
  return message;
}

std::vector<std::string> SectionNames() {
  std::vector<std::string> names;
  const Descriptor* d = v1::CatalogDocument::descriptor();
  for (int i = 0; i < d->field_count(); ++i) names.push_back(d->field(i)->name());
  return names;
}

absl::Status ParseDocumentText(const std::string& file, const std::string& text, v1::CatalogDocument* doc,
                               SourceMap* where) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {  // yaml-cpp reports syntax errors by exception
    return absl::InvalidArgumentError(absl::StrCat(file, ":", e.mark.line + 1, ": YAML syntax error: ", e.msg));
  }
  Parser parser(file, where);
  if (!root.IsNull() && !root.IsMap())
    return parser.Fail(root, "", absl::StrCat("expected a mapping of sections (", absl::StrJoin(SectionNames(), ", "), ")"));
  try {
    return parser.ParseMessage(root, doc, "");
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file, ":", e.mark.line + 1, ": ", e.msg));
  }
}

absl::StatusOr<v1::CatalogDocument> LoadDocument(const std::string& path, SourceMap* where) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> files;
  if (fs::is_directory(path, ec)) {
    for (const auto& e : fs::directory_iterator(path, ec))
      if (e.is_regular_file() && (e.path().extension() == ".yaml" || e.path().extension() == ".yml"))
        files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) return absl::InvalidArgumentError(absl::StrCat("-f ", path, ": no *.yaml or *.yml file in it"));
  } else if (fs::is_regular_file(path, ec)) {
    files.push_back(path);
  } else {
    return absl::NotFoundError(absl::StrCat("-f ", path, ": no such file or directory"));
  }
  v1::CatalogDocument doc;
  for (const auto& f : files) {
    std::ifstream in(f);
    if (!in) return absl::PermissionDeniedError(absl::StrCat(f.string(), ": cannot be read"));
    std::stringstream text;
    text << in.rdbuf();
    if (absl::Status s = ParseDocumentText(f.string(), text.str(), &doc, where); !s.ok()) return s;
  }
  return doc;
}

std::string EmitDocument(const v1::CatalogDocument& doc, const std::string& section) {
  YAML::Emitter out;
  out.SetIndent(2);
  out << YAML::BeginMap;
  const Descriptor* d = v1::CatalogDocument::descriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (!section.empty() && f->name() != section) continue;
    if (doc.GetReflection()->FieldSize(doc, f) == 0) {
      out << YAML::Key << f->name() << YAML::Value << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
    } else {
      EmitField(out, doc, f);
    }
  }
  out << YAML::EndMap;
  return absl::StrCat(out.c_str(), "\n");
}

}  // namespace wsgate::tools::ctl
