// File: tools/wsgatectl/wso2_read.cc — reading an apictl project from a directory or a .zip
// (libzip). A zip may hold the project at its root or in one top-level folder, as
// `apictl export api` writes (Chats-1.0.0/api.yaml).
#include <zip.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tools/wsgatectl/wso2.h"

namespace wsgate::tools::ctl {
namespace {

// Picks api.yaml|api.json and Definitions/asyncapi.yaml|json out of `files` (relative path ->
// contents), below `root` ("" or "Folder/").
absl::StatusOr<ProjectFiles> Pick(const std::string& where, const std::map<std::string, std::string>& files) {
  std::string root;  // "" or the one top-level folder holding api.yaml|json
  if (!files.count("api.yaml") && !files.count("api.json"))
    for (const auto& entry : files) {
      const std::string& name = entry.first;
      size_t slash = name.find('/');
      if (slash != std::string::npos && (name.substr(slash + 1) == "api.yaml" || name.substr(slash + 1) == "api.json")) {
        root = name.substr(0, slash + 1);
        break;
      }
    }
  ProjectFiles out;
  for (const char* api : {"api.yaml", "api.json"})
    if (auto it = files.find(root + api); it != files.end() && out.api_name.empty()) {
      out.api_name = it->first;
      out.api_text = it->second;
    }
  if (out.api_name.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": no api.yaml or api.json (an apictl project: apictl export api, or a directory holding api.yaml)"));
  for (const char* def : {"Definitions/asyncapi.yaml", "Definitions/asyncapi.json"})
    if (auto it = files.find(root + def); it != files.end() && out.asyncapi_name.empty()) {
      out.asyncapi_name = it->first;
      out.asyncapi_text = it->second;
    }
  for (const auto& [name, text] : files)
    if (name != out.api_name && name != out.asyncapi_name && absl::StartsWith(name, root)) out.other_files.push_back(name);
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> ReadZip(const std::string& path) {
  int error = 0;
  std::unique_ptr<zip_t, int (*)(zip_t*)> archive(zip_open(path.c_str(), ZIP_RDONLY, &error), zip_close);
  if (!archive) {
    zip_error_t e;
    zip_error_init_with_code(&e, error);
    std::string why = zip_error_strerror(&e);
    zip_error_fini(&e);
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a readable zip archive (", why, ")"));
  }
  std::map<std::string, std::string> files;
  zip_int64_t n = zip_get_num_entries(archive.get(), 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    if (zip_stat_index(archive.get(), static_cast<zip_uint64_t>(i), 0, &st) != 0 || st.name == nullptr) continue;
    std::string name = st.name;
    if (name.empty() || name.back() == '/') continue;  // a directory entry
    if (st.size > 64 * 1024 * 1024) return absl::InvalidArgumentError(absl::StrCat(path, ": ", name, " is over 64 MiB"));
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> f(zip_fopen_index(archive.get(), static_cast<zip_uint64_t>(i), 0),
                                                         zip_fclose);
    if (!f) return absl::InvalidArgumentError(absl::StrCat(path, ": ", name, ": ", zip_strerror(archive.get())));
    std::string text(st.size, '\0');
    zip_int64_t got = zip_fread(f.get(), text.data(), st.size);
    if (got < 0 || static_cast<zip_uint64_t>(got) != st.size)
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", name, ": truncated"));
    files[name] = std::move(text);
  }
  return files;
}

}  // namespace

absl::StatusOr<ProjectFiles> ReadWso2Project(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::map<std::string, std::string> files;
  if (fs::is_directory(path, ec)) {
    for (auto it = fs::recursive_directory_iterator(path, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (!it->is_regular_file()) continue;
      std::ifstream in(it->path());
      std::stringstream text;
      text << in.rdbuf();
      files[fs::relative(it->path(), path, ec).generic_string()] = text.str();
    }
  } else if (fs::is_regular_file(path, ec)) {
    absl::StatusOr<std::map<std::string, std::string>> zipped = ReadZip(path);
    if (!zipped.ok()) return zipped.status();
    files = *std::move(zipped);
  } else {
    return absl::NotFoundError(absl::StrCat(path, ": no such project directory or zip file"));
  }
  return Pick(path, files);
}

}  // namespace wsgate::tools::ctl
