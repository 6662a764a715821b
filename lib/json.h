// The little JSON the journal and `bkp list --json` need: quoting strings the way Python's
// json.dumps does (ASCII only; bytes that are not UTF-8 become \udcXX, as with
// surrogateescape) and reading back a list of strings such as `sources`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bkp {

std::string json_quote(std::string_view raw);
std::string json_string_list(const std::vector<std::string>& items);
// nullopt when `text` is not a JSON list of strings.
std::optional<std::vector<std::string>> parse_json_string_list(std::string_view text);

}  // namespace bkp
