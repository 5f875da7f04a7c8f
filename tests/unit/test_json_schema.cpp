// JSON schemas compiled into the structured-output grammar, and the byte-level matcher that
// enforces them: what each supported keyword accepts and refuses, and that every keyword the
// matcher would not enforce is refused by name and path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "text/json_matcher.h"
#include "text/json_schema.h"

namespace lightseek {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::ordered_json;

std::shared_ptr<const JsonSchemaGrammar> compile(const std::string& schema) {
  return JsonSchemaGrammar::compile(Json::parse(schema), "schema");
}

// Whether `text` is a whole document the schema accepts.
bool accepts(const JsonSchemaGrammar& grammar, const std::string& text) {
  JsonMatcher matcher(grammar);
  return matcher.advance(text) && matcher.can_finish();
}
bool accepts(const std::string& schema, const std::string& text) { return accepts(*compile(schema), text); }

// Whether `text` can still become an accepted document.
bool prefix(const std::string& schema, const std::string& text) {
  const auto grammar = compile(schema);
  JsonMatcher matcher(*grammar);
  return matcher.advance(text);
}

std::string compile_error(const std::string& schema, const std::string& path = "response_format.json_schema.schema") {
  try {
    JsonSchemaGrammar::compile(Json::parse(schema), path);
  } catch (const Error& error) {
    return error.what();
  }
  return "(compiled)";
}

const char* kPerson = R"({"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
                          "required": ["name"], "additionalProperties": false})";

TEST(JsonSchema, ObjectsNeedRequiredPropertiesAndAllowOptionalOnesInAnyOrder) {
  EXPECT_TRUE(accepts(kPerson, R"({"name":"Ada"})"));
  EXPECT_TRUE(accepts(kPerson, R"({"name":"Ada","age":36})"));
  EXPECT_TRUE(accepts(kPerson, R"({"age":36,"name":"Ada"})"));
  EXPECT_TRUE(accepts(kPerson, "{\"name\": \"Ada\",\n\"age\": 36}"));
  EXPECT_FALSE(accepts(kPerson, R"({"age":36})"));           // name is required
  EXPECT_TRUE(prefix(kPerson, R"({"age":36)"));               // ... and can still come
  EXPECT_FALSE(prefix(kPerson, R"({"age":36})"));
  EXPECT_FALSE(prefix(kPerson, R"({"nick")"));                // additionalProperties: false
  EXPECT_FALSE(prefix(kPerson, R"({"name":"a","name")"));     // no key twice
  EXPECT_FALSE(prefix(kPerson, R"({"name":1)"));              // value of the wrong type
  EXPECT_FALSE(prefix(kPerson, R"({"name":"a","age":36,)"));  // nothing left to add after a comma
  EXPECT_FALSE(accepts(kPerson, R"({"name":"Ada"} )"));       // nothing after the document
  EXPECT_FALSE(prefix(kPerson, R"( {)"));                     // nor before it
}

TEST(JsonSchema, WhitespaceIsBoundedSoTheModelCannotLoopOnIt) {
  EXPECT_TRUE(accepts(kPerson, "{ \"name\" : \"Ada\" }"));
  EXPECT_FALSE(prefix(kPerson, "{  \"name\""));
  EXPECT_FALSE(prefix(kPerson, "{\t\"name\""));
  EXPECT_FALSE(prefix(kPerson, "{\"name\":\n\n"));
}

TEST(JsonSchema, AdditionalPropertiesFollowTheirSchema) {
  const char* schema = R"({"type": "object", "properties": {"id": {"type": "string"}},
                           "additionalProperties": {"type": "integer"}})";
  EXPECT_TRUE(accepts(schema, R"({"id":"x","count":3,"idx":4})"));
  EXPECT_FALSE(prefix(schema, R"({"count":"three")"));
  EXPECT_FALSE(prefix(schema, R"({"id":"x","id")"));  // a declared key once only
  EXPECT_FALSE(prefix(schema, R"({"id":4)"));         // a declared key keeps its own schema
  EXPECT_FALSE(prefix(schema, R"({"\u0069d")"));      // keys have one spelling
  // Without additionalProperties any value goes under other keys, as JSON Schema says.
  EXPECT_TRUE(accepts(R"({"type": "object", "properties": {"a": {"type": "integer"}}})", R"({"a":1,"b":[true,{"c":null}]})"));
}

TEST(JsonSchema, RequiredNamesOutsideThePropertiesAreAdditionalValues) {
  EXPECT_FALSE(accepts(R"({"type": "object", "required": ["z"]})", "{}"));
  EXPECT_TRUE(accepts(R"({"type": "object", "required": ["z"]})", R"({"z":[1]})"));
  EXPECT_THAT(compile_error(R"({"type": "object", "required": ["z"], "additionalProperties": false})"),
              HasSubstr("schema.required[0]: 'z' is required but not among the properties"));
}

TEST(JsonSchema, ArraysKeepTheirItemCountWithinBounds) {
  const char* schema = R"({"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 2})";
  EXPECT_TRUE(accepts(schema, "[1]"));
  EXPECT_TRUE(accepts(schema, "[1, 2]"));
  EXPECT_FALSE(prefix(schema, "[]"));
  EXPECT_FALSE(prefix(schema, "[1,2,"));
  EXPECT_FALSE(prefix(schema, "[\"a\""));
  EXPECT_TRUE(accepts(R"({"type": "array", "maxItems": 0})", "[]"));
  EXPECT_FALSE(prefix(R"({"type": "array", "maxItems": 0})", "[1"));
  EXPECT_TRUE(accepts(R"({"type": "array"})", R"([1,"a",[],{}])"));
}

TEST(JsonSchema, NestedObjectsAndArrays) {
  const char* schema = R"({"type": "object", "additionalProperties": false, "required": ["points"],
      "properties": {"points": {"type": "array", "items": {"type": "object", "additionalProperties": false,
          "required": ["x", "y"], "properties": {"x": {"type": "number"}, "y": {"type": "number"}}}}}})";
  EXPECT_TRUE(accepts(schema, R"({"points":[{"x":1,"y":-2.5},{"y":0,"x":3e2}]})"));
  EXPECT_TRUE(accepts(schema, R"({"points":[]})"));
  EXPECT_FALSE(prefix(schema, R"({"points":[{"x":1}])"));
  EXPECT_FALSE(prefix(schema, R"({"points":[{"x":1,"z")"));
}

TEST(JsonSchema, StringsCountCodePointsAndStayValidUtf8) {
  const char* bounded = R"({"type": "string", "minLength": 2, "maxLength": 3})";
  EXPECT_TRUE(accepts(bounded, R"("ab")"));
  EXPECT_TRUE(accepts(bounded, R"("abc")"));
  EXPECT_TRUE(accepts(bounded, "\"\xc3\xa9\xe2\x82\xac\""));  // é€: two code points
  EXPECT_TRUE(accepts(bounded, R"("\n\u00e9")"));
  EXPECT_FALSE(prefix(bounded, R"("a")"));
  EXPECT_FALSE(prefix(bounded, R"("abcd)"));
  const char* free_text = R"({"type": "string"})";
  EXPECT_TRUE(accepts(free_text, R"("say \"hi\" \\ \/ \t")"));
  EXPECT_FALSE(prefix(free_text, "\"\x01"));          // control characters must be escaped
  EXPECT_FALSE(prefix(free_text, "\"\xff"));          // not UTF-8
  EXPECT_FALSE(prefix(free_text, "\"\xc3("));         // broken sequence
  EXPECT_FALSE(prefix(free_text, "\"\xed\xa0\x80"));  // a UTF-16 surrogate in UTF-8
  EXPECT_FALSE(prefix(free_text, R"("\ud800)"));      // nor as an escape
  EXPECT_FALSE(prefix(free_text, R"("\x)"));
}

TEST(JsonSchema, PatternsMatchCodePointsAsJavaScriptDoes) {
  const char* code = R"({"type": "string", "pattern": "^[A-Z]{2}-\\d{3}$"})";
  EXPECT_TRUE(accepts(code, R"("AB-123")"));
  EXPECT_FALSE(prefix(code, R"("Ab)"));
  EXPECT_FALSE(prefix(code, R"("AB-1234)"));
  EXPECT_FALSE(accepts(code, R"("AB-12")"));
  EXPECT_FALSE(prefix(code, R"("AB-12")"));
  // Unanchored: the match may be anywhere.
  const char* contains = R"({"type": "string", "pattern": "cat|dog"})";
  EXPECT_TRUE(accepts(contains, R"("a dog here")"));
  EXPECT_TRUE(accepts(contains, R"("cat")"));
  EXPECT_FALSE(accepts(contains, R"("a cow")"));
  EXPECT_TRUE(prefix(contains, R"("a cow)"));
  // Escapes and multi-byte characters are matched as the code points they stand for.
  const char* accented = R"({"type": "string", "pattern": "^(?:caf\u00e9|[^a-z]+)$"})";
  EXPECT_TRUE(accepts(accented, "\"caf\xc3\xa9\""));
  EXPECT_TRUE(accepts(accented, R"("caf\u00e9")"));
  EXPECT_TRUE(accepts(accented, R"("\n\t12")"));
  EXPECT_FALSE(prefix(accented, R"("cafe)"));
  EXPECT_TRUE(accepts(R"({"type": "string", "pattern": "^a.c$"})", "\"a\xe2\x82\xac" "c\""));
  EXPECT_FALSE(prefix(R"({"type": "string", "pattern": "^a.c$"})", R"("a\n)"));
  EXPECT_TRUE(accepts(R"({"type": "string", "pattern": "^x?(ab){1,2}y*$"})", R"("abab")"));
  EXPECT_TRUE(accepts(R"({"type": "string", "pattern": "^x?(ab){1,2}y*$"})", R"("xabyy")"));
  EXPECT_FALSE(prefix(R"({"type": "string", "pattern": "^x?(ab){1,2}y*$"})", R"("ababa)"));
  // Never into a dead end: once the only way on is out of the pattern, nothing fits.
  EXPECT_FALSE(prefix(R"({"type": "string", "pattern": "^a[b-d]+$"})", R"("ae)"));
  EXPECT_THAT(compile_error(R"({"type": "string", "pattern": "^a$b"})"), HasSubstr("schema.pattern:"));
  // A character still being written must be able to fit: no UTF-8 lead byte or escape that
  // could only become a character the pattern refuses.
  const char* e_acute = R"({"type": "string", "pattern": "^\u00e9$"})";
  EXPECT_TRUE(prefix(e_acute, "\"\xc3"));
  EXPECT_FALSE(prefix(e_acute, "\"\xe5"));
  EXPECT_TRUE(prefix(e_acute, R"("\u00)"));
  EXPECT_FALSE(prefix(e_acute, R"("\u01)"));
  EXPECT_FALSE(prefix(R"({"type": "string", "pattern": "^[A-Z]{2}-\\d+$"})", "\"AB\xe5"));
  EXPECT_FALSE(prefix(R"({"type": "string", "pattern": "^ap$"})", "\"a\xf0"));  // 4 bytes: U+10000 and up
  EXPECT_FALSE(prefix(R"({"type": "string", "pattern": "^a[\u0100-\u07ff]?p$"})", "\"a\xe0"));
  EXPECT_TRUE(prefix(R"({"type": "string", "pattern": "^[^a]$"})", "\"\xe5\x80"));
  // With length bounds the pattern is followed only where it can still end within them.
  const char* short_one = R"({"type": "string", "pattern": "^a+b$", "maxLength": 3})";
  EXPECT_TRUE(prefix(short_one, R"("aa)"));
  EXPECT_FALSE(prefix(short_one, R"("aaa)"));
  EXPECT_TRUE(accepts(short_one, R"("aab")"));
  const char* long_one = R"({"type": "string", "pattern": "^(a|bbbb)$", "minLength": 3})";
  EXPECT_FALSE(prefix(long_one, R"("a)"));
  EXPECT_TRUE(accepts(long_one, R"("bbbb")"));
  EXPECT_THAT(compile_error(R"({"type": "string", "pattern": "^a{5}$", "maxLength": 3})"),
              HasSubstr("schema.pattern: no string within minLength and maxLength matches it"));
}

TEST(JsonSchema, EnumAndConstAreExactValues) {
  const char* colours = R"({"type": "string", "enum": ["red", "green", "greenish"]})";
  EXPECT_TRUE(accepts(colours, R"("red")"));
  EXPECT_TRUE(accepts(colours, R"("green")"));
  EXPECT_TRUE(accepts(colours, R"("greenish")"));
  EXPECT_FALSE(prefix(colours, R"("blue)"));
  EXPECT_FALSE(accepts(colours, R"("re)"));
  EXPECT_TRUE(accepts(R"({"const": {"a": [1, 2]}})", R"({"a":[1,2]})"));
  EXPECT_TRUE(accepts(R"({"enum": [1, "one", null, true]})", "null"));
  EXPECT_TRUE(accepts(R"({"enum": [1, "one", null, true]})", "1"));
  EXPECT_FALSE(prefix(R"({"enum": [1, "one", null, true]})", "2"));
  // enum values of another type than the schema's are dropped, as no value could match them.
  EXPECT_FALSE(prefix(R"({"type": "string", "enum": ["a", 1]})", "1"));
  // More values than one literal node holds.
  std::string many = R"({"enum": [)";
  for (int i = 0; i < 150; ++i) many += (i ? "," : "") + std::to_string(i * 7);
  many += "]}";
  EXPECT_TRUE(accepts(many, "7"));
  EXPECT_TRUE(accepts(many, "1043"));
  EXPECT_FALSE(accepts(many, "8"));
}

TEST(JsonSchema, IntegersStayWithinTheirBounds) {
  const char* schema = R"({"type": "integer", "minimum": 10, "maximum": 20})";
  EXPECT_TRUE(accepts(schema, "15"));
  EXPECT_TRUE(accepts(schema, "10"));
  EXPECT_TRUE(accepts(schema, "20"));
  EXPECT_FALSE(prefix(schema, "9"));
  EXPECT_FALSE(prefix(schema, "21"));
  EXPECT_FALSE(prefix(schema, "-"));
  EXPECT_FALSE(prefix(schema, "0"));
  EXPECT_FALSE(prefix(schema, "15."));
  EXPECT_FALSE(accepts(schema, "1"));  // a prefix of 10..19, not a value
  const char* exclusive = R"({"type": "integer", "exclusiveMinimum": -3, "exclusiveMaximum": 3})";
  EXPECT_TRUE(accepts(exclusive, "-2"));
  EXPECT_TRUE(accepts(exclusive, "-0"));
  EXPECT_FALSE(prefix(exclusive, "-3"));
  EXPECT_FALSE(prefix(exclusive, "3"));
  EXPECT_TRUE(accepts(R"({"type": "integer"})", "-1234567890123456"));
  EXPECT_FALSE(prefix(R"({"type": "integer"})", "12345678901234567"));  // 16 digits at most
  EXPECT_FALSE(prefix(R"({"type": "integer"})", "1e3"));
  EXPECT_FALSE(prefix(R"({"type": "integer"})", "01"));
}

TEST(JsonSchema, NumbersStayWithinTheirBounds) {
  const char* unit = R"({"type": "number", "minimum": 0, "maximum": 1})";
  EXPECT_TRUE(accepts(unit, "0.5"));
  EXPECT_TRUE(accepts(unit, "1"));
  EXPECT_TRUE(accepts(unit, "1.00"));
  EXPECT_TRUE(accepts(unit, "-0.0"));
  EXPECT_FALSE(prefix(unit, "1.5"));
  EXPECT_FALSE(prefix(unit, "-0.1"));
  EXPECT_FALSE(prefix(unit, "2"));
  EXPECT_FALSE(prefix(unit, "1e0"));  // no exponents under bounds
  EXPECT_FALSE(prefix(R"({"type": "number", "exclusiveMaximum": 0.5})", "0.5"));
  EXPECT_TRUE(accepts(R"({"type": "number", "exclusiveMaximum": 0.5})", "0.4999"));
  EXPECT_TRUE(accepts(R"({"type": "number", "minimum": 0.5})", "0.5"));
  EXPECT_FALSE(prefix(R"({"type": "number", "minimum": 0.5})", "0.4"));
  const char* free_number = R"({"type": "number"})";
  EXPECT_TRUE(accepts(free_number, "-12.5e-3"));
  EXPECT_TRUE(accepts(free_number, "0E+10"));
  EXPECT_FALSE(prefix(free_number, "1.e"));
  EXPECT_FALSE(prefix(free_number, "+1"));
  EXPECT_FALSE(prefix(free_number, "1e1234"));
}

TEST(JsonSchema, BooleansAndNull) {
  EXPECT_TRUE(accepts(R"({"type": "boolean"})", "true"));
  EXPECT_TRUE(accepts(R"({"type": "boolean"})", "false"));
  EXPECT_FALSE(prefix(R"({"type": "boolean"})", "null"));
  EXPECT_TRUE(accepts(R"({"type": "null"})", "null"));
  EXPECT_TRUE(accepts(R"({"type": ["string", "null"]})", "null"));
  EXPECT_TRUE(accepts(R"({"type": ["string", "null"]})", R"("x")"));
  EXPECT_TRUE(accepts(R"({"type": "string", "nullable": true})", "null"));
}

TEST(JsonSchema, AnyOfFollowsEveryAlternativeThatStillFits) {
  const char* schema = R"({"anyOf": [
      {"type": "object", "properties": {"kind": {"const": "circle"}, "r": {"type": "number"}},
       "required": ["kind", "r"], "additionalProperties": false},
      {"type": "object", "properties": {"kind": {"const": "square"}, "side": {"type": "number"}},
       "required": ["kind", "side"], "additionalProperties": false},
      {"type": "integer"}]})";
  EXPECT_TRUE(accepts(schema, R"({"kind":"circle","r":1})"));
  EXPECT_TRUE(accepts(schema, R"({"side":2,"kind":"square"})"));
  EXPECT_TRUE(accepts(schema, "7"));
  EXPECT_FALSE(prefix(schema, R"({"kind":"circle","side")"));
  EXPECT_FALSE(accepts(schema, R"({"kind":"circle"})"));
  EXPECT_TRUE(accepts(R"({"oneOf": [{"type": "string"}, {"type": "integer"}]})", "3"));
  EXPECT_THAT(compile_error(R"({"oneOf": [{"type": "integer"}, {"type": "number"}]})"),
              HasSubstr("response_format.json_schema.schema.oneOf: 'oneOf' alternatives that can match the same value"));
}

TEST(JsonSchema, ReferencesResolveIncludingRecursion) {
  const char* tree = R"({"$defs": {"node": {"type": "object", "additionalProperties": false, "required": ["v"],
      "properties": {"v": {"type": "integer"}, "children": {"type": "array", "items": {"$ref": "#/$defs/node"}}}}},
      "$ref": "#/$defs/node"})";
  EXPECT_TRUE(accepts(tree, R"({"v":1,"children":[{"v":2},{"v":3,"children":[{"v":4}]}]})"));
  EXPECT_FALSE(prefix(tree, R"({"v":1,"children":[{"w")"));
  EXPECT_TRUE(accepts(R"({"definitions": {"n": {"type": "null"}}, "properties": {"a": {"$ref": "#/definitions/n"}}})",
                      R"({"a":null})"));
  EXPECT_TRUE(accepts(R"({"allOf": [{"type": "boolean"}]})", "true"));
  // A reference to itself that never writes anything matches nothing, and does not hang.
  EXPECT_FALSE(prefix(R"({"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"})", "1"));
  EXPECT_THAT(compile_error(R"({"$ref": "#/$defs/missing"})"), HasSubstr("'#/$defs/missing' does not name a part"));
  EXPECT_THAT(compile_error(R"({"$ref": "https://example.com/s.json"})"), HasSubstr("only references into the same"));
}

TEST(JsonSchema, DeepNestingIsCapped) {
  std::string deep;
  for (size_t i = 0; i < JsonMatcher::kMaxDepth + 2; ++i) deep += "[";
  EXPECT_FALSE(prefix("{}", deep));
  EXPECT_TRUE(accepts("{}", "[[[[1]]]]"));
}

TEST(JsonSchema, AnyObjectIsWhatJsonModeAllows) {
  const auto grammar = JsonSchemaGrammar::any_object();
  EXPECT_TRUE(accepts(*grammar, R"({"a":[1,{"b":null}],"c":"x","d":-1.5e3,"e":true})"));
  EXPECT_TRUE(accepts(*grammar, "{}"));
  EXPECT_FALSE(accepts(*grammar, "[1]"));
  EXPECT_FALSE(accepts(*grammar, R"("x")"));
}

TEST(JsonSchema, AnnotationsAreAccepted) {
  EXPECT_TRUE(accepts(R"({"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "x", "title": "T",
                          "description": "d", "examples": [1], "default": 1, "$comment": "c", "type": "integer"})",
                      "1"));
}

TEST(JsonSchema, EveryUnenforcedKeywordIsRefusedByNameAndPath) {
  struct Case {
    const char* schema;
    const char* message;
  };
  const Case cases[] = {
      {R"({"type": "object", "properties": {"x": {"type": "string", "format": "date"}}})",
       "response_format.json_schema.schema.properties.x: 'format' is not supported"},
      {R"({"type": "string", "pattern": "(?=a)b"})", "schema.pattern: lookaround and named groups '(?' are not supported"},
      {R"({"type": "string", "pattern": "(a)\\1"})", "schema.pattern: '\\1' is not supported"},
      {R"({"type": "string", "pattern": "\\bword"})", "'\\b' (word boundary) is not supported"},
      {R"({"type": "string", "pattern": "\\p{L}"})", "'\\p' is not supported"},
      {R"({"type": "string", "pattern": "a^b"})", "'^' and '$' are supported only at the ends"},
      {R"({"type": "string", "pattern": "(ab"})", "unbalanced '('"},
      {R"({"type": "string", "pattern": "[z-a]"})", "a range in [...] goes backwards"},
      {R"({"type": "string", "pattern": "^[a-z]{100}$"})", "the pattern is too large"},
      {R"({"type": "string", "pattern": 3})", "schema.pattern: must be a string"},
      {R"({"not": {"type": "string"}})", "'not' is not supported"},
      {R"({"if": {"type": "string"}, "then": {}})", "'if' is not supported"},
      {R"({"type": "object", "patternProperties": {"^a": {}}})", "'patternProperties' is not supported"},
      {R"({"type": "object", "propertyNames": {"maxLength": 3}})", "'propertyNames' is not supported"},
      {R"({"type": "object", "minProperties": 1})", "'minProperties' is not supported"},
      {R"({"type": "object", "maxProperties": 1})", "'maxProperties' is not supported"},
      {R"({"type": "object", "dependentRequired": {}})", "'dependentRequired' is not supported"},
      {R"({"type": "object", "unevaluatedProperties": false})", "'unevaluatedProperties' is not supported"},
      {R"({"type": "number", "multipleOf": 2})", "'multipleOf' is not supported"},
      {R"({"type": "array", "uniqueItems": true})", "'uniqueItems' is not supported"},
      {R"({"type": "array", "contains": {}})", "'contains' is not supported"},
      {R"({"type": "array", "prefixItems": [{}]})", "'prefixItems' is not supported"},
      {R"({"type": "array", "items": [{}]})", "schema.items: 'items' as an array (tuples) is not supported"},
      {R"({"allOf": [{"type": "string"}, {"maxLength": 2}]})", "'allOf' with more than one schema"},
      {R"({"type": "string", "anyOf": [{"maxLength": 2}]})", "'type' alongside 'anyOf' is not supported"},
      {R"({"$ref": "#", "maxLength": 2})", "'maxLength' alongside '$ref' is not supported"},
      {R"({"enum": ["a"], "maxLength": 2})", "'maxLength' alongside 'enum' is not supported"},
      {R"({"type": "string", "contentEncoding": "base64"})", "'contentEncoding' is not supported"},
      {R"(false)", "the schema false"},
      {R"({"type": "date"})", "schema.type: must be one of"},
      {R"({"type": "string", "minLength": -1})", "schema.minLength: must be a non-negative integer"},
      {R"({"type": "string", "minLength": 3, "maxLength": 2})", "minLength: is greater than maxLength"},
      {R"({"type": "integer", "minimum": 1.5, "maximum": 1.7})", "no integer lies between"},
      {R"({"type": "number", "maximum": 1e20})", "bounds of magnitude 1e15 and more are not supported"},
      {R"({"enum": []})", "schema.enum: must be a non-empty array"},
      {R"([1])", "must be an object or a boolean"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(compile_error(c.schema), HasSubstr(c.message)) << c.schema;
  }
  std::string many = R"({"type": "object", "properties": {)";
  for (int i = 0; i < 65; ++i) many += str_cat(i ? "," : "", "\"p", i, "\": {}");
  many += "}}";
  EXPECT_THAT(compile_error(many), HasSubstr("more than 64 properties are not supported"));
}

}  // namespace
}  // namespace lightseek
