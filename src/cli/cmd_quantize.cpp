// tessera quantize --model DIR --bits B --group G --out DIR2 : writes DIR's float weights as an
// mlx-community MLX affine checkpoint (model/mlx_export.h) with the config.json `quantization` and
// `quantization_config` blocks and the tokenizer / chat-template / generation files beside it.
// Prints {"out", "bits", "group_size", "tensors", "quantized", "bytes", "shards", "skipped"}.
//
// One process only: it reads and writes whole files, there is nothing to split, so under mpirun
// it refuses rather than have several ranks write the same directory.
#include "cli/command.h"
#include "cli/runtime.h"
#include "io/model_config.h"
#include "io/safetensors.h"
#include "io/safetensors_writer.h"
#include "model/mlx_export.h"
#include "util/log.h"
#include "util/thread_pool.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace tessera::cli {
namespace {

namespace fs = std::filesystem;

constexpr int kBits[] = {2, 3, 4, 5, 6, 8};
constexpr int kGroups[] = {32, 64, 128};
// What mlx-lm's convert saves beside the weights (those the source has).
constexpr const char* kSideFiles[] = {"tokenizer.json",      "tokenizer_config.json", "special_tokens_map.json",
                                      "added_tokens.json",   "vocab.json",            "merges.txt",
                                      "chat_template.jinja", "chat_template.json",    "generation_config.json"};

struct QuantizeOptions {
  std::string model;
  std::string out;
  int bits = 0;
  int group = 64;
  int threads = 0;
};

nlohmann::ordered_json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) fail("{}: cannot read", path.string());
  try {
    return nlohmann::ordered_json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: not valid JSON: {}", path.string(), e.what());
  }
}

void check_options(const QuantizeOptions& o) {
  if (launcher_size() > 1)
    fail("tessera quantize runs in one process: start it without mpirun (it has no work to share between ranks)");
  if (std::find(std::begin(kBits), std::end(kBits), o.bits) == std::end(kBits))
    fail("--bits {} is not supported: MLX affine quantization has 2, 3, 4, 5, 6 or 8 bits", o.bits);
  if (std::find(std::begin(kGroups), std::end(kGroups), o.group) == std::end(kGroups))
    fail("--group {} is not supported: MLX affine quantization has group sizes 32, 64 or 128", o.group);
  std::error_code ec;
  if (fs::exists(o.out, ec) && !(fs::is_directory(o.out, ec) && fs::is_empty(o.out, ec)))
    fail("--out {}: exists and is not an empty directory; choose a new one (nothing is overwritten)", o.out);
  if (fs::weakly_canonical(o.out) == fs::weakly_canonical(o.model)) fail("--out must differ from --model");
}

void write_outputs(const QuantizeOptions& o) {
  const ModelConfig config = load_model_config(o.model);
  const Checkpoint checkpoint = Checkpoint::open(o.model);
  const MlxExportPlan plan = plan_mlx_export(checkpoint, config, o.bits, o.group);
  nlohmann::ordered_json config_json = read_json(fs::path(o.model) / "config.json");
  config_json["quantization"] = mlx_quantization_block(plan);
  config_json["quantization_config"] = config_json["quantization"];  // mlx-lm writes both

  fs::create_directories(o.out);
  ThreadPool pool(o.threads);
  CheckpointWriter writer(o.out, export_tensor_specs(plan), {{"format", "mlx"}});
  write_mlx_export(plan, writer, pool);
  writer.close();
  {
    const fs::path path = fs::path(o.out) / "config.json";
    std::ofstream out(path);
    out << config_json.dump(4) << "\n";
    out.close();
    if (!out) fail("{}: write failed", path.string());
  }
  for (const char* file : kSideFiles) {
    const fs::path from = fs::path(o.model) / file;
    if (fs::exists(from)) fs::copy_file(from, fs::path(o.out) / file);
  }
  const auto quantized = std::count_if(plan.tensors.begin(), plan.tensors.end(),
                                       [](const ExportTensor& t) { return t.kind == ExportKind::kQuantize; });
  print_json({{"out", o.out},
              {"bits", o.bits},
              {"group_size", o.group},
              {"tensors", plan.tensors.size()},
              {"quantized", quantized},
              {"bytes", writer.total_bytes()},
              {"shards", writer.shard_count()},
              {"skipped", plan.skipped_tensors}});
}

void run(const QuantizeOptions& o) {
  check_options(o);
  const bool created = !fs::exists(o.out);
  try {
    write_outputs(o);
  } catch (...) {
    // Leave no half-written checkpoint behind that a later load might take for a whole one.
    std::error_code ec;
    if (created) fs::remove_all(o.out, ec);
    else
      for (const auto& entry : fs::directory_iterator(o.out, ec)) fs::remove_all(entry.path(), ec);
    throw;
  }
}

const bool registered = register_command(
    {"quantize", "Write a float checkpoint as an mlx-community MLX affine-quantized checkpoint", [](CLI::App& sub) {
       auto o = std::make_shared<QuantizeOptions>();
       sub.add_option("--model", o->model, "float checkpoint directory (bf16, f16 or f32)")->required();
       sub.add_option("--bits", o->bits, "bits per weight: 2, 3, 4, 5, 6 or 8")->required();
       sub.add_option("--group", o->group, "group size: 32, 64 (default) or 128");
       sub.add_option("--out", o->out, "output directory (must not exist, or be empty)")->required();
       sub.add_option("--threads", o->threads, "quantization threads (default: all cores)");
       sub.callback([o] { run(*o); });
     }});

}  // namespace
}  // namespace tessera::cli
