// SPDX-License-Identifier: Apache-2.0
#include "cloud/nova_request.hpp"

#include <nlohmann/json.hpp>

namespace cloudtime::cloud {

namespace {
Status read_string(const nlohmann::json& body, const char* key, std::string& out) {
    const auto it = body.find(key);
    if (it == body.end() || it->is_null()) {
        return Done{};
    }
    if (!it->is_string()) {
        return Error{std::string(key) + " must be a string"};
    }
    out = it->get<std::string>();
    return Done{};
}
}  // namespace

Expected<InstanceFacts> parse_nova_request(std::string_view body) {
    const nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
    if (doc.is_discarded()) {
        return Error{"the body is not JSON"};
    }
    if (!doc.is_object()) {
        return Error{"the body must be a JSON object"};
    }
    InstanceFacts facts;
    for (const auto& [key, out] :
         {std::pair{"project-id", &facts.project_id}, std::pair{"instance-id", &facts.instance_id},
          std::pair{"image-id", &facts.image_id}, std::pair{"hostname", &facts.hostname}}) {
        if (auto s = read_string(doc, key, *out); !s) {
            return s.failure();
        }
    }
    const auto metadata = doc.find("metadata");
    if (metadata != doc.end() && !metadata->is_null()) {
        if (!metadata->is_object()) {
            return Error{"metadata must be an object"};
        }
        for (const auto& [key, value] : metadata->items()) {
            // Nova's instance metadata values are strings; anything else cannot match a rule.
            if (value.is_string()) {
                facts.metadata[key] = value.get<std::string>();
            }
        }
    }
    return facts;
}

}  // namespace cloudtime::cloud
