#include "text/tool_call_grammar.h"

#include <algorithm>
#include <set>

#include "core/error.h"

namespace lightseek {
namespace {

using Node = JsonSchemaNode;

// Names appear in DSML as name="..." and the output parser reads them up to the quote,
// refusing markup and line breaks inside.
bool writable_name(const std::string& name) { return name.find_first_of("\"<>\n") == std::string::npos; }

// Whether some value of `id` is a JSON string (`strings`) and some is not (`others`).
void value_kinds(const JsonSchemaGrammar& grammar, uint32_t id, std::set<uint32_t>& visiting, bool& strings,
                 bool& others) {
  if (!visiting.insert(id).second) return;
  const Node& node = grammar.node(id);
  switch (node.kind) {
    case Node::Kind::Union:
      for (uint32_t alternative : node.alternatives) value_kinds(grammar, alternative, visiting, strings, others);
      break;
    case Node::Kind::String:
      strings = true;
      break;
    case Node::Kind::Literal:
      for (const std::string& literal : node.literals) (literal[0] == '"' ? strings : others) = true;
      break;
    default:
      others = true;
  }
}

// Follows single-alternative unions ($ref) to the node that says what the value is.
uint32_t resolved(const JsonSchemaGrammar& grammar, uint32_t id) {
  for (size_t hops = 0; hops < grammar.node_count(); ++hops) {
    const Node& node = grammar.node(id);
    if (node.kind != Node::Kind::Union || node.alternatives.size() != 1) return id;
    id = node.alternatives[0];
  }
  return id;
}

ToolCallGrammar::Parameter parameter_for(const JsonSchemaGrammar& grammar, std::string name, uint32_t value,
                                         bool required) {
  ToolCallGrammar::Parameter parameter;
  parameter.name = std::move(name);
  parameter.value = value;
  parameter.required = required;
  std::set<uint32_t> visiting;
  value_kinds(grammar, value, visiting, parameter.raw, parameter.json);
  return parameter;
}

ToolCallGrammar::Tool strict_tool(const ToolCallSpec& spec) {
  ToolCallGrammar::Tool tool;
  tool.name = spec.name;
  tool.schema = JsonSchemaGrammar::compile(*spec.strict_parameters, spec.parameters_path);
  const JsonSchemaGrammar& grammar = *tool.schema;
  const Node& root = grammar.node(resolved(grammar, grammar.root()));
  if (root.kind != Node::Kind::Object) {
    fail(spec.parameters_path, ": a strict tool's parameters must be an object schema (\"type\": \"object\")");
  }
  for (const Node::Property& property : root.properties) {
    // The compiler keeps names JSON-escaped, as a JSON key is written; DSML writes them raw.
    const std::string name = nlohmann::ordered_json::parse("\"" + property.written_name + "\"").get<std::string>();
    if (!writable_name(name)) {
      if (property.required) {
        fail(spec.parameters_path, ": the required property '", name,
             "' cannot be written as a DSML parameter name ('\"', '<', '>' and line breaks cannot)");
      }
      continue;
    }
    tool.parameters.push_back(parameter_for(grammar, name, property.value, property.required));
  }
  std::sort(tool.parameters.begin(), tool.parameters.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  for (size_t i = 0; i < tool.parameters.size(); ++i) {
    if (tool.parameters[i].required) tool.required |= uint64_t{1} << i;
  }
  if (root.additional) tool.additional = parameter_for(grammar, "", *root.additional, false);
  return tool;
}

}  // namespace

std::shared_ptr<const ToolCallGrammar> ToolCallGrammar::compile(const std::vector<ToolCallSpec>& tools,
                                                                const Options& options) {
  auto grammar = std::make_shared<ToolCallGrammar>();
  grammar->options_ = options;
  std::set<std::string> seen;
  for (const ToolCallSpec& spec : tools) {
    if (spec.name.empty() || !writable_name(spec.name) || !seen.insert(spec.name).second) continue;
    if (spec.strict_parameters) {
      grammar->tools_.push_back(strict_tool(spec));
    } else {
      grammar->tools_.push_back(Tool{spec.name, nullptr, {}, std::nullopt, 0});
    }
  }
  if (grammar->tools_.empty()) fail("tools: no tool has a name that can be written in a DSML tool call");
  std::sort(grammar->tools_.begin(), grammar->tools_.end(), [](const Tool& a, const Tool& b) { return a.name < b.name; });
  return grammar;
}

}  // namespace lightseek
