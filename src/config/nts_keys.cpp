// SPDX-License-Identifier: Apache-2.0
// The keys of [nts]: Network Time Security (RFC 8915) key establishment, its certificate and
// the cookie keys' store and rotation.
#include "config/config_keys.hpp"
#include "proto/nts_key_set.hpp"

namespace cloudtime::config {

namespace {

constexpr std::int64_t kMinRotation = 2;                       // seconds; tests rotate fast
constexpr std::int64_t kMaxRotation = proto::kMaxNtsRotation;  // a year: what a key set holds
constexpr std::int64_t kMaxConnections = 1'000'000;
constexpr std::int64_t kMaxTimeoutMs = 60'000;

Status read_key_store(const KeyReading& v, std::string& out) {
    return v.choose(std::array<std::string, 2>{"file", "etcd"}, out);
}

Status check_nts(const TomlReader& reader, const toml::table& table, const Config& c) {
    const auto& nts = c.nts;
    if (nts.enabled && (nts.certificate.empty() || nts.private_key.empty())) {
        return reader.fail(table.source(),
                           "nts.enabled needs nts.certificate (a PEM chain) and nts.private_key");
    }
    if (nts.key_store == "etcd" && nts.etcd_endpoints.empty()) {
        return reader.fail(table.source(), "nts.key_store = \"etcd\" needs nts.etcd_endpoints");
    }
    if (nts.etcd_certificate.empty() != nts.etcd_private_key.empty()) {
        return reader.fail(table.source(),
                           "nts.etcd_certificate and nts.etcd_private_key go together");
    }
    return Done{};
}

const ConfigKey kNtsKeys[] = {
    {.name = "enabled",
     .value = "false",
     .type = KeyType::boolean,
     .reload = KeyReload::restart,
     .summary = "NTS-KE over TLS 1.3 (ALPN ntske/1) beside each server.listen address",
     .doc = "NTS-KE over TLS 1.3 (ALPN `ntske/1`, AEAD_AES_SIV_CMAC_256) on `ke_port` beside every "
            "`server.listen` address, and beside every address served inside a tenant network (not "
            "routers served through the redirect). The certificate must name the address clients "
            "ask (`subjectAltName=IP:169.254.169.254` for tenant networks).",
     .read = [](const KeyReading& v, Config& c) { return v.boolean(c.nts.enabled); },
     .same = [](const Config& a, const Config& b) { return a.nts.enabled == b.nts.enabled; }},
    {.name = "certificate",
     .value = "\"\"",
     .type = KeyType::other,
     .kind = "string: a path",
     .summary = "PEM chain the clients verify (an IP subjectAltName works for chrony)",
     .doc = "PEM certificate chain the clients verify; chrony 4.3 accepts an IP address in "
            "subjectAltName. Read at start (as root) and again on SIGHUP (as the daemon's user: "
            "keep it readable by it). A reload whose certificate and key are not a usable pair is "
            "rejected whole before anything is applied: `cloudtime reload` exits 1 with the "
            "reason, the running configuration and certificate serve on.",
     .read = [](const KeyReading& v, Config& c) { return v.text(c.nts.certificate); }},
    {.name = "private_key",
     .value = "\"\"",
     .type = KeyType::other,
     .kind = "string: a path",
     .summary = "its PEM key",
     .doc = "its PEM private key.",
     .read = [](const KeyReading& v, Config& c) { return v.text(c.nts.private_key); }},
    {.name = "ke_port",
     .value = "4460",
     .type = KeyType::integer,
     .reload = KeyReload::restart,
     .lo = 1,
     .hi = 65535,
     .summary = "TCP port of NTS-KE",
     .doc = "TCP port of NTS-KE.",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.nts.ke_port); },
     .same = [](const Config& a, const Config& b) { return a.nts.ke_port == b.nts.ke_port; }},
    {.name = "key_store",
     .value = "\"file\"",
     .type = KeyType::choice,
     .reload = KeyReload::restart,
     .choices = "file etcd",
     .summary = "where the cookie master keys live: \"file\", or \"etcd\" (a fleet)",
     .doc = "where the cookie master keys live: `\"file\"` (one host) or `\"etcd\"` (a fleet: one "
            "etcd key holds the set; whichever instance finds a rotation due writes the next set "
            "with a compare-and-swap transaction, every instance watches the key; the last set "
            "seen is also written to `key_file`, so that a restart while etcd is unreachable "
            "starts with it — without etcd and without that file, the daemon does not start). With "
            "etcd unreachable the keys held serve on (the current one past its period, the "
            "previous ones until their lifetime ends), logged once per outage and shown in "
            "`nts.keys.store`. Instances should share `rotation`.",
     .read = [](const KeyReading& v, Config& c) { return read_key_store(v, c.nts.key_store); },
     .same = [](const Config& a, const Config& b) { return a.nts.key_store == b.nts.key_store; }},
    {.name = "key_file",
     .value = "\"/var/lib/cloudtime/nts-keys\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "string: an absolute path",
     .summary = "0600, made and rotated by cloudtimed (etcd: its cache)",
     .doc =
         "the keys: made at the first start, rotated by the daemon as its own user (so its "
         "directory must be the user's), written 0600 (fsync, rename); a file others can read is "
         "refused. Survives restarts: cookies issued before a restart stay valid. Never logged.",
     .read = [](const KeyReading& v, Config& c) { return v.absolute_path(c.nts.key_file); },
     .same = [](const Config& a, const Config& b) { return a.nts.key_file == b.nts.key_file; }},
    {.name = "etcd_endpoints",
     .value = "[]",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "array of \"http(s)://ADDRESS:PORT\"",
     .summary = "key_store = \"etcd\": \"https://ADDRESS:PORT\" of each member",
     .doc = "etcd members' client URLs, `http://ADDRESS:PORT` or `https://ADDRESS:PORT` (IP "
            "addresses: no name is resolved); tried in turn, the last one that answered first. "
            "Through etcd's v3 JSON gateway (etcd 3.4, Debian 12's `etcd-server`).",
     .read = [](const KeyReading& v, Config& c) { return v.strings(c.nts.etcd_endpoints); },
     .same = [](const Config& a,
                const Config& b) { return a.nts.etcd_endpoints == b.nts.etcd_endpoints; }},
    {.name = "etcd_key",
     .value = "\"/cloudtime/nts-keys\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "string: an etcd key",
     .summary = "the etcd key holding the set (secret)",
     .doc =
         "the etcd key holding the set (secret: give only the cloudtimed instances read access).",
     .read = [](const KeyReading& v, Config& c) { return v.nonempty_text(c.nts.etcd_key); },
     .same = [](const Config& a, const Config& b) { return a.nts.etcd_key == b.nts.etcd_key; }},
    {.name = "etcd_ca",
     .value = "\"\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "string: a path",
     .summary = "https: the members' CA (empty: the system's store)",
     .doc = "https: the CA file the members' certificates are checked against (their IP address "
            "must be in subjectAltName); empty: the system's store.",
     .read = [](const KeyReading& v, Config& c) { return v.text(c.nts.etcd_ca); },
     .same = [](const Config& a, const Config& b) { return a.nts.etcd_ca == b.nts.etcd_ca; }},
    {.name = "etcd_certificate",
     .value = "\"\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "string: a path",
     .summary = "https: a client certificate for etcd (PEM file)",
     .doc = "https: a client certificate (PEM file) for etcd's `--client-cert-auth`; set with "
            "`etcd_private_key` or not at all.",
     .read = [](const KeyReading& v, Config& c) { return v.text(c.nts.etcd_certificate); },
     .same = [](const Config& a,
                const Config& b) { return a.nts.etcd_certificate == b.nts.etcd_certificate; }},
    {.name = "etcd_private_key",
     .value = "\"\"",
     .type = KeyType::other,
     .reload = KeyReload::restart,
     .kind = "string: a path",
     .summary = "its PEM private key file",
     .doc = "the client certificate's PEM private key file; set with `etcd_certificate` or not at "
            "all.",
     .read = [](const KeyReading& v, Config& c) { return v.text(c.nts.etcd_private_key); },
     .same = [](const Config& a,
                const Config& b) { return a.nts.etcd_private_key == b.nts.etcd_private_key; }},
    {.name = "etcd_timeout_ms",
     .value = "2000",
     .type = KeyType::integer,
     .reload = KeyReload::restart,
     .lo = 100,
     .hi = kMaxTimeoutMs,
     .summary = "per request and member",
     .doc = "per request and member.",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.nts.etcd_timeout_ms); },
     .same = [](const Config& a,
                const Config& b) { return a.nts.etcd_timeout_ms == b.nts.etcd_timeout_ms; }},
    {.name = "rotation",
     .value = "86400",
     .type = KeyType::integer,
     .reload = KeyReload::restart,
     .lo = kMinRotation,
     .hi = kMaxRotation,
     .summary = "seconds a master key makes cookies; two previous ones stay accepted",
     .doc = "seconds a master key makes cookies; the two keys before it stay accepted for two "
            "periods after they were retired.",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.nts.rotation_s); },
     .same = [](const Config& a, const Config& b) { return a.nts.rotation_s == b.nts.rotation_s; }},
    {.name = "max_connections",
     .value = "1000",
     .type = KeyType::integer,
     .reload = KeyReload::restart,
     .lo = 1,
     .hi = kMaxConnections,
     .summary = "key establishments at once; at the limit the oldest waiting closes",
     .doc = "connections open at once (1-65536), each counted until its socket is closed: answered "
            "ones whose client has not closed yet too. At the limit a new connection is accepted, "
            "then one is closed to make room: the oldest answered one if any (its client has its "
            "keys), else the one waiting longest for its answer. A connection costs about 16 KiB "
            "of memory while it waits and a few KiB once answered (measured: 1000 waiting ones add "
            "16 MiB). Closing for room is logged with numbers at most once a minute.",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.nts.max_connections); },
     .same = [](const Config& a,
                const Config& b) { return a.nts.max_connections == b.nts.max_connections; }},
    {.name = "max_connections_per_client",
     .value = "16",
     .type = KeyType::integer,
     .reload = KeyReload::restart,
     .lo = 1,
     .hi = kMaxConnections,
     .summary = "from one address",
     .doc = "from one address; more are closed at once.",
     .read = [](const KeyReading& v,
                Config& c) { return v.integer(c.nts.max_connections_per_client); },
     .same =
         [](const Config& a, const Config& b) {
             return a.nts.max_connections_per_client == b.nts.max_connections_per_client;
         }},
    {.name = "ke_timeout_ms",
     .value = "5000",
     .type = KeyType::integer,
     .reload = KeyReload::restart,
     .lo = 100,
     .hi = kMaxTimeoutMs,
     .summary = "from accept to the answer: slower handshakes and requests are cut",
     .doc = "from accept to the answer sent: a slower handshake or request is cut. After the "
            "answer and TLS close_notify, the client has one second (or what is left of this "
            "deadline, if less) to close its side before the connection is closed.",
     .read = [](const KeyReading& v, Config& c) { return v.integer(c.nts.ke_timeout_ms); },
     .same = [](const Config& a,
                const Config& b) { return a.nts.ke_timeout_ms == b.nts.ke_timeout_ms; }},
};

const ConfigSection kNtsSections[] = {
    {.name = "nts",
     .summary = "Network Time Security (RFC 8915) on the server.listen addresses",
     .keys = kNtsKeys,
     .check = check_nts},
};

}  // namespace

std::span<const ConfigSection> nts_sections() {
    return kNtsSections;
}

}  // namespace cloudtime::config
