// tessera tokenize   --model DIR (--text "..." | --file F) [--no-special]  → {"ids":[...]}
// tessera detokenize --model DIR --ids 1,2,3 [--skip-special]            → {"text":"..."}
// Only the tokenizer files are read, never the weights.
#include "cli/command.h"
#include "cli/runtime.h"
#include "tokenizer/tokenizer.h"
#include "util/read_file.h"


namespace tessera::cli {
namespace {

struct TokenizeOptions {
  std::string model, text, file;
  bool no_special = false;
};

void tokenize(const TokenizeOptions& o) {
  const std::string text = o.file.empty() ? o.text : read_file(o.file);
  const Tokenizer tok = Tokenizer::load(o.model);
  print_json({{"ids", tok.encode(text, !o.no_special)}});
}

const bool tokenize_registered = register_command({"tokenize", "Text to token ids", [](CLI::App& sub) {
  auto o = std::make_shared<TokenizeOptions>();
  sub.add_option("--model", o->model, "checkpoint (or tokenizer) directory")->required();
  auto* text = sub.add_option("--text", o->text, "text to encode");
  auto* file = sub.add_option("--file", o->file, "read the text from this file");
  text->excludes(file);
  file->excludes(text);
  sub.add_flag("--no-special", o->no_special, "treat special-token text as ordinary text");
  sub.callback([o, text, file] {
    if (text->count() == 0 && file->count() == 0) fail("tokenize: give --text or --file");
    tokenize(*o);
  });
}});

const bool detokenize_registered = register_command({"detokenize", "Token ids to text", [](CLI::App& sub) {
  auto model = std::make_shared<std::string>();
  auto ids = std::make_shared<std::string>();
  auto skip = std::make_shared<bool>(false);
  sub.add_option("--model", *model, "checkpoint (or tokenizer) directory")->required();
  sub.add_option("--ids", *ids, "comma-separated token ids")->required();
  sub.add_flag("--skip-special", *skip, "leave special tokens out of the text");
  sub.callback([model, ids, skip] {
    const Tokenizer tok = Tokenizer::load(*model);
    const std::vector<int32_t> list = parse_id_list(*ids, "--ids");
    print_json({{"text", tok.decode(list, *skip)}});
  });
}});

}  // namespace
}  // namespace tessera::cli
