// SPDX-License-Identifier: Apache-2.0
#include "net/interfaces.hpp"

#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>

namespace cloudtime::sys {

std::vector<std::string> interface_names() {
    std::vector<std::string> names;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) {
        return names;
    }
    for (const ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
        const bool usable = (a->ifa_flags & IFF_UP) != 0 && (a->ifa_flags & IFF_LOOPBACK) == 0;
        if (usable && std::find(names.begin(), names.end(), a->ifa_name) == names.end()) {
            names.emplace_back(a->ifa_name);
        }
    }
    ::freeifaddrs(list);
    return names;
}

}  // namespace cloudtime::sys
