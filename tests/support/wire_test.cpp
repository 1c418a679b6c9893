// Self-tests of support/wire.hpp, the frame format the process katas (lesson 05) are given:
// values survive the trip, frames keep their boundaries over a pipe whatever its buffer size,
// and every way a frame can go wrong gives an answer instead of a hang or a dead process.
#include "../../support/wire.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace {

struct Pipe {
  Pipe() {
    if (pipe(fds) != 0) throw std::system_error(errno, std::generic_category(), "pipe");
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  void close_read() {
    if (fds[0] >= 0) close(fds[0]);
    fds[0] = -1;
  }
  void close_write() {
    if (fds[1] >= 0) close(fds[1]);
    fds[1] = -1;
  }
  int fds[2] = {-1, -1};
};

TEST(Wire, ValuesRoundTrip) {
  EXPECT_EQ(wire::decode<long>(wire::encode(-42L)), -42L);
  EXPECT_EQ(wire::decode<std::string>(wire::encode(std::string("a\0b", 3))),
            std::string("a\0b", 3));
  const std::vector<std::vector<std::string>> nested = {{"x", ""}, {}, {"yz"}};
  EXPECT_EQ(wire::decode<std::vector<std::vector<std::string>>>(wire::encode(nested)), nested);
  const std::string payload = wire::Writer().put(std::uint8_t{7}).put("name").put(3).bytes();
  wire::Reader reader(payload);
  EXPECT_EQ(reader.get<std::uint8_t>(), 7);
  EXPECT_EQ(reader.get<std::string>(), "name");
  EXPECT_EQ(reader.get<int>(), 3);
  EXPECT_TRUE(reader.done());
}

TEST(Wire, ShortAndLongPayloadsAreErrors) {
  const std::string one = wire::encode(std::string("hello"));
  EXPECT_THROW(wire::decode<std::string>(one.substr(0, one.size() - 1)), wire::WireError);
  EXPECT_THROW(wire::decode<std::string>(one + "x"), wire::WireError);
  EXPECT_THROW(wire::decode<std::uint64_t>(std::string(4, '\0')), wire::WireError);
}

TEST(Wire, FramesLargerThanThePipeBufferKeepTheirBoundaries) {
  Pipe p;
  const std::string big(1 << 20, 'm');  // 16 pipe buffers of 64 KiB
  std::thread writer([&] {
    wire::write_frame(p.fds[1], big);
    wire::write_frame(p.fds[1], "");
    wire::write_frame(p.fds[1], "end");
    p.close_write();
  });
  EXPECT_EQ(wire::read_frame(p.fds[0]), big);
  EXPECT_EQ(wire::read_frame(p.fds[0]), std::string());
  EXPECT_EQ(wire::read_frame(p.fds[0]), std::string("end"));
  writer.join();
  EXPECT_EQ(wire::read_frame(p.fds[0]), std::nullopt)
      << "end of file between frames is a clean end";
}

TEST(Wire, EndOfFileInsideAFrameIsAnError) {
  Pipe header_cut;
  const std::uint64_t length = 10;
  ASSERT_EQ(write(header_cut.fds[1], &length, 4), 4);  // half a length
  header_cut.close_write();
  EXPECT_THROW(wire::read_frame(header_cut.fds[0]), wire::WireError);

  Pipe payload_cut;
  ASSERT_EQ(write(payload_cut.fds[1], &length, sizeof length), 8);
  ASSERT_EQ(write(payload_cut.fds[1], "abc", 3), 3);  // 3 of the 10 bytes announced
  payload_cut.close_write();
  EXPECT_THROW(wire::read_frame(payload_cut.fds[0]), wire::WireError);
}

TEST(Wire, WritingToAPipeNobodyReadsThrowsInsteadOfKillingTheProcess) {
  Pipe p;
  p.close_read();
  // Without care, the write raises SIGPIPE, whose default action ends the process.
  EXPECT_THROW(wire::write_frame(p.fds[1], "anyone?"), std::system_error);
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE)) << "a SIGPIPE was left pending for the thread";
}

}  // namespace
