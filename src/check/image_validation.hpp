// SPDX-License-Identifier: Apache-2.0
// `cloudtime validate-image`: boots an image the way the cloud would (a config drive with the
// vendordata rendered from the operator's cloudtimed config, one NIC on a tap device in a
// network namespace of its own where cloudtimed serves 169.254.169.254:123, optionally
// DHCP option 42 from dnsmasq), runs `cloudtime check` inside the guest from a second
// read-only drive, and reads its verdict from the serial console. The image is never
// modified (a copy-on-write overlay), and everything is torn down on every exit path.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "check/check_result.hpp"
#include "check/report.hpp"
#include "cloud/vendordata.hpp"
#include "util/expected.hpp"

namespace cloudtime::check {

// Shared by the validations of one run: once a KVM guest printed nothing, this host's KVM
// cannot run guests, and the others boot under TCG at once instead of probing again.
class KvmFinding {
  public:
    std::string unusable() const {
        const std::lock_guard lock(mutex_);
        return unusable_;
    }
    void set_unusable(const std::string& why) {
        const std::lock_guard lock(mutex_);
        unusable_ = why;
    }

  private:
    mutable std::mutex mutex_;
    std::string unusable_;  // "" = not found unusable (yet)
};

struct ImageValidationOptions {
    std::string image;
    std::string cloudtimed_config;  // "" = cloudtimed's embedded default
    cloud::Vendordata vendordata;   // for the config drive; empty parts: none
    // Non-empty: dnsmasq hands these out as option 42 and the guest's NIC uses DHCP.
    std::string dhcp_option_config;  // dnsmasq lines (`cloudtime vendordata dhcp`)
    std::map<std::string, std::string> instance_metadata;  // meta_data.json's "meta"
    // The tenant's own user-data (any type cloud-init reads), given to the guest beside the
    // validator's part that runs the check; "" = none.
    std::string tenant_user_data;
    // A config drive to give the guest as it is (one made by Nova, say) instead of the one
    // the validator makes; it must carry validator_user_data() and configure the NIC (MAC
    // kValidatorMac, check/guest_console.hpp) statically as 169.254.100.10/16, or by DHCP with
    // dhcp_option_config.
    std::string config_drive;
    int timeout_s = 600;
    int memory_mb = 1024;
    std::string work_dir;             // "" = a new directory under /var/tmp, removed afterwards
    std::string bin_dir;              // where cloudtime and cloudtimed are
    int kvm_probe_s = 10;             // no console output from a KVM guest this long: use TCG
    std::shared_ptr<KvmFinding> kvm;  // null: this validation probes alone
    // Told each stage as it begins ("booting under tcg", "kernel booting", ...) and the seconds
    // since the start, and again every `progress_every_s` while a stage lasts; null: silent.
    std::function<void(const std::string& stage, double elapsed_s)> progress;
    int progress_every_s = 30;
};

struct ImageValidation {
    std::string accelerator;  // "kvm" or "tcg (why)"
    double boot_s = 0.0;      // from start to the guest's check output
    // The report of `cloudtime-vm check --json` from inside, or why it is not one; none when
    // the check never printed.
    std::optional<Expected<Report>> guest;
    bool reached_check() const { return guest.has_value(); }
    int guest_exit = -1;
    std::string console_tail;  // the console's last lines, when something went wrong
    // What the vendordata's script said in the guest ("cloudtime: ..." lines on the console).
    std::vector<std::string> vendordata_log;
};

// Could-not-validate problems (no qemu, not root, the image unreadable) are errors.
Expected<ImageValidation> validate_image(const ImageValidationOptions& options);

}  // namespace cloudtime::check
