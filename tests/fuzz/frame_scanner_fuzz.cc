// Fuzz target: engine/ws FrameScanner, differentially against wslay's frame parser (the codec the
// client asked for). Every frame both accept must agree on opcode, FIN and payload length, and
// control payloads must match byte for byte; the scanner may stop earlier (it also enforces
// masking direction and fragmentation order), never later. A second pass drops every other
// message (as throttling does): the verdict and the control frames must not change, and no byte
// of a dropped message may be forwarded.
#include <wslay/wslay.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/ws/frame.h"

using namespace wsgate::engine::ws;

namespace {

struct Frame {
  uint8_t opcode;
  bool fin;
  uint64_t length;
  std::string control_payload;
  bool operator==(const Frame& o) const {
    return opcode == o.opcode && fin == o.fin && length == o.length && control_payload == o.control_payload;
  }
};

struct Sink {
  std::vector<Frame>* frames;
  void ForwardInput(size_t, size_t) {}
  void ForwardCopy(const uint8_t*, size_t) {}
  bool DataFrame(uint8_t opcode, bool fin, uint64_t length) {
    frames->push_back({opcode, fin, length, {}});
    return true;
  }
  void Control(uint8_t opcode, std::string_view payload) {
    frames->push_back({opcode, true, payload.size(), std::string(payload)});
  }
};

// Refuses every other message and checks that nothing of a refused one is forwarded.
struct DroppingSink {
  std::vector<Frame>* controls;
  int messages = 0;
  bool refusing = false;
  void ForwardInput(size_t, size_t length) {
    if (refusing && length > 0) std::abort();
  }
  void ForwardCopy(const uint8_t*, size_t length) {
    if (refusing && length > 0) std::abort();
  }
  bool DataFrame(uint8_t opcode, bool, uint64_t) {
    if (opcode == kContinuation) {
      if (refusing) std::abort();  // the sink hears nothing of a dropped message's continuation
      return true;
    }
    refusing = messages++ % 2 == 1;
    return !refusing;
  }
  void Control(uint8_t opcode, std::string_view payload) {
    controls->push_back({opcode, true, payload.size(), std::string(payload)});
  }
};

struct Source {
  const uint8_t* data;
  size_t size;
  size_t pos = 0;
};

ssize_t Recv(uint8_t* buf, size_t len, int, void* user) {
  auto* s = static_cast<Source*>(user);
  if (s->pos == s->size) return -1;
  size_t n = std::min(len, s->size - s->pos);
  std::copy(s->data + s->pos, s->data + s->pos + n, buf);
  s->pos += n;
  return static_cast<ssize_t>(n);
}
ssize_t Send(const uint8_t*, size_t, int, void*) { return -1; }
int GenMask(uint8_t*, size_t, void*) { return -1; }

std::vector<Frame> WslayFrames(const uint8_t* data, size_t size) {
  std::vector<Frame> out;
  Source src{data, size};
  wslay_frame_callbacks callbacks{Send, Recv, GenMask};
  wslay_frame_context_ptr ctx;
  if (wslay_frame_context_init(&ctx, &callbacks, &src) != 0) return out;
  uint64_t remaining = 0;
  std::string payload;
  bool in_frame = false;
  while (true) {
    wslay_frame_iocb iocb{};
    ssize_t r = wslay_frame_recv(ctx, &iocb);
    if (r < 0) break;
    if (!in_frame) {
      out.push_back({iocb.opcode, iocb.fin != 0, iocb.payload_length, {}});
      remaining = iocb.payload_length;
      payload.clear();
      in_frame = true;
    }
    if (IsControl(iocb.opcode)) payload.append(reinterpret_cast<const char*>(iocb.data), iocb.data_length);
    remaining -= iocb.data_length;
    if (remaining == 0) {
      if (IsControl(out.back().opcode)) out.back().control_payload = payload;
      in_frame = false;
    }
  }
  // A frame wslay had not finished is not comparable.
  if (in_frame) out.pop_back();
  wslay_frame_context_free(ctx);
  return out;
}

// Feeds [data, data+size) in `chunk`-byte pieces; returns 0, or the close code it failed with.
template <typename S>
uint16_t ScanAll(FrameScanner<S>& scanner, const uint8_t* data, size_t size, size_t chunk, S& sink) {
  for (size_t pos = 0; pos < size; pos += chunk) {
    ScanResult r = scanner.Scan(data + pos, std::min(chunk, size - pos), sink);
    if (!r.ok) return r.close_code;
  }
  return 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = data[0] % 23 + 1;
  ++data;
  --size;
  std::vector<Frame> ours;
  Sink sink{&ours};
  ScannerLimits limits;
  limits.max_message_bytes = 1 << 20;
  FrameScanner<Sink> scanner(Direction::kFromClient, limits);
  bool failed = false;
  size_t complete = 0;  // frames whose payload the scanner has fully seen
  uint16_t code = ScanAll(scanner, data, size, chunk, sink);
  failed = code != 0;
  if (failed && code != 1002 && code != 1009) std::abort();
  {
    std::vector<Frame> controls;
    DroppingSink dropping{&controls};
    FrameScanner<DroppingSink> second(Direction::kFromClient, limits);
    if (ScanAll(second, data, size, chunk, dropping) != code) std::abort();
    std::vector<Frame> first_controls;
    for (const Frame& f : ours)
      if (IsControl(f.opcode)) first_controls.push_back(f);
    if (!(controls == first_controls)) std::abort();
  }
  complete = ours.size();
  if (!failed && !scanner.AtFrameBoundary() && complete > 0 && !IsControl(ours.back().opcode)) --complete;
  std::vector<Frame> theirs = WslayFrames(data, size);
  size_t n = std::min(complete, theirs.size());
  for (size_t i = 0; i < n; ++i) {
    Frame a = ours[i], b = theirs[i];
    if (!IsControl(a.opcode)) a.control_payload.clear();
    if (!IsControl(b.opcode)) b.control_payload.clear();
    if (!(a == b)) std::abort();
  }
  return 0;
}
