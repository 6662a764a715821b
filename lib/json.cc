#include "json.h"

#include <cstdint>
#include <cstdio>

namespace bkp {
namespace {

void append_u16(std::string& out, unsigned value) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04x", value);
  out += buf;
}

// Length of the valid UTF-8 sequence starting at s[i] and its code point, or 0 if invalid.
size_t decode_utf8(std::string_view s, size_t i, uint32_t& cp) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  cp = len == 1 ? b0 : b0 & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  static constexpr uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_for_len[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xc0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xe0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (cp & 0x3f));
  }
}

}  // namespace

std::string json_quote(std::string_view raw) {
  std::string out = "\"";
  for (size_t i = 0; i < raw.size();) {
    const unsigned char c = static_cast<unsigned char>(raw[i]);
    uint32_t cp = 0;
    const size_t len = decode_utf8(raw, i, cp);
    if (len == 0) {  // a byte that is not UTF-8: Python's surrogateescape form
      append_u16(out, 0xdc00 + c);
      i += 1;
      continue;
    }
    i += len;
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp < 0x20 || (cp > 0x7f && cp < 0x10000)) {
      append_u16(out, cp);
    } else if (cp >= 0x10000) {
      append_u16(out, 0xd800 + ((cp - 0x10000) >> 10));
      append_u16(out, 0xdc00 + ((cp - 0x10000) & 0x3ff));
    } else {
      out += static_cast<char>(cp);
    }
  }
  return out + "\"";
}

std::string json_string_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + json_quote(items[i]);
  return out + "]";
}

namespace {

class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    skip_space();
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }
  bool at_end() { return skip_space(), i_ == s_.size(); }
  std::optional<unsigned> hex4() {
    if (i_ + 4 > s_.size()) return std::nullopt;
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else return std::nullopt;
    }
    return v;
  }
  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (i_ < s_.size()) {
      const char c = s_[i_++];
      if (c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) return std::nullopt;
      const char e = s_[i_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          auto v = hex4();
          if (!v) return std::nullopt;
          uint32_t cp = *v;
          if (cp >= 0xdc80 && cp <= 0xdcff) {  // surrogateescape: a raw byte
            out += static_cast<char>(cp - 0xdc00);
            break;
          }
          if (cp >= 0xd800 && cp <= 0xdbff && i_ + 1 < s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
            i_ += 2;
            auto low = hex4();
            if (!low) return std::nullopt;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (*low - 0xdc00);
          }
          append_utf8(out, cp);
          break;
        }
        default: out += e;  // \" \\ \/
      }
    }
    return std::nullopt;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::optional<std::vector<std::string>> parse_json_string_list(std::string_view text) {
  Reader in(text);
  if (!in.eat('[')) return std::nullopt;
  std::vector<std::string> items;
  if (in.eat(']')) return in.at_end() ? std::optional(items) : std::nullopt;
  do {
    auto item = in.string();
    if (!item) return std::nullopt;
    items.push_back(std::move(*item));
  } while (in.eat(','));
  if (!in.eat(']') || !in.at_end()) return std::nullopt;
  return items;
}

}  // namespace bkp
