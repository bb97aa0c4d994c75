// SPDX-License-Identifier: Apache-2.0
#include "proto/aes_siv.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cloudtime::proto {
namespace {

std::vector<std::uint8_t> hex(const std::string& text) {
    std::vector<std::uint8_t> out;
    std::string digits;
    for (const char c : text) {
        if (c != ' ') {
            digits += c;
        }
    }
    for (std::size_t i = 0; i + 1 < digits.size(); i += 2) {
        out.push_back(static_cast<std::uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
    }
    return out;
}

SivKey key_of(const std::string& text) {
    SivKey key{};
    const auto octets = hex(text);
    std::copy(octets.begin(), octets.end(), key.begin());
    return key;
}

std::vector<std::uint8_t> sealed(AesSiv& siv, const SivKey& key,
                                 std::initializer_list<Octets> associated, Octets plaintext) {
    std::vector<std::uint8_t> out(plaintext.size() + kSivTagLength);
    EXPECT_TRUE(siv.seal(key, associated, plaintext, out));
    return out;
}

TEST(AesSiv, Rfc5297DeterministicVector) {
    // RFC 5297 appendix A.1.
    AesSiv siv;
    ASSERT_TRUE(siv.available());
    const SivKey key =
        key_of("fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0 f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff");
    const auto ad = hex("10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627");
    const auto plaintext = hex("11223344 55667788 99aabbcc ddee");
    const auto expected =
        hex("85632d07 c6e8f37f 950acd32 0a2ecc93 40c02b96 90c4dc04 daef7f6a fe5c");
    EXPECT_EQ(sealed(siv, key, {ad}, plaintext), expected);
    std::vector<std::uint8_t> opened(plaintext.size());
    EXPECT_TRUE(siv.open(key, {ad}, expected, opened));
    EXPECT_EQ(opened, plaintext);
}

TEST(AesSiv, Rfc5297NonceBasedVector) {
    // RFC 5297 appendix A.2: two associated-data components, then the nonce as the last.
    AesSiv siv;
    const SivKey key =
        key_of("7f7e7d7c 7b7a7978 77767574 73727170 40414243 44454647 48494a4b 4c4d4e4f");
    const auto ad1 =
        hex("00112233 44556677 8899aabb ccddeeff deaddada deaddada ffeeddcc bbaa9988 77665544 "
            "33221100");
    const auto ad2 = hex("10203040 50607080 90a0");
    const auto nonce = hex("09f91102 9d74e35b d84156c5 635688c0");
    const auto plaintext =
        hex("74686973 20697320 736f6d65 20706c61 696e7465 78742074 6f20656e 63727970 74207573 "
            "696e6720 5349562d 414553");
    const auto expected =
        hex("7bdb6e3b 432667eb 06f4d14b ff2fbd0f cb900f2f ddbe4043 26601965 c889bf17 dba77ceb "
            "094fa663 b7a3f748 ba8af829 ea64ad54 4a272e9c 485b62a3 fd5c0d");
    EXPECT_EQ(sealed(siv, key, {ad1, ad2, nonce}, plaintext), expected);
    // The same without a plaintext (python3-cryptography's AESSIV gives this value).
    EXPECT_EQ(sealed(siv, key, {ad1, ad2, nonce}, {}), hex("86562183257fdf3130419a0a5d3ef6b8"));
}

TEST(AesSiv, EmptyPlaintextIsATagOverTheAssociatedData) {
    // What an NTS client's request carries: nothing encrypted, the packet authenticated.
    // Expected value from python3-cryptography's AESSIV (another implementation).
    AesSiv siv;
    SivKey key{};
    for (std::size_t i = 0; i < key.size(); ++i) {
        key[i] = static_cast<std::uint8_t>(i);
    }
    const std::string header = "header";
    const std::vector<std::uint8_t> ad(header.begin(), header.end());
    const std::vector<std::uint8_t> nonce(16, 0);
    const auto tag = sealed(siv, key, {ad, nonce}, {});
    EXPECT_EQ(tag, hex("c3db0722d44229f6ffe7c575491b6c78"));
    std::vector<std::uint8_t> nothing;
    EXPECT_TRUE(siv.open(key, {ad, nonce}, tag, nothing));
    auto forged = tag;
    forged[3] ^= 1U;
    EXPECT_FALSE(siv.open(key, {ad, nonce}, forged, nothing));
    const std::vector<std::uint8_t> other_nonce(16, 1);
    EXPECT_FALSE(siv.open(key, {ad, other_nonce}, tag, nothing));
}

TEST(AesSiv, RejectsTamperingAndWrongSizes) {
    AesSiv siv;
    SivKey key{};
    key[0] = 7;
    const std::vector<std::uint8_t> ad{1, 2, 3, 4};
    const std::vector<std::uint8_t> plaintext(64, 0x5a);
    auto box = sealed(siv, key, {ad}, plaintext);
    std::vector<std::uint8_t> opened(plaintext.size());
    ASSERT_TRUE(siv.open(key, {ad}, box, opened));
    EXPECT_EQ(opened, plaintext);
    box.back() ^= 0x80U;  // the ciphertext, not the tag
    EXPECT_FALSE(siv.open(key, {ad}, box, opened));
    box.back() ^= 0x80U;
    SivKey other = key;
    other[31] = 1;
    EXPECT_FALSE(siv.open(other, {ad}, box, opened));
    const std::vector<std::uint8_t> other_ad{1, 2, 3, 5};
    EXPECT_FALSE(siv.open(key, {other_ad}, box, opened));
    std::vector<std::uint8_t> short_out(plaintext.size() - 1);
    EXPECT_FALSE(siv.open(key, {ad}, box, short_out));
    EXPECT_FALSE(siv.open(key, {ad}, Octets(box).first(kSivTagLength - 1), short_out));
    std::vector<std::uint8_t> wrong(plaintext.size());
    EXPECT_FALSE(siv.seal(key, {ad}, plaintext, wrong));
    // The same context serves the next call after a failure.
    EXPECT_TRUE(siv.open(key, {ad}, box, opened));
}

TEST(AesSiv, EmptyAssociatedComponentsCount) {
    // An empty component is a component (RFC 5297): the value differs from the same call
    // without it. Expected value from python3-cryptography's AESSIV.
    AesSiv siv;
    SivKey key{};
    for (std::size_t i = 0; i < key.size(); ++i) {
        key[i] = static_cast<std::uint8_t>(i);
    }
    const std::vector<std::uint8_t> nonce(16, 0);
    const std::vector<std::uint8_t> plaintext{1, 2, 3};
    std::vector<std::uint8_t> out(plaintext.size() + kSivTagLength);
    EXPECT_TRUE(siv.seal(key, {Octets{}, nonce}, plaintext, out));
    EXPECT_EQ(out, hex("80ec11ac69e670a26bf65bd354e95153e811d4"));
    EXPECT_TRUE(siv.seal(key, {nonce}, plaintext, out));
    EXPECT_EQ(out, hex("2ebe42fe84f553932516e14a4ec113fffa1d44"));
}

TEST(AesSiv, PlaintextsAroundOneBlock) {
    // S2V pads a plaintext shorter than a block and XORs the end of a longer one: 16 and 17
    // octets, with values from python3-cryptography's AESSIV.
    AesSiv siv;
    SivKey key{};
    for (std::size_t i = 0; i < key.size(); ++i) {
        key[i] = static_cast<std::uint8_t>(i);
    }
    const std::vector<std::uint8_t> ad{'a', 'd'};
    const std::vector<std::uint8_t> nonce(16, 0);
    std::vector<std::uint8_t> plaintext(16);
    for (std::size_t i = 0; i < plaintext.size(); ++i) {
        plaintext[i] = static_cast<std::uint8_t>(i);
    }
    EXPECT_EQ(sealed(siv, key, {ad, nonce}, plaintext),
              hex("8e724b7dc3264330bec9ff9854c11707571dcd2bf83fbc52da77e0c21ed8270f"));
    plaintext.push_back(16);
    EXPECT_EQ(sealed(siv, key, {ad, nonce}, plaintext),
              hex("d97f8e4ec072222a06c0bfeea631db0c1bc623109d22c74411249b3e1fdb865893"));
}

TEST(AesSiv, AlternatingKeysGiveWhatAFreshInstanceGives) {
    // The instance keeps the last key set up: a change of key, and back, must not mix them.
    SivKey first{};
    SivKey second{};
    first[0] = 1;
    second[31] = 1;  // differs in the CTR half only
    const std::vector<std::uint8_t> nonce(16, 3);
    const std::vector<std::uint8_t> plaintext(40, 0x11);
    AesSiv fresh_first;
    AesSiv fresh_second;
    const auto under_first = sealed(fresh_first, first, {nonce}, plaintext);
    const auto under_second = sealed(fresh_second, second, {nonce}, plaintext);
    EXPECT_NE(under_first, under_second);
    AesSiv siv;
    for (int round = 0; round < 3; ++round) {
        EXPECT_EQ(sealed(siv, first, {nonce}, plaintext), under_first);
        EXPECT_EQ(sealed(siv, first, {nonce}, plaintext), under_first);
        EXPECT_EQ(sealed(siv, second, {nonce}, plaintext), under_second);
    }
    std::vector<std::uint8_t> opened(plaintext.size());
    EXPECT_FALSE(siv.open(first, {nonce}, under_second, opened));
    EXPECT_TRUE(siv.open(second, {nonce}, under_second, opened));
    EXPECT_TRUE(siv.open(first, {nonce}, under_first, opened));
    EXPECT_EQ(opened, plaintext);
}

TEST(AesSiv, AForgeryOpensToNothing) {
    AesSiv siv;
    SivKey key{};
    key[5] = 9;
    const std::vector<std::uint8_t> nonce(16, 0);
    const std::vector<std::uint8_t> plaintext(32, 0x77);
    auto box = sealed(siv, key, {nonce}, plaintext);
    box[0] ^= 1U;  // the tag: decryption runs, verification fails
    std::vector<std::uint8_t> opened(plaintext.size(), 0xee);
    EXPECT_FALSE(siv.open(key, {nonce}, box, opened));
    EXPECT_EQ(opened, std::vector<std::uint8_t>(plaintext.size(), 0));
}

}  // namespace
}  // namespace cloudtime::proto
