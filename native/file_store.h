// FileStore: the registry's Store on a local folder; crash-safe and safe for several processes at once.
//
// Folder layout:
//   LOCK                 flock()ed: exclusive while a batch is checked and applied, shared while reading
//   data/<key>           one file per key ('/' and any byte outside [A-Za-z0-9._-] percent-encoded), holding the
//                        value followed by the 64-hex SHA-256 of key + '\0' + value; every read checks it
//   stage/<n>            values of the batch being committed (already in their final file format)
//   journal              the commit record: which staged file becomes which key, which keys are deleted, sealed
//                        with its own SHA-256
// Commit: lock; replay any journal left by a crashed writer; check conditions; write + fsync the staged files;
// write journal.tmp, fsync, rename it to `journal` (THE commit point), fsync the folder; rename the staged files into
// data/ and unlink deleted keys; remove the journal. A writer killed before the rename leaves only temporary files
// (discarded at the next lock); killed after it, the next process to take the lock replays the journal
// (idempotent). Readers take a shared lock, so they never see half of a batch.
#pragma once
#include <string>

#include "core/store.h"

namespace cairn {

struct FileStoreDesc {
    std::string root;      // the folder; created if missing
    bool sync = true;      // fsync files and folders (false only for throwaway stores)
};

class FileStore : public Store {
public:
    explicit FileStore(const FileStoreDesc& desc);
    explicit FileStore(const std::string& root) : FileStore(FileStoreDesc{root}) {}
    ~FileStore() override;
    FileStore(const FileStore&) = delete;
    FileStore& operator=(const FileStore&) = delete;

    std::optional<Bytes> get(const std::string& key) const override;
    std::vector<std::string> list(const std::string& prefix) const override;
    bool commit(const Batch& batch) override;
    std::string describe() const override { return "file store at " + root_; }
    const std::string& root() const { return root_; }

private:
    class Lock;
    void recover_locked() const;
    std::optional<Bytes> get_locked(const std::string& key) const;
    std::string root_;
    bool sync_ = true;
    int lock_fd_ = -1;
};

// Replaces the file at `path` as a whole: writes `path`.tmp, syncs it and renames it over `path`, so a full disk or
// a crash leaves the previous file as it was, never a part of the new one. Errors: quota_exceeded (disk full),
// io_error; both name the file. A link is followed (the link stays); a device or pipe such as /dev/null is written
// in place.
void replace_file(const std::string& path, const void* data, size_t size);

// $CAIRN_STORE, else $XDG_DATA_HOME/cairn, else $HOME/.local/share/cairn.
std::string default_store_dir();

}  // namespace cairn
