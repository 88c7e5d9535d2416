// Model registry: immutable numbered versions with lineage, aliases with an append-only history, content-addressed
// blobs verified on every load, compare, archive/delete/gc, export/import. Pure logic over a Store (core/store.h).
//
// PLAN then COMMIT. Every mutating operation is a pure function plan_*(const Store& snapshot, args) -> Plan whose
// Batch carries conditions on every record it read (counter, model record, index, version records); blobs are
// content-addressed and written unconditionally (idempotent). commit_plan() commits and, when a condition failed
// because someone else wrote first, re-reads and plans again (bounded). The browser runs the same plan_* functions
// against a synchronous mirror of IndexedDB and commits the Batch in one IndexedDB transaction. Planners never do
// I/O beyond store.get/list and never read a clock: times are passed in (milliseconds since the Unix epoch).
//
// Key layout (records are sealed JSON, see core/bundle.h: "<sha256 of json>\n<json>"):
//   index/models                 {"models": [names]}            changes only when a model is created
//   model/<name>                 {"name", "description", "tags", "created_ms",
//                                 "aliases": {alias: version}, "archived": {"<version>": {"time_ms", "reason"}},
//                                 "annotations": {"<version>": {"notes", "tags", "time_ms"}},
//                                 "history": [{"time_ms", "alias", "action": "set"|"remove"|"rollback",
//                                              "from": version|null, "to": version|null, "reason"}]}
//   counter/<name>               {"last": N}                    last version number handed out; never decreases
//   version/<name>/<%010d>       the manifest (schema in core/bundle.md); written once, never modified
//   blob/<sha256 hex>            raw bytes (safetensors); the key is the SHA-256 of the value
// Why annotations live in the model record: a manifest is immutable (its hash is the version's identity), but notes
// and tags are opinions about a version that change after registration. The manifest keeps what was said at
// registration; the record holds the latest edit. Records written before annotations existed simply lack the key.
// Why the index: gc conditions on it and on every counter, so a version registered while gc was planning makes
// gc re-plan instead of deleting a blob the new version needs.
//
// References: "name/3" (a version), "name@alias", "name@latest" (highest non-archived version), "name" (= @latest).
// Names of models and aliases: 1-64 of [A-Za-z0-9._-], starting with a letter or digit; aliases are not "latest"
// nor all digits.
//
// Errors (cairn::Error codes): bad_reference, invalid_name, not_found, alias_in_use, nothing_to_rollback,
// integrity (a stored byte changed: names model, version and blob), conflict (retries exhausted), invalid_argument,
// and the package codes of core/bundle.h (truncated, oversized, wrong_format, unsupported_version, ...).
//
// Index of this file
// [SECTION] Inputs and results
// [SECTION] Planning (pure)
// [SECTION] Commit helpers
// [SECTION] Reading
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/artifact.h"
#include "core/dataset.h"
#include "core/preprocess.h"  // schema_to_json
#include "core/store.h"

namespace cairn {

//-----------------------------------------------------------------------------
// [SECTION] Inputs and results
//-----------------------------------------------------------------------------

inline constexpr int kManifestFormatVersion = 1;

// A new version. Zero/empty fields mean "not recorded".
struct VersionDesc {
    std::string model;                 // created on first registration
    std::string model_description;     // used only when the model is created
    ModelArtifact artifact;
    std::string dataset_name;
    std::string dataset_fingerprint;   // dataset_fingerprint(dataset) (core/preprocess.h)
    Json dataset_schema;               // schema_to_json(dataset.schema) (core/preprocess.h)
    int64_t dataset_samples = 0;
    std::string parent;                // a reference ("iris/2", "iris@production"); empty for none
    Json hyperparameters;              // object
    Json training_history;             // e.g. {"loss": [...], "val_accuracy": [...]}
    Json metrics;                      // {split: {metric: number}}, e.g. {"test": {"accuracy": 0.95}}
    std::string notes;
    std::vector<std::string> tags;
    int64_t created_ms = 0;
};

struct Ref {
    std::string model;
    int64_t version = 0;
    std::string str() const { return model + "/" + std::to_string(version); }
};

// A planned change: the batch to commit and what it will have done (e.g. {"model", "version"}).
struct Plan {
    Batch batch;
    Json result;
};

void check_name(const std::string& name, const char* what);  // what: "model" or "alias"
// A valid model name made from free text such as a file name, ending in `suffix` (itself valid characters):
// "my data (1)" + "-mlp" -> "my-data-1-mlp". Runs of other characters become one '-'; "model" if nothing is left.
std::string model_name_for(const std::string& text, const std::string& suffix = "");

inline constexpr size_t kMaxTags = 32;
inline constexpr size_t kMaxNotesBytes = 16 * 1024;
void check_annotation(const std::string& notes, const std::vector<std::string>& tags);  // Error invalid_argument

//-----------------------------------------------------------------------------
// [SECTION] Planning (pure)
//-----------------------------------------------------------------------------

Plan plan_register(const Store& s, const VersionDesc& desc);
// Points alias at ref (creating or moving it); appends a "set" history entry.
Plan plan_set_alias(const Store& s, const std::string& ref, const std::string& alias, int64_t time_ms, const std::string& reason = "");
Plan plan_remove_alias(const Store& s, const std::string& model, const std::string& alias, int64_t time_ms, const std::string& reason = "");
// Moves alias back to the version it held before its latest set (undoing sets one at a time, like a stack).
Plan plan_rollback(const Store& s, const std::string& model, const std::string& alias, int64_t time_ms, const std::string& reason = "");
// Archive hides a version from @latest and listings (still loadable by number); delete removes its manifest (its
// blobs go at the next gc). Both are refused while an alias points at the version.
Plan plan_archive(const Store& s, const std::string& ref, int64_t time_ms, const std::string& reason = "");
// Makes an archived version visible again (a no-op when it is not archived).
Plan plan_unarchive(const Store& s, const std::string& ref);
// Replaces the notes and tags of a version (archived ones too). Tags: at most kMaxTags, each 1-64 characters without
// commas or control characters, no duplicates; notes at most kMaxNotesBytes. Error invalid_argument names the tag.
Plan plan_annotate(const Store& s, const std::string& ref, const std::string& notes, const std::vector<std::string>& tags, int64_t time_ms);
// Delete takes a version number (NAME/3): it cannot be undone, so NAME or NAME@latest is refused (bad_reference).
Plan plan_delete(const Store& s, const std::string& ref);
// Deletes blobs no version references. result: {"deleted": n, "bytes": total}
Plan plan_gc(const Store& s);
// Verifies the whole package (framing, hashes, manifests, sizes, references, conflicts with s) before planning any
// write. result: {"versions": ["iris/1", ...], "skipped": [...identical versions already present], "models": [...]}
Plan plan_import(const Store& s, const Bytes& file, const std::string& what);

//-----------------------------------------------------------------------------
// [SECTION] Commit helpers
//-----------------------------------------------------------------------------

// Plans against s, commits, re-plans after a failed condition; Error("conflict") after max_attempts.
Json commit_plan(Store& s, const std::function<Plan(const Store&)>& planner, int max_attempts = 1000);
Ref register_version(Store& s, const VersionDesc& desc);

//-----------------------------------------------------------------------------
// [SECTION] Reading (every load verifies hashes; nothing here writes)
//-----------------------------------------------------------------------------

std::vector<std::string> list_models(const Store& s);
Json model_record(const Store& s, const std::string& model);              // Error not_found
std::vector<int64_t> list_versions(const Store& s, const std::string& model, bool include_archived = true);
Ref resolve(const Store& s, const std::string& ref);
Json load_manifest(const Store& s, const Ref& ref);                      // verified record, validated schema
// The notes and tags in force for a version: the latest edit in the model record, else those of its manifest.
// {"notes": string, "tags": [string], "edited_ms": number|null}
Json version_annotation(const Json& model_record, const Json& manifest);

struct LoadedVersion {
    Ref ref;
    Json manifest;
    ModelArtifact artifact;
};
// Reads the manifest and every blob, checks every SHA-256 and that the tensors match the manifest.
LoadedVersion load_version(const Store& s, const std::string& ref);

// {"a", "b", "metrics": [{"split","metric","a","b","delta"}], "hyperparameters": [{"key" (dotted path),"a","b"}],
//  "architecture": JSON Patch (RFC 6902) from a to b, "weights": [{"name","status","shape_a","shape_b","l2","cosine"}],
//  "dataset_changed": bool}
Json compare_versions(const Store& s, const std::string& ref_a, const std::string& ref_b);

// Checks every record and every version's blobs. {"ok", "models", "versions", "blobs", "unreferenced_blobs",
// "problems": [{"code", "message"}]}. Never throws for damaged data: damage is what it reports.
Json verify_registry(const Store& s);

Bytes export_version(const Store& s, const std::string& ref);
Bytes export_registry(const Store& s);

}  // namespace cairn
