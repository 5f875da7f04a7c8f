#include "text/json_schema.h"

#include <algorithm>
#include <bitset>
#include <cmath>
#include <map>
#include <set>

#include "core/error.h"

namespace lightseek {
namespace {

using SchemaJson = nlohmann::ordered_json;
using Node = JsonSchemaNode;

// Keywords that describe a schema without constraining values.
const std::set<std::string> kAnnotations = {"title",    "description", "examples", "default",   "$schema", "$id",
                                            "$comment", "deprecated",  "readOnly", "writeOnly", "$defs",   "definitions"};
const std::set<std::string> kObjectKeywords = {"properties", "required", "additionalProperties"};
const std::set<std::string> kArrayKeywords = {"items", "minItems", "maxItems"};
const std::set<std::string> kStringKeywords = {"minLength", "maxLength", "pattern"};
const std::set<std::string> kNumberKeywords = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"};
const std::set<std::string> kGeneralKeywords = {"type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref", "nullable"};

bool is_known(const std::string& key) {
  return kAnnotations.count(key) || kObjectKeywords.count(key) || kArrayKeywords.count(key) ||
         kStringKeywords.count(key) || kNumberKeywords.count(key) || kGeneralKeywords.count(key);
}

std::string member_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

std::string element_path(const std::string& path, size_t index) { return str_cat(path, "[", index, "]"); }

class Compiler {
 public:
  Compiler(const SchemaJson& root, std::string root_path, JsonSchemaGrammar& grammar)
      : root_(root), root_path_(std::move(root_path)), grammar_(grammar) {}

  uint32_t compile(const SchemaJson& schema, const std::string& path) {
    if (schema.is_boolean()) {
      if (schema.get<bool>()) return any_value();
      fail(path, ": the schema false (no value matches) is not supported");
    }
    if (!schema.is_object()) fail(path, ": a schema must be an object or a boolean");
    for (const auto& [key, value] : schema.items()) {
      if (!is_known(key)) fail(path, ": '", key, "' is not supported");
    }
    const std::vector<std::string> constraining = constraining_keys(schema);
    auto alone = [&](const char* keyword) {
      for (const std::string& key : constraining) {
        if (key != keyword) fail(path, ": '", key, "' alongside '", keyword, "' is not supported");
      }
    };
    if (schema.contains("$ref")) {
      alone("$ref");
      if (!schema["$ref"].is_string()) fail(member_path(path, "$ref"), ": must be a string");
      return reference(schema["$ref"].get<std::string>(), member_path(path, "$ref"));
    }
    for (const char* keyword : {"anyOf", "oneOf", "allOf"}) {
      if (schema.contains(keyword)) {
        alone(keyword);
        return combination(schema[keyword], keyword, member_path(path, keyword));
      }
    }
    const bool nullable = optional_bool(schema, "nullable", path);
    if (schema.contains("enum") || schema.contains("const")) return enumeration(schema, path, nullable);

    std::vector<std::string> types = type_list(schema, path);
    if (nullable && std::find(types.begin(), types.end(), "null") == types.end()) types.push_back("null");
    if (types.empty()) return any_value();
    std::vector<uint32_t> alternatives;
    const bool has_number = std::find(types.begin(), types.end(), "number") != types.end();
    for (const std::string& type : types) {
      if (type == "object") alternatives.push_back(object(schema, path));
      else if (type == "array") alternatives.push_back(array(schema, path));
      else if (type == "string") alternatives.push_back(string(schema, path));
      else if (type == "number") alternatives.push_back(number(schema, path, false));
      else if (type == "integer" && !has_number) alternatives.push_back(number(schema, path, true));
      else if (type == "boolean") alternatives.push_back(literal_node({"true", "false"}));
      else if (type == "null") alternatives.push_back(literal_node({"null"}));
    }
    return union_of(std::move(alternatives));
  }

  uint32_t any_value() {
    if (any_) return *any_;
    const uint32_t id = grammar_.add(Node{});  // filled below: values nest
    any_ = id;
    Node object;
    object.kind = Node::Kind::Object;
    object.additional = id;
    Node array;
    array.kind = Node::Kind::Array;
    array.items = id;
    Node text;
    text.kind = Node::Kind::String;
    Node number;
    number.kind = Node::Kind::Number;
    std::vector<uint32_t> alternatives = {grammar_.add(std::move(object)), grammar_.add(std::move(array)),
                                          grammar_.add(std::move(text)), grammar_.add(std::move(number)),
                                          literal_node({"true", "false", "null"})};
    grammar_.mutable_node(id).alternatives = std::move(alternatives);
    return id;
  }

  uint32_t any_object() {
    Node object;
    object.kind = Node::Kind::Object;
    object.additional = any_value();
    return grammar_.add(std::move(object));
  }

 private:
  static std::vector<std::string> constraining_keys(const SchemaJson& schema) {
    std::vector<std::string> keys;
    for (const auto& [key, value] : schema.items()) {
      if (!kAnnotations.count(key)) keys.push_back(key);
    }
    return keys;
  }

  static bool optional_bool(const SchemaJson& schema, const char* key, const std::string& path) {
    if (!schema.contains(key)) return false;
    if (!schema[key].is_boolean()) fail(member_path(path, key), ": must be a boolean");
    return schema[key].get<bool>();
  }

  static uint32_t count(const SchemaJson& schema, const char* key, const std::string& path, uint32_t otherwise) {
    if (!schema.contains(key)) return otherwise;
    const SchemaJson& value = schema[key];
    const bool whole = value.is_number_integer() || (value.is_number_float() && std::floor(value.get<double>()) ==
                                                                                    value.get<double>());
    if (!whole || value.get<double>() < 0) fail(member_path(path, key), ": must be a non-negative integer");
    if (value.get<double>() >= 1e9) fail(member_path(path, key), ": values of 1e9 and more are not supported");
    return static_cast<uint32_t>(value.get<double>());
  }

  static std::optional<double> bound(const SchemaJson& schema, const char* key, const std::string& path) {
    if (!schema.contains(key)) return std::nullopt;
    if (!schema[key].is_number()) fail(member_path(path, key), ": must be a number");
    const double value = schema[key].get<double>();
    // Numbers are written with at most 16 digits (json_matcher.cpp), so larger bounds would
    // never bind; they are refused rather than half enforced.
    if (std::fabs(value) >= 1e15) fail(member_path(path, key), ": bounds of magnitude 1e15 and more are not supported");
    return value;
  }

  std::vector<std::string> type_list(const SchemaJson& schema, const std::string& path) {
    std::vector<std::string> types;
    static const std::set<std::string> kTypes = {"object", "array", "string", "number", "integer", "boolean", "null"};
    if (schema.contains("type")) {
      const SchemaJson& type = schema["type"];
      const std::string type_path = member_path(path, "type");
      auto add = [&](const SchemaJson& entry, const std::string& entry_path) {
        if (!entry.is_string() || !kTypes.count(entry.get<std::string>())) {
          fail(entry_path, ": must be one of object, array, string, number, integer, boolean, null");
        }
        types.push_back(entry.get<std::string>());
      };
      if (type.is_array()) {
        if (type.empty()) fail(type_path, ": must not be empty");
        for (size_t i = 0; i < type.size(); ++i) add(type[i], element_path(type_path, i));
      } else {
        add(type, type_path);
      }
      return types;
    }
    // No type: the keywords say which types the schema is about. Allowing only those types is
    // stricter than JSON Schema (which lets other types through), never looser.
    auto any_of = [&](const std::set<std::string>& keywords) {
      for (const auto& [key, value] : schema.items()) {
        if (keywords.count(key)) return true;
      }
      return false;
    };
    if (any_of(kObjectKeywords)) types.push_back("object");
    if (any_of(kArrayKeywords)) types.push_back("array");
    if (any_of(kStringKeywords)) types.push_back("string");
    if (any_of(kNumberKeywords)) types.push_back("number");
    return types;
  }

  uint32_t object(const SchemaJson& schema, const std::string& path) {
    Node node;
    node.kind = Node::Kind::Object;
    std::map<std::string, size_t> index_of;
    if (schema.contains("properties")) {
      const SchemaJson& properties = schema["properties"];
      const std::string properties_path = member_path(path, "properties");
      if (!properties.is_object()) fail(properties_path, ": must be an object");
      for (const auto& [name, value] : properties.items()) {
        index_of[name] = node.properties.size();
        node.properties.push_back({written_name(name, member_path(properties_path, name)), 0, false});
      }
      // Compiled after the names so a recursive property sees the finished list.
      size_t i = 0;
      for (const auto& [name, value] : properties.items()) {
        node.properties[i++].value = compile(value, member_path(properties_path, name));
      }
    }
    if (schema.contains("additionalProperties")) {
      const SchemaJson& additional = schema["additionalProperties"];
      if (!(additional.is_boolean() && !additional.get<bool>())) {
        node.additional = compile(additional, member_path(path, "additionalProperties"));
      }
    } else {
      node.additional = any_value();
    }
    if (schema.contains("required")) {
      const SchemaJson& required = schema["required"];
      const std::string required_path = member_path(path, "required");
      if (!required.is_array()) fail(required_path, ": must be an array of property names");
      for (size_t i = 0; i < required.size(); ++i) {
        if (!required[i].is_string()) fail(element_path(required_path, i), ": must be a string");
        const std::string name = required[i].get<std::string>();
        auto found = index_of.find(name);
        if (found == index_of.end()) {
          if (!node.additional) {
            fail(element_path(required_path, i), ": '", name,
                 "' is required but not among the properties, and additionalProperties is false");
          }
          found = index_of.emplace(name, node.properties.size()).first;
          node.properties.push_back({written_name(name, element_path(required_path, i)), *node.additional, false});
        }
        node.properties[found->second].required = true;
      }
    }
    if (node.properties.size() > JsonSchemaGrammar::kMaxProperties) {
      fail(path, ": objects with more than ", JsonSchemaGrammar::kMaxProperties, " properties are not supported");
    }
    return grammar_.add(std::move(node));
  }

  static std::string written_name(const std::string& name, const std::string& path) {
    std::string written;
    try {
      written = SchemaJson(name).dump();
    } catch (const SchemaJson::exception&) {
      fail(path, ": the property name is not valid UTF-8");
    }
    written = written.substr(1, written.size() - 2);
    // Keys are matched as written; \u escapes would give one name two spellings.
    if (written.find("\\u") != std::string::npos) {
      fail(path, ": property names with control characters are not supported");
    }
    return written;
  }

  uint32_t array(const SchemaJson& schema, const std::string& path) {
    Node node;
    node.kind = Node::Kind::Array;
    node.min_items = count(schema, "minItems", path, 0);
    node.max_items = count(schema, "maxItems", path, Node::kUnbounded);
    if (node.min_items > node.max_items) fail(member_path(path, "minItems"), ": is greater than maxItems");
    if (schema.contains("items")) {
      const SchemaJson& items = schema["items"];
      if (items.is_array()) fail(member_path(path, "items"), ": 'items' as an array (tuples) is not supported");
      if (items.is_boolean() && !items.get<bool>()) {
        if (node.min_items > 0) fail(member_path(path, "items"), ": is false but minItems is above 0");
        node.max_items = 0;
        node.items = any_value();
      } else {
        node.items = compile(items, member_path(path, "items"));
      }
    } else {
      node.items = any_value();
    }
    return grammar_.add(std::move(node));
  }

  uint32_t string(const SchemaJson& schema, const std::string& path) {
    Node node;
    node.kind = Node::Kind::String;
    node.min_length = count(schema, "minLength", path, 0);
    node.max_length = count(schema, "maxLength", path, Node::kUnbounded);
    if (node.min_length > node.max_length) fail(member_path(path, "minLength"), ": is greater than maxLength");
    if (schema.contains("pattern")) {
      const std::string pattern_path = member_path(path, "pattern");
      if (!schema["pattern"].is_string()) fail(pattern_path, ": must be a string");
      try {
        node.pattern = std::make_shared<const JsonStringPattern>(JsonStringPattern::compile(schema["pattern"].get<std::string>()));
      } catch (const Error& error) {
        fail(pattern_path, ": ", error.what());
      }
      const auto start = JsonStringPattern::kStart;
      if (node.pattern->fewest_more(start) > node.max_length || node.pattern->most_more(start) < node.min_length) {
        fail(pattern_path, ": no string within minLength and maxLength matches it");
      }
    }
    return grammar_.add(std::move(node));
  }

  uint32_t number(const SchemaJson& schema, const std::string& path, bool integer) {
    Node node;
    node.kind = Node::Kind::Number;
    node.integer = integer;
    node.minimum = bound(schema, "minimum", path);
    node.maximum = bound(schema, "maximum", path);
    auto exclusive = [&](const char* key, std::optional<double>& limit, bool& is_exclusive, bool lower) {
      if (!schema.contains(key)) return;
      const SchemaJson& value = schema[key];
      if (value.is_boolean()) {  // draft 4: a flag on minimum / maximum
        if (value.get<bool>() && !limit) fail(member_path(path, key), ": is true but there is no bound to apply it to");
        is_exclusive = value.get<bool>();
        return;
      }
      const auto exclusive_limit = bound(schema, key, path);
      const bool tighter = !limit || (lower ? *exclusive_limit >= *limit : *exclusive_limit <= *limit);
      if (tighter) {
        limit = exclusive_limit;
        is_exclusive = true;
      }
    };
    exclusive("exclusiveMinimum", node.minimum, node.exclusive_minimum, true);
    exclusive("exclusiveMaximum", node.maximum, node.exclusive_maximum, false);
    if (node.minimum && node.maximum) {
      double low = *node.minimum, high = *node.maximum;
      if (integer) {
        low = node.exclusive_minimum ? std::floor(low) + 1 : std::ceil(low);
        high = node.exclusive_maximum ? std::ceil(high) - 1 : std::floor(high);
      }
      const bool empty = low > high || (low == high && !integer && (node.exclusive_minimum || node.exclusive_maximum));
      if (empty) fail(path, ": no ", integer ? "integer" : "number", " lies between the minimum and the maximum");
    }
    return grammar_.add(std::move(node));
  }

  uint32_t literal_node(std::vector<std::string> literals) {
    std::vector<uint32_t> chunks;
    for (size_t begin = 0; begin < literals.size(); begin += JsonSchemaGrammar::kMaxLiterals) {
      Node node;
      node.kind = Node::Kind::Literal;
      const size_t end = std::min(literals.size(), begin + JsonSchemaGrammar::kMaxLiterals);
      node.literals.assign(literals.begin() + static_cast<std::ptrdiff_t>(begin),
                           literals.begin() + static_cast<std::ptrdiff_t>(end));
      chunks.push_back(grammar_.add(std::move(node)));
    }
    return union_of(std::move(chunks));
  }

  uint32_t union_of(std::vector<uint32_t> alternatives) {
    if (alternatives.size() == 1) return alternatives[0];
    Node node;
    node.kind = Node::Kind::Union;
    node.alternatives = std::move(alternatives);
    return grammar_.add(std::move(node));
  }

  static bool matches_type(const SchemaJson& value, const std::string& type) {
    if (type == "object") return value.is_object();
    if (type == "array") return value.is_array();
    if (type == "string") return value.is_string();
    if (type == "number") return value.is_number();
    if (type == "integer") {
      return value.is_number_integer() || (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>());
    }
    if (type == "boolean") return value.is_boolean();
    return value.is_null();
  }

  uint32_t enumeration(const SchemaJson& schema, const std::string& path, bool nullable) {
    if (schema.contains("enum") && schema.contains("const")) fail(path, ": 'enum' alongside 'const' is not supported");
    const char* keyword = schema.contains("enum") ? "enum" : "const";
    for (const std::string& key : constraining_keys(schema)) {
      if (key != keyword && key != "type" && key != "nullable") {
        fail(path, ": '", key, "' alongside '", keyword, "' is not supported");
      }
    }
    const std::string values_path = member_path(path, keyword);
    SchemaJson values = schema[keyword];
    if (std::string(keyword) == "const") {
      values = SchemaJson::array({values});
    } else if (!values.is_array() || values.empty()) {
      fail(values_path, ": must be a non-empty array");
    }
    const std::vector<std::string> types = schema.contains("type") ? type_list(schema, path) : std::vector<std::string>{};
    std::vector<std::string> literals;
    std::set<std::string> seen;
    for (const SchemaJson& value : values) {
      bool typed = types.empty();
      for (const std::string& type : types) typed = typed || matches_type(value, type);
      typed = typed || (nullable && value.is_null());
      if (!typed) continue;
      std::string text;
      try {
        text = value.dump();
      } catch (const SchemaJson::exception&) {
        fail(values_path, ": a value is not valid UTF-8");
      }
      if (seen.insert(text).second) literals.push_back(std::move(text));
    }
    if (nullable && !seen.count("null")) literals.push_back("null");
    if (literals.empty()) fail(values_path, ": no value has the schema's type");
    return literal_node(std::move(literals));
  }

  uint32_t combination(const SchemaJson& schemas, const std::string& keyword, const std::string& path) {
    if (!schemas.is_array() || schemas.empty()) fail(path, ": must be a non-empty array of schemas");
    if (keyword == "allOf") {
      if (schemas.size() != 1) fail(path, ": 'allOf' with more than one schema is not supported");
      return compile(schemas[0], element_path(path, 0));
    }
    std::vector<uint32_t> alternatives;
    for (size_t i = 0; i < schemas.size(); ++i) alternatives.push_back(compile(schemas[i], element_path(path, i)));
    if (keyword == "oneOf") {
      // The decoder makes sure some alternative matches; "exactly one" holds when no two can
      // start with the same byte, i.e. they admit different JSON types or literals.
      std::bitset<256> taken;
      for (uint32_t alternative : alternatives) {
        std::set<uint32_t> visiting;
        const std::bitset<256> first = first_bytes(alternative, visiting);
        if ((first & taken).any()) {
          fail(path, ": 'oneOf' alternatives that can match the same value are not supported (use anyOf)");
        }
        taken |= first;
      }
    }
    return union_of(std::move(alternatives));
  }

  std::bitset<256> first_bytes(uint32_t id, std::set<uint32_t>& visiting) {
    std::bitset<256> bytes;
    if (!visiting.insert(id).second) return bytes;
    const Node& node = grammar_.node(id);
    switch (node.kind) {
      case Node::Kind::Union:
        for (uint32_t alternative : node.alternatives) bytes |= first_bytes(alternative, visiting);
        break;
      case Node::Kind::Object: bytes.set('{'); break;
      case Node::Kind::Array: bytes.set('['); break;
      case Node::Kind::String: bytes.set('"'); break;
      case Node::Kind::Number:
        bytes.set('-');
        for (char digit = '0'; digit <= '9'; ++digit) bytes.set(static_cast<unsigned char>(digit));
        break;
      case Node::Kind::Literal:
        for (const std::string& literal : node.literals) bytes.set(static_cast<unsigned char>(literal[0]));
        break;
    }
    return bytes;
  }

  uint32_t reference(const std::string& ref, const std::string& path) {
    if (auto found = references_.find(ref); found != references_.end()) return found->second;
    if (ref.empty() || ref[0] != '#') fail(path, ": only references into the same document (#...) are supported");
    const SchemaJson* target = nullptr;
    try {
      target = &root_.at(SchemaJson::json_pointer(ref.substr(1)));
    } catch (const SchemaJson::exception&) {
      fail(path, ": '", ref, "' does not name a part of the schema");
    }
    // Reserved before compiling the target, so a schema that refers to itself (a tree) finds it.
    const uint32_t id = grammar_.add(Node{});
    references_[ref] = id;
    std::string target_path = root_path_;
    for (char c : ref.substr(1)) target_path += c == '/' ? '.' : c;
    if (!target_path.empty() && target_path[0] == '.') target_path.erase(0, 1);
    const uint32_t compiled = compile(*target, target_path);
    grammar_.mutable_node(id).alternatives = {compiled};
    return id;
  }

  const SchemaJson& root_;
  std::string root_path_;
  JsonSchemaGrammar& grammar_;
  std::optional<uint32_t> any_;
  std::map<std::string, uint32_t> references_;
};

}  // namespace

uint32_t JsonSchemaGrammar::add(JsonSchemaNode node) {
  nodes_.push_back(std::move(node));
  return static_cast<uint32_t>(nodes_.size() - 1);
}

std::shared_ptr<const JsonSchemaGrammar> JsonSchemaGrammar::compile(const nlohmann::ordered_json& schema,
                                                                    const std::string& path) {
  auto grammar = std::make_shared<JsonSchemaGrammar>();
  Compiler compiler(schema, path, *grammar);
  grammar->set_root(compiler.compile(schema, path));
  return grammar;
}

std::shared_ptr<const JsonSchemaGrammar> JsonSchemaGrammar::any_object() {
  auto grammar = std::make_shared<JsonSchemaGrammar>();
  const nlohmann::ordered_json empty = nlohmann::ordered_json::object();
  Compiler compiler(empty, "", *grammar);
  grammar->set_root(compiler.any_object());
  return grammar;
}

}  // namespace lightseek
