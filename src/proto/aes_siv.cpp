#include "proto/aes_siv.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <climits>

namespace cloudtime::proto {

namespace {

using Block = std::array<std::uint8_t, kSivTagLength>;

bool fits_int(std::size_t n) {
    return n <= static_cast<std::size_t>(INT_MAX);
}

// OpenSSL takes a null input for "no data" rather than for an empty component.
const std::uint8_t* nonnull(Octets octets) {
    static constexpr std::uint8_t kNothing = 0;
    return octets.empty() ? &kNothing : octets.data();
}

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

}  // namespace

struct AesSiv::State {
    EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-128-SIV", nullptr);
    EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
    EVP_MAC* cmac = EVP_MAC_fetch(nullptr, "CMAC", nullptr);
    EVP_MAC_CTX* mac = cmac != nullptr ? EVP_MAC_CTX_new(cmac) : nullptr;

    State() = default;
    ~State() {
        EVP_MAC_CTX_free(mac);
        EVP_MAC_free(cmac);
        EVP_CIPHER_CTX_free(context);
        EVP_CIPHER_free(cipher);
    }
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    State(State&&) = delete;
    State& operator=(State&&) = delete;

    // AES-CMAC of `parts` (concatenated) under the key's first half, RFC 5297's K1.
    bool cmac_of(const SivKey& key, std::initializer_list<Octets> parts, Block& out) {
        char cipher_name[] = "AES-128-CBC";
        const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_CIPHER, cipher_name, 0),
            OSSL_PARAM_construct_end()};
        if (EVP_MAC_init(mac, key.data(), kSivKeyLength / 2, params) != 1) {
            return false;
        }
        for (const Octets part : parts) {
            if (!part.empty() && EVP_MAC_update(mac, part.data(), part.size()) != 1) {
                return false;
            }
        }
        std::size_t written = 0;
        return EVP_MAC_final(mac, out.data(), &written, out.size()) == 1 && written == out.size();
    }

    // S2V (RFC 5297 section 2.4) with an empty plaintext as the last component, which is what
    // OpenSSL's SIV cannot take (it ignores an empty update and then fails): the tag alone.
    bool s2v_without_plaintext(const SivKey& key, std::initializer_list<Octets> associated,
                               Block& tag) {
        static constexpr Block kZero{};
        Block d{};
        if (!cmac_of(key, {kZero}, d)) {
            return false;
        }
        for (const Octets component : associated) {
            Block mac_of_component{};
            if (!cmac_of(key, {component}, mac_of_component)) {
                return false;
            }
            d = dbl(d);
            for (std::size_t i = 0; i < d.size(); ++i) {
                d[i] ^= mac_of_component[i];
            }
        }
        Block t = dbl(d);
        t[0] ^= 0x80U;  // pad(empty) = 10...0
        return cmac_of(key, {t}, tag);
    }
};

AesSiv::AesSiv() : state_(std::make_unique<State>()) {}
AesSiv::~AesSiv() = default;
AesSiv::AesSiv(AesSiv&&) noexcept = default;
AesSiv& AesSiv::operator=(AesSiv&&) noexcept = default;

bool AesSiv::available() const {
    return state_ && state_->cipher != nullptr && state_->context != nullptr &&
           state_->mac != nullptr;
}

namespace {

// Each call adds one associated-data component (OpenSSL's SIV: an update without output).
bool add_associated(EVP_CIPHER_CTX* context, std::initializer_list<Octets> associated,
                    bool encrypt) {
    for (const Octets component : associated) {
        int written = 0;
        if (!fits_int(component.size())) {
            return false;
        }
        const int n = static_cast<int>(component.size());
        const int ok = encrypt
                           ? EVP_EncryptUpdate(context, nullptr, &written, nonnull(component), n)
                           : EVP_DecryptUpdate(context, nullptr, &written, nonnull(component), n);
        if (ok != 1) {
            return false;
        }
    }
    return true;
}

}  // namespace

bool AesSiv::seal(const SivKey& key, std::initializer_list<Octets> associated, Octets plaintext,
                  std::span<std::uint8_t> out) {
    if (!available() || out.size() != plaintext.size() + kSivTagLength ||
        !fits_int(plaintext.size())) {
        return false;
    }
    if (plaintext.empty()) {
        Block tag{};
        if (!state_->s2v_without_plaintext(key, associated, tag)) {
            return false;
        }
        std::copy(tag.begin(), tag.end(), out.begin());
        return true;
    }
    EVP_CIPHER_CTX* context = state_->context;
    if (EVP_EncryptInit_ex2(context, state_->cipher, key.data(), nullptr, nullptr) != 1 ||
        !add_associated(context, associated, true)) {
        return false;
    }
    int written = 0;
    // The plaintext goes in one update: SIV computes its tag over all of it.
    if (EVP_EncryptUpdate(context, out.data() + kSivTagLength, &written, plaintext.data(),
                          static_cast<int>(plaintext.size())) != 1 ||
        EVP_EncryptFinal_ex(context, out.data() + kSivTagLength + written, &written) != 1) {
        return false;
    }
    return EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(kSivTagLength),
                               out.data()) == 1;
}

bool AesSiv::open(const SivKey& key, std::initializer_list<Octets> associated, Octets ciphertext,
                  std::span<std::uint8_t> out) {
    if (!available() || ciphertext.size() < kSivTagLength ||
        out.size() != ciphertext.size() - kSivTagLength || !fits_int(ciphertext.size())) {
        return false;
    }
    if (out.empty()) {
        Block tag{};
        return state_->s2v_without_plaintext(key, associated, tag) &&
               CRYPTO_memcmp(tag.data(), ciphertext.data(), tag.size()) == 0;
    }
    EVP_CIPHER_CTX* context = state_->context;
    // OpenSSL's SIV wants the tag before anything else, and only from a writable buffer.
    Block tag{};
    std::copy_n(ciphertext.begin(), kSivTagLength, tag.begin());
    if (EVP_DecryptInit_ex2(context, state_->cipher, key.data(), nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(kSivTagLength),
                            tag.data()) != 1 ||
        !add_associated(context, associated, false)) {
        return false;
    }
    int written = 0;
    const Octets body = ciphertext.subspan(kSivTagLength);
    if (EVP_DecryptUpdate(context, out.data(), &written, body.data(),
                          static_cast<int>(body.size())) != 1) {
        return false;
    }
    return EVP_DecryptFinal_ex(context, out.data() + written, &written) == 1;
}

}  // namespace cloudtime::proto
