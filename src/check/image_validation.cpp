// SPDX-License-Identifier: Apache-2.0
#include "check/image_validation.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>

#include "check/guest_console.hpp"
#include "check/iso_image.hpp"
#include "cloud/config_drive.hpp"
#include "net/unix_listener.hpp"
#include "sys/paths.hpp"
#include "sys/poller.hpp"
#include "sys/process.hpp"
#include "sys/signals.hpp"
#include "sys/text_file.hpp"

namespace cloudtime::check {

namespace {
constexpr const char* kServedAddress = "169.254.169.254";
constexpr std::string_view kVmChecker = "cloudtime-vm";  // the static checker, alone

// Everything started or made, undone in reverse on every path out.
class Teardown {
  public:
    Teardown() = default;
    Teardown(const Teardown&) = delete;
    Teardown& operator=(const Teardown&) = delete;
    ~Teardown() {
        for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
            sys::stop_child(*it, 3000);
        }
        if (!netns_.empty()) {
            (void)sys::run_program({"ip", "netns", "delete", netns_});
        }
    }
    void child(pid_t pid) { children_.push_back(pid); }
    void netns(std::string name) { netns_ = std::move(name); }

  private:
    std::vector<pid_t> children_;
    std::string netns_;
};

Status run(const std::vector<std::string>& argv) {
    auto result = sys::run_program(argv);
    if (!result) {
        return result.failure();
    }
    if (result->exit_code != 0) {
        std::string command;
        for (const auto& a : argv) {
            command += (command.empty() ? "" : " ") + a;
        }
        return Error{command + " failed (exit " + std::to_string(result->exit_code) +
                     "): " + result->output};
    }
    return Done{};
}

std::string file_text(const std::string& path) {
    auto text = sys::read_text_file(path);
    return text ? *text : std::string();
}

// The static in-VM checker alone (cloudtime-vm: no shared library, no loader), and the
// script the user-data runs: the guest installs nothing.
Status make_tools_drive(const std::string& bin_dir, const std::string& dir,
                        const std::string& iso) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir, ec);
    const std::string binary = bin_dir + "/" + std::string(kVmChecker);
    fs::copy_file(binary, dir + "/" + std::string(kVmChecker), fs::copy_options::overwrite_existing,
                  ec);
    if (ec) {
        return Error{binary + ": " + ec.message() + " (built by the release preset)"};
    }
    if (auto s = sys::write_text_file(dir + "/run-check", run_check_script(kVmChecker)); !s) {
        return s;
    }
    return sys::make_iso_image(dir, iso, "CLOUDTIME");
}

// Whether the cloudtimed behind `status_socket` answers and serves NTP on `address`.
bool serves(const std::string& status_socket, const std::string& address) {
    const auto text = sys::read_unix_stream(status_socket, 500);
    if (!text) {
        return false;
    }
    const auto status = nlohmann::json::parse(*text, nullptr, false);
    if (status.is_discarded() || !status.contains("listen") || !status["listen"].is_array()) {
        return false;
    }
    const auto& listen = status["listen"];
    return std::find(listen.begin(), listen.end(), address) != listen.end();
}

std::string tail_lines(const std::string& text, std::size_t count) {
    std::size_t pos = text.size();
    for (std::size_t n = 0; n <= count && pos != std::string::npos && pos > 0; ++n) {
        pos = text.rfind('\n', pos - 1);
    }
    return pos == std::string::npos ? text : text.substr(pos + 1);
}

// The config drive the guest gets: the one given, or one made as nova-compute makes it.
Expected<std::string> config_drive_for(const ImageValidationOptions& o, const std::string& dir) {
    namespace fs = std::filesystem;
    if (!o.config_drive.empty()) {
        std::error_code ec;
        if (!fs::is_regular_file(o.config_drive, ec)) {
            return Error{o.config_drive + ": not a file (the config drive to give)"};
        }
        return fs::absolute(o.config_drive).string();
    }
    const bool dhcp = !o.dhcp_option_config.empty();
    cloud::ConfigDriveInstance instance{.uuid = "6c0a1b7e-2f4d-4c8e-9a3b-0d5e7f1a2b3c",
                                        .hostname = "cloudtime-vm",
                                        .project_id = "cloudtime-validation",
                                        .user_data = validator_user_data(o.tenant_user_data),
                                        .network = cloud::StaticIpv4{.mac = kValidatorMac,
                                                                     .address = "169.254.100.10",
                                                                     .prefix_length = 16,
                                                                     .gateway = "",
                                                                     .dhcp = dhcp},
                                        .public_key = std::nullopt,
                                        .metadata = o.instance_metadata};
    if (auto s = sys::write_file_tree(dir + "/config-2",
                                      cloud::config_drive_files(instance, o.vendordata));
        !s) {
        return s.failure();
    }
    if (auto s =
            sys::make_iso_image(dir + "/config-2", dir + "/config-2.iso", cloud::kConfigDriveLabel);
        !s) {
        return s.failure();
    }
    return dir + "/config-2.iso";
}

// Starts QEMU in the namespace; the log and the console are files in `dir`.
Expected<pid_t> start_qemu(const ImageValidationOptions& o, const std::string& dir,
                           const std::string& config_drive, const std::string& netns,
                           const std::string& accel) {
    const std::string console = dir + "/console.log";
    std::filesystem::remove(console);
    return sys::spawn_program({"ip",
                               "netns",
                               "exec",
                               netns,
                               "qemu-system-x86_64",
                               "-accel",
                               accel,
                               "-m",
                               std::to_string(o.memory_mb),
                               "-nodefaults",
                               "-display",
                               "none",
                               "-no-reboot",
                               "-serial",
                               "file:" + console,
                               "-drive",
                               "file=" + dir + "/overlay.qcow2,if=virtio",
                               "-drive",
                               "file=" + config_drive + ",media=cdrom,readonly=on,if=ide,index=1",
                               "-drive",
                               "file=" + dir + "/tools.iso,media=cdrom,readonly=on,if=ide,index=2",
                               "-netdev",
                               "tap,id=n0,ifname=tap0,script=no,downscript=no",
                               "-device",
                               std::string("virtio-net-pci,netdev=n0,mac=") + kValidatorMac},
                              dir + "/qemu.log");
}

// Waits `ms` unless a signal comes first (then false): every wait of a validation, so that
// Ctrl-C, SIGTERM and SIGHUP end it through its teardown.
class Pause {
  public:
    explicit Pause(const sys::SignalSet& signals) : signals_(signals) {}
    bool operator()(int ms) const { return !sys::wait_readable(signals_.fd(), ms); }

  private:
    const sys::SignalSet& signals_;
};

// Tells the caller which stage the validation is at: at each new stage, and every
// progress_every_s while it stays.
class Progress {
  public:
    explicit Progress(const ImageValidationOptions& o)
        : o_(o), start_(std::chrono::steady_clock::now()), last_told_(start_) {}
    void operator()(const std::string& now_at) {
        const auto now = std::chrono::steady_clock::now();
        if (!o_.progress ||
            (now_at == stage_ && now - last_told_ < std::chrono::seconds(o_.progress_every_s))) {
            return;
        }
        stage_ = now_at;
        last_told_ = now;
        o_.progress(stage_, std::chrono::duration<double>(now - start_).count());
    }
    std::chrono::steady_clock::time_point start() const { return start_; }

  private:
    const ImageValidationOptions& o_;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_told_;
    std::string stage_;
};

// The image is only ever read: a copy-on-write overlay takes every write. Then the config
// drive and the tools drive; the config drive's path.
Expected<std::string> prepare_disks(const ImageValidationOptions& o, const std::string& dir) {
    namespace fs = std::filesystem;
    auto info = sys::run_program({"qemu-img", "info", "--output=json", o.image});
    if (!info || info->exit_code != 0) {
        return Error{o.image + ": qemu-img cannot read it" +
                     (info ? ": " + info->output : ": " + info.error())};
    }
    const auto format = nlohmann::json::parse(info->output, nullptr, false);
    if (format.is_discarded() || !format.contains("format")) {
        return Error{o.image + ": qemu-img says nothing of its format"};
    }
    if (auto s = run({"qemu-img", "create", "-q", "-f", "qcow2", "-F",
                      format["format"].get<std::string>(), "-b", fs::absolute(o.image).string(),
                      dir + "/overlay.qcow2"});
        !s) {
        return s.failure();
    }
    auto config_drive = config_drive_for(o, dir);
    if (!config_drive) {
        return config_drive.failure();
    }
    if (auto s = make_tools_drive(o.bin_dir, dir + "/tools", dir + "/tools.iso"); !s) {
        return s.failure();
    }
    return config_drive;
}

// The tenant network: a namespace with the tap device on both metadata addresses. One per
// validation, also when one process runs several at once (one per thread).
Expected<std::string> make_tenant_network(Teardown& teardown) {
    const std::string netns = "cloudtime-validate-" + std::to_string(sys::process_id()) + "-" +
                              std::to_string(sys::thread_id());
    if (auto s = run({"ip", "netns", "add", netns}); !s) {
        return s.failure();
    }
    teardown.netns(netns);
    for (const auto& command : std::vector<std::vector<std::string>>{
             {"ip", "-n", netns, "link", "set", "lo", "up"},
             {"ip", "-n", netns, "tuntap", "add", "dev", "tap0", "mode", "tap"},
             {"ip", "-n", netns, "addr", "add", std::string(kServedAddress) + "/16", "dev", "tap0"},
             {"ip", "-n", netns, "addr", "add", "fe80::a9fe:a9fe/64", "dev", "tap0", "nodad"},
             {"ip", "-n", netns, "link", "set", "tap0", "up"}}) {
        if (auto s = run(command); !s) {
            return s.failure();
        }
    }
    return netns;
}

// cloudtimed in the namespace, as the tenant-network role serves an ovnmeta namespace: both
// metadata addresses. Returns once its status socket answers (it answers once it serves) and
// lists the address.
Status start_cloudtimed(const ImageValidationOptions& o, const std::string& dir,
                        const std::string& netns, Teardown& teardown, const Pause& pause) {
    std::vector<std::string> cloudtimed = {"ip",
                                           "netns",
                                           "exec",
                                           netns,
                                           o.bin_dir + "/cloudtimed",
                                           "--listen",
                                           std::string(kServedAddress) + ":123",
                                           "--listen",
                                           "[fe80::a9fe:a9fe%tap0]:123",
                                           "--status-socket",
                                           dir + "/status.sock"};
    if (!o.cloudtimed_config.empty()) {
        cloudtimed.insert(cloudtimed.end(), {"--config", o.cloudtimed_config});
    }
    auto daemon = sys::spawn_program(cloudtimed, dir + "/cloudtimed.log");
    if (!daemon) {
        return daemon.failure();
    }
    teardown.child(*daemon);
    for (int i = 0; !serves(dir + "/status.sock", std::string(kServedAddress) + ":123"); ++i) {
        if (i >= 100 || sys::child_exited(*daemon)) {
            return Error{"cloudtimed did not start: " + file_text(dir + "/cloudtimed.log")};
        }
        if (!pause(50)) {
            return Error{"interrupted by a signal"};
        }
    }
    return Done{};
}

// dnsmasq in the namespace, offering DHCP with the NTP option the config asks for.
Status start_dnsmasq(const ImageValidationOptions& o, const std::string& dir,
                     const std::string& netns, Teardown& teardown) {
    if (auto s = sys::write_text_file(dir + "/dnsmasq-ntp.conf", o.dhcp_option_config); !s) {
        return s;
    }
    auto dnsmasq = sys::spawn_program(
        {"ip", "netns", "exec", netns, "dnsmasq", "--no-daemon", "--port=0",
         "--conf-file=" + dir + "/dnsmasq-ntp.conf", "--interface=tap0", "--bind-interfaces",
         "--dhcp-range=169.254.100.100,169.254.100.150,255.255.0.0,1h",
         "--dhcp-leasefile=" + dir + "/dnsmasq.leases", "--pid-file=" + dir + "/dnsmasq.pid",
         "--user=nobody", "--group=nogroup"},
        dir + "/dnsmasq.log");
    if (!dnsmasq) {
        return dnsmasq.failure();
    }
    teardown.child(*dnsmasq);
    return Done{};
}

// The guest booted: under KVM where /dev/kvm can run it (detected by the guest printing
// anything at all), else under TCG. QEMU's pid; `accelerator` says which and why.
Expected<pid_t> boot_guest(const ImageValidationOptions& o, const std::string& dir,
                           const std::string& config_drive, const std::string& netns,
                           Teardown& teardown, const Pause& pause, Progress& tell,
                           std::string& accelerator) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::string why = "no /dev/kvm";
    const std::string found_unusable = o.kvm ? o.kvm->unusable() : std::string();
    if (!found_unusable.empty()) {
        why = found_unusable + ", seen by an earlier guest of this run";
    } else if (fs::exists("/dev/kvm", ec)) {
        tell("trying KVM");
        auto probe = start_qemu(o, dir, config_drive, netns, "kvm");
        if (!probe) {
            return probe.failure();
        }
        bool printed = false;
        for (int i = 0; i < o.kvm_probe_s * 10 && !printed && !sys::child_exited(*probe); ++i) {
            if (!pause(100)) {
                sys::stop_child(*probe, 1000);
                return Error{"interrupted by a signal"};
            }
            printed =
                fs::exists(dir + "/console.log", ec) && fs::file_size(dir + "/console.log", ec) > 0;
        }
        if (printed) {
            teardown.child(*probe);
            accelerator = "kvm";
            tell("booting under KVM");
            return *probe;
        }
        sys::stop_child(*probe, 1000);
        why = "KVM guest printed nothing in " + std::to_string(o.kvm_probe_s) + " s";
        if (o.kvm) {
            o.kvm->set_unusable(why);
        }
    }
    tell("booting under TCG (" + why + ")");
    auto started = start_qemu(o, dir, config_drive, netns, "tcg");
    if (!started) {
        return started.failure();
    }
    teardown.child(*started);
    accelerator = "tcg (" + why + ")";
    return *started;
}

// Reads the console until the check in the guest has finished, QEMU has ended, or the
// validation's time is up; then what the console says.
Expected<ImageValidation> watch_guest(const ImageValidationOptions& o, const std::string& dir,
                                      pid_t qemu, const Pause& pause, Progress& tell) {
    const auto deadline = tell.start() + std::chrono::seconds(o.timeout_s);
    while (std::chrono::steady_clock::now() < deadline) {
        const std::string console = file_text(dir + "/console.log");
        tell(guest_stage(console));
        if (check_finished(console) || (qemu != 0 && sys::child_exited(qemu))) {
            break;
        }
        if (!pause(500)) {
            return Error{"interrupted by a signal"};
        }
    }
    ImageValidation v;
    v.boot_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - tell.start()).count();
    const std::string console = file_text(dir + "/console.log");
    parse_console(console, v);
    v.vendordata_log = vendordata_log(console);
    if (!v.reached_check()) {
        v.console_tail = tail_lines(console, 30) + file_text(dir + "/qemu.log");
    }
    return v;
}

}  // namespace

Expected<ImageValidation> validate_image(const ImageValidationOptions& o) {
    namespace fs = std::filesystem;
    if (!sys::running_as_root()) {
        return Error{"needs root (a network namespace, a tap device)"};
    }
    // Ctrl-C, SIGTERM, SIGHUP: an exit path like any other, through the teardown below.
    auto signals = sys::SignalSet::block({SIGINT, SIGTERM, SIGHUP});
    if (!signals) {
        return signals.failure();
    }
    const Pause pause(*signals);
    std::error_code ec;
    if (!fs::is_regular_file(o.image, ec)) {
        return Error{o.image + ": not a file"};
    }
    if (!o.tenant_user_data.empty()) {
        if (auto type = user_data_type(o.tenant_user_data); !type) {
            return type.failure();
        }
    }
    // Removed last, after the teardown below stopped everything that used it.
    std::optional<sys::TemporaryDirectory> work;
    Teardown teardown;
    std::string dir = o.work_dir;
    if (dir.empty()) {
        auto made = sys::TemporaryDirectory::create("/var/tmp/cloudtime-validate.");
        if (!made) {
            return Error{"cannot make a work directory: " + made.error(), made.error_code()};
        }
        work.emplace(std::move(made).value());
        dir = work->path();
    } else {
        fs::create_directories(dir, ec);
    }
    const auto config_drive = prepare_disks(o, dir);
    if (!config_drive) {
        return config_drive.failure();
    }
    const auto netns = make_tenant_network(teardown);
    if (!netns) {
        return netns.failure();
    }
    if (auto s = start_cloudtimed(o, dir, *netns, teardown, pause); !s) {
        return s.failure();
    }
    if (!o.dhcp_option_config.empty()) {
        if (auto s = start_dnsmasq(o, dir, *netns, teardown); !s) {
            return s.failure();
        }
    }
    Progress tell(o);
    std::string accelerator;
    const auto qemu = boot_guest(o, dir, *config_drive, *netns, teardown, pause, tell, accelerator);
    if (!qemu) {
        return qemu.failure();
    }
    auto v = watch_guest(o, dir, *qemu, pause, tell);
    if (v) {
        v->accelerator = accelerator;
    }
    return v;
}

}  // namespace cloudtime::check
