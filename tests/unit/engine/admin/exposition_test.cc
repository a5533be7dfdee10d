// Tests for engine/admin/exposition.h: the Prometheus text format's escaping, value formatting
// and histogram lines.
#include "engine/admin/exposition.h"

#include <gtest/gtest.h>

#include <limits>

namespace wsgate::engine::admin {
namespace {

TEST(Exposition, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue(R"(a\b"c)" "\n" "d"), R"(a\\b\"c\nd)");
  EXPECT_EQ(EscapeLabelValue("plain /rooms/{roomID}"), "plain /rooms/{roomID}");
}

TEST(Exposition, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(EscapeHelp("a \"b\" \\ c\nd"), "a \"b\" \\\\ c\\nd");
}

TEST(Exposition, ValuesAreIntegersOrShortestDecimals) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(12345678901234), "12345678901234");
  EXPECT_EQ(FormatValue(0.001), "0.001");
  EXPECT_EQ(FormatValue(2.5), "2.5");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
}

TEST(Exposition, FamilyAndSamples) {
  Exposition out;
  out.Family("x_total", "counter", "Things.\nMore");
  out.Sample("x_total", {}, 3);
  out.Sample("x_total", {{"api", "Chats"}, {"topic", "/rooms/\"{id}\""}}, 4);
  EXPECT_EQ(out.Take(),
            "# HELP x_total Things.\\nMore\n"
            "# TYPE x_total counter\n"
            "x_total 3\n"
            "x_total{api=\"Chats\",topic=\"/rooms/\\\"{id}\\\"\"} 4\n");
}

TEST(Exposition, HistogramBucketsAreCumulativeAndEndInInf) {
  Exposition out;
  const double bounds[] = {0.01, 0.1, 1};
  const uint64_t counts[] = {2, 0, 3, 1};  // per bucket; the last is above 1 s
  out.Histogram("h_seconds", {{"api", "A"}}, bounds, counts, 3, 4.25);
  EXPECT_EQ(out.Take(),
            "h_seconds_bucket{api=\"A\",le=\"0.01\"} 2\n"
            "h_seconds_bucket{api=\"A\",le=\"0.1\"} 2\n"
            "h_seconds_bucket{api=\"A\",le=\"1\"} 5\n"
            "h_seconds_bucket{api=\"A\",le=\"+Inf\"} 6\n"
            "h_seconds_sum{api=\"A\"} 4.25\n"
            "h_seconds_count{api=\"A\"} 6\n");
}

TEST(Exposition, HistogramWithoutLabels) {
  Exposition out;
  const double bounds[] = {1};
  const uint64_t counts[] = {0, 0};
  out.Histogram("h_seconds", {}, bounds, counts, 1, 0);
  EXPECT_EQ(out.Take(), "h_seconds_bucket{le=\"1\"} 0\nh_seconds_bucket{le=\"+Inf\"} 0\nh_seconds_sum 0\nh_seconds_count 0\n");
}

}  // namespace
}  // namespace wsgate::engine::admin
