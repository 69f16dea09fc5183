// Tree-walking renderer for the Jinja2 subset (see jinja_interpreter.h).
#include "chat/jinja/interpreter.h"

#include "chat/jinja/access.h"
#include "chat/jinja/filters.h"
#include "chat/jinja/ops.h"
#include "chat/jinja/py_text.h"
#include "util/error.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <optional>
#include <set>
#include <unordered_map>

namespace tessera::jinja {

namespace {

constexpr int kMaxCallDepth = 200;  // macro recursion; Python would hit its recursion limit
constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

// raise_exception(message) from the template: surfaces with exactly the template's text.
class TemplateRaise : public PyError {
 public:
  using PyError::PyError;
};

struct Scope {
  std::shared_ptr<Scope> parent;
  std::vector<std::pair<std::string, Value>> vars;

  const Value* find(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent.get())
      for (const auto& [k, v] : s->vars)
        if (k == name) return &v;
    return nullptr;
  }
  void set(const std::string& name, Value value) {
    for (auto& [k, v] : vars) {
      if (k == name) {
        v = std::move(value);
        return;
      }
    }
    vars.emplace_back(name, std::move(value));
  }
};
using ScopePtr = std::shared_ptr<Scope>;

ScopePtr child_scope(const ScopePtr& parent) {
  auto s = std::make_shared<Scope>();
  s->parent = parent;
  return s;
}

// Names a macro body reads, to know whether it takes varargs/kwargs/caller (Jinja decides the
// same way, from the undeclared names of the body).
void collect_names(const Expr* e, std::set<std::string>& names);
void collect_names(const Body& body, std::set<std::string>& names);

void collect_names(const Expr* e, std::set<std::string>& names) {
  if (!e) return;
  if (e->kind == ExprKind::kName) names.insert(e->name);
  collect_names(e->a.get(), names);
  collect_names(e->b.get(), names);
  collect_names(e->c.get(), names);
  collect_names(e->dyn_args.get(), names);
  collect_names(e->dyn_kwargs.get(), names);
  for (const auto& x : e->items) collect_names(x.get(), names);
  for (const auto& kv : e->kwargs) collect_names(kv.second.get(), names);
}

void collect_names(const Body& body, std::set<std::string>& names) {
  for (const auto& s : body) {
    collect_names(s->expr.get(), names);
    collect_names(s->filter.get(), names);
    for (const auto& v : s->values) collect_names(v.get(), names);
    for (const auto& d : s->defaults) collect_names(d.get(), names);
    for (const auto& b : s->branches) {
      collect_names(b.test.get(), names);
      collect_names(b.body, names);
    }
    collect_names(s->body, names);
    collect_names(s->else_body, names);
  }
}

std::string strftime_now(const std::string& format) {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  localtime_r(&t, &tm);
  // datetime.strftime handles %f itself; the rest goes to the C library, as in CPython.
  std::string fmt;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] == '%' && i + 1 < format.size()) {
      if (format[i + 1] == 'f') {
        char buf[8];
        std::snprintf(buf, sizeof(buf), "%06lld", static_cast<long long>(micros));
        fmt += buf;
        ++i;
        continue;
      }
      fmt += format[i];
      fmt += format[++i];
      continue;
    }
    fmt += format[i];
  }
  if (fmt.empty()) return "";
  std::string buf(256, '\0');
  while (true) {
    size_t n = std::strftime(buf.data(), buf.size(), fmt.c_str(), &tm);
    if (n > 0 || buf.size() > 65536) {
      buf.resize(n);
      return buf;
    }
    buf.resize(buf.size() * 4);
  }
}

Value builtin(const std::string& name, std::function<Value(CallArgs&)> fn) {
  auto c = std::make_shared<Callable>();
  c->name = name;
  c->call = std::move(fn);
  return Value::callable(std::move(c));
}

int64_t range_arg(const Value& v) {
  if (v.is_int() || v.is_bool()) return v.as_int();
  throw_type_error("'" + type_name(v) + "' object cannot be interpreted as an integer");
}

Value make_range(CallArgs& args) {
  if (!args.keywords.empty()) throw_type_error("range() takes no keyword arguments");
  const auto& p = args.positional;
  if (p.empty() || p.size() > 3) throw_type_error("range expected 1 to 3 arguments, got " + std::to_string(p.size()));
  int64_t start = 0, stop, step = 1;
  if (p.size() == 1) {
    stop = range_arg(p[0]);
  } else {
    start = range_arg(p[0]);
    stop = range_arg(p[1]);
    if (p.size() == 3) step = range_arg(p[2]);
  }
  if (step == 0) throw_value_error("range() arg 3 must not be zero");
  int64_t len = 0;
  if (step > 0 && stop > start) len = (stop - start + step - 1) / step;
  if (step < 0 && stop < start) len = (start - stop - step - 1) / -step;
  if (len > kMaxRange)
    throw PyError("OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  return Value::range(start, stop, step);
}

// dict(*args, **kwargs) as Python builds it: a mapping or an iterable of pairs, then kwargs.
Dict build_dict(const std::string& fn, const CallArgs& args) {
  if (args.positional.size() > 1)
    throw_type_error(fn + " expected at most 1 argument, got " + std::to_string(args.positional.size()));
  Dict d;
  if (!args.positional.empty()) {
    const Value& src = args.positional[0];
    if (src.is_dict()) {
      d = src.as_dict();
    } else {
      for (const auto& pair : iterate(src)) {
        ValueList kv = iterate(pair);
        if (kv.size() != 2)
          throw_value_error("dictionary update sequence element has length " + std::to_string(kv.size()) + "; 2 is required");
        check_hashable(kv[0]);
        d.set(kv[0], kv[1]);
      }
    }
  }
  for (const auto& [k, v] : args.keywords) d.set(Value::string(k), v);
  return d;
}

// Expressions Jinja's optimizer folds to a constant (the numeric ones that matter here).
bool is_constant(const Expr& e) {
  switch (e.kind) {
    case ExprKind::kConst: return true;
    case ExprKind::kNeg:
    case ExprKind::kPos:
    case ExprKind::kNot: return is_constant(*e.a);
    case ExprKind::kBinary:
    case ExprKind::kAnd:
    case ExprKind::kOr:
    case ExprKind::kGetItem: return is_constant(*e.a) && is_constant(*e.b);
    case ExprKind::kGetAttr: return is_constant(*e.a);
    case ExprKind::kCond: return is_constant(*e.a) && is_constant(*e.b) && (!e.c || is_constant(*e.c));
    case ExprKind::kFilter:
      // Filters that need the render context are never folded.
      if (e.name == "map" || e.name == "select" || e.name == "reject" || e.name == "selectattr" ||
          e.name == "rejectattr" || !e.a)
        return false;
      [[fallthrough]];
    case ExprKind::kTest:
    case ExprKind::kCompare:
    case ExprKind::kList:
    case ExprKind::kTuple:
    case ExprKind::kDict:
    case ExprKind::kConcat: {
      if (e.a && !is_constant(*e.a)) return false;
      if (e.dyn_args || e.dyn_kwargs) return false;
      for (const auto& x : e.items)
        if (!is_constant(*x)) return false;
      for (const auto& kv : e.kwargs)
        if (!is_constant(*kv.second)) return false;
      return true;
    }
    default: return false;
  }
}

class Interpreter {
 public:
  std::string run(const Program& program, const Dict& variables) {
    auto globals = std::make_shared<Scope>();
    install_globals(*globals);
    auto root = child_scope(globals);
    for (const auto& [k, v] : variables.items())
      if (k.is_string()) root->set(k.as_string(), v);
    std::string out;
    try {
      exec_body(program.body, root, out);
    } catch (const TemplateRaise& e) {
      release();
      // HF's raise_exception raises jinja2.exceptions.TemplateError(message).
      fail("chat template raised an exception at line {}: TemplateError: {}", line_, e.what());
    } catch (const PyError& e) {
      release();
      fail("chat template error at line {}: {}", line_, e.what());
    } catch (const Error&) {
      release();
      throw;
    } catch (const std::exception& e) {  // e.g. bad_alloc: still report where it happened
      release();
      fail("chat template error at line {}: {}", line_, e.what());
    } catch (...) {
      release();
      throw;
    }
    release();
    return out;
  }

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  struct MacroInfo {
    bool uses_caller = false, uses_kwargs = false, uses_varargs = false;
  };

  int line_ = 0;
  int call_depth_ = 0;
  std::vector<ScopePtr> macro_scopes_;  // scopes captured by macros (cleared after render)
  std::vector<std::shared_ptr<Namespace>> namespaces_;  // every namespace() made (cleared after render)
  std::unordered_map<const Stmt*, MacroInfo> macro_info_;

  // Macros hold their defining scope, which holds the macros, and a namespace can hold itself:
  // break those reference cycles once the render is over.
  void release() {
    for (auto& s : macro_scopes_) s->vars.clear();
    macro_scopes_.clear();
    for (auto& ns : namespaces_) ns->attrs = Dict();
    namespaces_.clear();
  }

  void install_globals(Scope& g) {
    g.set("range", builtin("range", make_range));
    g.set("dict", builtin("dict", [](CallArgs& a) { return Value::dict(build_dict("dict", a)); }));
    g.set("namespace", builtin("namespace", [this](CallArgs& a) {
      auto ns = std::make_shared<Namespace>();
      ns->attrs = build_dict("namespace", a);
      namespaces_.push_back(ns);
      return Value::namespace_object(std::move(ns));
    }));
    g.set("joiner", builtin("joiner", [](CallArgs& a) {
      auto b = bind_args("joiner", a, {optional("sep", Value::string(", "))});
      auto used = std::make_shared<bool>(false);
      Value sep = b[0];
      return builtin("joiner", [used, sep](CallArgs& c) {
        bind_args("joiner", c, {});
        if (!*used) {
          *used = true;
          return Value::string("");
        }
        return sep;
      });
    }));
    g.set("raise_exception", builtin("raise_exception", [](CallArgs& a) -> Value {
      auto b = bind_args("raise_exception", a, {required("message")});
      throw TemplateRaise(py_str(b[0]));
    }));
    g.set("strftime_now", builtin("strftime_now", [](CallArgs& a) {
      auto b = bind_args("strftime_now", a, {required("format")});
      if (!b[0].is_string()) throw_type_error("strftime() argument 1 must be str, not " + type_name(b[0]));
      return Value::string(strftime_now(b[0].as_string()));
    }));
    for (const char* name : {"cycler", "lipsum"}) {
      std::string n = name;
      g.set(n, builtin(n, [n](CallArgs&) -> Value {
        throw PyError("unsupported: Jinja global '" + n + "()' in a chat template");
      }));
    }
  }

  // ---- statements ----

  Flow exec_body(const Body& body, const ScopePtr& scope, std::string& out) {
    for (const auto& s : body) {
      Flow f = exec(*s, scope, out);
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

  Flow exec(const Stmt& s, const ScopePtr& scope, std::string& out) {
    line_ = s.line;
    switch (s.kind) {
      case StmtKind::kText:
        out += s.text;
        return Flow::kNormal;
      case StmtKind::kPrint:
        out += py_str(eval(*s.expr, scope));
        return Flow::kNormal;
      case StmtKind::kIf:
        for (const auto& branch : s.branches)
          if (truthy(eval(*branch.test, scope))) return exec_body(branch.body, scope, out);
        return exec_body(s.else_body, scope, out);
      case StmtKind::kFor:
        exec_for(s, scope, out);
        return Flow::kNormal;
      case StmtKind::kSet: {
        Value v = eval(*s.expr, scope);
        line_ = s.line;
        assign(s.target, v, scope);
        return Flow::kNormal;
      }
      case StmtKind::kSetBlock: {
        std::string buf;
        exec_body(s.body, child_scope(scope), buf);
        Value v = Value::string(std::move(buf));
        if (s.filter) v = apply_filter_chain(*s.filter, v, scope);
        line_ = s.line;
        assign(s.target, v, scope);
        return Flow::kNormal;
      }
      case StmtKind::kMacro:
        scope->set(s.text, make_macro(s, scope, s.text));
        return Flow::kNormal;
      case StmtKind::kCallBlock: {
        Value caller = make_macro(s, scope, "caller");
        out += py_str(eval_call(*s.expr, scope, &caller));
        return Flow::kNormal;
      }
      case StmtKind::kFilterBlock: {
        std::string buf;
        exec_body(s.body, child_scope(scope), buf);
        out += py_str(apply_filter_chain(*s.expr, Value::string(std::move(buf)), scope));
        return Flow::kNormal;
      }
      case StmtKind::kWith: {
        std::vector<Value> values;
        for (const auto& v : s.values) values.push_back(eval(*v, scope));
        auto inner = child_scope(scope);
        for (size_t i = 0; i < s.targets.size(); ++i) assign(s.targets[i], values[i], inner);
        return exec_body(s.body, inner, out);
      }
      case StmtKind::kBreak: return Flow::kBreak;
      case StmtKind::kContinue: return Flow::kContinue;
      case StmtKind::kBlockPassthrough:
        exec_body(s.body, child_scope(scope), out);
        return Flow::kNormal;
    }
    return Flow::kNormal;
  }

  void exec_for(const Stmt& s, const ScopePtr& scope, std::string& out) {
    ValueList items = iterate(eval(*s.expr, scope));
    if (s.filter) {  // `for x in xs if cond`: loop.index etc. count the kept items only
      ValueList kept;
      for (const auto& item : items) {
        auto test_scope = child_scope(scope);
        assign(s.target, item, test_scope);
        if (truthy(eval(*s.filter, test_scope))) kept.push_back(item);
      }
      items = std::move(kept);
    }
    auto state = std::make_shared<LoopState>();
    state->items = items;
    Value loop = Value::loop(state);
    // Jinja clears its "run the else block" flag at the end of the loop body, so the else block
    // also runs when every iteration ended in break or continue (not only for empty loops).
    bool body_completed = false;
    for (size_t i = 0; i < items.size(); ++i) {
      state->index0 = static_cast<int64_t>(i);
      auto iteration = child_scope(scope);
      iteration->set("loop", loop);
      line_ = s.line;
      assign(s.target, items[i], iteration);
      Flow f = exec_body(s.body, iteration, out);
      if (f == Flow::kNormal) body_completed = true;
      if (f == Flow::kBreak) break;
    }
    if (!body_completed) exec_body(s.else_body, child_scope(scope), out);
  }

  void assign(const Target& t, const Value& v, const ScopePtr& scope) {
    switch (t.kind) {
      case Target::Kind::kName:
        scope->set(t.name, v);
        return;
      case Target::Kind::kNamespaceAttr: {
        const Value* ns = scope->find(t.name);
        if (!ns || ns->kind() != Value::Kind::kNamespace)
          throw PyError("TemplateRuntimeError: cannot assign attribute on non-namespace object");
        ns->as_namespace().attrs.set(Value::string(t.attr), v);
        return;
      }
      case Target::Kind::kTuple: {
        ValueList items = iterate(v);
        if (items.size() < t.items.size())
          throw_value_error("not enough values to unpack (expected " + std::to_string(t.items.size()) + ", got " +
                            std::to_string(items.size()) + ")");
        if (items.size() > t.items.size())
          throw_value_error("too many values to unpack (expected " + std::to_string(t.items.size()) + ")");
        for (size_t i = 0; i < items.size(); ++i) assign(t.items[i], items[i], scope);
        return;
      }
    }
  }

  // ---- macros ----

  const MacroInfo& macro_info(const Stmt& s) {
    auto it = macro_info_.find(&s);
    if (it != macro_info_.end()) return it->second;
    std::set<std::string> names;
    collect_names(s.body, names);
    for (const auto& d : s.defaults) collect_names(d.get(), names);
    MacroInfo info;
    auto declared = [&](const char* n) {
      return std::find(s.params.begin(), s.params.end(), n) != s.params.end();
    };
    info.uses_caller = names.count("caller") && !declared("caller");
    info.uses_kwargs = names.count("kwargs") && !declared("kwargs");
    info.uses_varargs = names.count("varargs") && !declared("varargs");
    return macro_info_[&s] = info;
  }

  Value make_macro(const Stmt& s, const ScopePtr& scope, const std::string& name) {
    macro_scopes_.push_back(scope);
    auto fn = std::make_shared<Callable>();
    fn->name = name;
    fn->is_macro = true;
    const Stmt* def = &s;
    std::weak_ptr<Scope> weak = scope;  // macro_scopes_ keeps it alive for the render
    fn->call = [this, def, weak, name](CallArgs& args) { return call_macro(*def, weak.lock(), name, args); };
    return Value::callable(std::move(fn));
  }

  // jinja2.runtime.Macro.__call__ argument rules.
  Value call_macro(const Stmt& s, const ScopePtr& defining, const std::string& name, CallArgs& args) {
    const MacroInfo& info = macro_info(s);
    if (++call_depth_ > kMaxCallDepth) {
      --call_depth_;
      throw PyError("RecursionError: maximum macro call depth exceeded");
    }
    auto frame = child_scope(defining);
    std::vector<std::pair<std::string, Value>> kwargs = args.keywords;
    auto take_kwarg = [&](const std::string& key, Value* out) {
      for (auto it = kwargs.begin(); it != kwargs.end(); ++it) {
        if (it->first == key) {
          *out = it->second;
          kwargs.erase(it);
          return true;
        }
      }
      return false;
    };
    size_t n_params = s.params.size();
    size_t n_pos = std::min(args.positional.size(), n_params);
    std::vector<std::optional<Value>> bound(n_params);
    for (size_t i = 0; i < n_pos; ++i) bound[i] = args.positional[i];
    for (size_t i = n_pos; i < n_params; ++i) {
      Value v;
      if (take_kwarg(s.params[i], &v)) bound[i] = v;
    }
    if (info.uses_caller) {
      Value caller;
      if (!take_kwarg("caller", &caller)) caller = undefined_hint("No caller defined");
      frame->set("caller", caller);
    }
    if (info.uses_kwargs) {
      Dict d;
      for (const auto& [k, v] : kwargs) d.set(Value::string(k), v);
      frame->set("kwargs", Value::dict(std::move(d)));
    } else if (!kwargs.empty()) {
      --call_depth_;
      if (kwargs.front().first == "caller")
        throw_type_error("macro '" + name + "' was invoked with two values for the special caller argument. This is most likely a bug.");
      throw_type_error("macro '" + name + "' takes no keyword argument '" + kwargs.front().first + "'");
    }
    if (info.uses_varargs) {
      ValueList extra;
      for (size_t i = n_params; i < args.positional.size(); ++i) extra.push_back(args.positional[i]);
      frame->set("varargs", Value::tuple(std::move(extra)));
    } else if (args.positional.size() > n_params) {
      --call_depth_;
      throw_type_error("macro '" + name + "' takes not more than " + std::to_string(n_params) + " argument(s)");
    }
    // Defaults are evaluated inside the macro's frame, after the earlier parameters are bound.
    size_t first_default = n_params - s.defaults.size();
    for (size_t i = 0; i < n_params; ++i) {
      Value v;
      if (bound[i]) v = *bound[i];
      else if (i >= first_default) v = eval(*s.defaults[i - first_default], frame);
      else v = undefined_hint("parameter " + py_repr_string(s.params[i]) + " was not provided");
      frame->set(s.params[i], v);
    }
    std::string out;
    exec_body(s.body, frame, out);
    --call_depth_;
    return Value::string(std::move(out));
  }

  // ---- expressions ----

  CallArgs eval_args(const Expr& e, const ScopePtr& scope) {
    CallArgs args;
    for (const auto& x : e.items) args.positional.push_back(eval(*x, scope));
    for (const auto& [k, x] : e.kwargs) args.keywords.emplace_back(k, eval(*x, scope));
    if (e.dyn_args)
      for (const auto& x : iterate(eval(*e.dyn_args, scope))) args.positional.push_back(x);
    if (e.dyn_kwargs) {
      Value d = eval(*e.dyn_kwargs, scope);
      if (!d.is_dict()) throw_type_error("argument after ** must be a mapping, not " + type_name(d));
      for (const auto& [k, x] : d.as_dict().items()) {
        if (!k.is_string()) throw_type_error("keywords must be strings");
        args.keywords.emplace_back(k.as_string(), x);
      }
    }
    return args;
  }

  Value call_value(const Value& callee, CallArgs& args) {
    if (callee.is_undefined()) throw_undefined(callee);
    if (callee.kind() == Value::Kind::kLoop)
      throw_type_error("The loop must have the 'recursive' marker to be called recursively.");
    if (callee.kind() != Value::Kind::kCallable)
      throw_type_error("'" + type_name(callee) + "' object is not callable");
    return callee.as_callable().call(args);
  }

  Value eval_call(const Expr& e, const ScopePtr& scope, const Value* caller) {
    Value callee = eval(*e.a, scope);
    CallArgs args = eval_args(e, scope);
    if (caller) args.keywords.emplace_back("caller", *caller);
    line_ = e.line;
    return call_value(callee, args);
  }

  // `x|f|g` is Filter(g, Filter(f, x)); in {% filter f|g %} and {% set x | f %} the innermost
  // input is null and stands for the rendered block.
  Value apply_filter_chain(const Expr& f, const Value& block_input, const ScopePtr& scope) {
    Value base = !f.a ? block_input
                 : f.a->kind == ExprKind::kFilter ? apply_filter_chain(*f.a, block_input, scope)
                                                  : eval(*f.a, scope);
    CallArgs args = eval_args(f, scope);
    line_ = f.line;
    return apply_filter(f.name, base, args);
  }

  bool compare(const std::string& op, const Value& a, const Value& b) {
    if (op == "==") return py_equal(a, b);
    if (op == "!=") return !py_equal(a, b);
    if (op == "in") return contains(b, a);
    if (op == "notin") return !contains(b, a);
    return py_less(a, b, op);
  }

  Value eval(const Expr& e, const ScopePtr& scope) {
    line_ = e.line;
    switch (e.kind) {
      case ExprKind::kConst: return e.constant;
      case ExprKind::kName: {
        const Value* v = scope->find(e.name);
        return v ? *v : undefined_name(e.name);
      }
      case ExprKind::kList:
      case ExprKind::kTuple: {
        ValueList items;
        for (const auto& x : e.items) items.push_back(eval(*x, scope));
        return Value::list(std::move(items), e.kind == ExprKind::kTuple ? ListFlavor::kTuple : ListFlavor::kList);
      }
      case ExprKind::kDict: {
        Dict d;
        for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
          Value k = eval(*e.items[i], scope);
          check_hashable(k);
          d.set(k, eval(*e.items[i + 1], scope));
        }
        return Value::dict(std::move(d));
      }
      case ExprKind::kGetAttr: {
        Value obj = eval(*e.a, scope);
        line_ = e.line;
        return get_attr(obj, e.name);
      }
      case ExprKind::kGetItem: {
        Value obj = eval(*e.a, scope);
        if (e.b->kind == ExprKind::kSlice) {
          const Expr& sl = *e.b;
          Value start = sl.a ? eval(*sl.a, scope) : Value::none();
          Value stop = sl.b ? eval(*sl.b, scope) : Value::none();
          Value step = sl.c ? eval(*sl.c, scope) : Value::none();
          line_ = e.line;
          return get_slice(obj, start, stop, step);
        }
        Value key = eval(*e.b, scope);
        line_ = e.line;
        return get_item(obj, key);
      }
      case ExprKind::kSlice:
        throw PyError("unsupported: a slice outside of [] subscription");
      case ExprKind::kCall: return eval_call(e, scope, nullptr);
      case ExprKind::kFilter: return apply_filter_chain(e, Value(), scope);
      case ExprKind::kTest: {
        Value v = eval(*e.a, scope);
        CallArgs args = eval_args(e, scope);
        line_ = e.line;
        return Value::boolean(apply_test(e.name, v, args));
      }
      case ExprKind::kNeg: return unary_minus(eval(*e.a, scope));
      case ExprKind::kPos: return unary_plus(eval(*e.a, scope));
      case ExprKind::kNot: return Value::boolean(!truthy(eval(*e.a, scope)));
      case ExprKind::kAnd: {
        Value a = eval(*e.a, scope);
        return truthy(a) ? eval(*e.b, scope) : a;
      }
      case ExprKind::kOr: {
        Value a = eval(*e.a, scope);
        return truthy(a) ? a : eval(*e.b, scope);
      }
      case ExprKind::kBinary: {
        Value a = eval(*e.a, scope);
        Value b = eval(*e.b, scope);
        line_ = e.line;
        if (e.name == "**" && a.is_number() && a.as_float() < 0 && is_constant(*e.a) && !is_constant(*e.b)) {
          // Jinja folds the constant base to a literal and emits Python source "-3 ** x",
          // which Python reads as -(3 ** x).
          return unary_minus(binary_op("**", unary_minus(a), b));
        }
        return binary_op(e.name, a, b);
      }
      case ExprKind::kConcat: {
        std::string out;
        for (const auto& x : e.items) out += py_str(eval(*x, scope));
        return Value::string(std::move(out));
      }
      case ExprKind::kCompare: {
        Value left = eval(*e.a, scope);
        for (size_t i = 0; i < e.ops.size(); ++i) {
          Value right = eval(*e.items[i], scope);
          line_ = e.line;
          if (!compare(e.ops[i], left, right)) return Value::boolean(false);
          left = std::move(right);
        }
        return Value::boolean(true);
      }
      case ExprKind::kCond: {
        if (truthy(eval(*e.b, scope))) return eval(*e.a, scope);
        if (e.c) return eval(*e.c, scope);
        return undefined_hint("the inline if-expression on line " + std::to_string(e.line) +
                              " evaluated to false and no else section was defined.");
      }
    }
    throw PyError("internal: unknown expression kind");
  }
};

}  // namespace

std::string render_program(const Program& program, const Dict& variables) {
  return Interpreter().run(program, variables);
}

}  // namespace tessera::jinja
