// Fixture for scripts/check-size (tests/scripts/check_size_test.py): every
// function here is short except long_function; each trap below would make a
// careless scan end a function too late or too early, or see one that is not.
#include <string>
#define OPEN_BRACE {

namespace outer {
namespace {

const char* brace_in_string() { return "{ not a scope"; }

char brace_in_char() { return '{'; }

long digit_separators() { return 1'000'000 + '{'; }

std::string brace_in_raw_string() {
  return R"x(a "quoted" { and )" too)x";
}

int brace_in_comments() {
  // {
  /* { */
  return 0;
}

}  // namespace

// A class is not a function; its methods are.
class Widget {
 public:
  Widget() : a_{1}, b_(2) { b_ += a_; }
  Widget& operator=(const Widget& other) {
    a_ = other.a_;
    return *this;
  }
  auto sum() const -> decltype(1 + 2) { return a_ + b_; }
  explicit operator bool() const noexcept { return a_ != 0; }

 private:
  int a_;
  int b_;
  int table_[2] = {3, 4};
};

const int kTable[] = {1, 2};  // an initializer, not a function

// Twelve lines: over a limit of ten. Its lambda and local struct are its own.
int long_function(int x) {
  auto twice = [](int v) {
    return 2 * v;
  };
  struct Local {
    int f() { return 1; }
  };
  for (int i = 0; i < 3; ++i) {
    x += twice(i) + Local{}.f();
  }
  return x;
}

}  // namespace outer

enum class Colour { red, green };
