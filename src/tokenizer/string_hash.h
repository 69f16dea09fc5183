// Transparent string hash: lets unordered_map<std::string, ...> be searched with a
// std::string_view without building a temporary std::string (hot in encode and in load).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tessera {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Token string -> id.
using TokenIdMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

}  // namespace tessera
