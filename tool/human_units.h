// Sizes for people, the same in every command's output.
#pragma once

#include <cstdint>
#include <string>

namespace bkp {

// "512 B", "1.5 KiB", "20.3 GiB"; compact for tables: "512B", "1.5K", "20.3G".
std::string human_bytes(uint64_t bytes, bool compact = false);

}  // namespace bkp
