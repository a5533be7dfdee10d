// File: engine/config/check.cc
#include "engine/config/check.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cctype>
#include <map>
#include <numeric>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace wsgate::engine::config {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// The leading `field` or `field[i]` of an error's path.
struct PathHead {
  std::string field;
  int index = -1;  // -1: no [i]
  size_t length = 0;
};

PathHead ParseHead(const std::string& message) {
  PathHead head;
  size_t at = 0;
  while (at < message.size() && (std::islower(static_cast<unsigned char>(message[at])) || message[at] == '_')) ++at;
  head.field = message.substr(0, at);
  if (at < message.size() && message[at] == '[') {
    size_t end = message.find(']', at);
    if (end != std::string::npos && end > at + 1) {
      int index = 0;
      bool digits = true;
      for (size_t k = at + 1; k < end; ++k) {
        if (!std::isdigit(static_cast<unsigned char>(message[k]))) digits = false;
        else index = index * 10 + (message[k] - '0');
      }
      if (digits) {
        head.index = index;
        at = end + 1;
      }
    }
  }
  head.length = at;
  return head;
}

// The names other elements refer to this one by, as errors quote them ('chats-1.0.0').
void CollectNames(const Message& element, std::set<std::string>* names) {
  const auto* descriptor = element.GetDescriptor();
  for (const char* key : {"id", "name", "client_id", "kid"}) {
    const FieldDescriptor* f = descriptor->FindFieldByName(key);
    if (f == nullptr || f->is_repeated() || f->type() != FieldDescriptor::TYPE_STRING) continue;
    std::string value = element.GetReflection()->GetString(element, f);
    if (!value.empty()) names->insert(absl::StrCat("'", value, "'"));
  }
}

bool FollowsFromDropped(const std::string& message, const std::set<std::string>& dropped) {
  if (!absl::StrContains(message, "unknown")) return false;
  for (const std::string& name : dropped)
    if (absl::StrContains(message, name)) return true;
  return false;
}

}  // namespace

CheckResult CheckSnapshot(const v1::Snapshot& proto, const Resolver& resolver, const TlsDefaults& tls_defaults,
                          size_t max_errors) {
  CheckResult result;
  v1::Snapshot work = proto;
  const auto* descriptor = work.GetDescriptor();
  const auto* reflection = work.GetReflection();
  std::map<std::string, std::vector<int>> original;  // per repeated field: remaining element -> index in the file
  std::set<std::string> dropped_names, cleared;
  while (true) {
    absl::StatusOr<std::shared_ptr<const Snapshot>> compiled = Compile(work, resolver, tls_defaults);
    if (compiled.ok()) return result;
    std::string message(compiled.status().message());
    PathHead head = ParseHead(message);
    const FieldDescriptor* field = head.field.empty() ? nullptr : descriptor->FindFieldByName(head.field);
    bool removable = field != nullptr && (field->is_repeated() ? head.index >= 0 && head.index < reflection->FieldSize(work, field)
                                                                : !cleared.contains(head.field));
    if (!removable) {  // not an element we can set aside: report it and stop
      result.errors.push_back(message);
      return result;
    }
    bool follows = false;  // decided before this element's own names join dropped_names
    if (field->is_repeated()) {
      std::vector<int>& indices = original[head.field];
      if (indices.empty()) {
        indices.resize(static_cast<size_t>(reflection->FieldSize(proto, field)));
        std::iota(indices.begin(), indices.end(), 0);
      }
      int in_file = indices[static_cast<size_t>(head.index)];
      message = absl::StrCat(head.field, "[", in_file, "]", message.substr(head.length));
      follows = FollowsFromDropped(message, dropped_names);
      if (field->type() == FieldDescriptor::TYPE_MESSAGE)
        CollectNames(reflection->GetRepeatedMessage(work, field, head.index), &dropped_names);
      for (int k = head.index; k + 1 < reflection->FieldSize(work, field); ++k) reflection->SwapElements(&work, field, k, k + 1);
      reflection->RemoveLast(&work, field);
      indices.erase(indices.begin() + head.index);
    } else {
      follows = FollowsFromDropped(message, dropped_names);
      if (field->type() == FieldDescriptor::TYPE_MESSAGE && reflection->HasField(work, field))
        CollectNames(reflection->GetMessage(work, field), &dropped_names);
      reflection->ClearField(&work, field);
      cleared.insert(head.field);
    }
    if (!follows) result.errors.push_back(message);
    if (result.errors.size() >= max_errors) {
      result.truncated = true;
      return result;
    }
  }
}

}  // namespace wsgate::engine::config
