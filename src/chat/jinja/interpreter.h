// tessera's Jinja2 engine (src/chat/jinja/): the subset of Jinja2 3.1 that real chat templates use,
// rendered exactly as Python Jinja2 renders it when configured like HF's apply_chat_template
// (sandboxed, trim_blocks, lstrip_blocks, loopcontrols, HF's tojson). Pipeline: lexer.h (a port of
// jinja2/lexer.py) → parser.h (jinja2/parser.py) → ast.h → this interpreter, over value.h (a
// Python value model: None/bool/int/float/str/list/dict/Markup/callables) with Python's str
// semantics in py_text.h and operators in ops.h.
//
// Supported:
//   statements  if/elif/else; for (with `if` filter, else, tuple unpacking, the full `loop` object:
//               index/index0/revindex/first/last/length/previtem/nextitem/cycle()/changed());
//               break/continue; set (name, tuple, `ns.attr`, block set); namespace(); macro/call
//               (defaults, varargs, kwargs, caller); filter blocks; with; {% generation %}; raw;
//               whitespace control (-) and comments
//   expressions every literal, operator, slice, ternary, chained comparison, `is`/`in`, ~,
//               attribute and item access, calls with keyword arguments
//   filters     tojson safe escape/e forceescape trim string upper lower capitalize title length
//               count list first last default/d join items replace int float abs round map select
//               reject selectattr rejectattr unique sort dictsort min max sum reverse attr center
//               indent truncate wordcount format batch slice
//   tests       defined undefined none boolean true false integer float number string mapping
//               escaped sequence iterable callable odd even divisibleby lower upper sameas in
//               eq/equalto ne lt/lessthan le gt/greaterthan ge filter test
//   methods     ~40 str methods (startswith, endswith, split, rsplit, strip/lstrip/rstrip, replace,
//               upper, lower, title, find, count, join, format, ...), dict items/keys/values/get,
//               list append/pop/index/count... (access.cpp)
//   globals     range, dict, namespace, joiner, raise_exception(message), strftime_now(format)
// Refused with an error naming the construct and its line (never rendered wrongly):
//   extends, include, import, from, block, autoescape, recursive loops, cycler, lipsum, and the
//   Jinja filters not listed above (urlize, wordwrap, groupby, pprint, xmlattr, filesizeformat, ...).
//
// Renders a parsed Jinja2 Program. Scoping follows Jinja2's compiled frames: `if` shares its
// enclosing scope; each for-loop iteration, macro call, `with`, and set/filter block body gets
// a fresh child scope, so `{% set %}` inside a loop does not leak out (namespace() does).
// Macros see their defining scope at call time (Python closures are late-binding).
//
// Globals, as HF's apply_chat_template environment provides them: range, dict, namespace,
// joiner, raise_exception(message), strftime_now(format).
#pragma once

#include "chat/jinja/ast.h"

#include <string>

namespace tessera::jinja {

// Throws tessera::Error with the template line: "chat template error at line N: TypeError: ..."
// or, for raise_exception(msg), "chat template raised an exception at line N: TemplateError: msg".
std::string render_program(const Program& program, const Dict& variables);

}  // namespace tessera::jinja
