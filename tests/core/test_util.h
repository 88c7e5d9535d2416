// Helpers shared by the core tests (natively, and in wasm where NODERAWFS gives the real file system).
#pragma once
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cairn::test {

// The whole file, or an empty string when it cannot be opened (tests decide whether that means skip or fail).
inline std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return {};
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

inline std::vector<uint8_t> read_file_bytes(const std::string& path) {
    std::string s = read_file(path);
    return std::vector<uint8_t>(s.begin(), s.end());
}

}  // namespace cairn::test
