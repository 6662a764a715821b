#include "prefetch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <exception>

#include <spdlog/spdlog.h>

#include "filesystem.h"
#include "passthrough.h"

namespace bkpfs {

namespace {
constexpr std::size_t kDirsKept = 4;        // directories whose listing and coverage are kept
constexpr std::size_t kScanPerFile = 4;     // entries looked at per file a window may hold
constexpr std::size_t kCoveredMax = 1u << 16;  // names remembered per directory, then forgotten
}  // namespace

Prefetcher::Prefetcher(Filesystem& fs, PrefetchLimits limits, const Passthrough* passthrough)
    : fs_(fs), limits_(limits), passthrough_(passthrough) {}

Prefetcher::~Prefetcher() { stop(); }

void Prefetcher::start(fuse_session* se) {
  stop();
  std::lock_guard lock(mutex_);
  se_ = se;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Prefetcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Prefetcher::DirState* Prefetcher::find_state(NodeId dir) {
  for (auto it = dirs_.begin(); it != dirs_.end(); ++it) {
    if (it->dir != dir) continue;
    if (it != dirs_.begin()) dirs_.splice(dirs_.begin(), dirs_, it);
    return &dirs_.front();
  }
  return nullptr;
}

void Prefetcher::on_read(NodeId id) {
  auto node = fs_.nodes().get(id);
  if (!node || node->kind != NodeKind::content) return;  // not versions/ or changes/ entries
  std::lock_guard lock(mutex_);
  if (stopping_ || !thread_.joinable()) return;
  if (DirState* d = find_state(node->parent); d && d->covered.count(node->name)) return;
  for (const auto& [dir, name] : queue_)
    if (dir == node->parent && name == node->name) return;
  if (queue_.size() >= limits_.queue) {
    ++stats_.dropped;
    return;
  }
  queue_.emplace_back(node->parent, std::move(node->name));
  wake_.notify_one();
}

void Prefetcher::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    auto [dir, name] = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    try {
      read_window(dir, name);
    } catch (const std::exception& e) {
      // A snapshot removed meanwhile, a file gone: prefetch is only a hint.
      spdlog::debug("prefetch: {}", e.what());
    }
    lock.lock();
  }
}

void Prefetcher::read_window(NodeId dir, const std::string& name) {
  std::shared_ptr<const Listing> listing;
  {
    std::lock_guard lock(mutex_);
    DirState* d = find_state(dir);
    if (d && d->covered.count(name)) return;
    if (d) listing = d->listing;
  }
  if (!listing) {
    listing = std::make_shared<const Listing>(fs_.list(dir));
    std::lock_guard lock(mutex_);
    if (!find_state(dir)) {
      dirs_.push_front(DirState{dir, listing, {}});
      if (dirs_.size() > kDirsKept) dirs_.pop_back();
    }
  }
  const auto& entries = listing->entries;
  const auto at = std::find_if(entries.begin(), entries.end(), [&](const DirEntry& e) { return e.name == name; });
  const std::size_t start = at == entries.end() ? 0 : static_cast<std::size_t>(at - entries.begin()) + 1;

  // Choose the window: small regular files after the one read, in listing order.
  struct Chosen {
    const std::string* name;
    UniqueFd fd;
    std::size_t size;
  };
  std::vector<Chosen> chosen;
  std::size_t bytes = 0;
  {
    auto covered = [&](const std::string& n) {
      std::lock_guard lock(mutex_);
      DirState* d = find_state(dir);
      return d && d->covered.count(n) > 0;
    };
    const std::size_t scan = std::min(entries.size(), limits_.window_files * kScanPerFile);
    for (std::size_t k = 0; k < scan && chosen.size() < limits_.window_files; ++k) {
      const DirEntry& e = entries[(start + k) % entries.size()];
      if (e.name == name || covered(e.name)) continue;
      // Only what the listing says is a regular file: opening a fifo or a device stored in
      // the backup could block or act on the host.
      if (e.type != DT_REG) continue;
      UniqueFd fd;
      try {
        fd = fs_.open_file(dir, e.name);
      } catch (const std::exception&) {
        continue;
      }
      struct stat st {};
      if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) continue;
      const auto size = static_cast<std::size_t>(st.st_size);
      if (size > limits_.file_max) continue;
      if (bytes + size > limits_.window_bytes) break;
      bytes += size;
      chosen.push_back({&e.name, std::move(fd), size});
    }
  }
  {
    std::lock_guard lock(mutex_);
    if (DirState* d = find_state(dir)) {
      if (d->covered.size() > kCoveredMax) d->covered.clear();
      d->covered.insert(name);
      for (const Chosen& c : chosen) d->covered.insert(*c.name);
    }
  }

  // All at once, so that the disk sees them together; then into the FUSE page cache.
  for (const Chosen& c : chosen) ::posix_fadvise(c.fd.get(), 0, static_cast<off_t>(c.size), POSIX_FADV_WILLNEED);
  std::size_t stored = 0;
  if (!passthrough_ || !passthrough_->enabled()) {  // passthrough reads the backing files
    std::vector<char> data(limits_.file_max);
    for (const Chosen& c : chosen) {
      const auto node = fs_.nodes().find(dir, *c.name);
      if (!node) continue;  // the kernel has no inode to store into; WILLNEED still helps
      std::size_t got = 0;
      while (got < c.size) {
        const ssize_t n = ::pread(c.fd.get(), data.data() + got, c.size - got, static_cast<off_t>(got));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += static_cast<std::size_t>(n);
      }
      if (got == 0) continue;
      // Never more than the file holds: a store past EOF would extend the kernel's i_size.
      fuse_bufvec buf = FUSE_BUFVEC_INIT(got);
      buf.buf[0].mem = data.data();
      if (fuse_lowlevel_notify_store(se_, *node, 0, &buf, static_cast<fuse_buf_copy_flags>(0)) == 0) stored += got;
    }
  }
  std::lock_guard lock(mutex_);
  ++stats_.windows;
  stats_.files += chosen.size();
  stats_.bytes += bytes;
  stats_.stored_bytes += stored;
  stats_.largest_window = std::max<std::uint64_t>(stats_.largest_window, bytes);
  spdlog::debug("prefetch: window of {} files, {} bytes after {} ({} bytes stored)", chosen.size(), bytes, name,
                stored);
}

Prefetcher::Stats Prefetcher::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace bkpfs
