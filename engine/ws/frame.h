// File: engine/ws/frame.h
//
// RFC 6455 §5 framing for the relay path, zero-copy. Pure logic.
//
// `FrameScanner<Sink>` walks one direction of a relayed byte stream and tells its sink what to do
// with each byte: data frames (text, binary, continuation) are forwarded unchanged, header and
// payload alike, so client frames keep the client's mask and nothing is copied or re-masked;
// control frames (ping, pong, close, at most 125 bytes) are cut out, unmasked and handed over
// whole, because the engine answers pings itself and mediates the close handshake. Every rule
// that makes a stream invalid (RSV bits, unknown opcodes, masking by direction, fragmentation
// order, control-frame limits, message size) ends the scan with a close code and a reason.
//
//   struct Sink {
//     void ForwardInput(size_t offset, size_t length);          // bytes of the current input
//     void ForwardCopy(const uint8_t* bytes, size_t length);    // scanner-held bytes (a header
//                                                               // split across inputs); copy them
//     bool DataFrame(uint8_t opcode, bool fin, uint64_t length); // once per forwarded data frame
//     void Control(uint8_t opcode, std::string_view payload);   // a whole control frame, unmasked
//   };
//
// DataFrame comes before any byte of its frame is forwarded. Its answer for a message's first
// frame decides the whole message: true forwards it, false drops it (header and payload are
// never forwarded, and the sink hears nothing of its continuation frames) — this is how the
// engine throttles. For a continuation frame of a forwarded message the answer is ignored: a
// message is never cut in the middle. The protocol checks apply to dropped messages as well.
//   FrameScanner<Sink> scanner(Direction::kFromClient, {.max_message_bytes = 16 << 20});
//   ScanResult r = scanner.Scan(data, size, sink);   // r.ok or r.close_code / r.reason
//
// A close frame ends the stream (RFC 6455 §5.5.1: nothing may follow it): bytes after it, in
// the same input or later ones, are ignored and closed() turns true.
//
// Owned by one connection, one direction; not thread-safe. The sink may not re-enter Scan().
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace wsgate::engine::ws {

enum Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

inline bool IsControl(uint8_t opcode) { return (opcode & 0x8) != 0; }

enum class Direction : uint8_t {
  kFromClient,   // frames must be masked (RFC 6455 §5.1)
  kFromBackend,  // frames must not be masked
};

struct FrameHeader {
  bool fin = false;
  uint8_t rsv = 0;  // the three RSV bits, shifted down
  uint8_t opcode = 0;
  bool masked = false;
  uint8_t mask[4] = {0, 0, 0, 0};
  uint64_t payload_length = 0;
  uint8_t header_length = 0;  // 2 to 14
};

// Parses a frame header at the start of [p, p+n). Returns the header length (2..14) when
// complete, 0 when more bytes are needed, -1 when the 64-bit length has its top bit set.
int ParseFrameHeader(const uint8_t* p, size_t n, FrameHeader* out);

// Writes a single-frame message header into `out` (at least 14 bytes) and returns its length.
// A non-null `mask` sets the mask bit and key (frames toward a backend).
size_t EncodeFrameHeader(uint8_t opcode, uint64_t payload_length, const uint8_t* mask, uint8_t* out);

// XORs `data` with the 4-byte `mask`, starting at key position `phase` (0..3). Used for the small
// control frames the engine handles; relayed data is never unmasked.
void ApplyMask(uint8_t* data, size_t n, const uint8_t mask[4], size_t phase = 0);

// A whole frame (header + payload) as bytes; masked when `mask` is non-null. For control frames
// and messages the engine originates.
std::string EncodeFrame(uint8_t opcode, std::string_view payload, const uint8_t* mask = nullptr);
// Close frame payload: code (big-endian) + reason. Code 0 gives an empty payload.
std::string ClosePayload(uint16_t code, std::string_view reason);

struct ClosePayloadInfo {
  bool valid = true;       // false: the payload breaks RFC 6455 §5.5.1 / §7.4
  uint16_t error_code = 0; // when !valid: 1002 (bad length/code) or 1007 (bad UTF-8 reason)
  uint16_t code = 1005;    // 1005 "no status" when the payload is empty
  std::string_view reason;
};
ClosePayloadInfo ParseClosePayload(std::string_view payload);

struct ScanResult {
  bool ok = true;
  uint16_t close_code = 0;   // when !ok: 1002 protocol error or 1009 message too big
  const char* reason = "";   // when !ok: a short reason for the close frame and the log
};

struct ScannerLimits {
  uint64_t max_message_bytes = 16ull << 20;
  // permessage-deflate was negotiated (RFC 7692 §6): RSV1 may mark a message's first frame.
  // RSV1 on a continuation or control frame, and RSV2/RSV3 always, still fail with 1002.
  bool allow_rsv1 = false;
};

template <typename Sink>
class FrameScanner {
 public:
  FrameScanner(Direction direction, ScannerLimits limits) : direction_(direction), limits_(limits) {}

  // Consumes all of [data, data+size). After a failed result the stream is dead: do not call
  // again.
  ScanResult Scan(const uint8_t* data, size_t size, Sink& sink);

  // True between frames: the place where the engine may inject a frame of its own into the
  // stream it forwards in this direction.
  bool AtFrameBoundary() const { return (state_ == State::kHeader && header_have_ == 0) || state_ == State::kClosed; }
  // True while a fragmented message is in progress (a data frame may only continue it).
  bool InMessage() const { return in_message_; }
  // A new limit for the messages still to come (and the one in progress): a snapshot that
  // lowers max_message_bytes applies to live connections.
  void set_limits(ScannerLimits limits) { limits_ = limits; }
  // Data frames and messages dropped because the sink said so.
  uint64_t dropped_frames() const { return dropped_frames_; }
  // A close frame was delivered (or Stop() was called): the rest of the stream is ignored.
  bool closed() const { return state_ == State::kClosed; }
  // Ends the stream as a close frame would, from inside a sink callback too: the rest of the
  // current input and everything after it is ignored (e.g. the engine closed the sender).
  void Stop() { state_ = State::kClosed; }

 private:
  enum class State : uint8_t { kHeader, kDataPayload, kControlPayload, kClosed };
  void DeliverControl(Sink& sink) {
    if (header_.opcode == kClose) state_ = State::kClosed;  // before the sink hears it
    sink.Control(header_.opcode, control_payload_);
  }

  ScanResult Fail(uint16_t code, const char* reason) {
    ScanResult r;
    r.ok = false;
    r.close_code = code;
    r.reason = reason;
    return r;
  }
  ScanResult OnHeader(Sink& sink, bool header_in_input, size_t header_offset);

  Direction direction_;
  ScannerLimits limits_;
  State state_ = State::kHeader;
  uint8_t header_buf_[14];
  uint8_t header_have_ = 0;
  FrameHeader header_;
  uint64_t payload_left_ = 0;
  bool in_message_ = false;
  bool dropping_message_ = false;  // the sink refused the message in progress (or the last one)
  uint64_t dropped_frames_ = 0;
  uint64_t message_bytes_ = 0;
  std::string control_payload_;
};

// ---- implementation ----

template <typename Sink>
ScanResult FrameScanner<Sink>::Scan(const uint8_t* data, size_t size, Sink& sink) {
  size_t pos = 0;
  while (pos < size) {
    switch (state_) {
      case State::kHeader: {
        if (header_have_ == 0) {
          // Fast path: the whole header is in this input.
          int n = ParseFrameHeader(data + pos, size - pos, &header_);
          if (n < 0) return Fail(1002, "invalid frame length");
          if (n > 0) {
            size_t at = pos;
            pos += static_cast<size_t>(n);
            ScanResult r = OnHeader(sink, true, at);
            if (!r.ok) return r;
            continue;
          }
        }
        // Slow path: gather the header across inputs.
        header_buf_[header_have_++] = data[pos++];
        int n = ParseFrameHeader(header_buf_, header_have_, &header_);
        if (n < 0) return Fail(1002, "invalid frame length");
        if (n > 0) {
          ScanResult r = OnHeader(sink, false, 0);
          header_have_ = 0;
          if (!r.ok) return r;
        }
        break;
      }
      case State::kDataPayload: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(payload_left_, size - pos));
        if (!dropping_message_) sink.ForwardInput(pos, take);  // the payload is the current message's
        pos += take;
        payload_left_ -= take;
        if (payload_left_ == 0) state_ = State::kHeader;
        break;
      }
      case State::kControlPayload: {
        size_t take = static_cast<size_t>(std::min<uint64_t>(payload_left_, size - pos));
        control_payload_.append(reinterpret_cast<const char*>(data + pos), take);
        pos += take;
        payload_left_ -= take;
        if (payload_left_ == 0) {
          state_ = State::kHeader;
          if (header_.masked)
            ApplyMask(reinterpret_cast<uint8_t*>(control_payload_.data()), control_payload_.size(), header_.mask);
          DeliverControl(sink);
        }
        break;
      }
      case State::kClosed:
        return ScanResult{};
    }
  }
  return ScanResult{};
}

template <typename Sink>
ScanResult FrameScanner<Sink>::OnHeader(Sink& sink, bool header_in_input, size_t header_offset) {
  const FrameHeader& h = header_;
  if (h.rsv != 0) {
    constexpr uint8_t kRsv1 = 0x4;
    bool message_start = h.opcode == kText || h.opcode == kBinary;
    if (!limits_.allow_rsv1 || h.rsv != kRsv1) return Fail(1002, "RSV bits set without a negotiated extension");
    if (!message_start) return Fail(1002, "RSV1 set on a continuation or control frame");
  }
  if (direction_ == Direction::kFromClient && !h.masked) return Fail(1002, "client frame not masked");
  if (direction_ == Direction::kFromBackend && h.masked) return Fail(1002, "server frame masked");
  payload_left_ = h.payload_length;
  if (IsControl(h.opcode)) {
    if (h.opcode != kClose && h.opcode != kPing && h.opcode != kPong) return Fail(1002, "unknown opcode");
    if (!h.fin) return Fail(1002, "fragmented control frame");
    if (h.payload_length > 125) return Fail(1002, "control frame too long");
    control_payload_.clear();
    if (payload_left_ == 0) {
      DeliverControl(sink);
    } else {
      state_ = State::kControlPayload;
    }
    return ScanResult{};
  }
  if (h.opcode > kBinary) return Fail(1002, "unknown opcode");
  if (h.opcode == kContinuation) {
    if (!in_message_) return Fail(1002, "continuation frame without a message");
  } else {
    if (in_message_) return Fail(1002, "new message inside a fragmented message");
    message_bytes_ = 0;
  }
  message_bytes_ += h.payload_length;
  if (message_bytes_ > limits_.max_message_bytes) return Fail(1009, "message too big");
  in_message_ = !h.fin;
  if (h.opcode != kContinuation) {
    dropping_message_ = !sink.DataFrame(h.opcode, h.fin, h.payload_length);
  } else if (!dropping_message_) {
    (void)sink.DataFrame(h.opcode, h.fin, h.payload_length);  // the message is already under way
  }
  if (dropping_message_) {
    ++dropped_frames_;
    if (payload_left_ > 0) state_ = State::kDataPayload;
    return ScanResult{};
  }
  if (header_in_input) {
    sink.ForwardInput(header_offset, h.header_length);
  } else {
    sink.ForwardCopy(header_buf_, h.header_length);
  }
  if (payload_left_ > 0) state_ = State::kDataPayload;
  return ScanResult{};
}

}  // namespace wsgate::engine::ws
