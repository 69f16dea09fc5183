// A context-free grammar over bytes, the target of JSON Schema and tool-call compilation and the
// input of GrammarMatcher.
//
// Building: a GrammarBuilder holds named rules whose bodies are GrammarExpr trees (byte classes,
// sequences, alternatives, rule references, bounded or unbounded repetition). build() flattens
// them into the form the matcher walks: every rule is a list of alternatives, every alternative
// a run of elements (a byte class or a rule reference) ending in kEnd, all in one array so a
// matcher position is a single index. Repetition becomes right-recursive helper rules
// (R ::= x R | ε), which the matcher runs in constant stack depth; the builder never produces
// left recursion, and it refuses an unbounded repetition of something that can match nothing
// (the matcher would expand it forever).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

// A set of bytes, 256 bits.
class ByteClass {
 public:
  ByteClass() = default;
  static ByteClass single(uint8_t byte);
  static ByteClass range(uint8_t lo, uint8_t hi);
  static ByteClass any();
  ByteClass& add(uint8_t byte);
  ByteClass& add_range(uint8_t lo, uint8_t hi);
  ByteClass& remove(uint8_t byte);
  bool contains(uint8_t byte) const { return (words_[byte >> 6] >> (byte & 63)) & 1; }
  bool operator==(const ByteClass&) const = default;

 private:
  std::array<uint64_t, 4> words_{};
};

// An expression tree, cheap to copy (shared immutable nodes).
class GrammarExpr {
 public:
  enum class Kind { kBytes, kSequence, kChoice, kRule, kRepeat };
  static constexpr int kUnbounded = -1;

  static GrammarExpr bytes(const ByteClass& cls);
  static GrammarExpr literal(std::string_view text);  // a sequence of single bytes
  static GrammarExpr sequence(std::vector<GrammarExpr> items);
  static GrammarExpr choice(std::vector<GrammarExpr> options);
  static GrammarExpr rule(int32_t rule_id);
  // `item` between min and max times (max kUnbounded: no limit).
  static GrammarExpr repeat(GrammarExpr item, int min, int max);
  static GrammarExpr optional(GrammarExpr item) { return repeat(std::move(item), 0, 1); }
  static GrammarExpr empty() { return sequence({}); }
  // One well-formed UTF-8 character of 2 to 4 bytes (no overlongs, no surrogates, ≤ U+10FFFF).
  static GrammarExpr utf8_multibyte();

  Kind kind() const;
  const ByteClass& byte_class() const;
  const std::vector<GrammarExpr>& children() const;
  int32_t rule_id() const;
  int min() const;
  int max() const;

 private:
  struct Node;
  explicit GrammarExpr(std::shared_ptr<const Node> node) : node_(std::move(node)) {}
  std::shared_ptr<const Node> node_;
};

// The flattened grammar. Immutable once built; shared by every matcher of a request.
struct Grammar {
  struct Element {
    enum Kind : uint8_t { kBytes, kRule, kEnd };
    Kind kind = kEnd;
    int32_t index = 0;  // kBytes: into classes; kRule: a rule id
  };
  std::vector<Element> elements;                // alternatives back to back, each ends in kEnd
  std::vector<std::vector<uint32_t>> rule_alternatives;  // rule id -> start index of each alternative
  std::vector<ByteClass> classes;
  std::vector<std::string> rule_names;          // for error messages and debugging
  int32_t root = 0;
};

class GrammarBuilder {
 public:
  // A rule may be referenced before it is defined (recursion, $ref); every declared rule must
  // be defined before build().
  int32_t declare(std::string name);
  void define(int32_t rule_id, GrammarExpr body);
  int32_t add(std::string name, GrammarExpr body) {
    const int32_t id = declare(std::move(name));
    define(id, std::move(body));
    return id;
  }
  // Throws tessera::Error for an undefined rule or an unbounded repetition of a nullable item.
  Grammar build(int32_t root) const;

 private:
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<GrammarExpr>> bodies_;
};

}  // namespace tessera
