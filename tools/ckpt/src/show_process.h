// `ckpt show` for the PROCESS and FILE records (format 1.1), as text and
// as JSON.
#pragma once

#include "image_reader.h"
#include "json.h"

namespace ckpt {

void print_process(const ProcessRecord& p);
void print_file(const FileRecord& f);
void write_process_json(JsonWriter& w, const ProcessRecord& p);
void write_file_json(JsonWriter& w, const FileRecord& f);

}  // namespace ckpt
