// SPDX-License-Identifier: Apache-2.0

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "http/http_get.hpp"

namespace cloudtime::sys {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// Serves `answer` in one write to each client, after reading its request; gives up after
// 10 s so that a failing test does not hang.
class OneShotServer {
  public:
    explicit OneShotServer(std::string answer)
        : answer_(std::move(answer)),
          acceptor_(io_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)),
          thread_([this] {
              accept_next();
              io_.run_for(std::chrono::seconds(10));
          }) {}
    OneShotServer(const OneShotServer&) = delete;
    OneShotServer& operator=(const OneShotServer&) = delete;
    ~OneShotServer() {
        net::post(io_, [this] { io_.stop(); });
        thread_.join();
    }

    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/x";
    }

  private:
    void accept_next() {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket peer) {
            if (ec) {
                return;
            }
            boost::system::error_code ignored;
            std::array<char, 4096> request{};
            (void)peer.read_some(net::buffer(request), ignored);
            (void)net::write(peer, net::buffer(answer_), ignored);
            accept_next();
        });
    }

    std::string answer_;
    net::io_context io_;
    tcp::acceptor acceptor_;
    std::thread thread_;
};

std::string answer_with_body(std::size_t size) {
    return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n" +
           std::string(size, 'x');
}

// The header and the whole body in one segment: the case Boost 1.74's eager parser let through.
TEST(HttpGet, BodyOverTheLimitIsRefusedEvenWhenItArrivesWithTheHeader) {
    constexpr int kTries = 5;
    OneShotServer server(answer_with_body(std::size_t{64} * 1024));
    for (int i = 0; i < kTries; ++i) {
        const auto response = http_get(server.url(), 5.0, 1024);
        ASSERT_FALSE(response) << "took a body of " << response->body.size() << " octets";
        EXPECT_EQ(response.error(), "no complete answer: body limit exceeded");
    }
}

TEST(HttpGet, BodyWithinTheLimitIsReadWhole) {
    OneShotServer server(answer_with_body(1024));
    const auto response = http_get(server.url(), 5.0, 1024);
    ASSERT_TRUE(response) << response.error();
    EXPECT_EQ(response->status, 200U);
    EXPECT_EQ(response->body, std::string(1024, 'x'));
}

}  // namespace
}  // namespace cloudtime::sys
