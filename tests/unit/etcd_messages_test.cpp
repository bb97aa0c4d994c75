// SPDX-License-Identifier: Apache-2.0

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "peers/etcd_messages.hpp"
#include "util/base64.hpp"

namespace cloudtime::sys {
namespace {

TEST(EtcdMessages, RangeAnswersAsEtcdWritesThem) {
    // etcd 3.4's gateway: numbers as strings, the value base64.
    const std::string answer =
        R"({"header":{"cluster_id":"1","revision":"42"},"kvs":[{"key":")" + base64("k") +
        R"(","create_revision":"5","mod_revision":"41","version":"3","value":")" +
        base64("secret\n") + R"("}],"count":"1"})";
    const auto read = read_range_answer(answer);
    ASSERT_TRUE(read) << read.error();
    EXPECT_EQ(read->revision, 42);
    ASSERT_TRUE(read->value);
    EXPECT_EQ(read->value->value, "secret\n");
    EXPECT_EQ(read->value->mod_revision, 41);
    // No such key: no "kvs" at all.
    const auto none = read_range_answer(R"({"header":{"revision":"7"}})");
    ASSERT_TRUE(none) << none.error();
    EXPECT_FALSE(none->value);
    EXPECT_EQ(none->revision, 7);
}

TEST(EtcdMessages, TransactionAnswers) {
    EXPECT_EQ(read_txn_answer(R"({"header":{"revision":"9"},"succeeded":true})").value(), true);
    // etcd leaves a false out.
    EXPECT_EQ(read_txn_answer(R"({"header":{"revision":"9"}})").value(), false);
}

// What a broken or hostile endpoint answers is an error, never an exception: a "succeeded"
// that was no boolean ended the key store's thread, and the daemon, with an uncaught
// nlohmann type_error; a revision of 20 digits with std::out_of_range.
TEST(EtcdMessages, BrokenAnswersAreErrorsNotExceptions) {
    for (const char* body : {R"({"header":{},"succeeded":"yes"})", R"({"header":{},"succeeded":1})",
                             "", "null", "[]", R"({"header":[]})", R"({"succeeded":true})"}) {
        Expected<bool> read = Error{"not read"};
        EXPECT_NO_THROW(read = read_txn_answer(body)) << body;
        EXPECT_FALSE(read) << body;
    }
    for (const char* body :
         {R"({"header":{"revision":"99999999999999999999"}})", R"({"header":{"revision":"x"}})",
          R"({"header":{"revision":true}})", R"({"header":{},"kvs":{"0":{}}})",
          R"({"header":{},"kvs":[1]})", R"({"header":{},"kvs":[{"value":7}]})",
          R"({"header":{},"kvs":[{"value":"###"}]})",
          R"({"header":{},"kvs":[{"value":"","mod_revision":[]}]})", "{", R"({"kvs":[]})"}) {
        Expected<EtcdRead> read = Error{"not read"};
        EXPECT_NO_THROW(read = read_range_answer(body)) << body;
        EXPECT_FALSE(read) << body;
    }
}

TEST(EtcdMessages, RequestsCarryTheKeyAndTheRevisionAsEtcdReadsThem) {
    const auto txn = nlohmann::json::parse(txn_request("/cloudtime/nts", "v", 12));
    EXPECT_EQ(txn["compare"][0]["key"], base64("/cloudtime/nts"));
    EXPECT_EQ(txn["compare"][0]["mod_revision"], "12");
    EXPECT_EQ(txn["success"][0]["request_put"]["value"], base64("v"));
    EXPECT_EQ(nlohmann::json::parse(watch_request("k", 12))["create_request"]["start_revision"],
              "13");
    EXPECT_EQ(decode_base64(base64(std::string("\0\xff", 2))), std::string("\0\xff", 2));
}

}  // namespace
}  // namespace cloudtime::sys
