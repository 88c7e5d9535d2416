// FileStore (see file_store.h for the folder layout and the commit protocol).
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>

#include "core/error.h"
#include "core/hash.h"
#include "native/file_store.h"

namespace cairn {

namespace {

const char kJournalMagic[] = "CAIRNJNL 1\n";

[[noreturn]] void io_fail(const std::string& what, int err = errno) {
    fail(err == ENOSPC || err == EDQUOT ? "quota_exceeded" : "io_error", what + ": " + std::strerror(err));
}

std::string encode_key(const std::string& key) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : key) {
        if (std::isalnum(c) || c == '.' || c == '_' || c == '-') out += static_cast<char>(c);
        else (out += '%') += hex[c >> 4], out += hex[c & 15];
    }
    // "." and ".." are not usable file names.
    if (out == "." || out == "..") out = "%2E" + out.substr(1);
    return out;
}

std::optional<std::string> decode_key(const std::string& name) {
    std::string out;
    for (size_t i = 0; i < name.size(); ++i) {
        if (name[i] != '%') {
            out += name[i];
            continue;
        }
        auto hexval = [](char c) { return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1; };
        if (i + 2 >= name.size() || hexval(name[i + 1]) < 0 || hexval(name[i + 2]) < 0) return std::nullopt;
        out += static_cast<char>(hexval(name[i + 1]) * 16 + hexval(name[i + 2]));
        i += 2;
    }
    return out;
}

std::optional<Bytes> read_file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        io_fail("cannot open " + path);
    }
    Bytes out;
    uint8_t buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            ::close(fd);
            io_fail("cannot read " + path, e);
        }
        if (n == 0) break;
        out.insert(out.end(), buf, buf + n);
    }
    ::close(fd);
    return out;
}

void write_file(const std::string& path, const void* data, size_t size, bool sync) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) io_fail("cannot create " + path);
    const uint8_t* p = static_cast<const uint8_t*>(data);
    while (size) {
        ssize_t n = ::write(fd, p, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            ::close(fd);
            io_fail("cannot write " + path, e);
        }
        p += n, size -= static_cast<size_t>(n);
    }
    if (sync && ::fsync(fd) != 0) {
        int e = errno;
        ::close(fd);
        io_fail("cannot fsync " + path, e);
    }
    if (::close(fd) != 0) io_fail("cannot close " + path);
}

void sync_dir(const std::string& dir, bool sync) {
    if (!sync) return;
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) io_fail("cannot open folder " + dir);
    if (::fsync(fd) != 0) {
        int e = errno;
        ::close(fd);
        io_fail("cannot fsync folder " + dir, e);
    }
    ::close(fd);
}

std::vector<std::string> dir_entries(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) io_fail("cannot list " + dir);
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
    return out;
}

void make_dir(const std::string& dir) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) io_fail("cannot create folder " + dir);
}

std::string file_seal(const std::string& key, const uint8_t* value, size_t size) {
    return Sha256().update(key).update("\0", 1).update(value, size).hex();
}

// Journal entries: "W <encoded key> <stage file>\n" or "D <encoded key>\n", then "END <sha256 of all before>\n".
struct JournalEntry {
    bool write;
    std::string name;   // encoded key
    std::string stage;  // stage file name
};

std::optional<std::vector<JournalEntry>> parse_journal(const Bytes& j) {
    std::string s(j.begin(), j.end());
    size_t end = s.rfind("END ");
    if (s.rfind(kJournalMagic, 0) != 0 || end == std::string::npos || s.size() != end + 4 + 64 + 1 ||
        sha256_hex(s.data(), end) != s.substr(end + 4, 64))
        return std::nullopt;
    std::vector<JournalEntry> out;
    size_t at = sizeof(kJournalMagic) - 1;
    while (at < end) {
        size_t nl = s.find('\n', at);
        std::string line = s.substr(at, nl - at);
        at = nl + 1;
        if (line.size() < 3) return std::nullopt;
        JournalEntry e{line[0] == 'W', "", ""};
        std::string rest = line.substr(2);
        if (e.write) {
            size_t sp = rest.find(' ');
            if (sp == std::string::npos) return std::nullopt;
            e.name = rest.substr(0, sp), e.stage = rest.substr(sp + 1);
        } else {
            e.name = rest;
        }
        out.push_back(e);
    }
    return out;
}

}  // namespace

class FileStore::Lock {
public:
    Lock(int fd, int op, const std::string& root) : fd_(fd) {
        while (::flock(fd_, op) != 0)
            if (errno != EINTR) io_fail("cannot lock " + root + "/LOCK");
    }
    ~Lock() { ::flock(fd_, LOCK_UN); }

private:
    int fd_;
};

FileStore::FileStore(const FileStoreDesc& desc) : root_(desc.root), sync_(desc.sync) {
    if (root_.empty()) fail("invalid_argument", "file store: the folder name is empty");
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
    // Create parents like mkdir -p (the default location may not exist yet).
    for (size_t i = 1; i <= root_.size(); ++i)
        if (i == root_.size() || root_[i] == '/') make_dir(root_.substr(0, i));
    make_dir(root_ + "/data");
    make_dir(root_ + "/stage");
    lock_fd_ = ::open((root_ + "/LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0) io_fail("cannot open " + root_ + "/LOCK");
    Lock lock(lock_fd_, LOCK_EX, root_);
    recover_locked();
}

FileStore::~FileStore() {
    if (lock_fd_ >= 0) ::close(lock_fd_);
}

// Under the exclusive lock: finish a committed batch whose writer died, discard an uncommitted one.
void FileStore::recover_locked() const {
    std::string journal = root_ + "/journal";
    if (std::optional<Bytes> j = read_file(journal)) {
        std::optional<std::vector<JournalEntry>> entries = parse_journal(*j);
        // The journal is renamed into place only after it was written and synced, so a bad one means the disk
        // lost data: refuse to guess.
        if (!entries) fail("io_error", describe() + ": the commit journal is damaged; the store needs repair");
        for (const JournalEntry& e : *entries) {
            std::string target = root_ + "/data/" + e.name;
            if (e.write) {
                std::string staged = root_ + "/stage/" + e.stage;
                if (::rename(staged.c_str(), target.c_str()) != 0 && errno != ENOENT) io_fail("cannot move " + staged);
            } else if (::unlink(target.c_str()) != 0 && errno != ENOENT) {
                io_fail("cannot remove " + target);
            }
        }
        sync_dir(root_ + "/data", sync_);
        // Synced: a journal coming back after a power loss would replay its deletes over later batches.
        if (::unlink(journal.c_str()) != 0) io_fail("cannot remove " + journal);
        sync_dir(root_, sync_);
    }
    ::unlink((root_ + "/journal.tmp").c_str());
    for (const std::string& n : dir_entries(root_ + "/stage")) ::unlink((root_ + "/stage/" + n).c_str());
}

std::optional<Bytes> FileStore::get_locked(const std::string& key) const {
    std::string path = root_ + "/data/" + encode_key(key);
    std::optional<Bytes> raw = read_file(path);
    if (!raw) return std::nullopt;
    if (raw->size() < 64) fail("integrity", describe() + ": key '" + key + "' (" + path + ") is truncated");
    size_t n = raw->size() - 64;
    if (file_seal(key, raw->data(), n) != std::string(raw->begin() + n, raw->end()))
        fail("integrity", describe() + ": key '" + key + "' (" + path + ") is damaged (checksum mismatch)");
    raw->resize(n);
    return raw;
}

std::optional<Bytes> FileStore::get(const std::string& key) const {
    for (;;) {
        {
            Lock lock(lock_fd_, LOCK_SH, root_);
            if (::access((root_ + "/journal").c_str(), F_OK) != 0) return get_locked(key);
        }
        Lock lock(lock_fd_, LOCK_EX, root_);
        recover_locked();
    }
}

std::vector<std::string> FileStore::list(const std::string& prefix) const {
    for (;;) {
        {
            Lock lock(lock_fd_, LOCK_SH, root_);
            if (::access((root_ + "/journal").c_str(), F_OK) != 0) {
                std::vector<std::string> keys;
                for (const std::string& n : dir_entries(root_ + "/data")) {
                    std::optional<std::string> k = decode_key(n);
                    if (k && k->compare(0, prefix.size(), prefix) == 0) keys.push_back(*k);
                }
                std::sort(keys.begin(), keys.end());
                return keys;
            }
        }
        Lock lock(lock_fd_, LOCK_EX, root_);
        recover_locked();
    }
}

bool FileStore::commit(const Batch& batch) {
    Lock lock(lock_fd_, LOCK_EX, root_);
    recover_locked();
    for (const StoreCondition& c : batch.conditions)
        if (get_locked(c.key) != c.expected) return false;
    std::map<std::string, const std::optional<Bytes>*> last;  // a key written twice keeps its last value
    for (const StoreWrite& w : batch.writes) last[w.key] = &w.value;
    if (last.empty()) return true;
    std::string body = kJournalMagic;
    int n = 0;
    try {
        for (auto& [key, value] : last) {
            if (!*value) {
                body += "D " + encode_key(key) + "\n";
                continue;
            }
            std::string stage = std::to_string(n++);
            const Bytes& v = **value;
            Bytes file = v;
            std::string seal = file_seal(key, v.data(), v.size());
            file.insert(file.end(), seal.begin(), seal.end());
            write_file(root_ + "/stage/" + stage, file.data(), file.size(), sync_);
            body += "W " + encode_key(key) + " " + stage + "\n";
        }
        sync_dir(root_ + "/stage", sync_);
        body += "END " + sha256_hex(body) + "\n";
        write_file(root_ + "/journal.tmp", body.data(), body.size(), sync_);
    } catch (...) {
        recover_locked();  // nothing was committed: drop the staged files
        throw;
    }
    if (::rename((root_ + "/journal.tmp").c_str(), (root_ + "/journal").c_str()) != 0) {
        int e = errno;
        recover_locked();
        io_fail("cannot commit in " + root_, e);
    }
    sync_dir(root_, sync_);  // the batch is durable from here on
    recover_locked();        // applies the journal just written, exactly as after a crash
    return true;
}

void replace_file(const std::string& requested, const void* data, size_t size) {
    std::string path = requested;
    struct stat st {};
    if (::stat(requested.c_str(), &st) == 0) {
        // A device or a pipe (/dev/null, /dev/stdout) has no old contents to keep, and renaming over it would put a
        // regular file in its place: write to it directly.
        if (!S_ISREG(st.st_mode)) return write_file(requested, data, size, false);
        // A link stays a link: the file it points at is the one replaced.
        if (char* real = ::realpath(requested.c_str(), nullptr)) {
            path = real;
            std::free(real);
        }
    }
    const std::string tmp = path + ".tmp";
    try {
        write_file(tmp, data, size, true);
    } catch (...) {
        ::unlink(tmp.c_str());  // what fitted of it
        throw;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int e = errno;
        ::unlink(tmp.c_str());
        io_fail("cannot rename " + tmp + " to " + path, e);
    }
}

std::string default_store_dir() {
    if (const char* s = std::getenv("CAIRN_STORE"); s && *s) return s;
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/cairn";
    if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.local/share/cairn";
    fail("invalid_argument", "no store folder: set CAIRN_STORE or HOME, or pass --store DIR");
}

}  // namespace cairn
