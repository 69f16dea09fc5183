// Jinja2 parser (see jinja_parser.h). Function names and precedence follow jinja2/parser.py:
//   condexpr > or > and > not > compare > math1(+ -) > concat(~) > math2(* / // %) > pow(**)
//   > unary(- +) > primary + postfix (. [] ()) + filters/tests (| is)
#include "chat/jinja/parser.h"

#include "util/error.h"

#include <array>
#include <set>

namespace tessera::jinja {

namespace {

constexpr int kMaxNesting = 200;  // keeps hostile templates from overflowing the C++ stack

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Body parse_all() {
    Body body = subparse({});
    if (cur().type != TokenType::kEof) fail_here("unexpected " + describe_token(cur()));
    return body;
  }

 private:
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
  int loop_depth_ = 0;     // for loops around the current statement, reset inside macros
  int for_nesting_ = 0;    // for loops around the current statement, macros included
  bool soft_ = false;  // inside an `if`: unknown filters/tests fail only when evaluated
  std::vector<std::vector<std::string>> end_stack_;

  // ---- token stream ----
  const Token& cur() const { return tokens_[pos_]; }
  const Token& look() const { return tokens_[std::min(pos_ + 1, tokens_.size() - 1)]; }
  Token next() {
    Token t = tokens_[pos_];
    if (pos_ + 1 < tokens_.size()) ++pos_;
    return t;
  }
  bool is_name(std::string_view v) const { return cur().type == TokenType::kName && cur().text == v; }
  bool is_op(std::string_view v) const { return cur().type == TokenType::kOperator && cur().text == v; }
  bool skip_name(std::string_view v) {
    if (!is_name(v)) return false;
    next();
    return true;
  }
  bool skip_op(std::string_view v) {
    if (!is_op(v)) return false;
    next();
    return true;
  }

  [[noreturn]] void fail_at(int line, const std::string& message) const {
    fail("chat template syntax error at line {}: {}", line, message);
  }
  [[noreturn]] void fail_here(const std::string& message) const { fail_at(cur().line, message); }

  [[noreturn]] void fail_eof() const {
    std::string expected;
    if (!end_stack_.empty()) {
      for (const auto& name : end_stack_.back()) {
        if (!expected.empty()) expected += " or ";
        expected += "'" + name + "'";
      }
      fail_here("unexpected end of template; Jinja was looking for " + expected);
    }
    fail_here("unexpected end of template");
  }

  Token expect_op(std::string_view v) {
    if (!is_op(v)) {
      if (cur().type == TokenType::kEof) fail_eof();
      fail_here("expected '" + std::string(v) + "', got '" + describe_token(cur()) + "'");
    }
    return next();
  }
  Token expect_type(TokenType type, const char* what) {
    if (cur().type != type) {
      if (cur().type == TokenType::kEof) fail_eof();
      fail_here(std::string("expected ") + what + ", got '" + describe_token(cur()) + "'");
    }
    return next();
  }
  Token expect_name(std::string_view v) {
    if (!is_name(v)) {
      if (cur().type == TokenType::kEof) fail_eof();
      fail_here("expected '" + std::string(v) + "', got '" + describe_token(cur()) + "'");
    }
    return next();
  }

  // Left-associative chains (a.b.c, x|f|g, a + b + c) deepen the tree like nesting does: each
  // link counts toward depth_ until the chain ends.
  struct ChainGuard {
    Parser& p;
    int links = 0;
    explicit ChainGuard(Parser& parser) : p(parser) {}
    void step() {
      ++links;
      if (++p.depth_ > kMaxNesting) p.fail_here("expression nested too deeply");
    }
    ~ChainGuard() { p.depth_ -= links; }
  };

  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxNesting) p.fail_here("expression nested too deeply");
    }
    ~DepthGuard() { --p.depth_; }
  };

  static ExprPtr make(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }
  static StmtPtr make_stmt(StmtKind kind, int line) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->line = line;
    return s;
  }

  // ---- statements ----
  bool at_end_token(const std::vector<std::string>& end_tokens) const {
    if (cur().type != TokenType::kName) return false;
    for (const auto& e : end_tokens)
      if (cur().text == e) return true;
    return false;
  }

  // Parses until one of end_tokens (after a {%); leaves the end token current.
  Body subparse(const std::vector<std::string>& end_tokens) {
    Body body;
    if (!end_tokens.empty()) end_stack_.push_back(end_tokens);
    while (cur().type != TokenType::kEof) {
      const Token& t = cur();
      if (t.type == TokenType::kData) {
        auto s = make_stmt(StmtKind::kText, t.line);
        s->text = t.text;
        body.push_back(std::move(s));
        next();
      } else if (t.type == TokenType::kVarBegin) {
        auto s = make_stmt(StmtKind::kPrint, t.line);
        next();
        s->expr = parse_tuple(true, {}, false);
        expect_type(TokenType::kVarEnd, "end of print statement");
        body.push_back(std::move(s));
      } else if (t.type == TokenType::kBlockBegin) {
        next();
        if (!end_tokens.empty() && at_end_token(end_tokens)) {
          end_stack_.pop_back();
          return body;
        }
        body.push_back(parse_statement());
        expect_type(TokenType::kBlockEnd, "end of statement block");
      } else {
        fail_here("unexpected " + describe_token(t));
      }
    }
    if (!end_tokens.empty()) fail_eof();
    return body;
  }

  Body parse_statements(const std::vector<std::string>& end_tokens, bool drop_needle) {
    skip_op(":");
    expect_type(TokenType::kBlockEnd, "end of statement block");
    Body body = subparse(end_tokens);
    if (drop_needle) next();
    return body;
  }

  StmtPtr parse_statement() {
    DepthGuard guard(*this);  // nested blocks recurse too
    const Token& t = cur();
    if (t.type != TokenType::kName) fail_here("tag name expected");
    const std::string tag = t.text;
    if (tag == "for") return parse_for();
    if (tag == "if") return parse_if();
    if (tag == "set") return parse_set();
    if (tag == "macro") return parse_macro();
    if (tag == "call") return parse_call_block();
    if (tag == "filter") return parse_filter_block();
    if (tag == "with") return parse_with();
    if (tag == "print") return parse_print();
    if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) fail_here("'" + tag + "' outside of a for loop");
      next();
      return make_stmt(tag == "break" ? StmtKind::kBreak : StmtKind::kContinue, t.line);
    }
    if (tag == "generation") {  // transformers' AssistantTracker extension
      auto s = make_stmt(StmtKind::kBlockPassthrough, t.line);
      next();
      s->body = parse_statements({"endgeneration"}, true);
      return s;
    }
    static const std::set<std::string> kUnsupported = {"block", "extends", "include", "import",
                                                       "from", "autoescape"};
    if (kUnsupported.count(tag))
      fail_here("unsupported Jinja construct '{% " + tag + " %}' in a chat template");
    std::string hint;
    for (auto it = end_stack_.rbegin(); it != end_stack_.rend(); ++it)
      for (const auto& e : *it)
        if (e == tag) hint = " (a nesting mistake: the innermost open block expects '" +
                             end_stack_.back().front() + "')";
    fail_here("Encountered unknown tag '" + tag + "'" + hint);
  }

  StmtPtr parse_for() {
    auto s = make_stmt(StmtKind::kFor, expect_name("for").line);
    s->target = parse_assign_target(true, false, {"in"}, false);
    check_not_loop(s->target, true);
    expect_name("in");
    s->expr = parse_tuple(false, {"recursive"}, false);
    if (skip_name("if")) s->filter = parse_expression(true);
    if (is_name("recursive")) fail_here("unsupported Jinja construct: recursive for loop");
    bool saved_soft = soft_;
    soft_ = false;
    ++loop_depth_;
    ++for_nesting_;
    s->body = parse_statements({"endfor", "else"}, false);
    --loop_depth_;
    if (next().text != "endfor") s->else_body = parse_statements({"endfor"}, true);
    --for_nesting_;
    soft_ = saved_soft;
    return s;
  }

  // Jinja rejects any store to `loop` inside (or as the target of) a for loop.
  void check_not_loop(const Target& t, bool is_for_target) {
    if (for_nesting_ == 0 && !is_for_target) return;
    if (t.kind == Target::Kind::kName && t.name == "loop")
      fail_at(t.line, "Can't assign to special loop variable in for-loop target");
    for (const auto& item : t.items) check_not_loop(item, is_for_target);
  }

  StmtPtr parse_if() {
    auto s = make_stmt(StmtKind::kIf, expect_name("if").line);
    bool saved_soft = soft_;
    soft_ = true;
    while (true) {
      IfBranch branch;
      branch.test = parse_tuple(false, {}, false);
      branch.body = parse_statements({"elif", "else", "endif"}, false);
      s->branches.push_back(std::move(branch));
      Token t = next();
      if (t.text == "elif") continue;
      if (t.text == "else") s->else_body = parse_statements({"endif"}, true);
      break;
    }
    soft_ = saved_soft;
    return s;
  }

  StmtPtr parse_set() {
    int line = next().line;
    Target target = parse_assign_target(true, false, {}, true);
    check_not_loop(target, false);
    if (skip_op("=")) {
      auto s = make_stmt(StmtKind::kSet, line);
      s->target = std::move(target);
      s->expr = parse_tuple(true, {}, false);
      return s;
    }
    auto s = make_stmt(StmtKind::kSetBlock, line);
    s->target = std::move(target);
    s->filter = parse_filter(nullptr, false);
    s->body = parse_statements({"endset"}, true);
    return s;
  }

  void parse_signature(Stmt& s) {
    expect_op("(");
    while (!is_op(")")) {
      if (!s.params.empty()) expect_op(",");
      Token name = expect_type(TokenType::kName, "parameter name");
      if (skip_op("=")) {
        s.defaults.push_back(parse_expression(true));
      } else if (!s.defaults.empty()) {
        fail_here("non-default argument follows default argument");
      }
      s.params.push_back(name.text);
    }
    expect_op(")");
  }

  StmtPtr parse_macro() {
    auto s = make_stmt(StmtKind::kMacro, next().line);
    s->text = expect_type(TokenType::kName, "macro name").text;
    parse_signature(*s);
    int saved_loops = loop_depth_;
    bool saved_soft = soft_;
    loop_depth_ = 0;
    soft_ = false;
    s->body = parse_statements({"endmacro"}, true);
    loop_depth_ = saved_loops;
    soft_ = saved_soft;
    return s;
  }

  StmtPtr parse_call_block() {
    auto s = make_stmt(StmtKind::kCallBlock, next().line);
    if (is_op("(")) parse_signature(*s);
    s->expr = parse_expression(true);
    if (s->expr->kind != ExprKind::kCall) fail_at(s->line, "expected call");
    int saved_loops = loop_depth_;
    bool saved_soft = soft_;
    loop_depth_ = 0;
    soft_ = false;
    s->body = parse_statements({"endcall"}, true);
    loop_depth_ = saved_loops;
    soft_ = saved_soft;
    return s;
  }

  StmtPtr parse_filter_block() {
    auto s = make_stmt(StmtKind::kFilterBlock, next().line);
    s->expr = parse_filter(nullptr, true);
    s->body = parse_statements({"endfilter"}, true);
    return s;
  }

  StmtPtr parse_with() {
    auto s = make_stmt(StmtKind::kWith, next().line);
    while (cur().type != TokenType::kBlockEnd) {
      if (!s->targets.empty()) expect_op(",");
      s->targets.push_back(parse_assign_target(true, false, {}, false));
      expect_op("=");
      s->values.push_back(parse_expression(true));
    }
    s->body = parse_statements({"endwith"}, true);
    return s;
  }

  StmtPtr parse_print() {
    auto s = make_stmt(StmtKind::kPrint, next().line);
    std::vector<ExprPtr> items;
    while (cur().type != TokenType::kBlockEnd) {
      if (!items.empty()) expect_op(",");
      items.push_back(parse_expression(true));
    }
    if (items.size() == 1) {
      s->expr = std::move(items[0]);
    } else {  // {% print a, b %} prints each expression in turn
      s->expr = make(ExprKind::kConcat, s->line);
      s->expr->items = std::move(items);
    }
    return s;
  }

  Target parse_assign_target(bool with_tuple, bool name_only,
                             const std::vector<std::string>& extra_end, bool with_namespace) {
    if (with_namespace && look().type == TokenType::kOperator && look().text == ".") {
      Target t;
      t.kind = Target::Kind::kNamespaceAttr;
      Token ns = expect_type(TokenType::kName, "name");
      next();  // '.'
      t.name = ns.text;
      t.line = ns.line;
      t.attr = expect_type(TokenType::kName, "attribute name").text;
      return t;
    }
    if (name_only) {
      Token n = expect_type(TokenType::kName, "name");
      return Target{Target::Kind::kName, n.text, "", {}, n.line};
    }
    // parse_tuple(simplified=True): names and literals only; anything but names is an error.
    int line = cur().line;
    std::vector<Target> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      items.push_back(parse_target_primary());
      if (is_op(",")) is_tuple = true;
      else break;
      if (!with_tuple) break;
    }
    if (!is_tuple) {
      if (items.empty()) fail_here("Expected an expression, got '" + describe_token(cur()) + "'");
      return std::move(items[0]);
    }
    Target t;
    t.kind = Target::Kind::kTuple;
    t.items = std::move(items);
    t.line = line;
    return t;
  }

  Target parse_target_primary() {
    const Token& t = cur();
    if (t.type == TokenType::kName) {
      static const std::set<std::string> kConsts = {"true", "false", "True", "False", "none", "None"};
      if (kConsts.count(t.text)) fail_here("can't assign to 'const'");
      Target target{Target::Kind::kName, t.text, "", {}, t.line};
      next();
      return target;
    }
    if (is_op("(")) {
      next();
      Target inner = parse_assign_target(true, false, {}, false);
      expect_op(")");
      return inner;
    }
    fail_here("can't assign to '" + describe_token(t) + "'");
  }

  bool is_tuple_end(const std::vector<std::string>& extra_end) const {
    if (cur().type == TokenType::kVarEnd || cur().type == TokenType::kBlockEnd || is_op(")")) return true;
    if (cur().type == TokenType::kEof) return true;
    for (const auto& e : extra_end)
      if (is_name(e)) return true;
    return false;
  }

  // ---- expressions ----
  ExprPtr parse_expression(bool with_condexpr) { return with_condexpr ? parse_condexpr() : parse_or(); }

  ExprPtr parse_condexpr() {
    DepthGuard guard(*this);
    int line = cur().line;
    ExprPtr expr1 = parse_or();
    while (skip_name("if")) {
      bool saved_soft = soft_;
      soft_ = true;  // CondExpr is a soft frame in jinja2/compiler.py
      auto cond = make(ExprKind::kCond, line);
      cond->b = parse_or();
      if (skip_name("else")) cond->c = parse_condexpr();
      soft_ = saved_soft;
      cond->a = std::move(expr1);
      expr1 = std::move(cond);
      line = cur().line;
    }
    return expr1;
  }

  ExprPtr parse_or() {
    int line = cur().line;
    ExprPtr left = parse_and();
    ChainGuard chain(*this);
    while (skip_name("or")) {
      chain.step();
      auto node = make(ExprKind::kOr, line);
      node->a = std::move(left);
      node->b = parse_and();
      left = std::move(node);
    }
    return left;
  }

  ExprPtr parse_and() {
    int line = cur().line;
    ExprPtr left = parse_not();
    ChainGuard chain(*this);
    while (skip_name("and")) {
      chain.step();
      auto node = make(ExprKind::kAnd, line);
      node->a = std::move(left);
      node->b = parse_not();
      left = std::move(node);
    }
    return left;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      DepthGuard guard(*this);
      auto node = make(ExprKind::kNot, next().line);
      node->a = parse_not();
      return node;
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    int line = cur().line;
    ExprPtr expr = parse_math1();
    std::vector<std::string> ops;
    std::vector<ExprPtr> operands;
    static const std::array<const char*, 6> kCompareOps = {"==", "!=", "<", "<=", ">", ">="};
    while (true) {
      std::string op;
      if (cur().type == TokenType::kOperator)
        for (const char* c : kCompareOps)
          if (cur().text == c) op = c;
      if (!op.empty()) {
        next();
      } else if (skip_name("in")) {
        op = "in";
      } else if (is_name("not") && look().type == TokenType::kName && look().text == "in") {
        next();
        next();
        op = "notin";
      } else {
        break;
      }
      ops.push_back(op);
      operands.push_back(parse_math1());
    }
    if (ops.empty()) return expr;
    auto node = make(ExprKind::kCompare, line);
    node->a = std::move(expr);
    node->ops = std::move(ops);
    node->items = std::move(operands);
    return node;
  }

  ExprPtr binary(const std::string& op, ExprPtr left, ExprPtr right, int line) {
    auto node = make(ExprKind::kBinary, line);
    node->name = op;
    node->a = std::move(left);
    node->b = std::move(right);
    return node;
  }

  ExprPtr parse_math1() {
    int line = cur().line;
    ExprPtr left = parse_concat();
    ChainGuard chain(*this);
    while (is_op("+") || is_op("-")) {
      chain.step();
      std::string op = next().text;
      left = binary(op, std::move(left), parse_concat(), line);
    }
    return left;
  }

  ExprPtr parse_concat() {
    int line = cur().line;
    std::vector<ExprPtr> args;
    args.push_back(parse_math2());
    while (skip_op("~")) args.push_back(parse_math2());
    if (args.size() == 1) return std::move(args[0]);
    auto node = make(ExprKind::kConcat, line);
    node->items = std::move(args);
    return node;
  }

  ExprPtr parse_math2() {
    int line = cur().line;
    ExprPtr left = parse_pow();
    ChainGuard chain(*this);
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      chain.step();
      std::string op = next().text;
      left = binary(op, std::move(left), parse_pow(), line);
    }
    return left;
  }

  ExprPtr parse_pow() {
    int line = cur().line;
    ExprPtr left = parse_unary(true);
    ChainGuard chain(*this);
    while (skip_op("**")) {
      chain.step();
      left = binary("**", std::move(left), parse_unary(true), line);
    }
    return left;
  }

  ExprPtr parse_unary(bool with_filter) {
    DepthGuard guard(*this);
    int line = cur().line;
    ExprPtr node;
    if (skip_op("-")) {
      node = make(ExprKind::kNeg, line);
      node->a = parse_unary(false);
    } else if (skip_op("+")) {
      node = make(ExprKind::kPos, line);
      node->a = parse_unary(false);
    } else {
      node = parse_primary();
    }
    node = parse_postfix(std::move(node));
    if (with_filter) node = parse_filter_expr(std::move(node));
    return node;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    ExprPtr node;
    if (t.type == TokenType::kName) {
      if (t.text == "true" || t.text == "True" || t.text == "false" || t.text == "False") {
        node = make(ExprKind::kConst, t.line);
        node->constant = Value::boolean(t.text == "true" || t.text == "True");
      } else if (t.text == "none" || t.text == "None") {
        node = make(ExprKind::kConst, t.line);
        node->constant = Value::none();
      } else {
        node = make(ExprKind::kName, t.line);
        node->name = t.text;
      }
      next();
    } else if (t.type == TokenType::kString) {
      int line = t.line;
      std::string buf;
      while (cur().type == TokenType::kString) buf += next().text;  // adjacent literals join
      node = make(ExprKind::kConst, line);
      node->constant = Value::string(std::move(buf));
    } else if (t.type == TokenType::kInteger || t.type == TokenType::kFloat) {
      node = make(ExprKind::kConst, t.line);
      node->constant = t.type == TokenType::kInteger ? Value::integer(t.int_value) : Value::number(t.float_value);
      next();
    } else if (is_op("(")) {
      next();
      node = parse_tuple(true, {}, true);
      expect_op(")");
    } else if (is_op("[")) {
      node = parse_list();
    } else if (is_op("{")) {
      node = parse_dict();
    } else if (t.type == TokenType::kEof) {
      fail_eof();
    } else {
      fail_here("unexpected '" + describe_token(t) + "'");
    }
    return node;
  }

  // Expressions separated by commas form a tuple; a single one is returned as is.
  ExprPtr parse_tuple(bool with_condexpr, const std::vector<std::string>& extra_end, bool explicit_parentheses) {
    int line = cur().line;
    std::vector<ExprPtr> args;
    bool is_tuple = false;
    while (true) {
      if (!args.empty()) expect_op(",");
      if (is_tuple_end(extra_end)) break;
      args.push_back(parse_expression(with_condexpr));
      if (is_op(",")) is_tuple = true;
      else break;
      line = cur().line;
    }
    if (!is_tuple) {
      if (!args.empty()) return std::move(args[0]);
      if (!explicit_parentheses) {
        if (cur().type == TokenType::kEof) fail_eof();
        fail_here("Expected an expression, got '" + describe_token(cur()) + "'");
      }
    }
    auto node = make(ExprKind::kTuple, line);
    node->items = std::move(args);
    return node;
  }

  ExprPtr parse_list() {
    auto node = make(ExprKind::kList, expect_op("[").line);
    while (!is_op("]")) {
      if (!node->items.empty()) expect_op(",");
      if (is_op("]")) break;
      node->items.push_back(parse_expression(true));
    }
    expect_op("]");
    return node;
  }

  ExprPtr parse_dict() {
    auto node = make(ExprKind::kDict, expect_op("{").line);
    while (!is_op("}")) {
      if (!node->items.empty()) expect_op(",");
      if (is_op("}")) break;
      node->items.push_back(parse_expression(true));
      expect_op(":");
      node->items.push_back(parse_expression(true));
    }
    expect_op("}");
    return node;
  }

  ExprPtr parse_postfix(ExprPtr node) {
    ChainGuard chain(*this);
    while (true) {
      if (is_op(".") || is_op("[") || is_op("(")) chain.step();
      if (is_op(".") || is_op("[")) {
        node = parse_subscript(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        break;
      }
    }
    return node;
  }

  ExprPtr parse_filter_expr(ExprPtr node) {
    ChainGuard chain(*this);
    while (true) {
      if (is_op("|") || is_name("is") || is_op("(")) chain.step();
      if (is_op("|")) {
        node = parse_filter(std::move(node), false);
      } else if (is_name("is")) {
        node = parse_test(std::move(node));
      } else if (is_op("(")) {
        node = parse_call(std::move(node));
      } else {
        break;
      }
    }
    return node;
  }

  ExprPtr parse_subscript(ExprPtr node) {
    Token t = next();
    if (t.text == ".") {
      const Token& attr = cur();
      if (attr.type == TokenType::kName) {
        auto n = make(ExprKind::kGetAttr, t.line);
        n->a = std::move(node);
        n->name = next().text;
        return n;
      }
      if (attr.type != TokenType::kInteger) fail_here("expected name or number");
      auto n = make(ExprKind::kGetItem, t.line);
      n->a = std::move(node);
      n->b = make(ExprKind::kConst, attr.line);
      n->b->constant = Value::integer(attr.int_value);
      next();
      return n;
    }
    // '['
    std::vector<ExprPtr> args;
    while (!is_op("]")) {
      if (!args.empty()) expect_op(",");
      args.push_back(parse_subscribed());
    }
    expect_op("]");
    auto n = make(ExprKind::kGetItem, t.line);
    n->a = std::move(node);
    if (args.size() == 1) {
      n->b = std::move(args[0]);
    } else {
      n->b = make(ExprKind::kTuple, t.line);
      n->b->items = std::move(args);
    }
    return n;
  }

  ExprPtr parse_subscribed() {
    int line = cur().line;
    ExprPtr start;
    if (is_op(":")) {
      next();
    } else {
      ExprPtr node = parse_expression(true);
      if (!is_op(":")) return node;
      next();
      start = std::move(node);
    }
    auto slice = make(ExprKind::kSlice, line);
    slice->a = std::move(start);
    if (!is_op(":") && !is_op("]") && !is_op(",")) slice->b = parse_expression(true);
    if (is_op(":")) {
      next();
      if (!is_op("]") && !is_op(",")) slice->c = parse_expression(true);
    }
    return slice;
  }

  void parse_call_args(Expr& node) {
    Token open = expect_op("(");
    bool require_comma = false;
    auto ensure = [&](bool ok) {
      if (!ok) fail_at(open.line, "invalid syntax for function call expression");
    };
    while (!is_op(")")) {
      if (require_comma) {
        expect_op(",");
        if (is_op(")")) break;  // trailing comma
      }
      if (is_op("*")) {
        ensure(!node.dyn_args && !node.dyn_kwargs);
        next();
        node.dyn_args = parse_expression(true);
      } else if (is_op("**")) {
        ensure(!node.dyn_kwargs);
        next();
        node.dyn_kwargs = parse_expression(true);
      } else if (cur().type == TokenType::kName && look().type == TokenType::kOperator && look().text == "=") {
        ensure(!node.dyn_kwargs);
        std::string key = next().text;
        next();
        node.kwargs.emplace_back(key, parse_expression(true));
      } else {
        ensure(!node.dyn_args && !node.dyn_kwargs && node.kwargs.empty());
        node.items.push_back(parse_expression(true));
      }
      require_comma = true;
    }
    expect_op(")");
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto node = make(ExprKind::kCall, cur().line);
    node->a = std::move(callee);
    parse_call_args(*node);
    return node;
  }

  std::string parse_dotted_name() {
    std::string name = expect_type(TokenType::kName, "name").text;
    while (is_op(".")) {
      next();
      name += '.';
      name += expect_type(TokenType::kName, "name").text;
    }
    return name;
  }

  ExprPtr parse_filter(ExprPtr node, bool start_inline) {
    while (is_op("|") || start_inline) {
      if (!start_inline) next();
      int line = cur().line;
      std::string name = parse_dotted_name();
      if (!soft_ && !is_jinja_filter_name(name)) fail_at(line, "No filter named '" + name + "'.");
      auto f = make(ExprKind::kFilter, line);
      f->name = name;
      f->a = std::move(node);
      if (is_op("(")) parse_call_args(*f);
      node = std::move(f);
      start_inline = false;
    }
    return node;
  }

  ExprPtr parse_test(ExprPtr node) {
    Token is_tok = next();
    bool negated = skip_name("not");
    int line = cur().line;
    std::string name = parse_dotted_name();
    if (!soft_ && !is_jinja_test_name(name)) fail_at(line, "No test named '" + name + "'.");
    auto t = make(ExprKind::kTest, is_tok.line);
    t->name = name;
    t->a = std::move(node);
    const Token& c = cur();
    bool arg_start = c.type == TokenType::kName || c.type == TokenType::kString ||
                     c.type == TokenType::kInteger || c.type == TokenType::kFloat ||
                     is_op("[") || is_op("{");
    if (is_op("(")) {
      parse_call_args(*t);
    } else if (arg_start && !is_name("else") && !is_name("or") && !is_name("and")) {
      if (is_name("is")) fail_here("You cannot chain multiple tests with is");
      t->items.push_back(parse_postfix(parse_primary()));
    }
    if (!negated) return t;
    auto n = make(ExprKind::kNot, is_tok.line);
    n->a = std::move(t);
    return n;
  }
};

}  // namespace

bool is_jinja_filter_name(std::string_view name) {
  static const std::set<std::string, std::less<>> kFilters = {
      "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e",
      "escape", "filesizeformat", "first", "float", "forceescape", "format", "groupby", "indent",
      "int", "join", "last", "length", "list", "lower", "items", "map", "min", "max", "pprint",
      "random", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select",
      "selectattr", "slice", "sort", "string", "striptags", "sum", "title", "trim", "truncate",
      "unique", "upper", "urlencode", "urlize", "wordcount", "wordwrap", "xmlattr", "tojson"};
  return kFilters.count(name) != 0;
}

bool is_jinja_test_name(std::string_view name) {
  static const std::set<std::string, std::less<>> kTests = {
      "odd", "even", "divisibleby", "defined", "undefined", "filter", "test", "none", "boolean",
      "false", "true", "integer", "float", "lower", "upper", "string", "mapping", "number",
      "sequence", "iterable", "callable", "sameas", "escaped", "in", "==", "eq", "equalto", "!=",
      "ne", ">", "gt", "greaterthan", "ge", ">=", "<", "lt", "lessthan", "<=", "le"};
  return kTests.count(name) != 0;
}

std::shared_ptr<const Program> parse_template(std::string_view source, const LexerOptions& options) {
  auto program = std::make_shared<Program>();
  program->body = Parser(tokenize(source, options)).parse_all();
  return program;
}

}  // namespace tessera::jinja
