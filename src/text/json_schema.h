// A JSON schema compiled into the grammar the constrained decoder enforces (structured output).
// The grammar is a graph of nodes, one per distinct value shape; the matcher (json_matcher.h)
// walks it byte by byte. Compiling refuses every keyword it would not enforce, naming the
// keyword and its JSON path, so a schema is never silently ignored.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lightseek {

struct JsonSchemaNode {
  enum class Kind : uint8_t {
    Union,    // any of `alternatives` (anyOf, oneOf, type lists, "any value")
    Object,   // {...} with `properties`, `additional`
    Array,    // [...] of `items`, between min_items and max_items
    String,   // "..." of min_length..max_length code points
    Number,   // JSON number (integer: no fraction or exponent), within the bounds
    Literal,  // exactly one of `literals` (enum, const, true, false, null)
  };
  struct Property {
    std::string written_name;  // the key as it must appear between the quotes (JSON-escaped)
    uint32_t value = 0;
    bool required = false;
  };
  static constexpr uint32_t kUnbounded = std::numeric_limits<uint32_t>::max();

  Kind kind = Kind::Union;
  std::vector<uint32_t> alternatives;  // Union
  std::vector<Property> properties;    // Object: at most kMaxProperties
  std::optional<uint32_t> additional;  // Object: node of values under other keys; none: no other keys
  uint32_t items = 0;                  // Array
  uint32_t min_items = 0, max_items = kUnbounded;
  uint32_t min_length = 0, max_length = kUnbounded;  // String
  bool integer = false;                              // Number
  std::optional<double> minimum, maximum;
  bool exclusive_minimum = false, exclusive_maximum = false;
  std::vector<std::string> literals;  // Literal: at most kMaxLiterals, each compact JSON text
};

class JsonSchemaGrammar {
 public:
  static constexpr size_t kMaxProperties = 64;  // per object: the matcher tracks them in 64 bits
  static constexpr size_t kMaxLiterals = 64;    // per literal node (longer enums become unions)

  // Compiles `schema`. `path` names the schema in error messages (e.g.
  // "response_format.json_schema.schema"); errors read "PATH.properties.x: 'format' is not
  // supported". Throws lightseek::Error.
  static std::shared_ptr<const JsonSchemaGrammar> compile(const nlohmann::ordered_json& schema,
                                                          const std::string& path);
  // Any JSON object (OpenAI's {"type": "json_object"}, Ollama's "json").
  static std::shared_ptr<const JsonSchemaGrammar> any_object();

  uint32_t root() const { return root_; }
  const JsonSchemaNode& node(uint32_t id) const { return nodes_[id]; }
  size_t node_count() const { return nodes_.size(); }

  // Builders used by the compiler.
  uint32_t add(JsonSchemaNode node);
  JsonSchemaNode& mutable_node(uint32_t id) { return nodes_[id]; }
  void set_root(uint32_t id) { root_ = id; }

 private:
  std::vector<JsonSchemaNode> nodes_;
  uint32_t root_ = 0;
};

}  // namespace lightseek
