// File: engine/config/snapshot_file.cc
#include "engine/config/snapshot_file.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace wsgate::engine::config {

absl::StatusOr<v1::Snapshot> ParseSnapshotText(std::string_view text, const std::string& name) {
  v1::Snapshot s;
  size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '{') {
    auto st = google::protobuf::util::JsonStringToMessage(std::string(text), &s);
    if (!st.ok())
      return absl::InvalidArgumentError(
          absl::StrCat("--config ", name, ": not a valid JSON snapshot: ", st.message().as_string()));
  } else {
    struct Collector : google::protobuf::io::ErrorCollector {
      std::string errors;
      void AddError(int line, int column, const std::string& message) override {
        absl::StrAppend(&errors, "line ", line + 1, " column ", column + 1, ": ", message, "; ");
      }
    } collector;
    google::protobuf::TextFormat::Parser parser;
    parser.RecordErrorsTo(&collector);
    if (!parser.ParseFromString(std::string(text), &s))
      return absl::InvalidArgumentError(
          absl::StrCat("--config ", name, ": not a valid text-format snapshot: ", collector.errors));
  }
  if (s.agent_id().empty()) s.set_agent_id(absl::StrCat("file:", name));
  if (s.version() == 0) s.set_version(1);
  return s;
}

absl::StatusOr<v1::Snapshot> LoadSnapshotFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("--config: cannot read ", path));
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseSnapshotText(buf.str(), path);
}

}  // namespace wsgate::engine::config
