// Errors: every failure caused by input (files, configs, requests, arguments) is reported by
// throwing lightseek::Error with a message that names what is wrong and where. Front ends catch
// it at their boundary and print the message; nothing below them aborts on bad input.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace lightseek {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Concatenates anything streamable into one string: str_cat("layer ", 3, ": bad shape").
template <typename... Parts>
std::string str_cat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

template <typename... Parts>
[[noreturn]] void fail(Parts&&... parts) {
  throw Error(str_cat(std::forward<Parts>(parts)...));
}

}  // namespace lightseek
