#pragma once
// Every declaration named `missing_*` (or Missing*) lacks a /// comment and
// must be reported; everything else must not be.
#include <functional>
#include <string>
#define TRICKY_MACRO(x) \
  int macro_continuation_is_not_a_declaration = x;

namespace re2 {
class RE2;  // a forward declaration: the definition carries the comment
}

namespace tricky {

namespace detail {
struct ExecRecord;
}

/// Covers both overloads below, up to the blank line.
int shared(int);
int shared(long);

int missing_after_blank();

// A plain comment is not a /// comment.
int missing_after_plain_comment();

/// Documented, across lines.
int long_declaration(int a,
                     int b);
int trailing_documents_its_line(int) ///< and ends the group above
    ;
bool missing_after_trailing_group();

/// A template's comment sits above `template`.
template <typename T,
          typename U>
T documented_template(U u);

template <typename T>
T missing_template(T t);

/// An enum: its enumerators are not declarations.
enum class Color {
  red,
  green = 2,
};

enum class MissingEnum { a, b };

/// A struct; its members need their own comments.
struct Options {
  int missing_member = 0;
  /// Braces in a default member initializer end no scope.
  std::string name{"{"};
  int follows_a_braced_initializer = 30'000;

  /// A lambda's body holds no declarations.
  std::function<int(int)> callback = [](int x) {
    int local_in_lambda = x;
    return local_in_lambda;
  };

  int missing_after_lambda = 0;

  /// A nested struct in a public section is public.
  struct Nested {
    int missing_nested_member;
    char brace = '}';  ///< a brace in a character literal
  };
  const char* missing_with_braces_in_a_string = "}{";
};

/// A class: private until `public:`.
class Widget {
  int hidden_ = 0;
  char open_brace_ = '{';
  const char* open_braces_ = "{{";

 public:
  /// Made from a number.
  explicit Widget(int n) : hidden_(n) {
    int local = n;
    hidden_ = local;
  }

  int missing_method() const;
  /// An inline body keeps the group going.
  int size() const { return hidden_; }
  int also_size() const { return hidden_; }
  explicit operator bool() const { return hidden_ != 0; }

  /// Operators are declarations too.
  Widget& operator=(const Widget& other);
  auto operator<=>(const Widget&) const = default;

 protected:
  int protected_member;

 private:
  struct Internal {
   public:
    int inside_private;
  };
  int private_member;

 public:
  /* a block comment with a { brace */ int missing_after_block_comment;
};

/// A template struct: still public.
template <class T>
struct Box {
  T missing_value;
};

class ForwardDeclared;
class MissingDefinedClass {
 public:
  friend bool operator==(const MissingDefinedClass&, const MissingDefinedClass&);
};

using MissingAlias = int;
inline constexpr int kMissingConstant = 1;

/// A class head over two lines.
struct TwoLineHead
    : Box<int> {
  int missing_after_two_line_head;
};

/// A function whose parameters name a struct: its body is still a body.
inline int uses_struct(struct Options* o) {
  int local_of_a_function = 0;
  return local_of_a_function;
}

}  // namespace tricky
