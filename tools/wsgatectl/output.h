// File: tools/wsgatectl/output.h — `-o json` and `-o yaml`: a reply as a document whose shape
// does not depend on the values (issue 17): every field is printed, zeros, false and empty lists
// included, under its proto field name. Pure: no I/O.
//
//   std::string doc = FormatReply(status, "yaml");  // "agent_id: ...\nengines: []\n..."
#pragma once

#include <google/protobuf/message.h>

#include <string>

namespace wsgate::tools::ctl {

// The output formats -o takes.
bool IsOutputFormat(const std::string& format);  // text, json or yaml

// `reply` as JSON (format "json") or YAML ("yaml"), ending in a newline.
std::string FormatReply(const google::protobuf::Message& reply, const std::string& format);

// A JSON document as YAML: maps and lists in block style (empty ones as {} and []), strings
// quoted where YAML would read them as another type ("42", "true", "").
std::string JsonToYaml(const std::string& json);

}  // namespace wsgate::tools::ctl
