#include "ini.h"

#include "errors.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>
#include <unordered_map>

namespace bkp {
namespace {

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string::npos) return "";
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

}  // namespace

std::optional<std::string> IniSection::get(const std::string& key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return v;
  return std::nullopt;
}

std::string IniSection::get_or(const std::string& key, const std::string& fallback) const {
  return get(key).value_or(fallback);
}

std::string& IniSection::set(const std::string& key, std::string value) {
  for (auto& [k, v] : entries_)
    if (k == key) return v = std::move(value);
  return entries_.emplace_back(key, std::move(value)).second;
}

IniDocument IniDocument::parse(const std::string& text) {
  IniDocument doc;
  std::unordered_map<std::string, size_t> index;  // journals can hold thousands of sections
  IniSection* current = nullptr;
  std::string* last_value = nullptr;  // for configparser's indented continuation lines
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const std::string stripped = trim(line);
    if (stripped.empty() || stripped[0] == '#' || stripped[0] == ';') {
      continue;
    }
    if ((line[0] == ' ' || line[0] == '\t') && last_value != nullptr) {
      *last_value += "\n" + stripped;
      continue;
    }
    if (stripped.front() == '[' && stripped.back() == ']') {
      const auto [at, fresh] = index.emplace(stripped.substr(1, stripped.size() - 2), doc.sections_.size());
      if (fresh) doc.sections_.emplace_back(at->first);
      current = &doc.sections_[at->second];  // a repeated section is merged, as configparser's strict=False
      last_value = nullptr;
      continue;
    }
    const auto sep = stripped.find_first_of("=:");
    if (current == nullptr || sep == std::string::npos) continue;  // junk outside a section
    last_value = &current->set(trim(stripped.substr(0, sep)), trim(stripped.substr(sep + 1)));
  }
  return doc;
}

IniDocument IniDocument::load(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return {};
    throw_errno("cannot read " + file.string());
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse(text.str());
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

void IniDocument::save(const std::filesystem::path& file) const {
  const std::string text = serialize();
  const std::filesystem::path tmp = file.parent_path() / ("." + file.filename().string() + ".tmp");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno("cannot write " + tmp.string());
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      throw_errno("cannot write " + tmp.string());
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) throw_errno("cannot write " + tmp.string());
  if (::rename(tmp.c_str(), file.c_str()) != 0) throw_errno("cannot replace " + file.string());
  const int dir = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

IniSection* IniDocument::find(const std::string& name) {
  for (auto& s : sections_)
    if (s.name() == name) return &s;
  return nullptr;
}

const IniSection* IniDocument::find(const std::string& name) const {
  for (const auto& s : sections_)
    if (s.name() == name) return &s;
  return nullptr;
}

IniSection& IniDocument::section(const std::string& name) {
  if (IniSection* s = find(name)) return *s;
  return sections_.emplace_back(name);
}

void IniDocument::remove(const std::string& name) {
  std::erase_if(sections_, [&](const IniSection& s) { return s.name() == name; });
}

}  // namespace bkp
