#include "ini.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>
#include <system_error>
#include <unordered_map>

#include "atomic_file.h"
#include "errors.h"
#include "unique_fd.h"

namespace bkp {
namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::optional<std::string> IniSection::get(const std::string& key) const {
  const std::string k = lower(key);
  for (const auto& [name, v] : entries_)
    if (name == k) return v;
  return std::nullopt;
}

std::string IniSection::get_or(const std::string& key, const std::string& fallback) const {
  return get(key).value_or(fallback);
}

std::string& IniSection::set(const std::string& key, std::string value) {
  const std::string k = lower(key);
  for (auto& [name, v] : entries_)
    if (name == k) return v = std::move(value);
  return entries_.emplace_back(k, std::move(value)).second;
}

void IniSection::erase(const std::string& key) {
  const std::string k = lower(key);
  std::erase_if(entries_, [&](const auto& entry) { return entry.first == k; });
}

IniDocument IniDocument::parse(const std::string& input, std::vector<IniProblem>* problems) {
  auto report = [&](int line, std::string what) {
    if (problems) problems->push_back({line, std::move(what)});
  };
  IniDocument doc;
  IniSection* current = nullptr;
  std::string* last_value = nullptr;  // for configparser's indented continuation lines
  const bool bom = input.rfind("\xEF\xBB\xBF", 0) == 0;
  std::istringstream in(bom ? input.substr(3) : input);
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    const std::string stripped = trim(line);
    if (stripped.empty() || stripped[0] == '#' || stripped[0] == ';') continue;
    if ((line[0] == ' ' || line[0] == '\t') && last_value != nullptr) {
      *last_value += "\n" + stripped;
      continue;
    }
    if (stripped.front() == '[') {
      if (stripped.back() != ']') {
        report(number, "no ']' to close the section header");
        current = nullptr;
        last_value = nullptr;
        continue;
      }
      current = &doc.section(stripped.substr(1, stripped.size() - 2));  // a repeated one is merged, as configparser's strict=False
      last_value = nullptr;
      continue;
    }
    const auto sep = stripped.find_first_of("=:");
    if (current == nullptr) {
      report(number, "a line outside any [section]");
      continue;
    }
    if (sep == std::string::npos || sep == 0) {
      report(number, "not a 'key = value' line");
      last_value = nullptr;
      continue;
    }
    last_value = &current->set(trim(stripped.substr(0, sep)), trim(stripped.substr(sep + 1)));
  }
  return doc;
}

std::optional<std::string> IniDocument::read_text(int dir_fd, const std::string& name) {
  // O_NONBLOCK: a FIFO planted under the name must not hang the reader (it is refused below).
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    if (errno == ELOOP) throw_error(ELOOP, name + " is a symlink");
    throw_errno("cannot read " + name);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw_errno("cannot read " + name);
  if (!S_ISREG(st.st_mode)) throw_error(EINVAL, name + " is not a regular file");
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("cannot read " + name);
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  return text;
}

std::string IniDocument::serialize() const {
  std::string out;
  for (const auto& section : sections_) {
    out += "[" + section.name() + "]\n";
    for (const auto& [key, value] : section.entries()) {
      std::string folded = value;  // continuation lines are written indented, as configparser does
      for (size_t pos = 0; (pos = folded.find('\n', pos)) != std::string::npos; pos += 2)
        folded.insert(pos + 1, "\t");
      out += key + " = " + folded + "\n";
    }
    out += "\n";
  }
  return out;
}

void IniDocument::save(int dir_fd, const std::string& name) const { replace_file_atomically(dir_fd, name, serialize()); }

IniSection* IniDocument::find(const std::string& name) {
  const auto found = index_.find(name);
  return found == index_.end() ? nullptr : &sections_[found->second];
}

const IniSection* IniDocument::find(const std::string& name) const {
  const auto found = index_.find(name);
  return found == index_.end() ? nullptr : &sections_[found->second];
}

IniSection& IniDocument::section(const std::string& name) {
  if (IniSection* s = find(name)) return *s;
  index_.emplace(name, sections_.size());
  return sections_.emplace_back(name);
}

void IniDocument::remove(const std::string& name) {
  if (std::erase_if(sections_, [&](const IniSection& s) { return s.name() == name; }) > 0) reindex();
}

void IniDocument::reindex() {
  index_.clear();
  for (size_t i = 0; i < sections_.size(); ++i) index_.emplace(sections_[i].name(), i);
}

}  // namespace bkp
