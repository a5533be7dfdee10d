// File: tools/wsgatectl/yaml_doc.h — the declarative catalog document (admin.proto's
// CatalogDocument) to and from YAML, with the file and line of every field kept so that errors,
// the CLI's own and the agent's, name them. Pure: no gRPC; reading files only in LoadDocument.
//
// The mapping is generic over the proto: a message is a YAML mapping keyed by its proto field
// names, a repeated field a sequence, an enum its value name, a field left out its default.
// DeclaredApi's `spec` is inlined (an API entry holds name, context, ... next to state and
// deployments). Export omits default values and keeps proto field order, and the catalog's own
// ordering of the objects, so two exports of one catalog are byte-identical.
//
//   SourceMap where;
//   auto doc = LoadDocument("deploy/", &where);             // every *.yaml / *.yml, by name
//   ... status from the agent: "apis[0].spec.topics[1].name: must start with '/'"
//   std::string line = where.Locate(status.message());       // "apis.yaml:14: apis[0].topics[1].name: ..."
//   std::string text = EmitDocument(doc, "apis");            // one section, or "" for all
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "wsgate/v1/admin.pb.h"

namespace wsgate::tools::ctl {

// Where each field of a parsed document came from, by document path ("apis[0].spec.context").
class SourceMap {
 public:
  void Add(const std::string& path, const std::string& file, int line) { where_[path] = {file, line}; }
  // "FILE:LINE: DISPLAY-PATH: why" for an error whose message starts with a document path (the
  // longest recorded prefix gives the line); the message unchanged when no path matches.
  std::string Locate(const std::string& message) const;
  size_t size() const { return where_.size(); }

 private:
  std::map<std::string, std::pair<std::string, int>> where_;
};

// A document path as the user reads it: without the inlined ".spec".
std::string DisplayPath(const std::string& path);

// Parses one YAML text (named `file` in errors) and appends its sections to `doc`. Errors are
// INVALID_ARGUMENT "FILE:LINE: PATH: why" (syntax errors, unknown fields with the known ones
// listed, wrong types, unknown enum values).
absl::Status ParseDocumentText(const std::string& file, const std::string& text, v1::CatalogDocument* doc,
                               SourceMap* where);

// A file, or every *.yaml / *.yml file of a directory (sorted by name), as one document.
absl::StatusOr<v1::CatalogDocument> LoadDocument(const std::string& path, SourceMap* where);

// The sections' names, in document order: "policies", "apis", "applications", "subscriptions".
std::vector<std::string> SectionNames();

// YAML for one section (`section` = a name from SectionNames()) or, with "", every section.
std::string EmitDocument(const v1::CatalogDocument& doc, const std::string& section);

}  // namespace wsgate::tools::ctl
