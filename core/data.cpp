// Dataset loaders. See core/data.h.
//
// Index of this file
// [SECTION] Helpers
// [SECTION] CSV
// [SECTION] gzip and IDX
// [SECTION] Image folders
// [SECTION] Bundled datasets
#include "core/data.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>

#include "core/error.h"

// stb as private static copies: other parts of the program may compile their own stb implementations.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_STDIO
#define STBI_FAILURE_USERMSG
#define STB_IMAGE_RESIZE_STATIC
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#include <stb/stb_image.h>
#include <stb/stb_image_resize.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

namespace cairn {

//-----------------------------------------------------------------------------
// [SECTION] Helpers
//-----------------------------------------------------------------------------

namespace {

[[noreturn]] void parse_fail(const std::string& where, const std::string& what) { fail("parse_error", where + ": " + what); }

std::string quoted(std::string_view s) {
    constexpr size_t kMax = 40;  // long cells would drown the message
    std::string out = "\"";
    out.append(s.substr(0, kMax));
    if (s.size() > kMax) out += "...";
    return out + "\"";
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool is_missing_marker(std::string_view s) {
    static const char* markers[] = {"", "na", "n/a", "nan", "null", "none", "?", "-"};
    std::string lower(s);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* m : markers)
        if (lower == m) return true;
    return false;
}

// strtod, but only accepting a whole finite number (no trailing garbage, no nan/inf).
bool parse_number(std::string_view s, double& out) {
    if (s.empty() || s.size() > 64) return false;
    char buf[72];
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = 0;
    char* end = nullptr;
    out = std::strtod(buf, &end);
    return end == buf + s.size() && std::isfinite(out);
}

bool parse_integer(std::string_view s, long long& out) {
    if (s.empty() || s.size() > 20) return false;
    char buf[24];
    std::memcpy(buf, s.data(), s.size());
    buf[s.size()] = 0;
    char* end = nullptr;
    errno = 0;
    out = std::strtoll(buf, &end, 10);
    return end == buf + s.size() && errno == 0;
}

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] CSV
//-----------------------------------------------------------------------------

namespace {

struct CsvRecord {
    int64_t line = 0;  // 1-based physical line where the record starts
    std::vector<std::string> cells;
    std::vector<bool> was_quoted;
};

// RFC 4180 records; quoted cells may contain delimiters, doubled quotes and line breaks.
std::vector<CsvRecord> split_csv(std::string_view text, const std::string& source, char delim) {
    if (text.size() >= 3 && static_cast<uint8_t>(text[0]) == 0xEF && static_cast<uint8_t>(text[1]) == 0xBB &&
        static_cast<uint8_t>(text[2]) == 0xBF)
        text.remove_prefix(3);
    std::vector<CsvRecord> records;
    size_t i = 0, n = text.size();
    int64_t line = 1;
    while (i < n) {
        CsvRecord rec;
        rec.line = line;
        std::string cell;
        bool quoted_cell = false, end_of_record = false;
        while (!end_of_record) {
            if (i < n && text[i] == '"' && trim(cell).empty()) {
                quoted_cell = true;
                cell.clear();
                int64_t start_line = line;
                ++i;
                for (;;) {
                    if (i >= n)
                        parse_fail(source + ", line " + std::to_string(start_line),
                                   "unterminated quoted field (expected a closing '\"' before the end of the file)");
                    char c = text[i++];
                    if (c == '"') {
                        if (i < n && text[i] == '"') {
                            cell += '"';
                            ++i;
                        } else {
                            break;
                        }
                    } else {
                        if (c == '\n') ++line;
                        cell += c;
                    }
                }
                // Only spaces may follow the closing quote.
                while (i < n && (text[i] == ' ' || text[i] == '\t')) ++i;
                if (i < n && text[i] != delim && text[i] != '\n' && text[i] != '\r')
                    parse_fail(source + ", line " + std::to_string(line),
                               std::string("expected a delimiter or line end after a closing quote, got '") +
                                   text[i] + "'");
            }
            while (i < n && text[i] != delim && text[i] != '\n' && text[i] != '\r') cell += text[i++];
            rec.cells.push_back(quoted_cell ? cell : std::string(trim(cell)));
            rec.was_quoted.push_back(quoted_cell);
            cell.clear();
            quoted_cell = false;
            if (i >= n) {
                end_of_record = true;
            } else if (text[i] == delim) {
                ++i;
            } else {  // \n, \r\n or a lone \r
                if (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') ++i;
                ++i;
                ++line;
                end_of_record = true;
            }
        }
        bool blank = rec.cells.size() == 1 && rec.cells[0].empty() && !rec.was_quoted[0];
        if (!blank) records.push_back(std::move(rec));
    }
    return records;
}

}  // namespace

Dataset load_csv(std::string_view text, const std::string& source, const CsvDesc& desc) {
    if (desc.task != Task::classification && desc.task != Task::regression)
        fail("invalid_argument", "CsvDesc.task: expected classification or regression");
    const char delim = desc.delimiter ? desc.delimiter : ',';
    if (delim == '"' || delim == '\n' || delim == '\r')
        fail("invalid_argument", "CsvDesc.delimiter: expected a separator character, got a quote or line break");

    std::vector<CsvRecord> records = split_csv(text, source, delim);
    if (records.empty()) parse_fail(source, "empty file (expected a header row and at least one data row)");
    const CsvRecord& header = records[0];
    const std::string where_header = source + ", line " + std::to_string(header.line);
    const size_t ncols = header.cells.size();
    const bool unlabeled = desc.label_optional && !desc.label_column.empty() &&
                           std::find(header.cells.begin(), header.cells.end(), desc.label_column) == header.cells.end();
    if (ncols < (unlabeled ? 1u : 2u))
        parse_fail(where_header, "expected a header with at least 2 columns (features and a label), got " +
                                     std::to_string(ncols) + " (is the delimiter '" + std::string(1, delim) + "'?)");
    std::vector<std::string> names = header.cells;
    std::set<std::string> seen;
    for (size_t c = 0; c < ncols; ++c) {
        if (names[c].empty()) names[c] = "column_" + std::to_string(c + 1);
        if (!seen.insert(names[c]).second)
            parse_fail(where_header, "duplicate column name " + quoted(names[c]) + " (column " +
                                         std::to_string(c + 1) + ")");
    }
    size_t label_col = unlabeled ? SIZE_MAX : ncols - 1;
    if (!desc.label_column.empty() && !unlabeled) {
        auto it = std::find(names.begin(), names.end(), desc.label_column);
        if (it == names.end()) {
            std::string list;
            for (const auto& nm : names) list += (list.empty() ? "" : ", ") + nm;
            parse_fail(where_header, "label column " + quoted(desc.label_column) + " not found; columns are: " + list);
        }
        label_col = static_cast<size_t>(it - names.begin());
    }
    if (records.size() < 2) parse_fail(source, "no data rows after the header (expected at least one sample)");

    const int64_t n = static_cast<int64_t>(records.size() - 1);
    const int64_t d = static_cast<int64_t>(unlabeled ? ncols : ncols - 1);
    Dataset ds;
    ds.name = source;
    if (!unlabeled) ds.schema.label_name = names[label_col];
    ds.schema.task = desc.task;
    for (size_t c = 0; c < ncols; ++c)
        if (c != label_col) ds.schema.feature_names.push_back(names[c]);
    ds.features = Tensor::empty({n, d});
    float* x = ds.features.data();
    std::vector<std::string> label_cells(static_cast<size_t>(n));

    auto cell_where = [&](const CsvRecord& r, size_t c) {
        return source + ", line " + std::to_string(r.line) + ", column " + quoted(names[c]) + " (" +
               std::to_string(c + 1) + ")";
    };
    for (int64_t r = 0; r < n; ++r) {
        const CsvRecord& rec = records[static_cast<size_t>(r + 1)];
        if (rec.cells.size() != ncols)
            parse_fail(source + ", line " + std::to_string(rec.line),
                       "expected " + std::to_string(ncols) + " columns (as in the header), got " +
                           std::to_string(rec.cells.size()));
        int64_t f = 0;
        for (size_t c = 0; c < ncols; ++c) {
            const std::string& cell = rec.cells[c];
            std::string_view v = rec.was_quoted[c] ? trim(cell) : std::string_view(cell);
            if (c == label_col) {
                if (v.empty() || (!rec.was_quoted[c] && is_missing_marker(v)))
                    parse_fail(cell_where(rec, c), "missing label: expected a value, got " + quoted(v));
                label_cells[static_cast<size_t>(r)] = std::string(v);
                continue;
            }
            double value = 0;
            if (!parse_number(v, value)) {
                if (is_missing_marker(v))
                    parse_fail(cell_where(rec, c), "missing value: expected a number, got " + quoted(v) +
                                                       " (fill or drop missing values before loading)");
                parse_fail(cell_where(rec, c), "expected a number, got " + quoted(v) +
                                                   " (feature columns must be numeric)");
            }
            x[r * d + f++] = static_cast<float>(value);
        }
    }

    if (unlabeled) return ds;
    if (desc.task == Task::regression) {
        ds.targets = Tensor::empty({n, 1});
        for (int64_t r = 0; r < n; ++r) {
            double value = 0;
            if (!parse_number(label_cells[static_cast<size_t>(r)], value))
                parse_fail(cell_where(records[static_cast<size_t>(r + 1)], label_col),
                           "expected a numeric regression target, got " + quoted(label_cells[static_cast<size_t>(r)]));
            ds.targets.data()[r] = static_cast<float>(value);
        }
        return ds;
    }

    // Classes: numeric order when every label is an integer ("2" < "10"), else sorted strings.
    bool all_int = true;
    std::vector<long long> ints(static_cast<size_t>(n));
    for (int64_t r = 0; r < n && all_int; ++r) all_int = parse_integer(label_cells[static_cast<size_t>(r)], ints[static_cast<size_t>(r)]);
    ds.labels.resize(static_cast<size_t>(n));
    if (all_int) {
        std::vector<long long> uniq(ints);
        std::sort(uniq.begin(), uniq.end());
        uniq.erase(std::unique(uniq.begin(), uniq.end()), uniq.end());
        for (long long u : uniq) ds.schema.class_names.push_back(std::to_string(u));
        for (int64_t r = 0; r < n; ++r)
            ds.labels[static_cast<size_t>(r)] = static_cast<int32_t>(
                std::lower_bound(uniq.begin(), uniq.end(), ints[static_cast<size_t>(r)]) - uniq.begin());
    } else {
        std::vector<std::string> uniq(label_cells);
        std::sort(uniq.begin(), uniq.end());
        uniq.erase(std::unique(uniq.begin(), uniq.end()), uniq.end());
        ds.schema.class_names = uniq;
        for (int64_t r = 0; r < n; ++r)
            ds.labels[static_cast<size_t>(r)] = static_cast<int32_t>(
                std::lower_bound(uniq.begin(), uniq.end(), label_cells[static_cast<size_t>(r)]) - uniq.begin());
    }
    return ds;
}

//-----------------------------------------------------------------------------
// [SECTION] gzip and IDX
//-----------------------------------------------------------------------------

namespace {

uint32_t crc32(const uint8_t* p, size_t n) {
    static uint32_t table[256];
    static bool ready = false;
    if (!ready) {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        ready = true;
    }
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

uint32_t le32(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24); }
uint32_t be32(const uint8_t* p) { return (static_cast<uint32_t>(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }

}  // namespace

bool is_gzip(ByteSpan b) { return b.size() >= 2 && b[0] == 0x1F && b[1] == 0x8B; }

std::vector<uint8_t> gunzip(ByteSpan b, const std::string& source) {
    // Header (RFC 1952 section 2.3): magic, method 8 (deflate), flags, mtime, xfl, os, then optional fields.
    if (b.size() < 18) parse_fail(source, "truncated gzip data: expected at least 18 bytes, got " + std::to_string(b.size()));
    if (!is_gzip(b)) parse_fail(source, "not gzip data: expected magic bytes 1f 8b");
    if (b[2] != 8) parse_fail(source, "gzip: expected compression method 8 (deflate), got " + std::to_string(b[2]));
    const uint8_t flags = b[3];
    size_t pos = 10;
    auto need = [&](size_t k) {
        if (pos + k > b.size()) parse_fail(source, "truncated gzip header");
    };
    if (flags & 0x04) {  // FEXTRA
        need(2);
        size_t xlen = b[pos] | (b[pos + 1] << 8);
        pos += 2;
        need(xlen);
        pos += xlen;
    }
    for (uint8_t bit : {uint8_t(0x08), uint8_t(0x10)}) {  // FNAME, FCOMMENT: zero-terminated
        if (!(flags & bit)) continue;
        while (pos < b.size() && b[pos] != 0) ++pos;
        need(1);
        ++pos;
    }
    if (flags & 0x02) pos += 2;  // FHCRC
    if (pos + 8 > b.size()) parse_fail(source, "truncated gzip data (no room for the deflate stream and trailer)");
    const uint32_t want_crc = le32(&b[b.size() - 8]);
    const uint32_t want_size = le32(&b[b.size() - 4]);  // size mod 2^32; our inputs are far below 4 GiB
    std::vector<uint8_t> out(want_size);
    // The deflate stream ends itself; the 8 trailer bytes are passed along as look-ahead because stb_image 2.27
    // reports "bad huffman code" when a stream's last code sits within 16 bits of the end of its input.
    const size_t in_size = b.size() - pos;
    if (in_size > 0x7FFFFFFF || want_size > 0x7FFFFFFF) parse_fail(source, "gzip data too large (over 2 GiB)");
    int got = stbi_zlib_decode_noheader_buffer(reinterpret_cast<char*>(out.data()), static_cast<int>(want_size),
                                               reinterpret_cast<const char*>(&b[pos]), static_cast<int>(in_size));
    if (got < 0)
        parse_fail(source, "corrupt gzip data: the deflate stream does not decode to the " +
                               std::to_string(want_size) + " bytes its trailer announces");
    if (static_cast<uint32_t>(got) != want_size)
        parse_fail(source, "corrupt gzip data: expected " + std::to_string(want_size) + " bytes, got " +
                               std::to_string(got));
    if (crc32(out.data(), out.size()) != want_crc) parse_fail(source, "corrupt gzip data: CRC-32 mismatch");
    return out;
}

IdxArray parse_idx(ByteSpan bytes, const std::string& source) {
    std::vector<uint8_t> inflated;
    if (is_gzip(bytes)) {
        inflated = gunzip(bytes, source);
        bytes = inflated;
    }
    if (bytes.size() < 4) parse_fail(source, "truncated IDX data: expected a 4-byte magic number, got " +
                                                 std::to_string(bytes.size()) + " bytes");
    if (bytes[0] != 0 || bytes[1] != 0)
        parse_fail(source, "not IDX data: expected magic bytes 00 00 TT NN, got " + std::to_string(bytes[0]) + " " +
                               std::to_string(bytes[1]) + " ...");
    if (bytes[2] != 0x08)
        parse_fail(source, "IDX element type " + std::to_string(bytes[2]) + " not supported (expected 8 = unsigned byte)");
    const int ndims = bytes[3];
    if (ndims < 1 || ndims > 4) parse_fail(source, "IDX: expected 1 to 4 dimensions, got " + std::to_string(ndims));
    const size_t header = 4 + 4 * static_cast<size_t>(ndims);
    if (bytes.size() < header)
        parse_fail(source, "truncated IDX header: expected " + std::to_string(header) + " bytes, got " +
                               std::to_string(bytes.size()));
    IdxArray a;
    uint64_t total = 1;
    for (int k = 0; k < ndims; ++k) {
        uint32_t dim = be32(&bytes[4 + 4 * static_cast<size_t>(k)]);
        if (dim == 0 || dim > (1u << 28)) parse_fail(source, "IDX dimension " + std::to_string(k) + " is " + std::to_string(dim) + " (expected 1 to 2^28)");
        a.dims.push_back(dim);
        total *= dim;
        if (total > (1ull << 32)) parse_fail(source, "IDX array too large");
    }
    if (bytes.size() - header != total)
        parse_fail(source, "IDX size mismatch: dimensions " + shape_str(a.dims) + " need " + std::to_string(total) +
                               " data bytes, got " + std::to_string(bytes.size() - header));
    a.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end());
    return a;
}

const std::vector<std::string>& fashion_mnist_class_names() {
    static const std::vector<std::string> names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return names;
}

Dataset load_idx(ByteSpan images, const std::string& images_source, ByteSpan labels, const std::string& labels_source,
                 const IdxDesc& desc) {
    if (desc.limit < 0) fail("invalid_argument", "IdxDesc.limit: expected >= 0, got " + std::to_string(desc.limit));
    IdxArray im = parse_idx(images, images_source);
    IdxArray lb = parse_idx(labels, labels_source);
    if (im.dims.size() != 3)
        parse_fail(images_source, "expected an image array [n, rows, cols], got dimensions " + shape_str(im.dims));
    if (lb.dims.size() != 1) parse_fail(labels_source, "expected a label array [n], got dimensions " + shape_str(lb.dims));
    if (im.dims[0] != lb.dims[0])
        parse_fail(labels_source, "expected " + std::to_string(im.dims[0]) + " labels (one per image in " +
                                      images_source + "), got " + std::to_string(lb.dims[0]));
    const auto& classes = desc.class_names.empty() ? fashion_mnist_class_names() : desc.class_names;
    int64_t n = im.dims[0];
    if (desc.limit > 0) n = std::min(n, desc.limit);
    const int64_t h = im.dims[1], w = im.dims[2];
    Dataset ds;
    ds.name = images_source;
    ds.schema.class_names = classes;
    ds.schema.label_name = "label";
    ds.schema.image_h = h;
    ds.schema.image_w = w;
    ds.schema.image_c = 1;
    ds.features = Tensor::empty({n, h, w, 1});
    float* x = ds.features.data();
    for (int64_t i = 0; i < n * h * w; ++i) x[i] = static_cast<float>(im.data[static_cast<size_t>(i)]) * (1.0f / 255.0f);
    ds.labels.resize(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        uint8_t l = lb.data[static_cast<size_t>(i)];
        if (l >= classes.size())
            parse_fail(labels_source, "label " + std::to_string(i) + " is " + std::to_string(l) + ", expected 0 to " +
                                          std::to_string(classes.size() - 1));
        ds.labels[static_cast<size_t>(i)] = l;
    }
    return ds;
}

//-----------------------------------------------------------------------------
// [SECTION] Image folders
//-----------------------------------------------------------------------------

Dataset load_image_folder(const std::vector<ImageItem>& items, const std::string& source, const ImageFolderDesc& desc) {
    if (desc.height < 0 || desc.width < 0 || desc.height > 4096 || desc.width > 4096)
        fail("invalid_argument", "ImageFolderDesc.height/width: expected 0 (first image's size) to 4096");
    if (!(desc.channels == 0 || desc.channels == 1 || desc.channels == 3 || desc.channels == 4))
        fail("invalid_argument", "ImageFolderDesc.channels: expected 0, 1, 3 or 4, got " + std::to_string(desc.channels));
    if (items.empty()) parse_fail(source, "no images found (expected one sub-folder per class with image files)");

    std::vector<std::string> classes;
    for (const auto& it : items) classes.push_back(it.class_name);
    std::sort(classes.begin(), classes.end());
    classes.erase(std::unique(classes.begin(), classes.end()), classes.end());

    int64_t H = desc.height, W = desc.width, C = desc.channels;
    Tensor features;
    std::vector<int32_t> labels;
    const int64_t n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
        const ImageItem& item = items[static_cast<size_t>(i)];
        const std::string where = source + "/" + item.filename;
        if (item.bytes.size() > 0x7FFFFFFF) parse_fail(where, "image file too large");
        int w = 0, h = 0, file_c = 0;
        if (!stbi_info_from_memory(item.bytes.data(), static_cast<int>(item.bytes.size()), &w, &h, &file_c))
            parse_fail(where, std::string("cannot decode image (expected PNG, JPEG, BMP, GIF, TGA or PNM): ") +
                                  stbi_failure_reason());
        if (i == 0) {
            if (!H) H = h;
            if (!W) W = w;
            if (!C) C = file_c == 2 ? 1 : (file_c == 4 ? 3 : file_c);  // drop alpha unless asked for
            features = Tensor::empty({n, H, W, C});
        }
        int got_c = 0;
        uint8_t* pixels = stbi_load_from_memory(item.bytes.data(), static_cast<int>(item.bytes.size()), &w, &h, &got_c,
                                                static_cast<int>(C));
        if (!pixels) parse_fail(where, std::string("cannot decode image: ") + stbi_failure_reason());
        std::vector<uint8_t> resized;
        const uint8_t* src = pixels;
        if (w != W || h != H) {
            resized.resize(static_cast<size_t>(H * W * C));
            int ok = stbir_resize_uint8(pixels, w, h, 0, resized.data(), static_cast<int>(W), static_cast<int>(H), 0,
                                        static_cast<int>(C));
            if (!ok) {
                stbi_image_free(pixels);
                parse_fail(where, "cannot resize from " + std::to_string(w) + "x" + std::to_string(h) + " to " +
                                      std::to_string(W) + "x" + std::to_string(H));
            }
            src = resized.data();
        }
        float* dst = features.data() + i * H * W * C;
        for (int64_t k = 0; k < H * W * C; ++k) dst[k] = static_cast<float>(src[k]) * (1.0f / 255.0f);
        stbi_image_free(pixels);
        labels.push_back(static_cast<int32_t>(std::lower_bound(classes.begin(), classes.end(), item.class_name) -
                                              classes.begin()));
    }
    Dataset ds;
    ds.name = source;
    ds.features = features;
    ds.labels = std::move(labels);
    ds.schema.class_names = classes;
    ds.schema.label_name = "class";
    ds.schema.image_h = H;
    ds.schema.image_w = W;
    ds.schema.image_c = C;
    return ds;
}

//-----------------------------------------------------------------------------
// [SECTION] Bundled datasets
//-----------------------------------------------------------------------------
// The table is generated at build time (assets/datasets.cmake): file name -> gzip bytes.

namespace detail {
struct EmbeddedFile {
    const char* name;
    const unsigned char* data;
    size_t size;
};
extern const EmbeddedFile embedded_files[];
extern const size_t embedded_file_count;
}  // namespace detail

namespace {

const detail::EmbeddedFile* find_embedded(const std::string& name) {
    for (size_t i = 0; i < detail::embedded_file_count; ++i)
        if (name == detail::embedded_files[i].name) return &detail::embedded_files[i];
    return nullptr;
}

std::vector<uint8_t> embedded_bytes(const std::string& name) {
    const detail::EmbeddedFile* f = find_embedded(name);
    if (!f) fail("not_found", "bundled file " + name + " is not embedded in this build");
    return gunzip(ByteSpan(f->data, f->size), name);
}

ByteSpan embedded_raw(const std::string& name) {
    const detail::EmbeddedFile* f = find_embedded(name);
    if (!f) fail("not_found", "bundled file " + name + " is not embedded in this build");
    return ByteSpan(f->data, f->size);
}

struct BundledEntry {
    const char* name;
    const char* files[2];  // CSV: one file; IDX: images, labels
};

const BundledEntry kBundled[] = {
    {"iris", {"iris.csv.gz", nullptr}},
    {"digits", {"digits.csv.gz", nullptr}},
    {"breast_cancer", {"breast_cancer.csv.gz", nullptr}},
    {"fashion_mnist_small", {"fashion-mnist-small/train-images-idx3-ubyte.gz", "fashion-mnist-small/train-labels-idx1-ubyte.gz"}},
    {"fashion_mnist_small_test", {"fashion-mnist-small/t10k-images-idx3-ubyte.gz", "fashion-mnist-small/t10k-labels-idx1-ubyte.gz"}},
};

}  // namespace

std::vector<std::string> bundled_dataset_names() {
    std::vector<std::string> names;
    for (const auto& e : kBundled) {
        bool present = true;
        for (const char* f : e.files)
            if (f && !find_embedded(f)) present = false;
        if (present) names.push_back(e.name);
    }
    return names;
}

bool has_bundled_dataset(const std::string& name) {
    auto names = bundled_dataset_names();
    return std::find(names.begin(), names.end(), name) != names.end();
}

Dataset load_bundled_dataset(const std::string& name) {
    if (!has_bundled_dataset(name)) {
        std::string list;
        for (const auto& nm : bundled_dataset_names()) list += (list.empty() ? "" : ", ") + nm;
        fail("not_found", "no bundled dataset named " + quoted(name) + "; available: " + list);
    }
    for (const auto& e : kBundled) {
        if (name != e.name) continue;
        Dataset ds;
        if (!e.files[1]) {
            std::vector<uint8_t> text = embedded_bytes(e.files[0]);
            ds = load_csv(std::string_view(reinterpret_cast<const char*>(text.data()), text.size()),
                          std::string(e.files[0]).substr(0, std::strlen(e.files[0]) - 3));
        } else {
            ds = load_idx(embedded_raw(e.files[0]), e.files[0], embedded_raw(e.files[1]), e.files[1]);
        }
        ds.name = name;
        return ds;
    }
    fail("not_found", "no bundled dataset named " + quoted(name));
}

}  // namespace cairn
