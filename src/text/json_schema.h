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

// A string `pattern` as a position automaton over code points (json_pattern.cpp): a state is
// the set of positions just matched (bit kStart: none yet), at most 63 positions.
struct JsonStringPattern {
  static constexpr uint64_t kStart = uint64_t{1} << 63;
  struct Position {
    std::vector<std::pair<uint32_t, uint32_t>> ranges;  // code points, inclusive
    bool negated = false;
    uint64_t follow = 0;  // positions that may come next
  };
  std::vector<Position> positions;
  uint64_t first = 0;     // positions that may come first
  uint64_t last = 0;      // positions a match may end on
  uint64_t live = 0;      // positions from which a match can still end
  bool nullable = false;  // the empty string matches

  bool matches(size_t position, uint32_t code_point) const;
  // The state after one more code point; 0 when no match can follow any more.
  uint64_t step(uint64_t state, uint32_t code_point) const;
  // The positions some code point in [low, high] could reach (a character still being written).
  uint64_t step_range(uint64_t state, uint32_t low, uint32_t high) const;
  bool accepting(uint64_t state) const { return ((state & kStart) && nullable) || (state & last) != 0; }
  // Fewest and most code points a match may still need after `state` (most: kLong when a
  // loop makes it unbounded), so a string bounded by minLength/maxLength never gets stuck.
  static constexpr uint32_t kLong = 1u << 20;
  uint32_t fewest_more(uint64_t state) const;
  uint32_t most_more(uint64_t state) const;
  std::vector<uint32_t> fewest_after, most_after;  // per position

  // JavaScript-flavoured (what JSON Schema means): literals, ., classes [a-z] [^...], \d \w \s
  // and their negations, groups (...) (?:...), |, * + ? {n} {n,} {n,m}; ^ and $ only at the
  // ends (without them the match may start or end anywhere). Throws Error naming what is not
  // supported (backreferences, lookaround, \b, \p{...}) or too large.
  static JsonStringPattern compile(const std::string& source);
};

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
  std::shared_ptr<const JsonStringPattern> pattern;  // String: none when null
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
