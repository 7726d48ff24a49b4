#include "lerf/npy.hpp"

#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>

#include "lerf/error.hpp"

namespace lerf {

namespace {

std::size_t dtype_size(const std::string& d) {
  if (d == "|i1" || d == "|u1" || d == "<i1" || d == "<u1") return 1;
  if (d == "<i2" || d == "<u2") return 2;
  if (d == "<f4" || d == "<i4") return 4;
  return 0;
}

// Minimal parser of the header dict: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
 public:
  HeaderParser(const std::string& text, const std::string& name) : s_(text), name_(name) {}

  void parse(NpyArray& out, bool& fortran) {
    bool have_descr = false, have_order = false, have_shape = false;
    skip();
    expect('{');
    for (;;) {
      skip();
      if (peek() == '}') break;
      std::string key = quoted();
      skip();
      expect(':');
      skip();
      if (key == "descr") {
        out.dtype = quoted();
        have_descr = true;
      } else if (key == "fortran_order") {
        fortran = boolean();
        have_order = true;
      } else if (key == "shape") {
        out.shape = tuple();
        have_shape = true;
      } else {
        fail("unexpected header key '" + key + "'");
      }
      skip();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      skip();
      if (peek() != '}') fail("malformed header dictionary");
    }
    if (!have_descr || !have_order || !have_shape) fail("header lacks descr, fortran_order or shape");
  }

 private:
  [[noreturn]] void fail(const std::string& why) { throw Error(name_ + ": invalid .npy header: " + why); }
  char peek() { return i_ < s_.size() ? s_[i_] : '\0'; }
  void skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t')) ++i_;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string quoted() {
    char q = peek();
    if (q != '\'' && q != '"') fail("expected a quoted string");
    ++i_;
    auto end = s_.find(q, i_);
    if (end == std::string::npos) fail("unterminated string");
    std::string r = s_.substr(i_, end - i_);
    i_ = end + 1;
    return r;
  }
  bool boolean() {
    if (s_.compare(i_, 4, "True") == 0) {
      i_ += 4;
      return true;
    }
    if (s_.compare(i_, 5, "False") == 0) {
      i_ += 5;
      return false;
    }
    fail("expected True or False");
  }
  std::vector<std::size_t> tuple() {
    std::vector<std::size_t> dims;
    expect('(');
    for (;;) {
      skip();
      if (peek() == ')') {
        ++i_;
        break;
      }
      std::size_t v = 0;
      int digits = 0;
      while (peek() >= '0' && peek() <= '9') {
        if (++digits > 12) fail("dimension too large");
        v = v * 10 + static_cast<std::size_t>(peek() - '0');
        ++i_;
      }
      if (digits == 0) fail("expected a dimension");
      dims.push_back(v);
      if (dims.size() > 8) fail("too many dimensions");
      skip();
      if (peek() == ',') ++i_;
      else if (peek() != ')') fail("malformed shape");
    }
    return dims;
  }

  const std::string& s_;
  const std::string& name_;
  std::size_t i_ = 0;
};

}  // namespace

std::size_t NpyArray::count() const {
  std::size_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

NpyArray parse_npy(const std::uint8_t* data, std::size_t size, const std::string& name) {
  static const char kMagic[] = "\x93NUMPY";
  if (size < 10 || std::memcmp(data, kMagic, 6) != 0) throw Error(name + ": not a .npy file (bad magic)");
  int major = data[6];
  std::size_t header_len = 0, offset = 0;
  if (major == 1) {
    header_len = data[8] | (data[9] << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) throw Error(name + ": truncated .npy header");
    header_len = static_cast<std::size_t>(data[8]) | (static_cast<std::size_t>(data[9]) << 8) |
                 (static_cast<std::size_t>(data[10]) << 16) | (static_cast<std::size_t>(data[11]) << 24);
    offset = 12;
  } else {
    throw Error(name + ": unsupported .npy version " + std::to_string(major));
  }
  if (header_len > size - offset) throw Error(name + ": truncated .npy header");
  std::string header(reinterpret_cast<const char*>(data + offset), header_len);
  NpyArray out;
  bool fortran = false;
  HeaderParser(header, name).parse(out, fortran);
  if (fortran) throw Error(name + ": Fortran-order arrays are not supported");
  std::size_t elem = dtype_size(out.dtype);
  if (elem == 0) throw Error(name + ": unsupported dtype '" + out.dtype + "'");
  std::size_t count = 1;
  for (auto d : out.shape) {
    if (d != 0 && count > std::numeric_limits<std::size_t>::max() / 16 / d)
      throw Error(name + ": shape too large");
    count *= d;
  }
  std::size_t payload = size - offset - header_len;
  if (payload < count * elem)
    throw Error(name + ": truncated data (" + std::to_string(payload) + " bytes, shape needs " +
                std::to_string(count * elem) + ")");
  if (payload > count * elem)
    throw Error(name + ": " + std::to_string(payload - count * elem) + " unexpected bytes after the data");
  const std::uint8_t* begin = data + offset + header_len;
  out.bytes.assign(begin, begin + count * elem);
  return out;
}

NpyArray read_npy(const std::filesystem::path& path) {
  // A directory opens as a stream but throws on reading, with a message that names no file.
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw Error(path.string() + ": is a directory, not a .npy file");
  std::ifstream f(path, std::ios::binary);
  if (!f) throw Error(path.string() + ": cannot open file");
  std::vector<std::uint8_t> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (f.bad()) throw Error(path.string() + ": read error");
  return parse_npy(data.data(), data.size(), path.string());
}

void write_npy(const std::filesystem::path& path, const NpyArray& a) {
  std::string shape = "(";
  for (auto d : a.shape) shape += std::to_string(d) + ", ";
  if (a.shape.size() > 1) shape.resize(shape.size() - 2);
  else if (a.shape.size() == 1) shape.resize(shape.size() - 1);
  shape += ")";
  std::string header = "{'descr': '" + a.dtype + "', 'fortran_order': False, 'shape': " + shape + ", }";
  std::size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  if (!f) throw Error(path.string() + ": cannot create file");
  f.write("\x93NUMPY\x01\x00", 8);
  char len[2] = {static_cast<char>(header.size() & 0xff), static_cast<char>(header.size() >> 8)};
  f.write(len, 2);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(reinterpret_cast<const char*>(a.bytes.data()), static_cast<std::streamsize>(a.bytes.size()));
  if (!f) throw Error(path.string() + ": write error");
}

}  // namespace lerf
