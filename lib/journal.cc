#include "journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "errors.h"
#include "json.h"
#include "timestamp.h"

namespace bkp {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string current_dir() {
  char buf[4096];
  return ::getcwd(buf, sizeof buf) != nullptr ? buf : "";
}

}  // namespace

bool is_known_status(const std::string& value) {
  const std::string v = lower(value);
  return v == kStatusComplete || v == kStatusPartial || v == kStatusFailed;
}

Journal Journal::read(const std::filesystem::path& series_dir) {
  UniqueFd fd(::open(series_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) throw_errno("cannot open " + series_dir.string());
  Journal journal = open(std::move(fd), series_dir);
  journal.dir_fd_.reset();  // read-only: save() is refused
  return journal;
}

Journal Journal::open_to_update(const std::filesystem::path& series_dir) {
  UniqueFd fd(::open(series_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) throw Failure(series_dir.string() + ": cannot open it: " + std::strerror(errno));
  Journal journal = open(std::move(fd), series_dir);
  if (!journal.problems().empty()) throw Failure(journal.problems().front() + "; see bkp repair");
  return journal;
}

Journal Journal::open(UniqueFd series_fd, const std::filesystem::path& series_dir) {
  Journal journal;
  journal.file_ = series_dir / kJournalFile;
  journal.dir_fd_ = std::move(series_fd);
  try {
    journal.load_text(IniDocument::read_text(journal.dir_fd_.get(), kJournalFile));
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), journal.file_.string() + (e.code().value() == ELOOP
                                                                   ? ": is a symlink (bkp never reads or writes through one)"
                                                                   : ": " + e.code().message()));
  }
  return journal;
}

void Journal::load_text(const std::optional<std::string>& text) {
  exists_ = text.has_value();
  if (!text) return;
  std::vector<IniProblem> found;
  doc_ = IniDocument::parse(*text, &found);
  for (const IniProblem& p : found)
    problems_.push_back(file_.string() + ": line " + std::to_string(p.line) + ": " + p.what);
  for (const IniSection& s : doc_.sections()) {
    const auto status = s.get("status");
    if (status && !is_known_status(*status))
      problems_.push_back(file_.string() + ": [" + s.name() + "]: status = " + *status +
                          " is none of complete, partial, failed");
  }
  if (text->find_first_not_of(" \t\r\n") == std::string::npos) problems_.push_back(file_.string() + ": is empty");
}

bool Journal::is_complete(const std::string& snapshot) const {
  const IniSection* s = doc_.find(snapshot);
  return s != nullptr && snapshot != kActiveSection && lower(s->get_or("status", "")) == kStatusComplete;
}

bool Journal::is_pinned(const std::string& snapshot) const {
  const IniSection* s = doc_.find(snapshot);
  return s != nullptr && lower(s->get_or("pinned", "")) == "true";
}

std::optional<std::string> Journal::active_snapshot() const {
  const IniSection* active = doc_.find(kActiveSection);
  if (active == nullptr) return std::nullopt;
  return active->get("timestamp");
}

void Journal::begin(const std::string& snapshot, const std::vector<std::string>& sources, const std::string& backup) {
  doc_.remove(kActiveSection);
  IniSection& active = doc_.section(kActiveSection);
  active.set("timestamp", snapshot);
  active.set("status", kStatusPartial);
  active.set("sources", json_string_list(sources));
  active.set("backup", backup);
  active.set("cwd", current_dir());
}

void Journal::fail(const JournalFields& details) {
  IniSection& active = doc_.section(kActiveSection);
  active.set("status", kStatusFailed);
  for (const auto& [key, value] : details) active.set(key, value);
}

void Journal::complete(const JournalFields& details) {
  const IniSection* active = doc_.find(kActiveSection);
  if (active == nullptr || !active->get("timestamp")) throw std::logic_error("journal: complete() without begin()");
  IniSection done(*active->get("timestamp"));
  done.set("timestamp", done.name());
  done.set("status", kStatusComplete);
  for (const char* key : {"sources", "backup", "cwd"}) done.set(key, active->get_or(key, ""));
  done.set("finished", format_timestamp(std::time(nullptr)));
  for (const auto& [key, value] : details) done.set(key, value);
  doc_.remove(kActiveSection);
  doc_.remove(done.name());
  doc_.section(done.name()) = std::move(done);
}

void Journal::drop_active() { doc_.remove(kActiveSection); }

void Journal::forget(const std::string& snapshot) { doc_.remove(snapshot); }

void Journal::set_pinned(const std::string& snapshot, bool pinned) {
  IniSection* s = doc_.find(snapshot);
  if (s == nullptr) throw std::logic_error("journal: no section " + snapshot);
  if (pinned) s->set("pinned", "true");
  else s->erase("pinned");
}

void Journal::record_without_xattrs(const std::string& snapshot) {
  IniSection* s = doc_.find(snapshot);
  if (s == nullptr) throw std::logic_error("journal: no section " + snapshot);
  s->set("xattrs", "false");
}

void Journal::vouch_unverified(const std::string& snapshot, const std::string& reason) {
  IniSection& s = doc_.section(snapshot);
  s.set("timestamp", snapshot);
  s.set("status", kStatusComplete);
  s.set("verified", "false");
  s.set("repaired", format_timestamp(std::time(nullptr)) + ": " + reason);
}

void Journal::save() const {
  if (!dir_fd_) throw std::logic_error("journal: save() of a journal opened read-only");
  try {
    doc_.save(dir_fd_.get(), kJournalFile);
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), file_.string() + ": cannot save it");
  }
}

}  // namespace bkp
