#include "journal.h"

namespace bkp {

Journal Journal::load(const std::filesystem::path& series_dir) {
  Journal journal;
  journal.file_ = series_dir / kJournalFile;
  journal.doc_ = IniDocument::load(journal.file_);
  return journal;
}

bool Journal::is_complete(const std::string& snapshot) const {
  const IniSection* section = doc_.find(snapshot);
  return section != nullptr && section->get_or("status", "") == kStatusComplete;
}

std::optional<std::string> Journal::active_snapshot() const {
  const IniSection* active = doc_.find(kActiveSection);
  if (active == nullptr) return std::nullopt;
  return active->get("timestamp");
}

void Journal::save() const { doc_.save(file_); }

}  // namespace bkp
