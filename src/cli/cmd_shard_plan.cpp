// tessera shard-plan --model DIR --tp N : for every tensor, its split kind and the rows/columns
// and bytes each rank holds, plus totals per rank. Computed without reading any weight.
#include "cli/command.h"
#include "model/model.h"

namespace tessera::cli {
namespace {

nlohmann::json ranges_json(const std::vector<Range>& ranges) {
  nlohmann::json out = nlohmann::json::array();
  for (const Range& r : ranges) out.push_back({r.begin, r.end});
  return out;
}

void run(const std::string& model, int world) {
  if (world < 1) fail("--tp must be at least 1");
  const auto plans = Model::plan_all_ranks(model, world);
  nlohmann::json tensors = nlohmann::json::array();
  std::vector<int64_t> totals(plans.size(), 0);
  for (size_t i = 0; i < plans[0].size(); ++i) {
    nlohmann::json ranks = nlohmann::json::array();
    for (size_t r = 0; r < plans.size(); ++r) {
      const PlanRecord& rec = plans[r][i];
      ranks.push_back({{"rank", r}, {"rows", ranges_json(rec.rows)}, {"cols", {rec.cols.begin, rec.cols.end}},
                       {"experts", rec.experts}, {"bytes", rec.bytes}, {"params", rec.params}});
      totals[r] += static_cast<int64_t>(rec.bytes);
    }
    tensors.push_back({{"name", plans[0][i].tensor}, {"role", role_name(plans[0][i].role)},
                       {"split", split_name(plans[0][i].split)}, {"ranks", ranks}});
  }
  print_json({{"world_size", world}, {"tensors", tensors}, {"total_bytes_per_rank", totals}});
}

const bool registered = register_command({"shard-plan", "Print how the model splits across N ranks", [](CLI::App& sub) {
  auto model = std::make_shared<std::string>();
  auto world = std::make_shared<int>(1);
  sub.add_option("--model", *model, "checkpoint directory")->required();
  sub.add_option("--tp", *world, "number of ranks")->required();
  sub.callback([model, world] { run(*model, *world); });
}});

}  // namespace
}  // namespace tessera::cli
