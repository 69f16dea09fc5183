#include "engine/grammar.h"

#include "util/error.h"

#include <algorithm>

namespace tessera {

ByteClass ByteClass::single(uint8_t byte) { return ByteClass().add(byte); }
ByteClass ByteClass::range(uint8_t lo, uint8_t hi) { return ByteClass().add_range(lo, hi); }
ByteClass ByteClass::any() { return range(0, 255); }

ByteClass& ByteClass::add(uint8_t byte) {
  words_[byte >> 6] |= uint64_t{1} << (byte & 63);
  return *this;
}

ByteClass& ByteClass::add_range(uint8_t lo, uint8_t hi) {
  for (int b = lo; b <= hi; ++b) add(static_cast<uint8_t>(b));
  return *this;
}

ByteClass& ByteClass::remove(uint8_t byte) {
  words_[byte >> 6] &= ~(uint64_t{1} << (byte & 63));
  return *this;
}

struct GrammarExpr::Node {
  Kind kind = Kind::kSequence;
  ByteClass cls;
  std::vector<GrammarExpr> children;
  int32_t rule = -1;
  int min = 0, max = 0;
};

GrammarExpr GrammarExpr::bytes(const ByteClass& cls) {
  auto n = std::make_shared<Node>();
  n->kind = Kind::kBytes;
  n->cls = cls;
  return GrammarExpr(std::move(n));
}

GrammarExpr GrammarExpr::literal(std::string_view text) {
  std::vector<GrammarExpr> items;
  items.reserve(text.size());
  for (char c : text) items.push_back(bytes(ByteClass::single(static_cast<uint8_t>(c))));
  return sequence(std::move(items));
}

GrammarExpr GrammarExpr::sequence(std::vector<GrammarExpr> items) {
  if (items.size() == 1) return items[0];
  auto n = std::make_shared<Node>();
  n->kind = Kind::kSequence;
  n->children = std::move(items);
  return GrammarExpr(std::move(n));
}

GrammarExpr GrammarExpr::choice(std::vector<GrammarExpr> options) {
  TS_CHECK(!options.empty(), "a choice needs at least one option");
  if (options.size() == 1) return options[0];
  auto n = std::make_shared<Node>();
  n->kind = Kind::kChoice;
  n->children = std::move(options);
  return GrammarExpr(std::move(n));
}

GrammarExpr GrammarExpr::rule(int32_t rule_id) {
  auto n = std::make_shared<Node>();
  n->kind = Kind::kRule;
  n->rule = rule_id;
  return GrammarExpr(std::move(n));
}

GrammarExpr GrammarExpr::repeat(GrammarExpr item, int min, int max) {
  TS_CHECK(min >= 0 && (max == kUnbounded || max >= min), "bad repetition bounds {}..{}", min, max);
  auto n = std::make_shared<Node>();
  n->kind = Kind::kRepeat;
  n->children = {std::move(item)};
  n->min = min;
  n->max = max;
  return GrammarExpr(std::move(n));
}

GrammarExpr GrammarExpr::utf8_multibyte() {
  const GrammarExpr cont = bytes(ByteClass::range(0x80, 0xBF));
  return choice({sequence({bytes(ByteClass::range(0xC2, 0xDF)), cont}),
                 sequence({literal("\xE0"), bytes(ByteClass::range(0xA0, 0xBF)), cont}),
                 sequence({bytes(ByteClass::range(0xE1, 0xEC).add(0xEE).add(0xEF)), cont, cont}),
                 sequence({literal("\xED"), bytes(ByteClass::range(0x80, 0x9F)), cont}),
                 sequence({literal("\xF0"), bytes(ByteClass::range(0x90, 0xBF)), cont, cont}),
                 sequence({bytes(ByteClass::range(0xF1, 0xF3)), cont, cont, cont}),
                 sequence({literal("\xF4"), bytes(ByteClass::range(0x80, 0x8F)), cont, cont})});
}

GrammarExpr::Kind GrammarExpr::kind() const { return node_->kind; }
const ByteClass& GrammarExpr::byte_class() const { return node_->cls; }
const std::vector<GrammarExpr>& GrammarExpr::children() const { return node_->children; }
int32_t GrammarExpr::rule_id() const { return node_->rule; }
int GrammarExpr::min() const { return node_->min; }
int GrammarExpr::max() const { return node_->max; }

int32_t GrammarBuilder::declare(std::string name) {
  names_.push_back(std::move(name));
  bodies_.emplace_back();
  return static_cast<int32_t>(names_.size() - 1);
}

void GrammarBuilder::define(int32_t rule_id, GrammarExpr body) {
  TS_CHECK(rule_id >= 0 && static_cast<size_t>(rule_id) < bodies_.size(), "undeclared rule {}", rule_id);
  bodies_[static_cast<size_t>(rule_id)] = std::make_unique<GrammarExpr>(std::move(body));
}

namespace {

// Flattens expression trees into Grammar's arrays. Rules are laid out one at a time: an
// alternative's elements must be contiguous, so helper rules met inside it are queued and laid
// out after it.
class Flattener {
 public:
  Flattener(const std::vector<std::string>& names, const std::vector<std::unique_ptr<GrammarExpr>>& bodies) {
    g_.rule_names = names;
    g_.rule_alternatives.resize(names.size());
    for (size_t i = 0; i < bodies.size(); ++i) {
      if (!bodies[i]) fail("grammar rule '{}' is referenced but never defined", names[i]);
      pending_.push_back({static_cast<int32_t>(i), alternatives_of(*bodies[i])});
    }
  }

  Grammar run(int32_t root) {
    for (size_t next = 0; next < pending_.size(); ++next) {
      // pending_ may grow while laying out; copy what this iteration needs.
      const int32_t rule = pending_[next].rule;
      const std::vector<std::vector<GrammarExpr>> alts = pending_[next].alternatives;
      for (const std::vector<GrammarExpr>& alt : alts) {
        std::vector<Grammar::Element> run;
        for (const GrammarExpr& e : alt) emit(e, run);
        g_.rule_alternatives[static_cast<size_t>(rule)].push_back(static_cast<uint32_t>(g_.elements.size()));
        g_.elements.insert(g_.elements.end(), run.begin(), run.end());
        g_.elements.push_back({Grammar::Element::kEnd, 0});
      }
    }
    check_repetitions();
    g_.root = root;
    return std::move(g_);
  }

 private:
  struct Pending {
    int32_t rule;
    std::vector<std::vector<GrammarExpr>> alternatives;  // each a sequence of items
  };

  static std::vector<std::vector<GrammarExpr>> alternatives_of(const GrammarExpr& e) {
    std::vector<std::vector<GrammarExpr>> alts;
    if (e.kind() == GrammarExpr::Kind::kChoice)
      for (const GrammarExpr& option : e.children()) alts.push_back({option});
    else
      alts.push_back({e});
    return alts;
  }

  int32_t helper(const std::string& name, std::vector<std::vector<GrammarExpr>> alternatives) {
    const auto id = static_cast<int32_t>(g_.rule_names.size());
    g_.rule_names.push_back(name);
    g_.rule_alternatives.emplace_back();
    pending_.push_back({id, std::move(alternatives)});
    return id;
  }

  int32_t class_index(const ByteClass& cls) {
    auto it = std::find(g_.classes.begin(), g_.classes.end(), cls);
    if (it != g_.classes.end()) return static_cast<int32_t>(it - g_.classes.begin());
    g_.classes.push_back(cls);
    return static_cast<int32_t>(g_.classes.size() - 1);
  }

  void emit(const GrammarExpr& e, std::vector<Grammar::Element>& out) {
    switch (e.kind()) {
      case GrammarExpr::Kind::kBytes:
        out.push_back({Grammar::Element::kBytes, class_index(e.byte_class())});
        break;
      case GrammarExpr::Kind::kSequence:
        for (const GrammarExpr& item : e.children()) emit(item, out);
        break;
      case GrammarExpr::Kind::kChoice:
        out.push_back({Grammar::Element::kRule, helper("choice", alternatives_of(e))});
        break;
      case GrammarExpr::Kind::kRule:
        TS_CHECK(e.rule_id() >= 0 && static_cast<size_t>(e.rule_id()) < g_.rule_names.size(), "bad rule reference {}",
                 e.rule_id());
        out.push_back({Grammar::Element::kRule, e.rule_id()});
        break;
      case GrammarExpr::Kind::kRepeat: {
        const GrammarExpr& item = e.children()[0];
        for (int i = 0; i < e.min(); ++i) emit(item, out);
        if (e.max() == GrammarExpr::kUnbounded) {
          // S ::= item S | ε
          const auto id = static_cast<int32_t>(g_.rule_names.size());
          helper("star", {{item, GrammarExpr::rule(id)}, {}});
          stars_.push_back(id);
          out.push_back({Grammar::Element::kRule, id});
        } else if (e.max() > e.min()) {
          // O_1 ::= item | ε ; O_k ::= item O_{k-1} | ε
          int32_t inner = helper("optional", {{item}, {}});
          for (int k = 2; k <= e.max() - e.min(); ++k) inner = helper("optional", {{item, GrammarExpr::rule(inner)}, {}});
          out.push_back({Grammar::Element::kRule, inner});
        }
        break;
      }
    }
  }

  // An unbounded repetition of an item that can match the empty string would let the matcher
  // expand forever without reading a byte.
  void check_repetitions() const {
    std::vector<bool> nullable(g_.rule_names.size(), false);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < nullable.size(); ++r) {
        if (nullable[r]) continue;
        for (uint32_t start : g_.rule_alternatives[r]) {
          if (alt_nullable(start, nullable, 0)) {
            nullable[r] = true;
            changed = true;
            break;
          }
        }
      }
    }
    for (int32_t star : stars_) {
      // The first alternative is `item S`: nullable without its trailing S means a nullable item.
      const uint32_t start = g_.rule_alternatives[static_cast<size_t>(star)][0];
      if (alt_nullable(start, nullable, 1)) fail("grammar: unbounded repetition of an item that can be empty");
    }
  }

  bool alt_nullable(uint32_t start, const std::vector<bool>& nullable, int skip_last) const {
    uint32_t end = start;
    while (g_.elements[end].kind != Grammar::Element::kEnd) ++end;
    for (uint32_t p = start; p + static_cast<uint32_t>(skip_last) < end; ++p) {
      const Grammar::Element& el = g_.elements[p];
      if (el.kind == Grammar::Element::kBytes || !nullable[static_cast<size_t>(el.index)]) return false;
    }
    return true;
  }

  Grammar g_;
  std::vector<Pending> pending_;
  std::vector<int32_t> stars_;
};

}  // namespace

Grammar GrammarBuilder::build(int32_t root) const {
  TS_CHECK(root >= 0 && static_cast<size_t>(root) < names_.size(), "bad root rule {}", root);
  return Flattener(names_, bodies_).run(root);
}

}  // namespace tessera
