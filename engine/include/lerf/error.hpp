// Errors the engine reports: one exception type whose message names the problem
// (and the file, for model loading) so callers can show it verbatim.
#pragma once

#include <stdexcept>
#include <string>

namespace lerf {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace lerf
