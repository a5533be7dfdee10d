// File: bench/http_parse_bench.cc — cost of the upgrade path's pure pieces: parsing a realistic
// upgrade request (whole and byte by byte), the upgrade checks, and the accept key.
#include <benchmark/benchmark.h>

#include <string>

#include "engine/http/request_parser.h"
#include "engine/http/upgrade.h"
#include "engine/ws/handshake.h"

namespace {

const std::string kRequest =
    "GET /chats/1.0.0/rooms/room1?access_token=eyJhbGciOiJSUzI1NiJ9.e30.sig HTTP/1.1\r\n"
    "Host: localhost:9099\r\n"
    "Connection: Upgrade\r\n"
    "Upgrade: websocket\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "User-Agent: wscat/6.1.0\r\n"
    "\r\n";

void BM_RequestParser_Whole(benchmark::State& state) {
  for (auto _ : state) {
    wsgate::engine::http::RequestParser parser;
    auto r = parser.Feed(kRequest);
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRequest.size()));
}
BENCHMARK(BM_RequestParser_Whole);

void BM_RequestParser_ByteByByte(benchmark::State& state) {
  for (auto _ : state) {
    wsgate::engine::http::RequestParser parser;
    wsgate::engine::http::ParseResult r;
    for (size_t i = 1; i <= kRequest.size(); ++i) r = parser.Feed(std::string_view(kRequest).substr(0, i));
    benchmark::DoNotOptimize(r);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kRequest.size()));
}
BENCHMARK(BM_RequestParser_ByteByByte);

void BM_CheckUpgrade(benchmark::State& state) {
  wsgate::engine::http::RequestParser parser;
  parser.Feed(kRequest);
  for (auto _ : state) {
    auto check = wsgate::engine::http::CheckUpgrade(parser.request());
    benchmark::DoNotOptimize(check);
  }
}
BENCHMARK(BM_CheckUpgrade);

void BM_AcceptKey(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(wsgate::engine::ws::AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="));
}
BENCHMARK(BM_AcceptKey);

}  // namespace
