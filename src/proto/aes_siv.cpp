#include "proto/aes_siv.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <climits>
#include <optional>

namespace cloudtime::proto {

namespace {

using Block = std::array<std::uint8_t, kSivTagLength>;
constexpr std::size_t kHalfKey = kSivKeyLength / 2;

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

void xor_into(Block& into, const std::uint8_t* other) {
    for (std::size_t i = 0; i < into.size(); ++i) {
        into[i] = static_cast<std::uint8_t>(into[i] ^ other[i]);
    }
}

}  // namespace

struct AesSiv::State {
    EVP_CIPHER* ctr_cipher = EVP_CIPHER_fetch(nullptr, "AES-128-CTR", nullptr);
    EVP_CIPHER_CTX* ctr = EVP_CIPHER_CTX_new();
    EVP_MAC* cmac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
    EVP_MAC_CTX* mac = cmac != nullptr ? EVP_MAC_CTX_new(cmac) : nullptr;
    bool ready = false;
    // The key both contexts hold, and its S2V start value CMAC(K1, 0^128).
    std::optional<SivKey> key;
    Block cmac_of_zero{};

    State() {
        char cipher_name[] = "AES-128-CBC";
        const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher_name, 0),
            OSSL_PARAM_construct_end()};
        ready = ctr_cipher != nullptr && ctr != nullptr && mac != nullptr &&
                EVP_MAC_CTX_set_params(mac, params) == 1;
    }
    ~State() {
        forget_key();
        EVP_MAC_CTX_free(mac);
        EVP_MAC_free(cmac);
        EVP_CIPHER_CTX_free(ctr);
        EVP_CIPHER_free(ctr_cipher);
    }
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    State(State&&) = delete;
    State& operator=(State&&) = delete;

    void forget_key() {
        if (key) {
            OPENSSL_cleanse(key->data(), key->size());
            OPENSSL_cleanse(cmac_of_zero.data(), cmac_of_zero.size());
            key.reset();
        }
    }

    // K1 into the CMAC context and K2 into the CTR context, unless they hold this key already.
    bool use_key(const SivKey& k) {
        if (key && CRYPTO_memcmp(key->data(), k.data(), k.size()) == 0) {
            return true;
        }
        forget_key();
        if (EVP_MAC_init(mac, k.data(), kHalfKey, nullptr) != 1 ||
            EVP_EncryptInit_ex2(ctr, ctr_cipher, k.data() + kHalfKey, nullptr, nullptr) != 1) {
            return false;
        }
        static constexpr Block kZero{};
        if (!cmac_of(kZero, nullptr, cmac_of_zero)) {
            return false;
        }
        key = k;
        return true;
    }

    // AES-CMAC under K1 of `data`, its last 16 octets XORed with `xor_end` when that is not
    // null (RFC 5297's xorend). The context restarts with the key it holds.
    bool cmac_of(Octets data, const Block* xor_end, Block& out) {
        if (EVP_MAC_init(mac, nullptr, 0, nullptr) != 1) {
            return false;
        }
        Octets head = data;
        Block tail{};
        if (xor_end != nullptr) {
            head = data.first(data.size() - tail.size());
            std::copy(data.end() - static_cast<std::ptrdiff_t>(tail.size()), data.end(),
                      tail.begin());
            xor_into(tail, xor_end->data());
        }
        if ((!head.empty() && EVP_MAC_update(mac, head.data(), head.size()) != 1) ||
            (xor_end != nullptr && EVP_MAC_update(mac, tail.data(), tail.size()) != 1)) {
            return false;
        }
        std::size_t written = 0;
        return EVP_MAC_final(mac, out.data(), &written, out.size()) == 1 && written == out.size();
    }

    // S2V (RFC 5297 section 2.4): the associated-data components, then the plaintext.
    bool s2v(std::initializer_list<Octets> associated, Octets plaintext, Block& v) {
        Block d = cmac_of_zero;
        for (const Octets component : associated) {
            Block mac_of_component{};
            if (!cmac_of(component, nullptr, mac_of_component)) {
                return false;
            }
            d = dbl(d);
            xor_into(d, mac_of_component.data());
        }
        if (plaintext.size() >= kSivTagLength) {
            return cmac_of(plaintext, &d, v);
        }
        Block t = dbl(d);
        Block padded{};  // plaintext || 10...0
        std::copy(plaintext.begin(), plaintext.end(), padded.begin());
        padded[plaintext.size()] = 0x80U;
        xor_into(t, padded.data());
        return cmac_of(t, nullptr, v);
    }

    // AES-128-CTR under K2 from the synthetic IV with bits 63 and 31 cleared (section 2.5).
    bool ctr_of(const Block& v, Octets in, std::span<std::uint8_t> out) {
        Block q = v;
        q[8] &= 0x7fU;
        q[12] &= 0x7fU;
        int written = 0;
        return EVP_EncryptInit_ex2(ctr, nullptr, nullptr, q.data(), nullptr) == 1 &&
               (in.empty() || (EVP_EncryptUpdate(ctr, out.data(), &written, in.data(),
                                                 static_cast<int>(in.size())) == 1 &&
                               static_cast<std::size_t>(written) == in.size()));
    }
};

AesSiv::AesSiv() : state_(std::make_unique<State>()) {}
AesSiv::~AesSiv() = default;
AesSiv::AesSiv(AesSiv&&) noexcept = default;
AesSiv& AesSiv::operator=(AesSiv&&) noexcept = default;

bool AesSiv::available() const {
    return state_ && state_->ready;
}

bool AesSiv::seal(const SivKey& key, std::initializer_list<Octets> associated, Octets plaintext,
                  std::span<std::uint8_t> out) {
    if (!available() || out.size() != plaintext.size() + kSivTagLength ||
        plaintext.size() > static_cast<std::size_t>(INT_MAX) || !state_->use_key(key)) {
        return false;
    }
    Block v{};
    if (!state_->s2v(associated, plaintext, v)) {
        return false;
    }
    std::copy(v.begin(), v.end(), out.begin());
    return state_->ctr_of(v, plaintext, out.subspan(kSivTagLength));
}

bool AesSiv::open(const SivKey& key, std::initializer_list<Octets> associated, Octets ciphertext,
                  std::span<std::uint8_t> out) {
    if (!available() || ciphertext.size() < kSivTagLength ||
        out.size() != ciphertext.size() - kSivTagLength ||
        ciphertext.size() > static_cast<std::size_t>(INT_MAX) || !state_->use_key(key)) {
        return false;
    }
    Block v{};
    std::copy_n(ciphertext.begin(), kSivTagLength, v.begin());
    Block expected{};
    if (!state_->ctr_of(v, ciphertext.subspan(kSivTagLength), out) ||
        !state_->s2v(associated, out, expected) ||
        CRYPTO_memcmp(expected.data(), v.data(), v.size()) != 0) {
        // Nothing of a forgery's decryption is handed out.
        OPENSSL_cleanse(out.data(), out.size());
        return false;
    }
    return true;
}

}  // namespace cloudtime::proto
