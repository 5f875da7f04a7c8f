// Folds a request's stream events into the finished result a non-streaming reply is made of.
#pragma once

#include <cstddef>

#include "server/generation_events.h"

namespace lightseek::server {

// `choices`: how many the request asked for (n).
GenerationOutcome empty_outcome(std::size_t choices);
void apply_event(GenerationOutcome& outcome, const GenerationEvent& event);

}  // namespace lightseek::server
