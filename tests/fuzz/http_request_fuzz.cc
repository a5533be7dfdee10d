// Fuzz target: engine/http RequestParser + CheckUpgrade. The first input byte picks a fragment
// size; the head is fed whole and in fragments, and both must agree.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/http/request_parser.h"
#include "engine/http/upgrade.h"
#include "engine/http/url.h"

using namespace wsgate::engine::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = data[0] % 17 + 1;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  Limits limits;
  limits.max_head_bytes = 4096;
  limits.max_request_line = 1024;
  RequestParser whole(limits);
  ParseResult a = whole.Feed(input);
  RequestParser pieces(limits);
  ParseResult b;
  for (size_t end = std::min(chunk, input.size());; end = std::min(end + chunk, input.size())) {
    b = pieces.Feed(input.substr(0, end));
    if (b.kind != ParseResult::kNeedMore || end == input.size()) break;
  }
  if (a.kind != b.kind) std::abort();
  if (a.kind == ParseResult::kError && a.status != b.status) std::abort();
  if (a.kind == ParseResult::kComplete) {
    if (a.consumed != b.consumed || a.consumed > input.size()) std::abort();
    const Request& req = whole.request();
    if (req.header_count > limits.max_headers) std::abort();
    UpgradeCheck check = CheckUpgrade(req);
    (void)DefaultStatus(check.error);
    (void)FindQueryParam(req.query, "access_token");
    std::string stripped = RemoveQueryParams(req.query, {"access_token"});
    if (stripped.size() > req.query.size()) std::abort();
  }
  return 0;
}
