// A small INI document compatible with Python's configparser, as the original bkp.py
// wrote it: "[section]" headers and "key = value" lines. Sections and keys keep their
// order, and unknown sections and keys survive a load/save round trip untouched.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bkp {

class IniSection {
 public:
  explicit IniSection(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  std::optional<std::string> get(const std::string& key) const;
  std::string get_or(const std::string& key, const std::string& fallback) const;
  // Replaces in place or appends; returns the stored value.
  std::string& set(const std::string& key, std::string value);
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::string name_;
  std::vector<std::pair<std::string, std::string>> entries_;
};

class IniDocument {
 public:
  static IniDocument parse(const std::string& text);
  // A missing file is an empty document; an unreadable one throws std::system_error.
  static IniDocument load(const std::filesystem::path& file);

  std::string serialize() const;
  // Writes to a temporary file in the same folder, fsyncs it and renames it over `file`,
  // so a crash leaves either the old or the new journal, never a torn one.
  void save(const std::filesystem::path& file) const;

  IniSection* find(const std::string& name);
  const IniSection* find(const std::string& name) const;
  IniSection& section(const std::string& name);  // finds or appends
  void remove(const std::string& name);
  const std::vector<IniSection>& sections() const { return sections_; }

 private:
  std::vector<IniSection> sections_;
};

}  // namespace bkp
