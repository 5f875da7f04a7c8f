// Whether to map a checkpoint's pages up front: when the weights fit comfortably in RAM,
// populating the mapping at load costs well under a second for a 16 GB model with a warm page
// cache and spares the first tokens hundreds of thousands of page faults; when they do not fit,
// reading everything would only evict what is needed.
#pragma once

#include <cstdint>

#include "formats/checkpoint.h"

namespace lightseek {

// MemTotal of /proc/meminfo in bytes, or 0 when unknown.
uint64_t physical_memory_bytes();

// Populates the checkpoint's mappings when its weights take at most 3/4 of physical memory.
// Returns whether it did.
bool populate_if_it_fits(const Checkpoint& checkpoint);

}  // namespace lightseek
