#include "text/tokenizer.h"

#include <algorithm>
#include <mutex>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/file_contents.h"
#include "text/added_tokens.h"
#include "text/bpe.h"
#include "text/byte_level.h"
#include "text/pretokenizer.h"
#include "text/utf8.h"

namespace lightseek {

namespace {

nlohmann::json parse_json(const std::filesystem::path& path) {
  const std::string text = read_file_contents(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    fail(path.string(), ": not valid JSON: ", error.what());
  }
}

// Identity normalizers only: null, or a Sequence of identity normalizers (DeepSeek ships an
// empty Sequence). Anything else would change the text before matching.
void require_identity_normalizer(const nlohmann::json& normalizer) {
  if (normalizer.is_null()) return;
  if (!normalizer.is_object() || !normalizer.contains("type") || !normalizer["type"].is_string()) {
    fail("\"normalizer\" is not null or an object with a string \"type\"");
  }
  const auto type = normalizer["type"].get<std::string>();
  if (type == "Sequence" && normalizer.contains("normalizers") && normalizer["normalizers"].is_array()) {
    for (const auto& inner : normalizer["normalizers"]) require_identity_normalizer(inner);
    return;
  }
  fail("normalizer type \"", type, "\" is not supported (only null or an empty Sequence)");
}

void require_byte_level_decoder(const nlohmann::json& decoder) {
  if (decoder.is_object() && decoder.contains("type") && decoder["type"] == "ByteLevel") return;
  if (decoder.is_object() && decoder.contains("type") && decoder["type"] == "Sequence" &&
      decoder.contains("decoders") && decoder["decoders"].is_array() && decoder["decoders"].size() == 1) {
    return require_byte_level_decoder(decoder["decoders"][0]);
  }
  fail("decoder ", decoder.is_null() ? std::string("null") : decoder.dump(), " is not supported (only ByteLevel)");
}

// tokenizer_config.json writes special tokens as strings or as {"content": ...} objects.
std::optional<std::string> config_token(const nlohmann::json& config, const char* key) {
  if (!config.contains(key) || config[key].is_null()) return std::nullopt;
  const auto& value = config[key];
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content") && value["content"].is_string()) {
    return value["content"].get<std::string>();
  }
  fail("\"", key, "\" must be a string, an object with \"content\", or null");
}

}  // namespace

struct Tokenizer::Impl {
  enum class TokenKind : uint8_t { None, Vocabulary, Added, Special };

  BpeModel model;
  PreTokenizer pre_tokenizer;
  AddedTokens added_tokens;
  // Per id: the bytes it decodes to and what it is.
  std::vector<std::string> bytes_by_id;
  std::vector<TokenKind> kind_by_id;
  std::optional<int32_t> bos;
  std::optional<int32_t> eos;

  // Matchers and caches are per thread; encode borrows one set from this pool so that threads
  // never share one and a single thread keeps its warm cache.
  struct Scratch {
    PreTokenizer::Scratch pre_tokenizer;
    BpeModel::Scratch bpe;
    std::vector<TextSegment> segments;
  };
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<Scratch>> pool;

  std::unique_ptr<Scratch> borrow() {
    {
      std::lock_guard lock(pool_mutex);
      if (!pool.empty()) {
        auto scratch = std::move(pool.back());
        pool.pop_back();
        return scratch;
      }
    }
    auto scratch = std::make_unique<Scratch>();
    scratch->pre_tokenizer = pre_tokenizer.make_scratch();
    return scratch;
  }
  void give_back(std::unique_ptr<Scratch> scratch) {
    std::lock_guard lock(pool_mutex);
    pool.push_back(std::move(scratch));
  }

  const std::string& bytes_of(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= bytes_by_id.size() || kind_by_id[id] == TokenKind::None) {
      fail("token id ", id, " is not in the vocabulary (size ", bytes_by_id.size(), ")");
    }
    return bytes_by_id[id];
  }

  std::optional<int32_t> token_id(std::string_view text) const {
    if (auto id = added_tokens.id_of(text)) return id;
    return model.id_of(text);
  }
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::load(const std::filesystem::path& tokenizer_json) {
  const nlohmann::json root = parse_json(tokenizer_json);
  auto impl = std::make_unique<Impl>();
  try {
    if (!root.is_object()) fail("the top level is not a JSON object");
    if (!root.contains("model")) fail("has no \"model\"");
    require_identity_normalizer(root.value("normalizer", nlohmann::json()));
    if (!root.contains("decoder")) fail("has no \"decoder\"");
    require_byte_level_decoder(root["decoder"]);
    impl->model = BpeModel::from_json(root["model"]);
    impl->pre_tokenizer = PreTokenizer::from_json(root.value("pre_tokenizer", nlohmann::json()));
    impl->added_tokens = AddedTokens::from_json(root.value("added_tokens", nlohmann::json()));
    // post_processor is not read: encode never adds special tokens (V4 writes BOS as text).
  } catch (const Error& error) {
    fail(tokenizer_json.string(), ": ", error.what());
  }

  int32_t largest_id = -1;
  for (const auto& [token, id] : impl->model.vocab()) largest_id = std::max(largest_id, id);
  for (const auto& token : impl->added_tokens.tokens()) largest_id = std::max(largest_id, token.id);
  impl->bytes_by_id.resize(static_cast<size_t>(largest_id) + 1);
  impl->kind_by_id.assign(static_cast<size_t>(largest_id) + 1, Impl::TokenKind::None);
  for (const auto& [token, id] : impl->model.vocab()) {
    // HF's ByteLevel decoder: a token wholly in the byte-level alphabet stands for those bytes;
    // any other token (e.g. "<｜begin▁of▁sentence｜>" in DeepSeek's vocab) for its own text.
    auto bytes = byte_level::decode(token);
    impl->bytes_by_id[id] = bytes ? std::move(*bytes) : token;
    impl->kind_by_id[id] = Impl::TokenKind::Vocabulary;
  }
  for (const auto& token : impl->added_tokens.tokens()) {
    // Added tokens are matched in the raw text, so they decode to that text, which keeps
    // decode(encode(s)) == s. (HF would pass an added token made only of byte-level alphabet
    // characters, such as "Ġ", through the byte mapping; no DeepSeek token is like that.)
    impl->bytes_by_id[token.id] = token.content;
    impl->kind_by_id[token.id] = token.special ? Impl::TokenKind::Special : Impl::TokenKind::Added;
  }

  const auto config_path = tokenizer_json.parent_path() / "tokenizer_config.json";
  if (std::filesystem::exists(config_path)) {
    const nlohmann::json config = parse_json(config_path);
    try {
      if (!config.is_object()) fail("the top level is not a JSON object");
      auto resolve = [&](const char* key) -> std::optional<int32_t> {
        const auto text = config_token(config, key);
        if (!text) return std::nullopt;
        const auto id = impl->token_id(*text);
        if (!id) fail("\"", key, "\" \"", *text, "\" is not a token of ", tokenizer_json.string());
        return id;
      };
      impl->bos = resolve("bos_token");
      impl->eos = resolve("eos_token");
    } catch (const Error& error) {
      fail(config_path.string(), ": ", error.what());
    }
  }
  return Tokenizer(std::move(impl));
}

Tokenizer Tokenizer::load_from_model_dir(const std::filesystem::path& model_dir) {
  return load(model_dir / "tokenizer.json");
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  if (const auto bad = utf8::first_invalid_offset(text)) {
    fail("invalid UTF-8 in the text to encode at byte offset ", *bad);
  }
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  auto scratch = impl_->borrow();
  impl_->added_tokens.split(text, scratch->segments);
  for (const TextSegment& segment : scratch->segments) {
    if (segment.token_id >= 0) {
      ids.push_back(segment.token_id);
      continue;
    }
    impl_->pre_tokenizer.split(text.substr(segment.start, segment.end - segment.start), scratch->pre_tokenizer,
                               [&](std::string_view piece) { impl_->model.encode_word(piece, scratch->bpe, ids); });
  }
  impl_->give_back(std::move(scratch));
  return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special) const {
  std::string text;
  for (const int32_t id : ids) {
    const std::string& bytes = impl_->bytes_of(id);
    if (!(skip_special && is_special(id))) text += bytes;
  }
  return text;
}

std::string Tokenizer::token_bytes(int32_t id) const { return impl_->bytes_of(id); }

bool Tokenizer::has_token(int32_t id) const {
  return id >= 0 && id < vocab_size() && impl_->kind_by_id[id] != Impl::TokenKind::None;
}

int32_t Tokenizer::vocab_size() const { return static_cast<int32_t>(impl_->bytes_by_id.size()); }

std::optional<int32_t> Tokenizer::token_id(std::string_view text) const { return impl_->token_id(text); }

bool Tokenizer::is_special(int32_t id) const {
  return id >= 0 && id < vocab_size() && impl_->kind_by_id[id] == Impl::TokenKind::Special;
}

std::optional<int32_t> Tokenizer::bos_id() const { return impl_->bos; }
std::optional<int32_t> Tokenizer::eos_id() const { return impl_->eos; }

}  // namespace lightseek
