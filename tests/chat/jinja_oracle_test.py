#!/usr/bin/python3
"""Chat-template engine vs Python Jinja2 (the oracle).

Every case is rendered twice: by Debian's python3-jinja2 configured exactly like HF transformers'
apply_chat_template (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols,
tojson = json.dumps(ensure_ascii=False, ...), raise_exception and strftime_now globals, the
{% generation %} tag), and by `$TESSERA_BIN template --model DIR --messages FILE.json`.
Outputs must be byte-identical; when Jinja2 raises, tessera must fail too, and for
raise_exception() its message must contain the template's text.

Cases: small templates covering each supported feature, then both real templates
(tests/data/tokenizers/qwen3 and qwen3.5) over varied conversations, then generated cases
(fixed seed): random whitespace-control templates, random expressions, random conversations.

Run: TESSERA_BIN=build/tessera /usr/bin/python3 tests/chat/jinja_oracle_test.py
"""
import json
import os
import random
import subprocess
import sys
import tempfile
from datetime import datetime

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("TESSERA_SOURCE", os.path.dirname(os.path.dirname(HERE)))
BIN = os.environ.get("TESSERA_BIN", os.path.join(SOURCE, "build", "tessera"))
TOKENIZERS = os.path.join(os.environ.get("TESSERA_DATA", os.path.join(SOURCE, "tests", "data")), "tokenizers")


# ---- the oracle: Jinja2 set up as transformers.utils.chat_template_utils does --------------

class RaisedByTemplate(TemplateError):
    pass


class GenerationTag(jinja2.ext.Extension):
    """HF's AssistantTracker, minus the tracking: {% generation %}body{% endgeneration %}."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_passthrough"), [], [], body).set_lineno(lineno)

    def _passthrough(self, caller):
        return caller()


def hf_environment():
    def raise_exception(message):
        raise RaisedByTemplate(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.now().strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = hf_environment()


def special_tokens(model_dir):
    """What `tessera template` adds from tokenizer_config.json (HF's special_tokens_map)."""
    path = os.path.join(model_dir, "tokenizer_config.json")
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    text = lambda t: t if isinstance(t, str) else t.get("content") if isinstance(t, dict) else None  # noqa: E731
    out = {}
    for key in ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"):
        if text(config.get(key)) is not None:
            out[key] = text(config[key])
    if isinstance(config.get("additional_special_tokens"), list):
        out["additional_special_tokens"] = [text(t) for t in config["additional_special_tokens"] if text(t) is not None]
    return out


def python_render(source, context):
    try:
        return "ok", ENV.from_string(source).render(**context)
    except RaisedByTemplate as e:
        return "raise", str(e)
    except Exception as e:  # noqa: BLE001 - any Jinja/Python error means "must fail"
        return "error", f"{type(e).__name__}: {e}"


def tessera_render(model_dir, context_file):
    proc = subprocess.run([BIN, "template", "--model", model_dir, "--messages", context_file],
                          capture_output=True, timeout=60)
    if proc.returncode == 0:
        return "ok", proc.stdout.decode("utf-8")
    return "error", proc.stderr.decode("utf-8", "replace")


# ---- small templates, one feature each --------------------------------------------------------

D = {"a": 1, "b": [1, 2, 3], "s": "Hello", "n": None, "t": True, "f": 1.5, "u": "héllo wörld 日本"}
MSGS = [{"role": "system", "content": "S"}, {"role": "user", "content": "U1"},
        {"role": "assistant", "content": "A1"}, {"role": "user", "content": "U2"}]
PEOPLE = [{"name": "bob", "age": 30, "role": "user"}, {"name": "Alice", "age": 25, "role": "admin"},
          {"name": "carol", "age": 30, "role": "user"}, {"name": "dave", "role": "guest"}]

SMALL = [
    # whitespace control, trim_blocks, lstrip_blocks
    ("ws_trim_blocks", "{% if true %}\n  x\n{% endif %}\nafter\n", {}),
    ("ws_lstrip", "  {% if true %}\n  x\n  {% endif %}  \ny", {}),
    ("ws_minus_both", "a\n  {%- if true %} b {% endif -%}\n  c", {}),
    ("ws_vars_not_trimmed", "{{ 'a' }}\n{{ 'b' }}\n  {{ 'c' }}  \n", {}),
    ("ws_var_minus", "a  {{- 'b' -}}  c\n\n{{- 'd' }}", {}),
    ("ws_comments", "{# c #}\nx\n  {# indented #}\ny {#- tight -#} z\n{#+ plus +#}\nw", {}),
    ("ws_plus", "  {%+ if true %}a{% endif +%}\nb\n  {%+ if true +%}\nc{% endif %}", {}),
    ("ws_not_line_start", "a  {% if true %}b{% endif %}  c\n", {}),
    ("ws_for_block", "\n  {% for i in range(3) %}\n  {{ i }}\n  {% endfor %}\nend", {}),
    ("ws_nested_minus", "{%- for i in [1,2] -%}\n  [{{- i -}}]\n{%- endfor %}\n", {}),
    ("ws_crlf", "a\r\nb\r\n{% if true %}\r\nc{% endif %}\r\nd\r", {}),
    ("ws_trailing_newlines", "x\n\n", {}),
    ("ws_unicode_space", "a\u00a0\u3000{%- if true %}b{% endif %}\n\u3000{% if true %}c{% endif %}", {}),
    ("ws_tabs", "\t{% if true %}\n\tx\n\t{% endif %}\n", {}),
    ("ws_raw", "{% raw %}  {{ x }} {% if %}  {% endraw %}\n|  {% raw %}\nA\n  {% endraw %}\nB|{%- raw -%}  c  {%- endraw -%}  d", {}),
    ("ws_set_lines", "line\n\t{% set x = 1 %}\n{{ x }}\n    {% set y = 2 -%}\n   {{ y }}", {}),
    ("ws_macro_lines", "{% macro m(x) %}\n  <{{ x }}>\n{% endmacro %}\n{{ m(1) }}|{{ m(2)|trim }}", {}),
    # literals and printing
    ("lit_numbers", "{{ 1 }} {{ 1.5 }} {{ 1e3 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 2.5E-3 }} {{ 10.0 }}", {}),
    ("lit_strings", r"""{{ 'a\tb' }}|{{ "q'" }}|{{ '\u00e9\x41\101' }}|{{ 'x' 'y' "z" }}|{{ 'back\\slash' }}|{{ 'unknown\d' }}""", {}),
    ("lit_consts", "{{ true }} {{ True }} {{ false }} {{ none }} {{ None }} [{{ undefined_name }}]", {}),
    ("print_containers", "{{ [1, 'a', none, true, 1.0, [2], {'k': 'v'}] }}|{{ (1,) }}{{ () }}{{ (1, 'b') }}|{{ {'a': 1, 2: 'b', none: 3, 1.5: false} }}", {}),
    ("print_reprs", r"""{{ ["it's", 'say "hi"', 'both \' "', 'nl\n', '\x00\x7f', 'é', '\u200b', '\\', '\U0001F600'] }}""", {}),
    ("print_floats", "{{ 0.1 }} {{ 1/3 }} {{ 1e-5 }} {{ 1e22 }} {{ 123456789012345678.0 }} {{ 2.5e-4 }} {{ 100.0 }} {{ 1e16 }} {{ 9999999999999998.0 }} {{ -0.0 }} {{ 0.0001 }} {{ 1.5e300 * 1e10 }}", {}),
    ("print_context", "{{ d }}|{{ d.u }}|{{ d.b }}|{{ msgs[0] }}", {"d": D, "msgs": MSGS}),
    ("print_tuple_expr", "{{ 1, 2 }}|{% print 'p', 3 %}", {}),
    # arithmetic and operators
    ("arith", "{{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 4 / 2 }} {{ true + 1 }} {{ 3 * 0.1 }}", {}),
    ("arith_seq", "{{ 'ab' * 3 }}|{{ [1] * 2 }}|{{ 'a' + 'b' }}|{{ [1] + [2] }}|{{ 1 ~ 2 ~ 'x' ~ none ~ true }}|{{ 2 * 'x' }}|{{ -d.a }} {{ +d.f }}", {"d": D}),
    ("compare", "{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 'a' < 'b' }} {{ [1,2] < [1,3] }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' != 'b' }} {{ 2 >= 2 }} {{ none == none }} {{ d.zz == undefined_x }} {{ 'B' < 'a' }} {{ 'é' > 'z' }}", {"d": D}),
    ("membership", "{{ 'a' in 'cat' }} {{ 1 in [1,2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }} {{ 'x' in undefined_var }} {{ 1.0 in [1] }} {{ ('a', 1) in {'a': 1}.items() }}", {}),
    ("logic", "{{ 0 or 'x' }} {{ 1 and 'y' }} [{{ '' and 'z' }}] {{ not 0 }} {{ none or [] }} {{ not (1 and 0) }} {{ [] or {} or 'last' }}", {}),
    ("ternary", "{{ 'a' if true else 'b' }}[{{ 'c' if false }}]{{ 'd' if x is defined else 'e' }}{{ 1 if 0 else 2 if 0 else 3 }}", {}),
    # tests
    ("tests_types", "{% for v in [1, 1.5, 'x', none, true, [1], {'a': 1}, d.missing] %}"
                    "{{ v is defined }}{{ v is undefined }}{{ v is none }}{{ v is string }}{{ v is mapping }}"
                    "{{ v is sequence }}{{ v is iterable }}{{ v is number }}{{ v is integer }}{{ v is float }}"
                    "{{ v is boolean }}{{ v is true }}{{ v is false }}{{ v is callable }}|{% endfor %}", {"d": D}),
    ("tests_misc", "{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 9 is divisibleby(4) }}{{ 'abc' is lower }}{{ 'ABC' is upper }}"
                   "{{ 1 is eq 1 }}{{ 1 is ne 2 }}{{ 1 is lt 2 }}{{ 3 is gt 2 }}{{ 2 is ge 2 }}{{ 2 is le 1 }}{{ 'a' is in 'abc' }}"
                   "{{ none is sameas none }}{{ 1 is sameas 1 }}{{ false is sameas false }}{{ 'upper' is filter }}{{ 'odd' is test }}"
                   "{{ x is not defined }}{{ 1 is not string }}{{ range is callable }}{{ 'x'|safe is escaped }}{{ 'x' is escaped }}"
                   "{{ 1 is equalto 1 }}{{ 1 is greaterthan 0 }}{{ 1 is lessthan 0 }}{{ 1 is == 1 }}", {}),
    # access
    ("access", "{{ d.a }} {{ d['a'] }} [{{ d.missing }}] {{ d.b[0] }} {{ d.b[-1] }} [{{ d.b[10] }}] {{ d.b.0 }} {{ d.s[1:] }} {{ d.s[::-1] }} {{ d.b[1:3] }} {{ d.b[::2] }} {{ d.s[-2:] }} {{ d.b[:-1] }} {{ d.u[1] }} {{ d.u[-2:] }} [{{ d.n.x }}] [{{ d.s.nope }}] [{{ d.b['x'] }}] [{{ d.s[1.5] }}]", {"d": D}),
    ("dict_methods", "{{ d.items() }}|{{ d.keys() }}|{{ d.values() }}|{{ d.get('a') }}|{{ d.get('z', 5) }}|{{ d.get('z') }}|{{ d.items()|list }}|{{ d.keys()|length }}|{{ d['items'] is callable }}", {"d": {"a": 1, "b": [2]}}),
    ("dict_key_vs_method", "{{ d.items is callable }}|{{ d['items'] }}|{{ d.get is callable }}|{{ d.keys is defined }}|{{ d.get('items') }}", {"d": {"items": "I", "get": "G"}}),
    ("list_methods", "{{ l.index(2) }} {{ l.count(1) }} {{ l.copy() }} [{{ l.append }}] {{ l.index(3, 1) }}", {"l": [1, 2, 3, 1]}),
    # string methods
    ("str_strip", "[{{ s.strip() }}][{{ s.lstrip() }}][{{ s.rstrip() }}][{{ s.strip(' xy') }}][{{ t.strip('\\n') }}][{{ t.lstrip('\\n') }}][{{ t.rstrip('\\n') }}][{{ 'ééaéé'.strip('é') }}]", {"s": "  xy hi yx  ", "t": "\n\nA\n\n"}),
    ("str_split", "{{ s.split() }}{{ s.split(' ') }}{{ s.split(',', 1) }}{{ s.rsplit(None, 1) }}{{ s.split(None, 1) }}{{ s.rsplit(',', 1) }}{{ 'a,b,,c'.split(',') }}{{ ''.split() }}{{ ''.split(',') }}{{ 'a<b>c<b>'.split('<b>')[-1] }}", {"s": "  a b,c  d , e  "}),
    ("str_case", "{{ s.upper() }}|{{ s.lower() }}|{{ s.title() }}|{{ s.capitalize() }}|{{ s.swapcase() }}|{{ 'ß'.upper() }}|{{ 'ÉCOLE'.lower() }}|{{ \"they're bill's\".title() }}", {"s": "hEllo wÖrld-foo bar_baz"}),
    ("str_find", "{{ s.find('o') }} {{ s.rfind('o') }} {{ s.find('zz') }} {{ s.count('o') }} {{ s.index('w') }} {{ s.find('o', 5) }} {{ s.find('o', -3) }} {{ 'ööx'.find('x') }} {{ s.count('') }} {{ s.startswith('he') }} {{ s.endswith(('x', 'ld')) }} {{ s.startswith('o', 4) }}", {"s": "hello world"}),
    ("str_misc", "{{ s.replace('l', 'L') }} {{ s.replace('l', 'L', 1) }} {{ '-'.join(['a', 'b']) }} {{ 'x'.join('abc') }} {{ s.splitlines() }} {{ 'a\\nb\\r\\nc\\n'.splitlines() }} {{ s.partition(' ') }} {{ s.rpartition('o') }} {{ '42'.zfill(5) }} {{ '-4'.zfill(4) }} [{{ 'ab'.center(7, '*') }}] [{{ 'ab'.ljust(4) }}] [{{ 'ab'.rjust(4, '.') }}] {{ '12'.isdigit() }}{{ 'ab'.isalpha() }}{{ ' '.isspace() }}{{ 'aB'.isupper() }}{{ ''.islower() }} {{ 'abc'.removeprefix('a') }}{{ 'abc'.removesuffix('c') }}", {"s": "hello world"}),
    ("str_format", "{{ '{}-{}'.format(1, 'a') }} {{ '{0}{1}{0}'.format('x', 'y') }} {{ '{name}!'.format(name='n') }} {{ '{:>5}|{:<4}|{:^6}|{:05d}|{:.2f}|{:+d}|{!r}|{:x}'.format('a', 'b', 'c', 42, 3.14159, 5, 'q', 255) }} {{ '{{}}{}'.format(1) }} {{ '{:,}'.format(1) if false else 'skip' }} {{ '{:>6.1f}|{:e}|{}|{:g}'.format(2.25, 12345.678, 1.0, 0.0001) }}", {}),
    ("str_percent", "{{ '%s-%d-%05.2f|%x|%r|%5s|%-5s|%%' % ('a', 3, 3.14159, 255, 'q', 'r', 'l') }} {{ '%(a)s+%(b)d' % {'a': 1, 'b': 2} }} {{ '%s' % 'one' }} {{ '%s' % [1] }} {{ '%.3s' % 'abcdef' }} {{ '%i|%o|%X|%e|%g' % (7, 8, 255, 1234.5, 0.5) }}", {}),
    ("str_unicode", "{{ u.upper() }} {{ u|length }} {{ u[0] }} {{ u[-1] }} {{ u[::-1] }} {{ u.split() }} {{ '日本語'.find('語') }} {{ u|list }} {{ u|title }}", {"u": "héllo wörld 日本"}),
    # filters
    ("f_tojson", "{{ d|tojson }}|{{ d|tojson(indent=2) }}|{{ d|tojson(separators=(',', ':')) }}|{{ d|tojson(sort_keys=true) }}|{{ d|tojson(ensure_ascii=true) }}|{{ [1, 'é', none, true, 1.0, 1e100]|tojson }}|{{ {}|tojson(indent=4) }}|{{ []|tojson(indent=2) }}|{{ 'a\"b\\\\c\\n\\t\\u0001\\u2028'|tojson }}|{{ d|tojson(indent='\\t') }}|{{ d|tojson(indent=2, separators=(', ', ': ')) }}|{{ (1, 2)|tojson }}|{{ {1: 'a', true: 'b', none: 'c', 1.5: 'd'}|tojson }}", {"d": {"z": "Zürich 😀", "a": [1, {"n": None}], "e": {}, "l": []}}),
    ("f_basic", "{{ s|trim }}|{{ s|trim('x ') }}|{{ l|length }}{{ s|length }}{{ d|length }}{{ d|count }}|{{ l|first }}{{ l|last }}{{ 'abc'|first }}{{ 'abc'|last }}{{ d|first }}{{ d|last }}|[{{ []|first }}][{{ []|last }}]|{{ 'ab'|list }}{{ d|list }}|{{ l|join }}{{ l|join(', ') }}|{{ s|upper }}{{ s|lower }}|{{ s|replace('x', 'y') }}{{ s|replace('x', 'y', 1) }}{{ 5|replace('5', 'five') }}", {"s": "  xAbx  ", "l": [1, 2, 3], "d": {"k": 1, "j": 2}}),
    ("f_default", "{{ x|default('dflt') }}|{{ x|d('d2') }}|{{ ''|default('e') }}|{{ ''|default('e', true) }}|{{ none|default('n') }}|{{ none|default('n', boolean=true) }}|{{ 0|d(5, true) }}|{{ x|default }}|", {}),
    ("f_items_string", "{% for k, v in d|items %}{{ k }}={{ v }};{% endfor %}|{{ 5|string }}{{ none|string }}{{ [1]|string }}{{ 'x'|string }}|{{ undefined_thing|items|list }}", {"d": {"b": 1, "a": [2]}}),
    ("f_numbers", "{{ '42'|int }} {{ '42.7'|int }} {{ ' 7 '|int }} {{ 'x'|int }} {{ 'x'|int(-1) }} {{ 3.9|int }} {{ '0x1A'|int(base=16) }} {{ '1_000'|int }} {{ true|int }} {{ none|int }} | {{ '1.5'|float }} {{ 'x'|float }} {{ 3|float }} {{ ' 2e3 '|float }} {{ 'inf'|float }} | {{ -3|abs }} {{ -2.5|abs }} | {{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 7|round }} {{ 1.23456|round(3) }} {{ 2.1|round(0, 'ceil') }} {{ 2.9|round(method='floor') }} {{ -2.5|round }}", {}),
    ("f_map_select", "{{ p|map(attribute='name')|list }}|{{ p|map(attribute='age', default=0)|list }}|{{ p|map(attribute='name')|map('upper')|join(',') }}|"
                     "{{ p|selectattr('role', 'equalto', 'user')|map(attribute='name')|list }}|{{ p|rejectattr('role', 'eq', 'user')|map(attribute='name')|list }}|"
                     "{{ [1,2,3,4,5]|select('odd')|list }}|{{ [1,2,3,4,5]|reject('odd')|list }}|{{ [0, 1, '', 'a', none]|select|list }}|{{ p|selectattr('age')|list|length }}|"
                     "{{ [1,2,3]|select('gt', 1)|list }}|{{ p|selectattr('age', 'defined')|map(attribute='age')|sum }}|{{ ['a','B','a','b']|unique|list }}|{{ ['a','B','a','b']|unique(case_sensitive=true)|list }}", {"p": PEOPLE}),
    ("f_sort", "{{ [3,1,2]|sort }}|{{ [3,1,2]|sort(reverse=true) }}|{{ ['b','A','c']|sort }}|{{ ['b','A','c']|sort(case_sensitive=true) }}|{{ p|sort(attribute='name')|map(attribute='name')|list }}|{{ p[:3]|sort(attribute='age,name')|map(attribute='name')|list }}|{{ d|dictsort }}|{{ d|dictsort(by='value', reverse=true) }}|{{ [3,1,2]|min }}{{ [3,1,2]|max }}{{ ['b','A']|min }}{{ p[:3]|max(attribute='age') }}|[{{ []|min }}]|{{ [1,2,3]|sum }}{{ [1.5,2]|sum }}{{ [[1],[2]]|sum(start=[]) }}", {"p": PEOPLE, "d": {"b": 2, "A": 3, "c": 1}}),
    ("f_text", "{{ 'hello big world'|title }}|{{ 'hELLO wORLD'|capitalize }}|{{ 'x-men (the) [movie] <x>'|title }}|[{{ 'ab'|center(7) }}]|{{ 'one two three four'|truncate(9) }}|{{ 'one two three four'|truncate(9, true) }}|{{ 'one two three four'|truncate(11, false, '!', 0) }}|{{ 'short'|truncate(100) }}|{{ 'one, two_three 4'|wordcount }}|{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb\\n\\nc'|indent(2, true, true) }}|{{ 'a\\nb'|indent('> ', first=true) }}", {}),
    ("f_reverse_batch", "{{ 'abc'|reverse }}|{{ [1,2,3]|reverse|list }}|{{ {'a':1,'b':2}|reverse|list }}|{{ [1,2,3,4,5]|batch(2)|list }}|{{ [1,2,3,4,5]|batch(2, 0)|list }}|{{ [1,2,3,4,5]|slice(2)|list }}|{{ [1,2,3,4,5]|slice(3, 'x')|list }}|{{ '%s=%s'|format('k', 'v') }}|{{ '%(a)s'|format(a=1) }}|{{ d|attr('a') }}|[{{ d|attr('zz') }}]|{{ d|attr('items') is callable }}", {"d": {"a": 1}}),
    ("f_safe_escape", "{{ ('<b>'|safe) + '<i>' }}|{{ '<a href=\"x\">&\\''|e }}|{{ ('<x>'|safe) ~ '<y>' }}|{{ '<i>' + ('<b>'|safe) }}|{{ ('<x>'|safe)|e }}|{{ '<x>'|forceescape }}|{{ ['<a>'|safe] }}|{{ '<'|escape|length }}", {}),
    ("f_iter_truthiness", "{{ 'yes' if []|map('upper') else 'no' }}|{{ 'yes' if []|list else 'no' }}|{{ [1,2]|reverse is iterable }}", {}),
    # statements
    ("set_scoping", "{% set x = 1 %}{% for i in [1,2] %}{{ x }}{% set x = i * 10 %}{{ x }},{% endfor %}{{ x }}|{% for i in [1] %}{% set y = 5 %}{% endfor %}[{{ y }}]|{% if true %}{% set z = 3 %}{% endif %}{{ z }}|{% set a, b = 1, 2 %}{{ a }}{{ b }}|{% set (c, e) = [3, 4] %}{{ c }}{{ e }}", {}),
    ("namespace", "{% set ns = namespace(a=1, b=[]) %}{% for i in range(3) %}{% set ns.a = ns.a + i %}{% endfor %}{{ ns.a }}|{{ ns }}|{{ ns.b }}|[{{ ns.missing }}]|{% set ns2 = namespace({'k': 'v'}, j=2) %}{{ ns2.k }}{{ ns2.j }}|{{ namespace() }}", {}),
    ("macros", "{% macro greet(name, greeting='Hi', punct='!') %}{{ greeting }} {{ name }}{{ punct }}{% endmacro %}"
               "{{ greet('A') }}|{{ greet('B', 'Yo') }}|{{ greet('C', punct='?') }}|{{ greet(name='D') }}|[{{ greet() }}]|{{ greet }}|{{ greet.name }}|"
               "{% macro v() %}{{ varargs }}{{ kwargs }}{% endmacro %}{{ v(1, 2, k=3) }}|"
               "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }}|"
               "{% macro later() %}{{ gv }}{% endmacro %}{% set gv = 'late' %}{{ later() }}|"
               "{% macro dflt(a, b=a * 2) %}{{ a }},{{ b }}{% endmacro %}{{ dflt(3) }}", {}),
    ("macro_loop_scope", "{% macro show() %}[{{ loop }}]{% endmacro %}{% for i in [1] %}{{ show() }}{% endfor %}|{% for i in [1, 2] %}{% macro inner() %}<{{ i }}>{% endmacro %}{{ inner() }}{% endfor %}", {}),
    ("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}inner {{ 1 + 1 }}{% endcall %}|"
                   "{% macro each(xs) %}{% for x in xs %}{{ caller(x, loop.index) }}{% endfor %}{% endmacro %}{% call(item, i) each(['a', 'b']) %}{{ i }}:{{ item }};{% endcall %}", {}),
    ("filter_block_set_block", "{% filter upper %}abc {{ 'd' }}{% endfilter %}|{% set x %}  A {{ 1 }}\n{% endset %}[{{ x }}]|{% set y | upper | replace('B', 'b') %}abc{% endset %}{{ y }}|{% filter trim|title %}  hello there  {% endfilter %}", {}),
    ("with_block", "{% with a = 1, b = 2 %}{{ a + b }}{% set c = 5 %}{% endwith %}[{{ a }}][{{ c }}]{% with %}{% set q = 1 %}{% endwith %}", {}),
    ("loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}[{{ loop.previtem }}][{{ loop.nextitem }}]{{ loop.cycle('o', 'e') }}{{ loop.depth }}{{ loop.depth0 }}|{% endfor %}{{ loop }}", {}),
    ("loop_changed_else", "{% for x in [1,1,2,2,1] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}|{% for x in [] %}x{% else %}empty{% endfor %}|{% for x in [1, 2] if x > 5 %}{{ x }}{% else %}none{% endfor %}|{% for x in range(10) if x is odd %}{{ loop.index }}/{{ loop.length }}:{{ x }} {% endfor %}|{% for x in undefined_seq %}u{% else %}no-u{% endfor %}", {}),
    ("loop_control", "{% for i in range(10) %}{% if i is even %}{% continue %}{% endif %}{% if i > 6 %}{% break %}{% endif %}{{ i }}{% endfor %}|{% for i in [1,2] %}{% for j in [1,2,3] %}{% if j == 2 %}{% break %}{% endif %}{{ i }}{{ j }}{{ loop.index }}{% endfor %}{{ loop.index }};{% endfor %}", {}),
    ("loop_kinds", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}|{% for k in d %}{{ k }}{% endfor %}|{% for c in 'hé' %}[{{ c }}]{% endfor %}|{% for a, b in [[1, 2], (3, 4)] %}{{ a + b }}{% endfor %}|{% for m in msgs[::-1] %}{{ m.role[0] }}{% endfor %}|{% for x in msgs|selectattr('role', 'eq', 'user') %}{{ x.content }}{{ loop.length }}{% endfor %}", {"d": {"x": 1, "y": 2}, "msgs": MSGS}),
    ("globals", "{{ range(3)|list }}{{ range(1, 10, 3)|list }}{{ range(5, 0, -2)|list }}{{ range(0)|list }}|{{ range(3) }}{{ range(1, 5, 2) }}|{{ dict(a=1, b='x') }}|{{ dict({'z': 1}, y=2) }}|{% set j = joiner(', ') %}{% for x in [1,2,3] %}{{ j() }}{{ x }}{% endfor %}|{{ strftime_now('%Y') }}|{% generation %}gen{{ 1 }}{% endgeneration %}", {}),
    ("hf_vars", "{{ bos_token }}|{{ eos_token }}|{{ messages|length }}|{{ add_generation_prompt }}|{{ tools is defined }}", {"messages": MSGS}),
    # Jinja quirks kept on purpose
    ("quirk_for_else_after_break", "{% for x in [1, 2] %}{{ x }}{% break %}{% else %}E{% endfor %}|{% for x in [1, 2] %}{% continue %}{% else %}E{% endfor %}|{% for x in [1, 2] %}{% if x == 2 %}{% continue %}{% endif %}{% else %}E{% endfor %}", {}),
    ("quirk_negative_const_pow", "{{ -3 ** x }} {{ (-3) ** x }} {{ -x ** 2 }} {{ -2 ** 2 }} {{ -3 ** (1 is odd) }}", {"x": 2}),
    ("quirk_percent_mapping_like", "{{ 'plain' % [1, 2] }}|{{ 'plain' % undefined_v }}|{{ '%s' % [1] }}", {}),
    ("quirk_map_falsy_input", "{{ false|map('string')|list }}{{ 0|select|list }}{{ none|map(attribute='x')|list }}", {}),
    ("quirk_namespace_cycle", "{% set ns = namespace(a=1) %}{% set ns.me = ns %}{% set ns.l = [ns, (ns,)] %}{{ ns }}|{{ ns.l }}", {}),
    ("identifiers_unicode", "{% set é = 3 %}{{ é }}{{ x·y }}", {}),
    # errors (both must fail; raise_exception text must survive)
    ("err_raise", "a{{ raise_exception('Custom failure: ' ~ 42) }}", {}),
    ("err_raise_in_macro", "{% macro m(x) %}{% if x > 1 %}{{ raise_exception('too big') }}{% endif %}{% endmacro %}{{ m(1) }}{{ m(2) }}", {}),
    ("err_undefined_attr", "{{ missing.attr }}", {}),
    ("err_nested_undefined", "{{ d.a.b }}", {"d": {}}),
    ("err_type_add", "{{ 1 + none }}", {}),
    ("err_str_plus_int", "{{ 'a' + 1 }}", {}),
    ("err_zero_div", "{{ 1 / 0 }}", {}),
    ("err_index_then_attr", "{{ [1][5].x }}", {}),
    ("err_tojson_undefined", "{{ nothing|tojson }}", {}),
    ("err_unsafe_append", "{{ l.append(1) }}", {"l": [1]}),
    ("err_items_non_mapping", "{% for k, v in 'str'|items %}{% endfor %}", {}),
    ("err_syntax", "{% if %}", {}),
    ("err_unclosed", "{% for x in y %}", {}),
    ("err_unknown_filter", "{{ 1|nofilter }}", {}),
    ("err_unknown_tag", "{% frobnicate %}", {}),
    ("err_break_outside", "{% break %}", {}),
    ("err_macro_args", "{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}", {}),
    ("err_ns_assign", "{% set x = 1 %}{% set x.y = 2 %}", {}),
    ("err_generator_length", "{{ [1,2]|map('upper')|length }}", {}),
    ("err_unpack", "{% set a, b = [1, 2, 3] %}", {}),
    ("err_range_too_big", "{{ range(200000)|length }}", {}),
    ("err_compare", "{{ 1 < 'a' }}", {}),
    ("err_in_none", "{{ 'a' in none }}", {}),
    ("err_call_non_callable", "{{ d.a() }}", {"d": {"a": 1}}),
    ("err_endtag_mismatch", "{% for x in [1] %}{% endif %}", {}),
    ("err_assign_loop", "{% for x in [1] %}{% set loop = 1 %}{% endfor %}", {}),
    ("err_deep_chain", "{{ x" + ".a" * 400 + " }}", {}),
    ("err_indent_non_str", "{{ 5|indent }}", {}),
    ("err_int_undefined", "{{ nothing|int }}", {}),
]


# ---- the real templates over varied conversations --------------------------------------------

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the weather for a city — «quoted» 天气.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "default": 3}},
        "required": ["city"]}}}
SEARCH_TOOL = {"type": "function", "function": {"name": "search", "description": "Search.",
                                                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}


def call(name, arguments, wrap=True):
    fn = {"name": name, "arguments": arguments}
    return {"id": "call_" + name, "type": "function", "function": fn} if wrap else fn


CONVERSATIONS = [
    ("user_only", {"messages": [{"role": "user", "content": "Hi!"}]}),
    ("system_user", {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]}),
    ("multi_turn", {"messages": MSGS}),
    ("no_gen_prompt", {"messages": MSGS, "add_generation_prompt": False}),
    ("thinking_off", {"messages": MSGS, "enable_thinking": False}),
    ("thinking_on", {"messages": MSGS, "enable_thinking": True}),
    ("reasoning_field_latest", {"messages": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4", "reasoning_content": "\nAdd them.\n"}], "add_generation_prompt": False}),
    ("reasoning_field_history", {"messages": [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4", "reasoning_content": "Add them."},
        {"role": "user", "content": "and 3+3?"}]}),
    ("reasoning_none", {"messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "<think>inline</think>\n\nans", "reasoning_content": None}],
        "add_generation_prompt": False}),
    ("think_in_content_latest", {"messages": [
        {"role": "user", "content": "Solve"},
        {"role": "assistant", "content": "<think>\nStep 1.\nStep 2.\n</think>\n\nDone."}], "add_generation_prompt": False}),
    ("think_in_content_history", {"messages": [
        {"role": "user", "content": "Solve"},
        {"role": "assistant", "content": "<think>\nhidden\n</think>\n\nDone."},
        {"role": "user", "content": "Again"}]}),
    ("tools_with_system", {"messages": [{"role": "system", "content": "You are a bot."},
                                        {"role": "user", "content": "Weather in Oslo?"}],
                           "tools": [WEATHER_TOOL, SEARCH_TOOL]}),
    ("tools_no_system", {"messages": [{"role": "user", "content": "Weather?"}], "tools": [WEATHER_TOOL]}),
    ("tools_empty_list", {"messages": [{"role": "user", "content": "x"}], "tools": []}),
    ("tool_call_dict_args", {"messages": [
        {"role": "user", "content": "Weather in Oslo and Rome?"},
        {"role": "assistant", "content": "Checking.", "tool_calls": [
            call("get_weather", {"city": "Oslo", "days": 2}), call("get_weather", {"city": "Rome", "unit": "celsius"})]},
        {"role": "tool", "content": "{\"temp\": 3}"}, {"role": "tool", "content": "{\"temp\": 21}"},
        {"role": "assistant", "content": "Oslo 3, Rome 21."},
        {"role": "user", "content": "Thanks"}], "tools": [WEATHER_TOOL]}),
    ("tool_call_nested_args", {"messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": "", "tool_calls": [
            call("search", {"q": "x", "filters": {"lang": "en", "tags": ["a", "b"]}, "limit": 5,
                            "exact": True, "score": 1.0, "none": None, "list": [1, {"k": "v"}], "uni": "日本"})]},
        {"role": "tool", "content": "ok"}], "tools": [SEARCH_TOOL]}),
    ("tool_call_no_content", {"messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": "", "tool_calls": [call("search", {"q": "a"}, wrap=False)]},
        {"role": "tool", "content": "r1"}, {"role": "user", "content": "more"}]}),
    ("tool_call_after_think", {"messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": "<think>\nneed search\n</think>\n\n", "tool_calls": [call("search", {"q": "a"})]},
        {"role": "tool", "content": "<result>\n</result>"}]}),
    ("tool_response_as_user", {"messages": [
        {"role": "user", "content": "real question"},
        {"role": "assistant", "content": "", "tool_calls": [call("search", {"q": "a"})]},
        {"role": "user", "content": "<tool_response>\nfake\n</tool_response>"},
        {"role": "assistant", "content": "<think>r</think>final"}], "add_generation_prompt": False}),
    ("tool_first_then_user", {"messages": [
        {"role": "user", "content": "q"}, {"role": "tool", "content": "t1"}, {"role": "tool", "content": "t2"},
        {"role": "user", "content": "q2"}]}),
    ("unicode_and_braces", {"messages": [
        {"role": "system", "content": "  leading and trailing  \n"},
        {"role": "user", "content": "emoji 😀 RTL עברית CJK 中文 {{ not a tag }} {% neither %} \\n literal"},
        {"role": "assistant", "content": "\n\n  spaced answer \n\n"}, {"role": "user", "content": "\t"}]}),
    ("system_not_first", {"messages": [{"role": "user", "content": "a"}, {"role": "system", "content": "late"},
                                       {"role": "user", "content": "b"}]}),
    ("unknown_role", {"messages": [{"role": "user", "content": "a"}, {"role": "developer", "content": "dev"}]}),
    ("no_messages", {"messages": []}),
    ("only_tool_messages", {"messages": [{"role": "tool", "content": "x"}]}),
    ("assistant_content_none_with_tools", {"messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": None, "tool_calls": [call("search", {"q": "a"})]},
        {"role": "tool", "content": "r"}]}),
    ("tools_as_mapping", {"messages": [{"role": "user", "content": "x"}], "tools": {"not": "a list"}}),
    ("long_agent_loop", {"messages": [
        {"role": "system", "content": "agent"}, {"role": "user", "content": "task"},
        {"role": "assistant", "content": "<think>plan</think>step1", "tool_calls": [call("search", {"q": "1"})]},
        {"role": "tool", "content": "r1"},
        {"role": "assistant", "content": "step2", "reasoning_content": "think2", "tool_calls": [call("search", {"q": "2"}), call("get_weather", {"city": "X"})]},
        {"role": "tool", "content": "r2"}, {"role": "tool", "content": "r3"},
        {"role": "assistant", "content": "done"}], "tools": [SEARCH_TOOL, WEATHER_TOOL], "enable_thinking": True}),
]

# Qwen3's template prints string arguments verbatim; Qwen3.5's iterates `arguments|items`,
# which Jinja2 rejects for a string ("Can only get item pairs from a mapping").
STRING_ARGS = ("tool_call_string_args", {"messages": [
    {"role": "user", "content": "go"},
    {"role": "assistant", "content": "calling", "tool_calls": [call("search", "{\"q\": \"raw json\"}")]},
    {"role": "tool", "content": "r"}]})

# Qwen3.5 only: multimodal content lists.
MULTIMODAL = [
    ("mm_text_list", {"messages": [{"role": "system", "content": [{"type": "text", "text": "sys "}]},
                                   {"role": "user", "content": [{"type": "text", "text": "Look: "}, {"type": "image"},
                                                                {"image_url": {"url": "x"}}, {"type": "video"}, {"type": "text", "text": " ok"}]}]}),
    ("mm_vision_ids", {"messages": [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "a"}, {"type": "image"}, {"type": "video"}]},
                                    {"role": "assistant", "content": "seen"},
                                    {"role": "user", "content": [{"type": "image"}, {"text": "b"}]}], "add_vision_id": True}),
    ("mm_system_image", {"messages": [{"role": "system", "content": [{"type": "image"}]}, {"role": "user", "content": "x"}]}),
    ("mm_bad_item", {"messages": [{"role": "user", "content": [{"type": "audio"}]}]}),
    ("mm_content_number", {"messages": [{"role": "user", "content": 5}]}),
]


# ---- generated cases (fixed seeds): whitespace control, expressions, conversations ---------

def generated_whitespace_templates(rng, count):
    texts = ["", " ", "  ", "\t", "\n", "\n\n", " \n ", "a", " b ", "c\n", "\n  d", "\u00a0", "x \t\n\t y"]
    sign = lambda: rng.choice(["", "", "-", "+"])  # noqa: E731
    text = lambda: "".join(rng.choice(texts) for _ in range(rng.randint(0, 3)))  # noqa: E731

    def tag(body):
        return "{%%%s %s %s%%}" % (sign(), body, sign())

    def block(depth):
        out = []
        for _ in range(rng.randint(1, 4)):
            out.append(text())
            k = rng.randint(0, 7) if depth < 3 else 0
            if k == 0:
                out.append("{{%s 'v' %s}}" % (rng.choice(["", "-"]), rng.choice(["", "-"])))
            elif k == 1:
                out.append("{#%s c %s#}" % (sign(), sign()))
            elif k == 2:
                out.append(tag("if true") + block(depth + 1) + text() + tag("endif"))
            elif k == 3:
                out.append(tag("for i in [1, 2]") + block(depth + 1) + text() + tag("endfor"))
            elif k == 4:
                out.append(tag("set x = 1"))
            elif k == 5:
                out.append(tag("raw") + text() + "{{ x }}" + text() + tag("endraw"))
            elif k == 6:
                out.append(tag("if false") + block(depth + 1) + tag("else") + block(depth + 1) + tag("endif"))
            else:
                out.append(tag("macro m()") + block(depth + 1) + tag("endmacro") + text() + "{{ m() }}")
        out.append(text())
        return "".join(out)

    return [(f"gen_ws_{i}", block(0), {}) for i in range(count)]


def generated_expressions(rng, count):
    atoms = ["1", "0", "-3", "2.5", "0.1", "'x'", "'a b'", "\"it's\"", "'é'", "''", "none", "true", "[]", "[1, 'a']",
             "{'k': 1}", "(1, 2)", "d", "l", "s", "u", "e", "f", "i", "p", "d.a", "d.c", "d['b']", "p[1]", "undefined_x",
             "d.missing", "l[-1]", "s[1:5]", "u[::-1]", "l[::2]", "d.c[2]"]
    filters = ["length", "first", "last", "list", "string", "upper", "trim", "tojson", "title", "int", "float", "abs",
               "round", "sort", "unique|list", "reverse|list", "join(',')", "default('D')", "d(0, true)", "items|list",
               "dictsort", "sum", "min", "max", "e", "wordcount", "center(9)", "indent(2)", "replace('l', 'L')",
               "map('string')|list", "select|list", "selectattr('role')|list", "map(attribute='role')|list",
               "tojson(indent=1)", "batch(2)|list", "list|length", "sort(reverse=true)"]
    tests = ["defined", "none", "string", "number", "integer", "mapping", "sequence", "iterable", "odd", "true",
             "lower", "divisibleby 2", "in [1, 2]", "eq 1", "sameas none"]
    methods = ["strip()", "split()", "split(',')", "upper()", "title()", "startswith('H')", "replace('o', '0')",
               "find('o')", "count('l')", "rstrip(' !')", "items()", "keys()", "get('a')", "get('q', 9)", "isdigit()"]
    ops = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">=", "in", "not in", "and", "or"]

    def expr(depth=0):
        k = rng.randint(0, 9) if depth < 3 else 0
        if k <= 2:
            return rng.choice(atoms)
        if k == 3:
            return f"({expr(depth + 1)} {rng.choice(ops)} {expr(depth + 1)})"
        if k == 4:
            return f"({expr(depth + 1)}|{rng.choice(filters)})"
        if k == 5:
            return f"({expr(depth + 1)} is {'not ' if rng.random() < .3 else ''}{rng.choice(tests)})"
        if k == 6:
            return f"{rng.choice(atoms)}.{rng.choice(methods)}"
        if k == 7:
            return f"({expr(depth + 1)} if {expr(depth + 1)} else {expr(depth + 1)})"
        if k == 8:
            return f"(not {expr(depth + 1)})"
        return f"[{expr(depth + 1)}, {expr(depth + 1)}]"

    ctx = {"d": {"a": 1, "b": "two", "c": [1, 2.5, None]}, "l": [3, 1, 2, 2], "s": "  Hello, Wörld! ",
           "u": "日本語テキスト", "e": "", "f": 2.5, "i": -7, "p": PEOPLE}
    return [(f"gen_expr_{i}", "{{ %s }}" % expr(), ctx) for i in range(count)]


def generated_conversations(rng, count):
    texts = ["Hi", "", " ", "\n", "hello\n\nworld", "<think>\nr\n</think>\n\nans", "<think>a</think>b",
             "</think>only", "<tool_response>\nx\n</tool_response>", "  spaced  ", "日本語 😀", "{{ x }}"]

    def content():
        r = rng.random()
        if r < 0.75:
            return rng.choice(texts)
        if r < 0.8:
            return None
        return [rng.choice([{"type": "text", "text": rng.choice(texts)}, {"type": "image"}, {"type": "video"},
                            {"image_url": {"url": "u"}}]) for _ in range(rng.randint(0, 3))]

    def tool_call():
        args = rng.choice([{}, {"city": "Oslo"}, {"q": "x", "n": 3, "f": 1.5, "b": False, "none": None, "l": [1, "a"]},
                           "{\"a\": 1}"])
        fn = {"name": rng.choice(["get_weather", "search"]), "arguments": args}
        return {"type": "function", "function": fn} if rng.random() < 0.8 else fn

    def message():
        role = rng.choices(["user", "assistant", "tool", "system"], [4, 4, 2, 1])[0]
        m = {"role": role, "content": content()}
        if role == "assistant" and rng.random() < 0.3:
            m["reasoning_content"] = rng.choice(["think", "\nthink\n", "", None])
        if role == "assistant" and rng.random() < 0.4:
            m["tool_calls"] = [tool_call() for _ in range(rng.randint(1, 2))]
        return m

    out = []
    for i in range(count):
        msgs = [message() for _ in range(rng.randint(0, 6))]
        if msgs and rng.random() < 0.8:
            msgs[0] = {"role": rng.choice(["system", "user"]), "content": rng.choice(texts)}
        ctx = {"messages": msgs}
        if rng.random() < 0.4:
            ctx["tools"] = rng.choice([[WEATHER_TOOL], [WEATHER_TOOL, SEARCH_TOOL], []])
        for key, p, choices in (("enable_thinking", 0.5, [True, False]), ("add_generation_prompt", 0.3, [True, False]),
                                ("add_vision_id", 0.2, [True])):
            if rng.random() < p:
                ctx[key] = rng.choice(choices)
        out.append((f"gen_conv_{i}", rng.choice(["qwen3", "qwen3.5"]), ctx))
    return out


def main():
    if not os.path.exists(BIN):
        print(f"FAIL: tessera binary not found at {BIN} (set TESSERA_BIN; build target `tessera`)")
        return 1
    cases = []  # (name, template source, model dir or None, context)
    rng = random.Random(20240607)
    for name, source, ctx in SMALL + generated_whitespace_templates(rng, 120) + generated_expressions(rng, 150):
        cases.append((name, source, None, ctx))
    for family in ("qwen3", "qwen3.5"):
        model = os.path.join(TOKENIZERS, family)
        with open(os.path.join(model, "chat_template.jinja"), encoding="utf-8") as f:
            source = f.read()
        convs = CONVERSATIONS + [STRING_ARGS] + (MULTIMODAL if family == "qwen3.5" else [])
        for name, ctx in convs:
            cases.append((f"{family}/{name}", source, model, ctx))
    for name, family, ctx in generated_conversations(rng, 150):
        model = os.path.join(TOKENIZERS, family)
        with open(os.path.join(model, "chat_template.jinja"), encoding="utf-8") as f:
            cases.append((f"{family}/{name}", f.read(), model, ctx))

    failures = []
    counts = {"ok": 0, "raise": 0, "error": 0}
    with tempfile.TemporaryDirectory(prefix="tessera_jinja_oracle_") as tmp:
        for i, (name, source, model, ctx) in enumerate(cases):
            if model is None:
                model = os.path.join(tmp, f"t{i}")
                os.makedirs(model)
                with open(os.path.join(model, "chat_template.jinja"), "w", encoding="utf-8", newline="") as f:
                    f.write(source)
            # JSON round trip: the oracle gets fresh objects, exactly what tessera reads from the file
            context = {**special_tokens(model), "add_generation_prompt": True, **json.loads(json.dumps(ctx))}
            context_file = os.path.join(tmp, f"c{i}.json")
            with open(context_file, "w", encoding="utf-8") as f:
                json.dump(ctx, f, ensure_ascii=False)
            want_kind, want = python_render(source, context)
            got_kind, got = tessera_render(model, context_file)
            counts[want_kind] += 1
            if want_kind == "ok":
                if got_kind != "ok" or got != want:
                    failures.append((name, want_kind, want, got_kind, got))
            elif got_kind == "ok" or (want_kind == "raise" and want not in got):
                failures.append((name, want_kind, want, got_kind, got))

    for name, want_kind, want, got_kind, got in failures:
        print(f"MISMATCH {name}\n  jinja2  ({want_kind}): {want!r}\n  tessera ({got_kind}): {got!r}")
    total = len(cases)
    print(f"{total - len(failures)}/{total} oracle cases agree "
          f"(jinja2 rendered {counts['ok']}, raised via raise_exception {counts['raise']}, other errors {counts['error']})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
