// Dataset loaders: CSV, IDX (Fashion-MNIST, gzip included), image folders, and the bundled datasets.
//
// No platform I/O here: every loader takes bytes or text plus a `source` name (usually the file name) that appears
// in every error message. The native side and the browser read the files. All errors are cairn::Error with code
// "parse_error" (bad bytes) or "invalid_argument" (bad options) and name the source, line, column or file,
// and what was expected vs. what was found.
//
// Index of this file
// [SECTION] CSV
// [SECTION] gzip and IDX
// [SECTION] Image folders
// [SECTION] Bundled datasets
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/dataset.h"

namespace cairn {

using ByteSpan = std::span<const uint8_t>;

//-----------------------------------------------------------------------------
// [SECTION] CSV
//-----------------------------------------------------------------------------
// A header row, then one sample per row. Every column except the label is a numeric feature. Quotes ("a,b",
// "say ""hi"""), CRLF or LF line ends, a UTF-8 BOM, a missing or extra final newline and blank lines are accepted.
// Classification labels may be strings (classes in sorted order) or integers (classes in numeric order).

struct CsvDesc {
    std::string label_column;               // "" = the last column
    Task task = Task::classification;       // regression: the label must be numeric and becomes targets [n, 1]
    char delimiter = 0;                     // 0 = ','
    bool label_optional = false;            // label_column absent from the header: every column is a feature and
                                            // the dataset has no labels (new data to predict or check for drift)
};

Dataset load_csv(std::string_view text, const std::string& source, const CsvDesc& desc = {});

//-----------------------------------------------------------------------------
// [SECTION] gzip and IDX
//-----------------------------------------------------------------------------

bool is_gzip(ByteSpan bytes);
// Decompresses a gzip member (RFC 1952), checking its CRC-32 and length. Errors name `source`.
std::vector<uint8_t> gunzip(ByteSpan bytes, const std::string& source);

// One IDX array (the MNIST format): big-endian magic 0x0000TTNN, NN dims, then the data. Only unsigned bytes
// (type 0x08) are supported, which is what (Fashion-)MNIST uses. gzip input is decompressed first.
struct IdxArray {
    std::vector<int64_t> dims;
    std::vector<uint8_t> data;
};
IdxArray parse_idx(ByteSpan bytes, const std::string& source);

struct IdxDesc {
    int64_t limit = 0;                      // 0 = all samples; else the first `limit`
    std::vector<std::string> class_names;   // empty = Fashion-MNIST's ten names
};
// images: [n, rows, cols] bytes; labels: [n] bytes in [0, classes). Result: features [n, rows, cols, 1] f32 in [0, 1].
Dataset load_idx(ByteSpan images, const std::string& images_source, ByteSpan labels, const std::string& labels_source,
                 const IdxDesc& desc = {});

const std::vector<std::string>& fashion_mnist_class_names();

//-----------------------------------------------------------------------------
// [SECTION] Image folders
//-----------------------------------------------------------------------------
// One sub-folder per class; the native side (or the browser) lists the folders and hands over the files' bytes.
// Any format stb_image decodes (PNG, JPEG, BMP, GIF, PGM/PPM, ...). Classes are the sorted unique class names.

struct ImageItem {
    std::string class_name;     // the sub-folder
    std::string filename;       // for error messages, e.g. "cats/001.png"
    ByteSpan bytes;             // must outlive the load call
};

struct ImageFolderDesc {
    int64_t height = 0, width = 0;  // 0 = the first image's size; other sizes are resized to it
    int64_t channels = 0;           // 1 gray, 3 RGB, 4 RGBA; 0 = the first image's channels
};

Dataset load_image_folder(const std::vector<ImageItem>& items, const std::string& source,
                          const ImageFolderDesc& desc = {});

//-----------------------------------------------------------------------------
// [SECTION] Bundled datasets
//-----------------------------------------------------------------------------
// Embedded in every binary (gzip-compressed at build time): "iris", "digits", "breast_cancer" and, when the
// Debian package dataset-fashion-mnist was present at build time, "fashion_mnist_small" (the first 2000 training
// and 500 test images) and "fashion_mnist_small_test".

std::vector<std::string> bundled_dataset_names();
bool has_bundled_dataset(const std::string& name);
Dataset load_bundled_dataset(const std::string& name);  // Error "not_found" listing the names

}  // namespace cairn
