// Syntax tree of the Jinja2 subset, one node type per jinja2/nodes.py class we support.
// Expressions and statements are tagged structs (kind + the fields that kind uses) so the
// interpreter is a plain switch; every node keeps its template line for error messages.
#pragma once

#include "chat/jinja/value.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tessera::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  kConst,    // constant
  kName,     // name
  kList,     // [items]
  kTuple,    // (items)
  kDict,     // {items[0]: items[1], ...}  keys and values interleaved
  kGetAttr,  // a.name
  kGetItem,  // a[b]
  kSlice,    // a:b:c inside [], any may be null
  kCall,     // a(items..., kwargs..., *dyn_args, **dyn_kwargs)
  kFilter,   // a | name(items..., kwargs...); a is null inside {% filter %}/{% set %} blocks
  kTest,     // a is name(items..., kwargs...)
  kNeg,      // -a
  kPos,      // +a
  kNot,      // not a
  kAnd,      // a and b
  kOr,       // a or b
  kBinary,   // a <name> b for + - * / // % **
  kConcat,   // items joined with ~
  kCompare,  // a ops[0] items[0] ops[1] items[1] ... (chained, Python semantics)
  kCond,     // a if b else c (c may be null)
};

struct Expr {
  ExprKind kind = ExprKind::kConst;
  int line = 0;
  Value constant;
  std::string name;
  ExprPtr a, b, c;
  std::vector<ExprPtr> items;
  std::vector<std::string> ops;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  ExprPtr dyn_args, dyn_kwargs;
};

// Left side of `set`, `for` and `with`: a name, a (nested) tuple of targets, or `ns.attr`.
struct Target {
  enum class Kind { kName, kTuple, kNamespaceAttr } kind = Kind::kName;
  std::string name;  // variable, or the namespace variable for kNamespaceAttr
  std::string attr;  // kNamespaceAttr
  std::vector<Target> items;
  int line = 0;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

enum class StmtKind {
  kText,         // template data
  kPrint,        // {{ expr }} or {% print expr %}
  kIf,           // branches (test, body) then else_body
  kFor,          // for target in expr [if filter]: body else else_body
  kSet,          // set target = expr
  kSetBlock,     // set target [| filter] %}body{% endset
  kMacro,        // macro name(params=defaults): body
  kCallBlock,    // call[(params)] expr: body becomes caller()
  kFilterBlock,  // filter expr(chain with null input): body
  kWith,         // with targets = values: body
  kBreak,
  kContinue,
  kBlockPassthrough,  // HF's {% generation %} body: rendered as is
};

struct IfBranch {
  ExprPtr test;
  Body body;
};

struct Stmt {
  StmtKind kind = StmtKind::kText;
  int line = 0;
  std::string text;  // kText; macro name for kMacro
  ExprPtr expr;      // print value, for iterable, set value, call-block call, filter chain
  ExprPtr filter;    // for-loop `if` filter, set-block filter
  Target target;     // for / set / set-block
  std::vector<Target> targets;  // with
  std::vector<ExprPtr> values;  // with
  std::vector<IfBranch> branches;
  Body body;
  Body else_body;
  std::vector<std::string> params;  // macro / call block
  std::vector<ExprPtr> defaults;    // for the last defaults.size() params
};

// A parsed template. Shared by ChatTemplate copies (immutable after parsing).
struct Program {
  Body body;
};

}  // namespace tessera::jinja
