// File: bench/frame_scan_bench.cc — the relay path's frame handling: the zero-copy FrameScanner
// against wslay's frame parser (which copies into its buffer and unmasks byte by byte), over
// 16 KiB of masked client frames (one recv buffer's worth), at 64 B and 1 KiB payloads.
#include <benchmark/benchmark.h>
#include <wslay/wslay.h>

#include <string>

#include "engine/ws/frame.h"

namespace {

using namespace wsgate::engine::ws;

std::string MaskedFrames(size_t payload, size_t total) {
  static const uint8_t kMask[4] = {1, 2, 3, 4};
  std::string frame = EncodeFrame(kBinary, std::string(payload, 'x'), kMask);
  std::string out;
  while (out.size() + frame.size() <= total) out += frame;
  return out;
}

struct CountingSink {
  size_t forwarded = 0, frames = 0;
  void ForwardInput(size_t, size_t n) { forwarded += n; }
  void ForwardCopy(const uint8_t*, size_t n) { forwarded += n; }
  bool DataFrame(uint8_t, bool, uint64_t) {
    ++frames;
    return true;
  }
  void Control(uint8_t, std::string_view) {}
};

void BM_FrameScanner(benchmark::State& state) {
  std::string input = MaskedFrames(static_cast<size_t>(state.range(0)), 16384);
  size_t frames = 0;
  for (auto _ : state) {
    FrameScanner<CountingSink> scanner(Direction::kFromClient, {});
    CountingSink sink;
    scanner.Scan(reinterpret_cast<const uint8_t*>(input.data()), input.size(), sink);
    benchmark::DoNotOptimize(sink.forwarded);
    frames = sink.frames;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * frames));
}
BENCHMARK(BM_FrameScanner)->Arg(64)->Arg(1024);

struct Source {
  const std::string* data;
  size_t pos = 0;
};
ssize_t Recv(uint8_t* buf, size_t len, int, void* user) {
  auto* s = static_cast<Source*>(user);
  if (s->pos == s->data->size()) return -1;
  size_t n = std::min(len, s->data->size() - s->pos);
  std::memcpy(buf, s->data->data() + s->pos, n);
  s->pos += n;
  return static_cast<ssize_t>(n);
}
ssize_t Send(const uint8_t*, size_t, int, void*) { return -1; }
int GenMask(uint8_t*, size_t, void*) { return -1; }

void BM_WslayFrameRecv(benchmark::State& state) {
  std::string input = MaskedFrames(static_cast<size_t>(state.range(0)), 16384);
  wslay_frame_callbacks callbacks{Send, Recv, GenMask};
  size_t frames = 0;
  for (auto _ : state) {
    Source src{&input};
    wslay_frame_context_ptr ctx;
    wslay_frame_context_init(&ctx, &callbacks, &src);
    size_t got = 0;
    frames = 0;
    wslay_frame_iocb iocb;
    while (wslay_frame_recv(ctx, &iocb) >= 0) {
      got += iocb.data_length;
      ++frames;
    }
    benchmark::DoNotOptimize(got);
    wslay_frame_context_free(ctx);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * input.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * frames));
}
BENCHMARK(BM_WslayFrameRecv)->Arg(64)->Arg(1024);

}  // namespace
