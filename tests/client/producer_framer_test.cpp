// SyslogFramer: newline and RFC 6587 octet-counting framing, detected or forced, across
// arbitrary TCP read boundaries; a message not popped stays.
#include "client/producer/syslog_framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using eddy::producer::Framing;
using eddy::producer::SyslogFramer;

std::vector<std::string> drain(SyslogFramer& f) {
  std::vector<std::string> out;
  while (auto m = f.peek()) {
    out.emplace_back(*m);
    f.pop();
  }
  return out;
}

// Feeds `stream` in pieces of every size from 1 to 7 and checks the same messages come out.
void expect_messages(Framing framing, const std::string& stream, const std::vector<std::string>& want,
                     bool finish = false) {
  for (std::size_t piece = 1; piece <= 7; ++piece) {
    SyslogFramer f(framing);
    std::vector<std::string> got;
    for (std::size_t i = 0; i < stream.size(); i += piece) {
      f.feed(std::string_view(stream).substr(i, piece));
      auto more = drain(f);
      got.insert(got.end(), more.begin(), more.end());
    }
    if (finish) {
      f.finish();
      auto more = drain(f);
      got.insert(got.end(), more.begin(), more.end());
    }
    EXPECT_FALSE(f.failed()) << f.error();
    EXPECT_EQ(got, want) << "piece size " << piece;
  }
}

TEST(SyslogFramer, NewlineFraming) {
  expect_messages(Framing::lf, "one\ntwo\r\n\nthree\n", {"one", "two", "three"});
  expect_messages(Framing::lf, "one\nlast-without-newline", {"one", "last-without-newline"}, true);
}

TEST(SyslogFramer, OctetCounting) {
  expect_messages(Framing::octet, "5 hello12 with\nnewline3 abc",
                  {"hello", "with\nnewline", "abc"});
  // A newline some senders put after each frame is skipped.
  expect_messages(Framing::octet, "3 abc\n3 def\n", {"abc", "def"});
}

TEST(SyslogFramer, AutoDetectsEitherPerConnection) {
  expect_messages(Framing::automatic, "<13>1 2024-01-01T00:00:00Z h app - - - hi\nsecond\n",
                  {"<13>1 2024-01-01T00:00:00Z h app - - - hi", "second"});
  expect_messages(Framing::automatic, "12 <13>1 - - hi7 message", {"<13>1 - - hi", "message"});
  expect_messages(Framing::automatic, "plain text line\n", {"plain text line"});
  SyslogFramer f(Framing::automatic);
  f.feed("12 <13>1 - - hi");
  EXPECT_EQ(*f.peek(), "<13>1 - - hi");
  EXPECT_EQ(f.framing(), Framing::octet);
}

TEST(SyslogFramer, AMessageNotPoppedStays) {
  SyslogFramer f(Framing::lf);
  f.feed("a\nb\n");
  EXPECT_EQ(*f.peek(), "a");
  EXPECT_EQ(*f.peek(), "a");
  f.feed("c\n");  // more bytes arrive while "a" waits
  EXPECT_EQ(*f.peek(), "a");
  f.pop();
  EXPECT_EQ(drain(f), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(f.buffered(), 0u);
}

TEST(SyslogFramer, BadOctetFramesFailTheConnection) {
  SyslogFramer bad(Framing::octet);
  bad.feed("x5 hello");
  EXPECT_FALSE(bad.peek());
  EXPECT_TRUE(bad.failed());
  SyslogFramer big(Framing::octet, 100);
  big.feed("101 ");
  EXPECT_FALSE(big.peek());
  EXPECT_TRUE(big.failed());
  SyslogFramer cut(Framing::octet);
  cut.feed("10 abc");
  cut.finish();
  EXPECT_FALSE(cut.peek());
  EXPECT_TRUE(cut.failed());
}

TEST(SyslogFramer, LongLinesAreCutNotLost) {
  SyslogFramer f(Framing::lf, 10);
  f.feed(std::string(25, 'x') + "\n");
  EXPECT_EQ(drain(f), (std::vector<std::string>{std::string(10, 'x'), std::string(10, 'x'),
                                                std::string(5, 'x')}));
}

}  // namespace
