// A running `lightseek serve` under a storm of mutated requests: every answer must be a 200 or
// a 4xx in the endpoint's error shape, never a 5xx or a dropped connection, and the server must
// still serve correctly afterwards. The generator is seeded, so a failure names the request
// index that reproduces it.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server_http_support.h"

namespace lightseek::server::testing {
namespace {

// Under AddressSanitizer every request costs several times more; fewer still cover each
// mutation many times over.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kRequests = 600;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr int kRequests = 600;
#else
constexpr int kRequests = 3000;
#endif
#else
constexpr int kRequests = 3000;
#endif

constexpr uint32_t kSeed = 20261128;
constexpr std::size_t kMaxBody = 1 << 16;
const std::string kReply = "It is 4.";

struct Endpoint {
  std::string path;
  ordered_json valid;
  std::vector<std::string> numeric_fields;  // JSON pointers worth setting to absurd numbers
  std::vector<std::string> tool_fields;     // JSON pointers of tool schemas
};

const ordered_json kOpenAITools = ordered_json::parse(R"([{"type": "function", "function": {"name": "get_weather",
    "description": "Weather forecast", "parameters": {"type": "object", "properties": {
    "city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}}}])");

std::vector<Endpoint> endpoints(const std::vector<int32_t>& token_ids) {
  const ordered_json messages = {{{"role", "system"}, {"content", "Be brief."}},
                                 {{"role", "user"}, {"content", "What is 2+2?"}}};
  return {
      {"/v1/chat/completions",
       {{"model", kModelName},
        {"messages", messages},
        {"max_tokens", 8},
        {"n", 1},
        {"temperature", 0.5},
        {"top_p", 0.9},
        {"stop", {"\n\n"}},
        {"stream", false},
        {"stream_options", {{"include_usage", true}}},
        {"logprobs", false},
        {"tools", kOpenAITools},
        {"tool_choice", "auto"},
        {"seed", 1},
        {"thinking", {{"type", "enabled"}}}},
       {"/max_tokens", "/n", "/temperature", "/top_p", "/seed", "/top_logprobs", "/max_completion_tokens",
        "/presence_penalty"},
       {"/tools", "/tools/0/function", "/tools/0/function/parameters", "/tools/0/function/parameters/properties"}},
      {"/v1/completions",
       {{"model", kModelName},
        {"prompt", "Count:"},
        {"max_tokens", 8},
        {"n", 1},
        {"temperature", 0.5},
        {"stop", "\n"},
        {"stream", false},
        {"seed", 7}},
       {"/max_tokens", "/n", "/temperature", "/logprobs", "/seed", "/best_of", "/top_p"},
       {}},
      {"/v1/messages",
       {{"model", kModelName},
        {"max_tokens", 16},
        {"system", "Be brief."},
        {"messages", {{{"role", "user"}, {"content", {{{"type", "text"}, {"text", "What is 2+2?"}}}}}}},
        {"tools", {{{"name", "get_weather"}, {"input_schema", kOpenAITools[0]["function"]["parameters"]}}}},
        {"tool_choice", {{"type", "auto"}}},
        {"thinking", {{"type", "enabled"}, {"budget_tokens", 1024}}},
        {"stream", false},
        {"temperature", 0.5},
        {"top_k", 40},
        {"stop_sequences", {"\n\n"}},
        {"metadata", {{"user_id", "fuzz"}}}},
       {"/max_tokens", "/temperature", "/top_k", "/top_p", "/thinking/budget_tokens"},
       {"/tools", "/tools/0", "/tools/0/input_schema", "/tools/0/input_schema/properties"}},
      {"/v1/messages/count_tokens",
       {{"model", kModelName},
        {"system", "Be brief."},
        {"messages", {{{"role", "user"}, {"content", "hi"}}}},
        {"tools", {{{"name", "get_weather"}, {"input_schema", kOpenAITools[0]["function"]["parameters"]}}}}},
       {"/max_tokens"},
       {"/tools", "/tools/0/input_schema"}},
      {"/api/chat",
       {{"model", kModelName},
        {"messages", messages},
        {"stream", false},
        {"think", true},
        {"tools", kOpenAITools},
        {"options", {{"num_predict", 8}, {"temperature", 0.5}, {"top_k", 40}, {"seed", 3}, {"stop", {"\n\n"}}}},
        {"keep_alive", "5m"}},
       {"/options/num_predict", "/options/temperature", "/options/top_k", "/options/seed", "/options/num_ctx",
        "/top_logprobs"},
       {"/tools", "/tools/0/function/parameters", "/format"}},
      {"/api/generate",
       {{"model", kModelName},
        {"prompt", "Say something"},
        {"system", "Be brief."},
        {"stream", true},
        {"options", {{"num_predict", 8}, {"top_p", 0.9}}}},
       {"/options/num_predict", "/options/top_p", "/options/repeat_penalty", "/options/num_ctx"},
       {"/format"}},
      {"/api/show", {{"model", kModelName}}, {}, {}},
      {"/tokenize", {{"content", "Hello, wörld!"}}, {}, {}},
      {"/detokenize", {{"tokens", token_ids}}, {"/tokens/0", "/tokens/1"}, {}},
  };
}

// Values that are the wrong type, or the right type with a hostile value. Strings "@@RAW<i>@@"
// are replaced by raw JSON text after serialization (numbers no JSON library would write).
const std::vector<std::string> kRawNumbers = {"-9223372036854775808", "9223372036854775807",
                                              "18446744073709551615", "18446744073709551616",
                                              "1e999",                "-1e999",
                                              "1e-400",               "-0",
                                              "2147483648",           "4294967297"};

ordered_json absurd_number(std::mt19937& rng) {
  const std::vector<ordered_json> values = {-1, 0, -2, 1000000000, 4096, 4097, 1e308, -1e308, 0.5, 1.5,
                                            "NaN", "Infinity", "-1", "1e9", "8", nullptr, true};
  const std::size_t pick = rng() % (values.size() + kRawNumbers.size());
  if (pick < values.size()) return values[pick];
  return "@@RAW" + std::to_string(pick - values.size()) + "@@";
}

ordered_json other_value(std::mt19937& rng) {
  const std::vector<ordered_json> values = {nullptr,
                                            true,
                                            false,
                                            0,
                                            -7,
                                            3.25,
                                            "",
                                            "text",
                                            ordered_json::array(),
                                            ordered_json::object(),
                                            {1, "a", nullptr},
                                            {{"x", 1}},
                                            {{"role", "user"}},
                                            std::string(300, 'z'),
                                            "nonexistent-model:latest"};
  if (rng() % 4 == 0) return absurd_number(rng);
  return values[rng() % values.size()];
}

ordered_json bad_tool_schema(std::mt19937& rng) {
  const std::vector<ordered_json> values = {
      "not a schema",
      ordered_json::array({1, 2}),
      {{"type", "function"}},
      {{"type", "function"}, {"function", {{"name", ""}}}},
      {{"type", "function"}, {"function", {{"name", "bad name!"}, {"parameters", "string"}}}},
      {{"type", "object"}, {"properties", {1, 2}}},
      {{"type", "object"}, {"properties", {{"city", "string"}}}, {"required", "city"}},
      {{"type", 5}, {"properties", nullptr}},
      {{"name", "dup"}, {"input_schema", {{"type", "array"}}}},
      ordered_json::array({{{"name", "x"}}, {{"name", "x"}}}),
      {{"$ref", "#/definitions/loop"}, {"definitions", {{"loop", {{"$ref", "#/definitions/loop"}}}}}},
  };
  return values[rng() % values.size()];
}

std::string deep_nesting(std::mt19937& rng) {
  const std::vector<std::size_t> depths = {63, 65, 200, 5000};
  const std::size_t depth = depths[rng() % depths.size()];
  if (rng() % 2 == 0) return std::string(depth, '[') + "1" + std::string(depth, ']');
  std::string text;
  for (std::size_t i = 0; i < depth; ++i) text += "{\"a\":";
  return text + "1" + std::string(depth, '}');
}

// Every node below the root, as JSON pointers.
void collect_paths(const ordered_json& node, const ordered_json::json_pointer& at,
                   std::vector<ordered_json::json_pointer>& out) {
  if (node.is_object()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      out.push_back(at / it.key());
      collect_paths(it.value(), at / it.key(), out);
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      out.push_back(at / i);
      collect_paths(node[i], at / i, out);
    }
  }
}

void erase_at(ordered_json& body, const ordered_json::json_pointer& path) {
  ordered_json& parent = body.at(path.parent_pointer());
  if (parent.is_object()) {
    parent.erase(path.back());
  } else if (parent.is_array()) {
    parent.erase(static_cast<std::size_t>(std::stoul(path.back())));
  }
}

// Sets a value at `pointer` when its parent exists (fields the template lacks are added).
void set_at(ordered_json& body, const std::string& pointer, ordered_json value) {
  const ordered_json::json_pointer path(pointer);
  if (!body.contains(path.parent_pointer())) return;
  const ordered_json& parent = body.at(path.parent_pointer());
  if (!parent.is_object() && !(parent.is_array() && body.contains(path))) return;
  body[path] = std::move(value);
}

struct Mutated {
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::string> kinds;
};

Mutated mutate_request(const Endpoint& endpoint, std::mt19937& rng) {
  Mutated out;
  ordered_json body = endpoint.valid;
  std::vector<std::string> raw;  // texts for "@@RAW<i>@@" placeholders beyond kRawNumbers
  auto raw_value = [&](std::string text) {
    raw.push_back(std::move(text));
    return "@@RAWX" + std::to_string(raw.size() - 1) + "@@";
  };
  auto random_path = [&]() -> std::optional<ordered_json::json_pointer> {
    std::vector<ordered_json::json_pointer> paths;
    collect_paths(body, ordered_json::json_pointer(), paths);
    if (paths.empty()) return std::nullopt;
    return paths[rng() % paths.size()];
  };

  // Tree mutations first, then at most one on the bytes of the serialized body.
  const int tree_mutations = static_cast<int>(rng() % 4);
  for (int i = 0; i < tree_mutations; ++i) {
    switch (rng() % 10) {
      case 0:
        if (auto path = random_path()) {
          erase_at(body, *path);
          out.kinds.push_back("delete " + path->to_string());
        }
        break;
      case 1:
        if (auto path = random_path()) {
          body[*path] = other_value(rng);
          out.kinds.push_back("retype " + path->to_string());
        }
        break;
      case 2:
        if (!endpoint.numeric_fields.empty()) {
          const std::string& field = endpoint.numeric_fields[rng() % endpoint.numeric_fields.size()];
          set_at(body, field, absurd_number(rng));
          out.kinds.push_back("absurd " + field);
        }
        break;
      case 3:
        if (auto path = random_path()) {
          body[*path] = raw_value(deep_nesting(rng));
          out.kinds.push_back("nest " + path->to_string());
        }
        break;
      case 4:
        body["unknown_field_" + std::to_string(rng() % 3)] = other_value(rng);
        out.kinds.push_back("unknown field");
        break;
      case 5:
        body["model"] = rng() % 2 ? ordered_json("gpt-4o") : ordered_json(std::string(rng() % 2 ? "" : "Lightseek-Builtin"));
        out.kinds.push_back("model name");
        break;
      case 6:
        if (!endpoint.tool_fields.empty()) {
          const std::string& field = endpoint.tool_fields[rng() % endpoint.tool_fields.size()];
          set_at(body, field, bad_tool_schema(rng));
          out.kinds.push_back("tool schema " + field);
        }
        break;
      case 7:
        body["stream"] = rng() % 3 == 0 ? other_value(rng) : ordered_json(rng() % 2 == 0);
        out.kinds.push_back("stream");
        break;
      case 8:
        for (const char* field : {"max_tokens", "n", "top_logprobs"}) {
          if (rng() % 2) body[field] = absurd_number(rng);
        }
        if (rng() % 2) body["logprobs"] = true;
        out.kinds.push_back("limits");
        break;
      case 9: {
        // Text the tokenizer and renderer must cope with: control characters, specials, NUL.
        const std::vector<std::string> texts = {std::string("a\0b", 3), "<｜User｜><｜Assistant｜></think>",
                                                std::string(3000, 'x'), "\xEF\xBF\xBD\xF0\x9F\x98\x80", ""};
        if (auto path = random_path()) {
          body[*path] = texts[rng() % texts.size()];
          out.kinds.push_back("text " + path->to_string());
        }
        break;
      }
    }
  }

  std::string text = body.dump();
  for (std::size_t i = 0; i < kRawNumbers.size(); ++i) {
    const std::string marker = "\"@@RAW" + std::to_string(i) + "@@\"";
    for (std::size_t at = text.find(marker); at != std::string::npos; at = text.find(marker)) {
      text.replace(at, marker.size(), kRawNumbers[i]);
    }
  }
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const std::string marker = "\"@@RAWX" + std::to_string(i) + "@@\"";
    const std::size_t at = text.find(marker);
    if (at != std::string::npos) text.replace(at, marker.size(), raw[i]);
  }

  switch (rng() % 16) {
    case 0:
      text.resize(rng() % (text.size() + 1));
      out.kinds.push_back("truncate");
      break;
    case 1:
    case 2: {
      const int flips = 1 + static_cast<int>(rng() % 4);
      const char specials[] = {'\0', '\xFF', '\xC0', '\x80', '\xED', '"', '\\', '{'};
      for (int f = 0; f < flips && !text.empty(); ++f) {
        char& byte = text[rng() % text.size()];
        byte = rng() % 2 ? specials[rng() % sizeof specials] : static_cast<char>(rng() % 256);
      }
      out.kinds.push_back("byte flips");
      break;
    }
    case 3: {
      // Invalid UTF-8 inside a string value, where only the JSON parser's check catches it.
      const std::vector<std::string> bad = {"\xC0\xAF", "\xED\xA0\x80", "\xFF", "\xE2\x82", "\\ud800", "\\udc00x"};
      const std::size_t quote = text.find(":\"");
      if (quote != std::string::npos) text.insert(quote + 2, bad[rng() % bad.size()]);
      out.kinds.push_back("invalid utf-8");
      break;
    }
    case 4:
      if (text.size() > 1) text.insert(1, "\"model\":\"other\",\"model\":" + std::string(rng() % 2 ? "1" : "null") + ",");
      out.kinds.push_back("duplicate key");
      break;
    case 5:
      text.clear();
      out.kinds.push_back("empty body");
      break;
    case 6: {
      const std::vector<std::string> types = {"text/plain", "application/x-www-form-urlencoded",
                                              "multipart/form-data; boundary=zzz", ""};
      out.content_type = types[rng() % types.size()];
      out.kinds.push_back("content type '" + out.content_type + "'");
      break;
    }
    case 7:
      if (rng() % 4 == 0) {
        // Just over the limit: refused before any handler runs.
        const std::string head = "{\"model\":\"" + std::string(kModelName) + "\",\"pad\":\"";
        text = head + std::string(kMaxBody + 1 - head.size() - 2, 'p') + "\"}";
        out.kinds.push_back("over size limit");
      } else {
        const std::vector<std::string> odd = {"[]", "null", "\"str\"", "42", "{}", "{\"model\":", "\xEF\xBB\xBF{}"};
        text = odd[rng() % odd.size()];
        out.kinds.push_back("non-object body");
      }
      break;
    default:
      break;
  }
  out.body = std::move(text);
  return out;
}

// The endpoint's API error shape with a message people can read.
std::string error_shape_problem(const std::string& path, const std::string& text) {
  if (!ordered_json::accept(text)) return "error body is not JSON";
  const ordered_json body = ordered_json::parse(text);
  const ordered_json* message = nullptr;
  if (path.rfind("/v1/messages", 0) == 0) {
    if (body.value("type", "") != "error" || !body.contains("error") || !body["error"].is_object()) {
      return "not an Anthropic error";
    }
    if (!body["error"].contains("type") || !body["error"]["type"].is_string()) return "Anthropic error without type";
    message = body["error"].contains("message") ? &body["error"]["message"] : nullptr;
  } else if (path.rfind("/api/", 0) == 0) {
    message = body.contains("error") ? &body["error"] : nullptr;
  } else {
    if (!body.contains("error") || !body["error"].is_object()) return "not an OpenAI error";
    if (!body["error"].contains("type") || !body["error"]["type"].is_string()) return "OpenAI error without type";
    message = body["error"].contains("message") ? &body["error"]["message"] : nullptr;
  }
  if (!message || !message->is_string() || message->get<std::string>().empty()) return "no error message";
  return "";
}

// A 200 must be whole: JSON that parses, or a stream that reached its end.
std::string success_problem(const std::string& path, const httplib::Response& response) {
  const std::string type = response.get_header_value("Content-Type");
  const std::string& body = response.body;
  if (type == "text/event-stream") {
    if (path.rfind("/v1/messages", 0) == 0) {
      if (body.find("event: message_stop") == std::string::npos) return "Anthropic stream without message_stop";
    } else if (body.size() < 14 || body.compare(body.size() - 14, 14, "data: [DONE]\n\n") != 0) {
      return "OpenAI stream not ending with [DONE]";
    }
    for (const ordered_json& payload : sse_payloads(body)) {
      if (payload.contains("error")) return "stream carried an error";
    }
    return "";
  }
  if (type == "application/x-ndjson") {
    const std::vector<ordered_json> lines = ndjson_lines(body);
    if (lines.empty() || lines.back().value("done", false) != true) return "NDJSON stream without done";
    return "";
  }
  if (!ordered_json::accept(body)) return "200 body is not JSON";
  return "";
}

double requests_counted(httplib::Client& client) {
  auto response = client.Get("/metrics");
  if (!response) return -1;
  std::istringstream lines(response->body);
  std::string line;
  double total = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("lightseek_requests_total{", 0) == 0) total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

TEST(ServerHttpFuzz, MutatedRequestsGet200Or4xxAndTheServerKeepsServing) {
  TestServer server({kReply, "ok"}, [](HttpServerOptions& o) {
    o.scheduler.parallel = 2;
    o.max_body_bytes = kMaxBody;
  });
  const std::vector<Endpoint> all = endpoints(builtin_model().tokenizer->encode("hello world"));
  auto client = server.client();
  std::mt19937 rng(kSeed);

  int failures = 0, ok = 0, streamed = 0, client_errors = 0, too_large = 0;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kRequests; ++i) {
    const Endpoint& endpoint = all[rng() % all.size()];
    // A few untouched requests keep the 200 paths (and whole streams) in the mix.
    std::mt19937 request_rng(static_cast<uint32_t>(rng()));
    const Mutated request = rng() % 20 == 0 ? Mutated{endpoint.valid.dump(), "application/json", {"none"}}
                                            : mutate_request(endpoint, request_rng);
    auto response = client.Post(endpoint.path, request.body, request.content_type);
    std::string problem;
    if (!response) {
      problem = "no response: " + httplib::to_string(response.error());
    } else if (response->status == 200) {
      ++ok;
      if (response->get_header_value("Content-Type") != "application/json") ++streamed;
      problem = success_problem(endpoint.path, *response);
    } else if (response->status >= 400 && response->status <= 499) {
      ++client_errors;
      if (response->status == 413) ++too_large;
      problem = error_shape_problem(endpoint.path, response->body);
    } else {
      problem = "status " + std::to_string(response->status);
    }
    if (!problem.empty() && ++failures <= 10) {
      std::string kinds;
      for (const std::string& kind : request.kinds) kinds += kind + "; ";
      ADD_FAILURE() << "request #" << i << " (seed " << kSeed << ") POST " << endpoint.path << ": " << problem
                    << "\nmutations: " << kinds << "\nbody: " << request.body.substr(0, 400)
                    << "\nresponse: " << (response ? response->body.substr(0, 400) : std::string());
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("fuzz: %d requests in %.2f s: %d ok (%d streamed), %d 4xx (%d too large), %d failures\n", kRequests,
              seconds, ok, streamed, client_errors, too_large, failures);
  EXPECT_EQ(failures, 0);
  EXPECT_GT(ok, kRequests / 20);  // the storm did not merely bounce off the parser
  EXPECT_GT(client_errors, kRequests / 2);
  EXPECT_GT(streamed, 0);
  EXPECT_GT(too_large, 0);

  auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  const ordered_json chat = {{"model", kModelName}, {"messages", {{{"role", "user"}, {"content", "2+2?"}}}}};
  // The scripted completions alternate; two requests see both, one of them the expected text.
  std::vector<std::string> replies;
  for (int i = 0; i < 2; ++i) {
    auto response = post_json(client, "/v1/chat/completions", chat);
    ASSERT_TRUE(response);
    ASSERT_EQ(response->status, 200) << response->body;
    replies.push_back(ordered_json::parse(response->body)["choices"][0]["message"]["content"]);
  }
  EXPECT_TRUE(replies[0] == kReply || replies[1] == kReply) << replies[0] << " / " << replies[1];
  EXPECT_TRUE(TestServer::eventually([&] { return requests_counted(client) >= kRequests + 3; }))
      << requests_counted(client);
}

}  // namespace
}  // namespace lightseek::server::testing
