// Connection eviction at --max-connections (issue 19, "Measured": 200 slow or idle connections
// held open while jobs run). The first version evicted the longest-idle connection whatever it
// was: attackers that reconnect the moment they are closed were always younger than a legitimate
// keep-alive client pausing between two requests, so that client was the one evicted (and a newly
// accepted connection whose thread had not started yet could not be evicted at all: 503 for the
// next client during such a storm). Now connections that never delivered a request header go
// first, and a new connection may be evicted from the moment it is accepted.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "server_harness.hpp"
#include "support/test_support.hpp"

namespace harmony::test {
namespace {

int open_loopback(int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

/// Sends GET /health on `fd` and reads the answer; the HTTP status, or 0 when the connection failed.
int health_on(int fd) {
    const std::string req = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return 0;
    std::string got;
    char buf[4096];
    while (got.find("\r\n\r\n") == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) return 0;
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return 0;
        got.append(buf, static_cast<std::size_t>(n));
    }
    const auto len_at = got.find("Content-Length: ");
    const auto head_end = got.find("\r\n\r\n") + 4;
    const auto len = len_at == std::string::npos ? 0 : std::stoul(got.substr(len_at + 16));
    while (got.size() < head_end + len) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) return 0;
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got.rfind("HTTP/1.1 ", 0) == 0 ? std::stoi(got.substr(9, 3)) : 0;
}

TEST(Eviction, HeaderlessConnectionsGoBeforeKeepAliveClients) {
    TempDir d;
    Server s(d.file("data"), {"--max-connections", "6", "--idle-timeout", "30"});
    ASSERT_TRUE(s.start()) << s.log();
    // A keep-alive client: one request answered, then a pause (idle the longest of all below).
    const int keep = open_loopback(s.port());
    ASSERT_GE(keep, 0);
    ASSERT_EQ(health_on(keep), 200);
    // Attackers: header-less connections, newer than the client's pause, three times the limit.
    std::vector<int> attackers;
    for (int i = 0; i < 18; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const int fd = open_loopback(s.port());
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::send(fd, "G", 1, MSG_NOSIGNAL), 1);
        attackers.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    // The client's connection survived all that and is still served.
    EXPECT_EQ(health_on(keep), 200) << "the keep-alive client was evicted in favour of header-less connections";
    // A newcomer is served too (an attacker makes room).
    const int fresh = open_loopback(s.port());
    ASSERT_GE(fresh, 0);
    EXPECT_EQ(health_on(fresh), 200);
    ::close(fresh);
    ::close(keep);
    for (int fd : attackers) ::close(fd);
}

}  // namespace
}  // namespace harmony::test
