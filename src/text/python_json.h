// JSON text exactly as Python's json.dumps(value, ensure_ascii=False) writes it, which is how the
// V4 prompt format embeds tool schemas, non-string tool arguments and response formats:
// separators ", " and ": ", keys in insertion order, non-ASCII characters kept, control
// characters escaped (\n, \t, ... or \u00XX), and floats written like Python's repr (1.0, 1e-05,
// 1e+16, Infinity). nlohmann's own dump differs in all of these, and the model was trained on
// Python's spelling.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace lightseek {

// Throws Error for strings (values or keys) that are not valid UTF-8 and for binary values.
std::string to_python_json(const nlohmann::ordered_json& value);

// Python's repr of a float: the shortest digits that read back as the same double, in fixed
// notation for decimal exponents -5 < e < 16 (with ".0" when integral), otherwise d.ddde±XX.
std::string python_float_repr(double value);

}  // namespace lightseek
