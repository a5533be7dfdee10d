// Unit tests for engine/ws/frame: the relay scanner at every fragment size, its error table, and
// the encoders.
#include "engine/ws/frame.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace wsgate::engine::ws {
namespace {

const uint8_t kMask[4] = {0xA1, 0xB2, 0xC3, 0xD4};

// Records what the scanner asked for. Forwarded bytes are re-assembled into one stream.
struct RecordingSink {
  const uint8_t* input = nullptr;
  std::string forwarded;
  std::vector<std::pair<uint8_t, std::string>> controls;
  std::vector<std::pair<uint8_t, uint64_t>> data_frames;
  void ForwardInput(size_t offset, size_t length) {
    forwarded.append(reinterpret_cast<const char*>(input + offset), length);
  }
  void ForwardCopy(const uint8_t* bytes, size_t length) {
    forwarded.append(reinterpret_cast<const char*>(bytes), length);
  }
  bool DataFrame(uint8_t opcode, bool, uint64_t length) {
    data_frames.emplace_back(opcode, length);
    if (opcode == kContinuation) return true;  // ignored by the scanner
    return refuse.count(messages++) == 0;
  }
  std::set<int> refuse;  // indexes of the messages to drop
  int messages = 0;
  void Control(uint8_t opcode, std::string_view payload) { controls.emplace_back(opcode, std::string(payload)); }
};

std::string Frame(uint8_t opcode, std::string_view payload, bool fin = true, bool masked = true, uint8_t rsv = 0) {
  std::string f = EncodeFrame(opcode, payload, masked ? kMask : nullptr);
  if (!fin) f[0] = static_cast<char>(f[0] & 0x7F);
  f[0] = static_cast<char>(f[0] | (rsv << 4));
  return f;
}

ScanResult ScanInChunks(Direction dir, const std::string& stream, size_t chunk, RecordingSink& sink,
                        ScannerLimits limits = {}) {
  FrameScanner<RecordingSink> scanner(dir, limits);
  for (size_t pos = 0; pos < stream.size(); pos += chunk) {
    size_t n = std::min(chunk, stream.size() - pos);
    // Each chunk is its own buffer, as separate recv buffers would be.
    std::string piece = stream.substr(pos, n);
    sink.input = reinterpret_cast<const uint8_t*>(piece.data());
    ScanResult r = scanner.Scan(sink.input, n, sink);
    if (!r.ok) return r;
  }
  EXPECT_TRUE(scanner.AtFrameBoundary());
  return ScanResult{};
}

// A refused message is dropped whole (all of its frames, any size), control frames inside it are
// still cut out and answered, and the stream around it is forwarded byte for byte.
TEST(FrameScanner, DropsRefusedMessagesWholeAtEveryFragmentSize) {
  std::string big(70000, 'B');
  std::string stream = Frame(kText, "first") + Frame(kBinary, "x", false) + Frame(kPing, "p") +
                       Frame(kContinuation, "y", false) + Frame(kContinuation, big) + Frame(kText, "keep") +
                       Frame(kBinary, big) + Frame(kText, "last", false) + Frame(kContinuation, "!");
  std::string expected = Frame(kText, "first") + Frame(kText, "keep") + Frame(kText, "last", false) +
                         Frame(kContinuation, "!");
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{13}, size_t{1000}, stream.size()}) {
    RecordingSink sink;
    sink.refuse = {1, 3};  // the fragmented message and the big binary one
    FrameScanner<RecordingSink> scanner(Direction::kFromClient, {});
    for (size_t pos = 0; pos < stream.size(); pos += chunk) {
      size_t n = std::min(chunk, stream.size() - pos);
      std::string piece = stream.substr(pos, n);
      sink.input = reinterpret_cast<const uint8_t*>(piece.data());
      ASSERT_TRUE(scanner.Scan(sink.input, n, sink).ok) << chunk;
    }
    EXPECT_EQ(sink.forwarded, expected) << "chunk " << chunk;
    ASSERT_EQ(sink.controls.size(), 1u);
    EXPECT_EQ(sink.controls[0].second, "p");
    // The sink hears the first frame of each message, and the continuation frames of forwarded ones.
    ASSERT_EQ(sink.data_frames.size(), 6u) << chunk;
    EXPECT_EQ(sink.data_frames[5], std::make_pair(uint8_t{kContinuation}, uint64_t{1}));
    EXPECT_EQ(scanner.dropped_frames(), 4u);
    EXPECT_TRUE(scanner.AtFrameBoundary());
    EXPECT_FALSE(scanner.InMessage());
  }
}

// Protocol rules still hold inside a dropped message: a new message cannot start in it.
TEST(FrameScanner, ADroppedMessageIsStillCheckedForProtocolErrors) {
  RecordingSink sink;
  sink.refuse = {0};
  std::string stream = Frame(kBinary, "x", false) + Frame(kText, "new");
  ScanResult r = ScanInChunks(Direction::kFromClient, stream, stream.size(), sink);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.close_code, 1002);
  EXPECT_EQ(sink.forwarded, "");
}

TEST(FrameScanner, ForwardsDataUnchangedAndCutsOutControlFramesAtEveryFragmentSize) {
  std::string big(70000, 'b');  // a 64-bit length header
  std::string mid(300, 'm');    // a 16-bit length header
  std::string data_frames = Frame(kText, "hello") + Frame(kBinary, "frag", false) + Frame(kContinuation, mid, false) +
                            Frame(kContinuation, "end") + Frame(kBinary, big) + Frame(kText, "");
  std::string stream = Frame(kText, "hello") + Frame(kBinary, "frag", false) + Frame(kPing, "p1") +
                       Frame(kContinuation, mid, false) + Frame(kPong, "") + Frame(kContinuation, "end") +
                       Frame(kBinary, big) + Frame(kText, "") + Frame(kClose, ClosePayload(1000, "bye"));
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{3}, size_t{5}, size_t{7}, size_t{13}, size_t{14}, size_t{64},
                       size_t{1000}, size_t{4096}, stream.size()}) {
    SCOPED_TRACE("chunk " + std::to_string(chunk));
    RecordingSink sink;
    ScanResult r = ScanInChunks(Direction::kFromClient, stream, chunk, sink);
    ASSERT_TRUE(r.ok) << r.reason;
    EXPECT_TRUE(sink.forwarded == data_frames);  // byte for byte, still masked
    ASSERT_EQ(sink.controls.size(), 3u);
    EXPECT_EQ(sink.controls[0], std::make_pair(uint8_t{kPing}, std::string("p1")));  // unmasked
    EXPECT_EQ(sink.controls[1], std::make_pair(uint8_t{kPong}, std::string("")));
    EXPECT_EQ(sink.controls[2].first, kClose);
    ClosePayloadInfo close = ParseClosePayload(sink.controls[2].second);
    EXPECT_TRUE(close.valid);
    EXPECT_EQ(close.code, 1000);
    EXPECT_EQ(close.reason, "bye");
    ASSERT_EQ(sink.data_frames.size(), 6u);
    EXPECT_EQ(sink.data_frames[4], std::make_pair(uint8_t{kBinary}, uint64_t{70000}));
  }
}

TEST(FrameScanner, EveryByteBoundaryOfASmallStream) {
  std::string stream = Frame(kText, "abc") + Frame(kPing, "x") + Frame(kBinary, std::string(200, 'z'));
  std::string expected = Frame(kText, "abc") + Frame(kBinary, std::string(200, 'z'));
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    RecordingSink sink;
    ASSERT_TRUE(ScanInChunks(Direction::kFromClient, stream, chunk, sink).ok) << chunk;
    ASSERT_TRUE(sink.forwarded == expected) << chunk;
    ASSERT_EQ(sink.controls.size(), 1u) << chunk;
  }
}

TEST(FrameScanner, BackendFramesMustBeUnmasked) {
  RecordingSink sink;
  std::string stream = Frame(kText, "from backend", true, false);
  ASSERT_TRUE(ScanInChunks(Direction::kFromBackend, stream, 3, sink).ok);
  EXPECT_EQ(sink.forwarded, stream);
}

struct BadStream {
  const char* name;
  Direction direction;
  std::string stream;
  uint16_t code;
};

class FrameScannerRejects : public testing::TestWithParam<BadStream> {};

TEST_P(FrameScannerRejects, AtEveryFragmentSize) {
  const BadStream& c = GetParam();
  for (size_t chunk = 1; chunk <= c.stream.size(); chunk = chunk * 2 + 1) {
    RecordingSink sink;
    ScannerLimits limits;
    limits.max_message_bytes = 1000;
    FrameScanner<RecordingSink> scanner(c.direction, limits);
    ScanResult r;
    for (size_t pos = 0; pos < c.stream.size() && r.ok; pos += chunk) {
      size_t n = std::min(chunk, c.stream.size() - pos);
      sink.input = reinterpret_cast<const uint8_t*>(c.stream.data() + pos);
      r = scanner.Scan(sink.input, n, sink);
    }
    ASSERT_FALSE(r.ok) << "chunk " << chunk;
    EXPECT_EQ(r.close_code, c.code) << "chunk " << chunk;
    EXPECT_STRNE(r.reason, "");
  }
}

std::string HugeLengthHeader() {
  std::string h = "\x82\xff";
  h += std::string("\x80\0\0\0\0\0\0\0", 8);
  return h + "abcd";
}

INSTANTIATE_TEST_SUITE_P(
    Table, FrameScannerRejects,
    testing::Values(
        BadStream{"unmasked_client_frame", Direction::kFromClient, Frame(kText, "x", true, false), 1002},
        BadStream{"masked_backend_frame", Direction::kFromBackend, Frame(kText, "x", true, true), 1002},
        BadStream{"rsv1_without_extension", Direction::kFromClient, Frame(kText, "x", true, true, 4), 1002},
        BadStream{"reserved_data_opcode", Direction::kFromClient, Frame(0x3, "x"), 1002},
        BadStream{"reserved_control_opcode", Direction::kFromClient, Frame(0xB, "x"), 1002},
        BadStream{"fragmented_ping", Direction::kFromClient, Frame(kPing, "x", false), 1002},
        BadStream{"long_ping", Direction::kFromClient, Frame(kPing, std::string(126, 'x')), 1002},
        BadStream{"orphan_continuation", Direction::kFromClient, Frame(kContinuation, "x"), 1002},
        BadStream{"text_inside_message", Direction::kFromClient, Frame(kText, "a", false) + Frame(kText, "b"), 1002},
        BadStream{"message_too_big", Direction::kFromClient, Frame(kBinary, std::string(1001, 'x')), 1009},
        BadStream{"fragments_too_big", Direction::kFromClient,
                  Frame(kBinary, std::string(600, 'x'), false) + Frame(kContinuation, std::string(600, 'x')), 1009},
        BadStream{"length_top_bit", Direction::kFromClient, HugeLengthHeader(), 1002}),
    [](const testing::TestParamInfo<BadStream>& p) { return p.param.name; });

// permessage-deflate negotiated (RFC 7692 §6): RSV1 on a message's first frame is forwarded
// byte for byte; on a continuation or a control frame, and RSV2/RSV3 always, the stream fails 1002.
TEST(FrameScanner, Rsv1OnAMessagesFirstFrameWhenNegotiated) {
  ScannerLimits deflate;
  deflate.allow_rsv1 = true;
  std::string stream = Frame(kText, "compressed?", false, true, 4) + Frame(kContinuation, "more") +
                       Frame(kPing, "p") + Frame(kBinary, "whole", true, true, 4) + Frame(kText, "plain");
  for (size_t chunk = 1; chunk <= stream.size(); chunk = chunk * 2 + 1) {
    RecordingSink sink;
    ASSERT_TRUE(ScanInChunks(Direction::kFromClient, stream, chunk, sink, deflate).ok) << chunk;
  }
  struct Bad {
    std::string stream;
    const char* reason;
  } bad[] = {
      {Frame(kText, "a", false, true, 4) + Frame(kContinuation, "b", true, true, 4),
       "RSV1 set on a continuation or control frame"},
      {Frame(kPing, "p", true, true, 4), "RSV1 set on a continuation or control frame"},
      {Frame(kText, "a", true, true, 2), "RSV bits set without a negotiated extension"},
      {Frame(kText, "a", true, true, 1), "RSV bits set without a negotiated extension"},
  };
  for (const Bad& b : bad) {
    RecordingSink sink;
    FrameScanner<RecordingSink> scanner(Direction::kFromClient, deflate);
    sink.input = reinterpret_cast<const uint8_t*>(b.stream.data());
    ScanResult r = scanner.Scan(sink.input, b.stream.size(), sink);
    ASSERT_FALSE(r.ok);
    EXPECT_EQ(r.close_code, 1002);
    EXPECT_STREQ(r.reason, b.reason);
  }
}

TEST(FrameHeader, ParsesEveryLengthForm) {
  FrameHeader h;
  std::string f = Frame(kBinary, std::string(125, 'a'));
  EXPECT_EQ(ParseFrameHeader(reinterpret_cast<const uint8_t*>(f.data()), f.size(), &h), 6);
  EXPECT_EQ(h.payload_length, 125u);
  f = Frame(kBinary, std::string(126, 'a'), true, false);
  EXPECT_EQ(ParseFrameHeader(reinterpret_cast<const uint8_t*>(f.data()), f.size(), &h), 4);
  EXPECT_EQ(h.payload_length, 126u);
  EXPECT_FALSE(h.masked);
  f = Frame(kBinary, std::string(65536, 'a'));
  EXPECT_EQ(ParseFrameHeader(reinterpret_cast<const uint8_t*>(f.data()), f.size(), &h), 14);
  EXPECT_EQ(h.payload_length, 65536u);
  EXPECT_EQ(ParseFrameHeader(reinterpret_cast<const uint8_t*>(f.data()), 13, &h), 0);
  EXPECT_EQ(ParseFrameHeader(reinterpret_cast<const uint8_t*>(f.data()), 1, &h), 0);
}

TEST(EncodeFrame, MasksPayloadAndRoundTrips) {
  std::string f = EncodeFrame(kText, "Hello", kMask);
  ASSERT_EQ(f.size(), 2u + 4u + 5u);
  EXPECT_EQ(static_cast<uint8_t>(f[0]), 0x81);
  EXPECT_EQ(static_cast<uint8_t>(f[1]), 0x85);
  std::string payload = f.substr(6);
  ApplyMask(reinterpret_cast<uint8_t*>(payload.data()), payload.size(), kMask);
  EXPECT_EQ(payload, "Hello");
  EXPECT_EQ(EncodeFrame(kText, "Hello"), std::string("\x81\x05Hello"));  // RFC 6455 §5.7 example
}

TEST(ClosePayload, ValidatesCodesAndReasons) {
  EXPECT_EQ(ParseClosePayload("").code, 1005);
  EXPECT_TRUE(ParseClosePayload("").valid);
  EXPECT_EQ(ParseClosePayload("x").error_code, 1002);
  EXPECT_EQ(ParseClosePayload(ClosePayload(1005, "")).error_code, 1002);
  EXPECT_EQ(ParseClosePayload(ClosePayload(4001, "Invalid Credentials Connection closed!")).code, 4001);
  EXPECT_EQ(ParseClosePayload(ClosePayload(1000, "\xc0")).error_code, 1007);
  EXPECT_EQ(ClosePayload(1000, std::string(200, 'r')).size(), 125u);  // reason capped to fit
}

}  // namespace
}  // namespace wsgate::engine::ws
