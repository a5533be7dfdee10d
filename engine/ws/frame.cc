// File: engine/ws/frame.cc
#include "engine/ws/frame.h"

#include <wslay/wslay.h>

#include "engine/ws/handshake.h"

namespace wsgate::engine::ws {

int ParseFrameHeader(const uint8_t* p, size_t n, FrameHeader* out) {
  if (n < 2) return 0;
  uint8_t b0 = p[0], b1 = p[1];
  size_t need = 2;
  uint64_t len = b1 & 0x7F;
  if (len == 126) need += 2;
  else if (len == 127) need += 8;
  bool masked = (b1 & 0x80) != 0;
  if (masked) need += 4;
  if (n < need) return 0;
  size_t at = 2;
  if (len == 126) {
    len = (uint64_t{p[2]} << 8) | p[3];
    at = 4;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | p[2 + i];
    at = 10;
    if (len >> 63) return -1;
  }
  out->fin = (b0 & 0x80) != 0;
  out->rsv = (b0 >> 4) & 0x7;
  out->opcode = b0 & 0x0F;
  out->masked = masked;
  if (masked) std::memcpy(out->mask, p + at, 4);
  out->payload_length = len;
  out->header_length = static_cast<uint8_t>(need);
  return static_cast<int>(need);
}

size_t EncodeFrameHeader(uint8_t opcode, uint64_t payload_length, const uint8_t* mask, uint8_t* out) {
  size_t n = 0;
  out[n++] = static_cast<uint8_t>(0x80 | opcode);
  uint8_t mask_bit = mask ? 0x80 : 0;
  if (payload_length < 126) {
    out[n++] = static_cast<uint8_t>(mask_bit | payload_length);
  } else if (payload_length <= 0xFFFF) {
    out[n++] = mask_bit | 126;
    out[n++] = static_cast<uint8_t>(payload_length >> 8);
    out[n++] = static_cast<uint8_t>(payload_length);
  } else {
    out[n++] = mask_bit | 127;
    for (int i = 7; i >= 0; --i) out[n++] = static_cast<uint8_t>(payload_length >> (8 * i));
  }
  if (mask) {
    std::memcpy(out + n, mask, 4);
    n += 4;
  }
  return n;
}

void ApplyMask(uint8_t* data, size_t n, const uint8_t mask[4], size_t phase) {
  for (size_t i = 0; i < n; ++i) data[i] ^= mask[(i + phase) & 3];
}

// Frames the engine originates (pongs, pings, closes) are encoded by wslay, the codec the
// design names; the relay path never encodes (it forwards the sender's bytes).
std::string EncodeFrame(uint8_t opcode, std::string_view payload, const uint8_t* mask) {
  struct Out {
    std::string bytes;
    const uint8_t* mask;
  } out{{}, mask};
  wslay_frame_callbacks callbacks{
      [](const uint8_t* data, size_t len, int, void* user) -> ssize_t {
        static_cast<Out*>(user)->bytes.append(reinterpret_cast<const char*>(data), len);
        return static_cast<ssize_t>(len);
      },
      [](uint8_t*, size_t, int, void*) -> ssize_t { return -1; },
      [](uint8_t* buf, size_t len, void* user) -> int {
        std::memcpy(buf, static_cast<Out*>(user)->mask, len);
        return 0;
      }};
  wslay_frame_context_ptr ctx;
  if (wslay_frame_context_init(&ctx, &callbacks, &out) != 0) return {};
  out.bytes.reserve(payload.size() + 14);
  size_t sent = 0;
  do {
    wslay_frame_iocb iocb{};
    iocb.fin = 1;
    iocb.opcode = opcode;
    iocb.mask = mask != nullptr;
    iocb.payload_length = payload.size();
    iocb.data = reinterpret_cast<const uint8_t*>(payload.data()) + sent;
    iocb.data_length = payload.size() - sent;
    ssize_t r = wslay_frame_send(ctx, &iocb);
    if (r < 0) break;
    sent += static_cast<size_t>(r);
  } while (sent < payload.size());
  wslay_frame_context_free(ctx);
  return out.bytes;
}

std::string ClosePayload(uint16_t code, std::string_view reason) {
  if (code == 0) return {};
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p.append(reason.substr(0, 123));
  return p;
}

ClosePayloadInfo ParseClosePayload(std::string_view payload) {
  ClosePayloadInfo info;
  if (payload.empty()) return info;
  if (payload.size() == 1) {
    info.valid = false;
    info.error_code = 1002;
    return info;
  }
  info.code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) | static_cast<uint8_t>(payload[1]));
  info.reason = payload.substr(2);
  if (!IsValidCloseCodeOnWire(info.code)) {
    info.valid = false;
    info.error_code = 1002;
  } else if (!IsValidUtf8(info.reason)) {
    info.valid = false;
    info.error_code = 1007;
  }
  return info;
}

}  // namespace wsgate::engine::ws
