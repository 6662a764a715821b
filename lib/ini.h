// A small INI document compatible with Python's configparser, as the original bkp.py
// wrote it: "[section]" headers and "key = value" lines. Sections and keys keep their
// order, and unknown sections and keys survive a load/save round trip untouched.
//
// Parsing is as lenient as configparser where it is lenient (keys are case-insensitive and
// stored lower-case, "=" or ":" as delimiter, indented continuation lines, # and ;
// comments) and a little more (a UTF-8 byte-order mark, CRLF line ends). What configparser
// would refuse (a line outside any section, a header without "]", a line without a
// delimiter) is reported as a problem with its line number; the rest of the file is still
// read, so a reader can show what is intact while a writer refuses to build on it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bkp {

class IniSection {
 public:
  explicit IniSection(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  // Keys are matched case-insensitively (they are stored lower-case).
  std::optional<std::string> get(const std::string& key) const;
  std::string get_or(const std::string& key, const std::string& fallback) const;
  // Replaces in place or appends; returns the stored value.
  std::string& set(const std::string& key, std::string value);
  void erase(const std::string& key);
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }

 private:
  std::string name_;
  std::vector<std::pair<std::string, std::string>> entries_;
};

struct IniProblem {
  int line = 0;      // 1-based; 0 for the file as a whole
  std::string what;  // e.g. "no ']' to close the section header"
};

class IniDocument {
 public:
  // Problems, if any, are appended to `problems` (when given).
  static IniDocument parse(const std::string& text, std::vector<IniProblem>* problems = nullptr);
  // Reads `name` in the open directory `dir_fd` without following a symlink. A missing file
  // is an empty document (nullopt); any other failure throws std::system_error.
  static std::optional<std::string> read_text(int dir_fd, const std::string& name);

  std::string serialize() const;
  // Replaces `name` in the open directory `dir_fd` atomically: a new temporary file created
  // there with O_EXCL|O_NOFOLLOW (never through a symlink someone planted), written,
  // fsynced, and renamed over `name` in the same directory; then the directory is fsynced.
  // A crash leaves either the old or the new file, never a torn one.
  void save(int dir_fd, const std::string& name) const;

  IniSection* find(const std::string& name);
  const IniSection* find(const std::string& name) const;
  IniSection& section(const std::string& name);  // finds or appends
  void remove(const std::string& name);
  const std::vector<IniSection>& sections() const { return sections_; }

 private:
  void reindex();

  std::vector<IniSection> sections_;
  // Section name -> its place in sections_: a journal holds a section per snapshot, and
  // reading one looks up each of them (10,000 snapshots: 50 million name comparisons
  // without it).
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace bkp
