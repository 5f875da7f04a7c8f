// What a DSML tool-call block may hold for one request (strict tool calls, tool_choice): the
// tools that may be invoked and, for strict tools, each parameter's name, whether it may be
// written raw (string="true") or as JSON (string="false"), and the part of the tool's compiled
// `parameters` schema its value must match. The matcher (tool_call_matcher.h) walks it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "text/json_schema.h"

namespace lightseek {

// One tool as the request gives it.
struct ToolCallSpec {
  std::string name;
  // The tool's `parameters` schema when its arguments must follow it (strict); null: free.
  const nlohmann::ordered_json* strict_parameters = nullptr;
  std::string parameters_path;  // names the schema in errors, e.g. "tools[0].function.parameters"
};

class ToolCallGrammar {
 public:
  struct Parameter {
    std::string name;     // as written between the quotes of name="..."
    uint32_t value = 0;   // node of the tool's schema the value must match
    bool required = false;
    // Which string="..." the value may be written with: "true" where the value may be a JSON
    // string (written raw), "false" where it may be anything else (written as JSON). This is
    // how the V4 encoder writes argument values, so every value has one spelling.
    bool raw = false;
    bool json = false;
  };
  struct Tool {
    std::string name;
    std::shared_ptr<const JsonSchemaGrammar> schema;  // null: arguments are free (not strict)
    std::vector<Parameter> parameters;                // sorted by name; at most 64
    std::optional<Parameter> additional;              // values under other names (name unused)
    uint64_t required = 0;                            // bit i: parameters[i] is required
  };
  struct Options {
    bool must_call = false;  // tool_choice required or named: the reply is the block
    bool parallel_calls = true;
  };

  // Longest free parameter name (a strict tool with additionalProperties, or a free tool).
  static constexpr size_t kMaxFreeNameBytes = 256;

  // Compiles each strict tool's parameters (Error naming parameters_path for what the JSON
  // schema compiler refuses, for a root that is not an object, and for a required parameter
  // whose name cannot be written in DSML). Tools whose names cannot be written (empty, or with
  // '"', '<', '>' or a newline) are left out; Error when that leaves none.
  static std::shared_ptr<const ToolCallGrammar> compile(const std::vector<ToolCallSpec>& tools, const Options& options);

  const std::vector<Tool>& tools() const { return tools_; }  // sorted by name
  const Options& options() const { return options_; }

 private:
  std::vector<Tool> tools_;
  Options options_;
};

}  // namespace lightseek
