// SPDX-License-Identifier: Apache-2.0
// A cloud's image catalogue for `cloudtime validate-image --catalogue FILE`: which images to
// boot, each the way the cloud would offer it (its cloudtimed config, vendordata or not, DHCP,
// the instance's metadata, the tenant's own user-data), and the outcome expected of it. Read
// from TOML; every mistake named with its line. Pure: no file is opened here but by the
// caller, and paths are resolved against the catalogue's directory.
//
//   config = "cloudtimed.toml"   # optional defaults for every image: config, timeout, memory
//   [[image]]
//   name = "debian12-chrony"     # unique; letters, digits, '.', '_', '-'
//   path = "debian12-chrony.qcow2"
//   vendordata = true            # false: the config drive carries none (--no-vendordata)
//   dhcp = false                 # true: DHCP with option 42 (--dhcp)
//   metadata = { cloudtime_ntp = "off" }   # the instance's metadata (Nova's "meta")
//   user_data = "tenant.yaml"    # the tenant's own user-data, beside the validator's
//   config_drive = "nova.iso"    # a drive made elsewhere, given as it is (then neither of
//                                # metadata, user_data)
//   expect = "pass"              # pass (nothing fails; warnings allowed) | warn (one warns)
//                                # | fail | opted-out
//   expect_checks = { client-synchronized = "pass" }   # optional, by check id
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/check_result.hpp"
#include "util/expected.hpp"

namespace cloudtime::check {

// How an image came out: every check passed; one warned; one failed (or the check was not
// reached); the tenant opted out and nothing the cloud still provides failed; or the image
// could not be validated at all (QEMU missing, image unreadable: never an expected outcome).
enum class ImageOutcome : std::uint8_t { pass, warn, fail, opted_out, error };

const char* outcome_word(ImageOutcome outcome);  // "pass", "warn", "fail", "opted-out", "error"
std::optional<ImageOutcome> outcome_from_word(std::string_view word);

struct CatalogueEntry {
    std::string name;
    std::string image;   // the image file
    std::string config;  // cloudtimed's config; "" = the run's (-c) or the embedded default
    bool vendordata = true;
    bool dhcp = false;
    std::map<std::string, std::string> metadata;  // the instance's metadata
    std::string user_data;                        // a file: the tenant's own user-data
    // A config drive to give as it is (made by Nova, say): it carries the vendordata, the
    // metadata and the user-data itself; "" = the validator makes one.
    std::string config_drive;
    ImageOutcome expect = ImageOutcome::pass;
    std::map<std::string, Verdict> expect_checks;  // check id -> verdict
    int timeout_s = 600;
    int memory_mb = 1024;
};

// `text` is the catalogue file's content; `origin` names it in errors; relative paths are
// resolved against `directory`. At least one image; names unique.
Expected<std::vector<CatalogueEntry>> parse_catalogue(std::string_view text,
                                                      const std::string& origin,
                                                      const std::string& directory);

// From the validator's verdicts on one image and whether the guest said it opted out.
ImageOutcome image_outcome(const std::vector<CheckResult>& checks, bool opted_out);

// "" when the image came out as its entry expects; otherwise what differs, for people
// ("expected pass, got fail; client-synchronized: expected pass, got fail").
std::string expectation_mismatch(const CatalogueEntry& entry, ImageOutcome outcome,
                                 const std::vector<CheckResult>& checks);

}  // namespace cloudtime::check
