// The series journal, DEST/<series>/cfg.ini. One section per completed run named by its
// snapshot, plus an [ACTIVE] section while a run is in progress (see ../shared/contract.md).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "ini.h"

namespace bkp {

inline constexpr const char* kJournalFile = "cfg.ini";
inline constexpr const char* kActiveSection = "ACTIVE";
inline constexpr const char* kStatusComplete = "complete";
inline constexpr const char* kStatusPartial = "partial";
inline constexpr const char* kStatusFailed = "failed";

class Journal {
 public:
  static Journal load(const std::filesystem::path& series_dir);

  // True when `snapshot` has its own section with status = complete.
  bool is_complete(const std::string& snapshot) const;
  // The snapshot named by [ACTIVE] timestamp, if a run is (or was left) in progress.
  std::optional<std::string> active_snapshot() const;

  IniDocument& document() { return doc_; }
  const IniDocument& document() const { return doc_; }
  void save() const;
  const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  IniDocument doc_;
};

}  // namespace bkp
