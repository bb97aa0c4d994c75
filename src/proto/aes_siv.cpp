// SPDX-License-Identifier: Apache-2.0
#include "proto/aes_siv.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <climits>
#include <vector>

namespace cloudtime::proto {

namespace {

using Block = std::array<std::uint8_t, kSivTagLength>;
constexpr std::size_t kHalfKey = kSivKeyLength / 2;
constexpr std::size_t kBlock = kSivTagLength;
constexpr std::size_t kCounterBlocks = 32;  // CTR key stream made this many blocks at a time
// The longest message a datagram can make (NTS requests and replies are UDP payloads).
constexpr std::size_t kScratchReserve = 65536;

// RFC 5297's doubling in GF(2^128).
Block dbl(const Block& in) {
    Block out{};
    for (std::size_t i = 0; i < in.size(); ++i) {
        const auto carry = i + 1 < in.size() ? static_cast<unsigned>(in[i + 1] >> 7U) : 0U;
        out[i] = static_cast<std::uint8_t>((static_cast<unsigned>(in[i]) << 1U) | carry);
    }
    if ((in[0] & 0x80U) != 0) {
        out[in.size() - 1] ^= 0x87U;
    }
    return out;
}

void xor_into(std::span<std::uint8_t> into, std::span<const std::uint8_t> other) {
    for (std::size_t i = 0; i < into.size(); ++i) {
        into[i] = static_cast<std::uint8_t>(into[i] ^ other[i]);
    }
}

// Encrypts `data` (whole blocks) in place; false unless every octet came out.
bool encrypt_blocks(EVP_CIPHER_CTX* context, std::span<std::uint8_t> data) {
    if (data.empty()) {
        return true;
    }
    int written = 0;
    return data.size() <= static_cast<std::size_t>(INT_MAX) &&
           EVP_EncryptUpdate(context, data.data(), &written, data.data(),
                             static_cast<int>(data.size())) == 1 &&
           static_cast<std::size_t>(written) == data.size();
}

}  // namespace

struct AesSiv::State {
    // One key's contexts: AES-128-CBC under K1 for CMAC, AES-128-ECB under K2 for CTR's key stream.
    // The CBC context is never reset: its chaining value is the last block it put out (`chain`),
    // and a message starts from a zero IV by XORing `chain` into its first block.
    struct Keyed {
        EVP_CIPHER_CTX* cbc = EVP_CIPHER_CTX_new();
        EVP_CIPHER_CTX* ecb = EVP_CIPHER_CTX_new();
        bool valid = false;
        SivKey key{};
        Block chain{};
        Block subkey1{};       // CMAC's K1 = dbl(AES(0)), for a message of whole blocks
        Block subkey2{};       // K2 = dbl(K1), for a padded one
        Block cmac_of_zero{};  // S2V's start, CMAC(0^128)
        std::uint64_t used = 0;

        Keyed() = default;
        ~Keyed() {
            forget();
            EVP_CIPHER_CTX_free(ecb);
            EVP_CIPHER_CTX_free(cbc);
        }
        Keyed(const Keyed&) = delete;
        Keyed& operator=(const Keyed&) = delete;
        Keyed(Keyed&&) = delete;
        Keyed& operator=(Keyed&&) = delete;

        void forget() {
            valid = false;
            OPENSSL_cleanse(key.data(), key.size());
            OPENSSL_cleanse(subkey1.data(), subkey1.size());
            OPENSSL_cleanse(subkey2.data(), subkey2.size());
            OPENSSL_cleanse(cmac_of_zero.data(), cmac_of_zero.size());
        }
    };

    EVP_CIPHER* cbc_cipher = EVP_CIPHER_fetch(nullptr, "AES-128-CBC", nullptr);
    EVP_CIPHER* ecb_cipher = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
    std::array<Keyed, 2> slots;
    std::uint64_t uses = 0;
    std::vector<std::uint8_t> scratch;  // a CMAC's message, encrypted in place

    State() { scratch.reserve(kScratchReserve); }
    ~State() {
        OPENSSL_cleanse(scratch.data(), scratch.size());
        EVP_CIPHER_free(ecb_cipher);
        EVP_CIPHER_free(cbc_cipher);
    }
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    State(State&&) = delete;
    State& operator=(State&&) = delete;

    bool ready() const {
        return cbc_cipher != nullptr && ecb_cipher != nullptr &&
               std::all_of(slots.begin(), slots.end(),
                           [](const Keyed& k) { return k.cbc != nullptr && k.ecb != nullptr; });
    }

    // The slot holding `key`, set up in the least recently used one if none does; null when
    // OpenSSL fails.
    Keyed* use_key(const SivKey& key) {
        ++uses;
        for (auto& slot : slots) {
            if (slot.valid && CRYPTO_memcmp(slot.key.data(), key.data(), key.size()) == 0) {
                slot.used = uses;
                return &slot;
            }
        }
        Keyed& slot =
            *std::min_element(slots.begin(), slots.end(),
                              [](const Keyed& a, const Keyed& b) { return a.used < b.used; });
        slot.forget();
        static constexpr Block kZero{};
        if (EVP_EncryptInit_ex2(slot.cbc, cbc_cipher, key.data(), kZero.data(), nullptr) != 1 ||
            EVP_CIPHER_CTX_set_padding(slot.cbc, 0) != 1 ||
            EVP_EncryptInit_ex2(slot.ecb, ecb_cipher, key.data() + kHalfKey, nullptr, nullptr) !=
                1 ||
            EVP_CIPHER_CTX_set_padding(slot.ecb, 0) != 1) {
            return nullptr;
        }
        slot.chain = {};
        Block l{};  // AES(K1, 0): the zero IV's chain XOR 0
        if (!encrypt_blocks(slot.cbc, l)) {
            return nullptr;
        }
        slot.chain = l;
        slot.subkey1 = dbl(l);
        slot.subkey2 = dbl(slot.subkey1);
        OPENSSL_cleanse(l.data(), l.size());
        slot.key = key;
        slot.valid = true;
        slot.used = uses;
        if (!cmac_of(slot, kZero, nullptr, slot.cmac_of_zero)) {
            slot.forget();
            return nullptr;
        }
        return &slot;
    }

    // AES-CMAC (RFC 4493) under K1 of `data`, its last 16 octets XORed with `xor_end` when that
    // is not null (RFC 5297's xorend; then `data` is at least a block long).
    bool cmac_of(Keyed& k, Octets data, const Block* xor_end, Block& out) {
        const std::size_t blocks = std::max<std::size_t>(1, (data.size() + kBlock - 1) / kBlock);
        const bool whole = !data.empty() && data.size() % kBlock == 0;
        scratch.assign(data.begin(), data.end());
        if (xor_end != nullptr) {
            xor_into(std::span(scratch).last(kBlock), *xor_end);
        }
        // The last block: whole, XOR K1; or padded with 10...0, XOR K2.
        Block last{};
        const std::size_t last_start = (blocks - 1) * kBlock;
        std::copy(scratch.begin() + static_cast<std::ptrdiff_t>(last_start), scratch.end(),
                  last.begin());
        if (!whole) {
            last[data.size() - last_start] = 0x80U;
        }
        xor_into(last, whole ? k.subkey1 : k.subkey2);
        // Blocks before the last, chained from a zero IV; then the last.
        const std::span<std::uint8_t> leading = std::span(scratch).first(last_start);
        xor_into(leading.empty() ? std::span<std::uint8_t>(last) : leading.first(kBlock), k.chain);
        if (!encrypt_blocks(k.cbc, leading) || !encrypt_blocks(k.cbc, last)) {
            k.forget();  // its chaining value is unknown now
            return false;
        }
        k.chain = last;
        out = last;
        return true;
    }

    // S2V (RFC 5297 section 2.4): the associated-data components, then the plaintext.
    bool s2v(Keyed& k, std::initializer_list<Octets> associated, Octets plaintext, Block& v) {
        Block d = k.cmac_of_zero;
        for (const Octets component : associated) {
            Block mac_of_component{};
            if (!cmac_of(k, component, nullptr, mac_of_component)) {
                return false;
            }
            d = dbl(d);
            xor_into(d, mac_of_component);
        }
        if (plaintext.size() >= kBlock) {
            return cmac_of(k, plaintext, &d, v);
        }
        Block t = dbl(d);
        Block padded{};  // plaintext || 10...0
        std::copy(plaintext.begin(), plaintext.end(), padded.begin());
        padded[plaintext.size()] = 0x80U;
        xor_into(t, padded);
        return cmac_of(k, t, nullptr, v);
    }

    // CTR under K2 (section 2.5) from the synthetic IV with bits 63 and 31 cleared: the key
    // stream is AES of the counter blocks, which count in the low 32 bits (bit 31 clear: no
    // carry out of them for less than 2^31 blocks).
    static bool ctr_of(Keyed& k, const Block& v, Octets in, std::span<std::uint8_t> out) {
        Block q = v;
        q[8] &= 0x7fU;
        q[12] &= 0x7fU;
        const std::uint32_t start = (std::uint32_t{q[12]} << 24U) | (std::uint32_t{q[13]} << 16U) |
                                    (std::uint32_t{q[14]} << 8U) | q[15];
        std::array<std::uint8_t, kCounterBlocks * kBlock> stream{};
        std::uint32_t counter = start;
        for (std::size_t done = 0; done < in.size();) {
            const std::size_t n = std::min(in.size() - done, stream.size());
            const std::size_t blocks = (n + kBlock - 1) / kBlock;
            for (std::size_t b = 0; b < blocks; ++b, ++counter) {
                auto* block = stream.data() + b * kBlock;
                std::copy(q.begin(), q.begin() + 12, block);
                block[12] = static_cast<std::uint8_t>(counter >> 24U);
                block[13] = static_cast<std::uint8_t>(counter >> 16U);
                block[14] = static_cast<std::uint8_t>(counter >> 8U);
                block[15] = static_cast<std::uint8_t>(counter);
            }
            if (!encrypt_blocks(k.ecb, std::span(stream).first(blocks * kBlock))) {
                return false;
            }
            std::copy_n(in.begin() + static_cast<std::ptrdiff_t>(done), n,
                        out.begin() + static_cast<std::ptrdiff_t>(done));
            xor_into(out.subspan(done, n), std::span(stream).first(n));
            done += n;
        }
        OPENSSL_cleanse(stream.data(), stream.size());
        return true;
    }
};

AesSiv::AesSiv() : state_(std::make_unique<State>()) {}
AesSiv::~AesSiv() = default;
AesSiv::AesSiv(AesSiv&&) noexcept = default;
AesSiv& AesSiv::operator=(AesSiv&&) noexcept = default;

bool AesSiv::available() const {
    return state_ && state_->ready();
}

bool AesSiv::seal(const SivKey& key, std::initializer_list<Octets> associated, Octets plaintext,
                  std::span<std::uint8_t> out) {
    if (!available() || out.size() != plaintext.size() + kSivTagLength) {
        return false;
    }
    State::Keyed* k = state_->use_key(key);
    Block v{};
    if (k == nullptr || !state_->s2v(*k, associated, plaintext, v)) {
        return false;
    }
    std::copy(v.begin(), v.end(), out.begin());
    return State::ctr_of(*k, v, plaintext, out.subspan(kSivTagLength));
}

bool AesSiv::open(const SivKey& key, std::initializer_list<Octets> associated, Octets ciphertext,
                  std::span<std::uint8_t> out) {
    if (!available() || ciphertext.size() < kSivTagLength ||
        out.size() != ciphertext.size() - kSivTagLength) {
        return false;
    }
    State::Keyed* k = state_->use_key(key);
    Block v{};
    std::copy_n(ciphertext.begin(), kSivTagLength, v.begin());
    Block expected{};
    if (k == nullptr || !State::ctr_of(*k, v, ciphertext.subspan(kSivTagLength), out) ||
        !state_->s2v(*k, associated, out, expected) ||
        CRYPTO_memcmp(expected.data(), v.data(), v.size()) != 0) {
        // Nothing of a forgery's decryption is handed out.
        OPENSSL_cleanse(out.data(), out.size());
        return false;
    }
    return true;
}

}  // namespace cloudtime::proto
