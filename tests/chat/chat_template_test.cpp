// Chat-template engine tests. The main check renders every `kind: "chat_template"` example of
// tests/data/tokenizers/{qwen3,qwen3.5}/examples.jsonl (produced by Python Jinja2 3.1.6 set up
// as HF's apply_chat_template) and compares byte for byte. The rest pins loader behaviour,
// error reporting, and a few renders whose expected text was produced by Python Jinja2 with the
// same environment (see jinja_oracle_test.py for the wide comparison).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "chat/chat_template.h"
#include "util/error.h"

namespace tessera {
namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

const fs::path kTokenizers = fs::path(TESSERA_TEST_DATA_DIR) / "tokenizers";

std::string render(const std::string& source, const ojson& context = ojson::object()) {
  return ChatTemplate::from_string(source).render(context);
}

// Expects a tessera::Error whose message contains `needle`.
template <typename F>
void expect_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected an error containing: " << needle;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

int run_examples(const std::string& family) {
  const fs::path dir = kTokenizers / family;
  ChatTemplate tmpl = ChatTemplate::from_model_dir(dir);
  std::ifstream in(dir / "examples.jsonl");
  EXPECT_TRUE(in.good()) << dir;
  int count = 0;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    ojson ex = ojson::parse(line);
    if (ex["kind"] != "chat_template") continue;
    ++count;
    const std::string id = ex.value("id", "?");
    if (ex.value("expected_ok", true)) {
      std::string got;
      try {
        got = tmpl.render(ex["context"]);
      } catch (const Error& e) {
        ADD_FAILURE() << id << ": unexpected error: " << e.what();
        continue;
      }
      EXPECT_EQ(got, ex["expected_text"].get<std::string>()) << id;
    } else {
      expect_error([&] { tmpl.render(ex["context"]); }, ex["expected_error"].get<std::string>());
    }
  }
  return count;
}

TEST(ChatTemplateExamples, Qwen3) { EXPECT_GE(run_examples("qwen3"), 1); }
TEST(ChatTemplateExamples, Qwen35) { EXPECT_GE(run_examples("qwen3.5"), 1); }

// ---- loading ----

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tessera_chat_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  fs::path dir_;
};

TEST_F(TempDir, TemplateFromTokenizerConfigString) {
  write("tokenizer_config.json", R"({"chat_template": "{{ messages[0].content }}!", "eos_token": "</s>"})");
  auto t = ChatTemplate::from_model_dir(dir_);
  EXPECT_EQ(t.render(ojson{{"messages", {{{"role", "user"}, {"content", "hi"}}}}}), "hi!");
}

TEST_F(TempDir, TemplateFromNamedList) {
  write("tokenizer_config.json",
        R"({"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]})");
  EXPECT_EQ(ChatTemplate::from_model_dir(dir_).render(ojson::object()), "D");
}

TEST_F(TempDir, NamedListWithoutDefault) {
  write("tokenizer_config.json", R"({"chat_template": [{"name": "tool_use", "template": "T"}]})");
  expect_error([&] { ChatTemplate::from_model_dir(dir_); }, "default");
}

TEST_F(TempDir, JinjaFileWinsOverConfig) {
  write("tokenizer_config.json", R"({"chat_template": "config"})");
  write("chat_template.jinja", "file\n");  // one trailing newline is dropped, as in Jinja2
  EXPECT_EQ(ChatTemplate::from_model_dir(dir_).render(ojson::object()), "file");
}

TEST_F(TempDir, MissingTemplateNamesDirectory) {
  write("tokenizer_config.json", R"({"eos_token": "</s>"})");
  expect_error([&] { ChatTemplate::from_model_dir(dir_); }, dir_.string());
}

TEST_F(TempDir, SyntaxErrorNamesFileAndLine) {
  write("chat_template.jinja", "line one\n{% if x %}\n{{ x + }}\n{% endif %}");
  expect_error([&] { ChatTemplate::from_model_dir(dir_); }, "line 3");
  expect_error([&] { ChatTemplate::from_model_dir(dir_); }, "chat_template.jinja");
}

TEST(ChatTemplateContext, Qwen3SpecialTokens) {
  ojson ctx = default_template_context(kTokenizers / "qwen3");
  EXPECT_EQ(ctx["eos_token"], "<|im_end|>");
  EXPECT_EQ(ctx["pad_token"], "<|endoftext|>");
  EXPECT_FALSE(ctx.contains("bos_token"));  // null in the config: HF leaves it out
  EXPECT_EQ(ctx["additional_special_tokens"][0], "<|im_start|>");
  EXPECT_TRUE(default_template_context(kTokenizers / "qwen3.5").empty());
}

// ---- errors ----

TEST(ChatTemplateErrors, RaiseExceptionKeepsMessage) {
  expect_error([] { render("a\n{{ raise_exception('No user query found in messages.') }}"); },
               "No user query found in messages.");
  expect_error([] { render("a\n{{ raise_exception('boom') }}"); }, "line 2");
  expect_error([] { render("{{ raise_exception('boom') }}"); }, "TemplateError: boom");
}

TEST(ChatTemplateErrors, UnsupportedConstructsAreNamed) {
  expect_error([] { render("{% include 'x.jinja' %}"); }, "include");
  expect_error([] { render("x\n{% for a in b recursive %}{% endfor %}"); }, "recursive");
  expect_error([] { render("{{ x | urlize }}"); }, "urlize");
  expect_error([] { render("{{ x | no_such_filter }}"); }, "No filter named 'no_such_filter'");
  expect_error([] { render("{% do x %}"); }, "unknown tag 'do'");
}

TEST(ChatTemplateErrors, MalformedTemplates) {
  expect_error([] { render("{% for x in y %}"); }, "end of template");
  expect_error([] { render("{{ 'abc }}"); }, "line 1");
  expect_error([] { render("{# never closed"); }, "comment");
  expect_error([] { render("{{ (1 }}"); }, "line 1");
  expect_error([] { render("{% endif %}"); }, "endif");
  expect_error([] { render("{{" + std::string(5000, '(') + std::string(5000, ')') + "}}"); }, "nested");
}

TEST(ChatTemplateErrors, UndefinedAttributeOfUndefinedRaises) {
  EXPECT_EQ(render("[{{ missing }}][{{ m.nope }}]", ojson{{"m", ojson::object()}}), "[][]");
  expect_error([] { render("{{ missing.attr }}"); }, "'missing' is undefined");
  expect_error([] { render("{{ m.a.b }}", ojson{{"m", ojson::object()}}); }, "has no attribute 'a'");
}

// ---- renders checked against Python Jinja2 (HF environment) ----

TEST(ChatTemplateRender, WhitespaceControl) {
  // trim_blocks drops the newline after a tag; lstrip_blocks drops indentation before one.
  EXPECT_EQ(render("{% if true %}\n  yes\n  {% endif %}\nend"), "  yes\nend");
  EXPECT_EQ(render("a  {%- if true -%}  b  {%- endif -%}  c"), "abc");
  EXPECT_EQ(render("a {{- ' b ' -}} c"), "a b c");
  EXPECT_EQ(render("x {{ 1 }}\n{# c #}\ny"), "x 1\ny");
  EXPECT_EQ(render("  {%+ if true %}k{% endif %}"), "  k");
  EXPECT_EQ(render("{% raw %}{{ x }}{% endraw %}"), "{{ x }}");
}

TEST(ChatTemplateRender, PythonStylePrinting) {
  ojson ctx = ojson::parse(R"({"d": {"k": 1, "b": true, "n": null, "f": 1.0, "s": "it's"}})");
  EXPECT_EQ(render("{{ d }}", ctx), R"({'k': 1, 'b': True, 'n': None, 'f': 1.0, 's': "it's"})");
  EXPECT_EQ(render("{{ [1, 'a', (2,), none] }}|{{ 1e16 }}|{{ 0.1 + 0.2 }}|{{ 7 // 2 }}|{{ -7 % 3 }}"),
            "[1, 'a', (2,), None]|1e+16|0.30000000000000004|3|2");
}

TEST(ChatTemplateRender, ToJsonMatchesHf) {
  ojson ctx = ojson::parse(R"({"t": {"name": "f", "args": {"city": "Zürich", "n": [1, 2.5]}}})");
  EXPECT_EQ(render("{{ t | tojson }}", ctx), R"({"name": "f", "args": {"city": "Zürich", "n": [1, 2.5]}})");
  EXPECT_EQ(render("{{ t.args | tojson(indent=2) }}", ctx),
            "{\n  \"city\": \"Zürich\",\n  \"n\": [\n    1,\n    2.5\n  ]\n}");
}

TEST(ChatTemplateRender, LoopsAndNamespaces) {
  const char* src =
      "{%- set ns = namespace(n=0) -%}"
      "{%- for x in xs -%}"
      "{%- if x == 3 %}{% continue %}{% endif -%}"
      "{%- if x == 5 %}{% break %}{% endif -%}"
      "{%- set ns.n = ns.n + x -%}"
      "{{ loop.index }}/{{ loop.length }}{{ ',' if not loop.last }}"
      "{%- endfor -%}"
      "|{{ ns.n }}";
  EXPECT_EQ(render(src, ojson{{"xs", {1, 2, 3, 4, 5, 6}}}), "1/6,2/6,4/6,|7");
}

TEST(ChatTemplateRender, JinjaQuirksKept) {
  // The for-else block runs unless some iteration reached the end of the body.
  EXPECT_EQ(render("{% for x in [1, 2] %}{{ x }}{% break %}{% else %}E{% endfor %}"), "1E");
  // A negative constant base is emitted as Python source "-3 ** x", i.e. -(3 ** x).
  EXPECT_EQ(render("{{ -3 ** x }} {{ -x ** 2 }}", ojson{{"x", 2}}), "-9 4");
  // x.items is the dict method, x['items'] the key.
  EXPECT_EQ(render("{{ d.items is callable }} {{ d['items'] }}", ojson::parse(R"({"d": {"items": 5}})")), "True 5");
  expect_error([] { render("{% for x in [1] %}{% set loop = 2 %}{% endfor %}"); }, "special loop variable");
}

TEST(ChatTemplateRender, PlainJsonContextConverts) {
  // nlohmann::json converts implicitly; its keys are sorted, so only order-insensitive output
  // is safe this way.
  nlohmann::json ctx = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}, {"add_generation_prompt", true}};
  auto t = ChatTemplate::from_model_dir(kTokenizers / "qwen3");
  EXPECT_EQ(t.render(ctx), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplateRender, CopiesShareTheParsedProgram) {
  ChatTemplate a = ChatTemplate::from_string("{{ x }}");
  ChatTemplate b = a;
  EXPECT_EQ(a.render(ojson{{"x", 1}}), "1");
  EXPECT_EQ(b.render(ojson{{"x", 2}}), "2");
  EXPECT_EQ(b.source(), "{{ x }}");
}

}  // namespace
}  // namespace tessera
