// agent_cpp: the C++ SDK in an agent shaped like the plan's graph — a
// controller that splits a question into tasks and three workers that each
// think, call a tool, read its result and ask an LLM, all in one run. Every
// step is one provider.log() (or a run_scope's log()); nothing here waits for
// the server, which may even be down: the provider delivers in the background
// and close() flushes at the end.
//   agent_cpp [TASKS]      (default 6; OBS_URL / OBS_API_KEY pick the server)
#include "observability/provider.hpp"
#include "observability/run_scope.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

// A stand-in for a real tool: deterministic, a few milliseconds long.
std::string search(const std::string& query) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + query.size() % 7));
    return "3 results for '" + query + "'";
}

// One worker: takes tasks from the shared list until it is empty.
void worker(observability::run_scope& run, const std::string& node, std::vector<std::string>& tasks, std::mutex& mu) {
    observability::log_options at;
    at.node = node;
    for (;;) {
        std::string task;
        {
            std::lock_guard lock(mu);
            if (tasks.empty()) return;
            task = std::move(tasks.back());
            tasks.pop_back();
        }
        run.log("thought", {{"text", "looking up: " + task}}, at);
        const std::string call_id = node + ":" + std::to_string(std::hash<std::string>{}(task) % 100000);
        const auto call = run.log("tool_call", {{"tool", "search"}, {"call_id", call_id}, {"arguments", {{"q", task}}}}, at);
        const auto started = std::chrono::steady_clock::now();
        const std::string output = search(task);
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
        auto nested = at;
        nested.parent_id = call;
        run.log("tool_result", {{"call_id", call_id}, {"output", output}, {"duration_ms", ms.count()}}, nested);
        run.log("llm_call", {{"model", "example-model"}, {"provider", "local"}, {"input_tokens", 120 + task.size()},
                             {"output_tokens", 40}, {"latency_ms", 12}, {"completion", "summary of " + task}},
                at);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const int task_count = argc > 1 ? std::atoi(argv[1]) : 6;
    observability::provider provider;  // OBS_URL / OBS_API_KEY, else http://127.0.0.1:8000
    std::string run_id;
    {
        observability::run_options ro;
        ro.tags = {"example", "cpp"};
        ro.metadata = {{"workers", "3"}};
        ro.node = "controller";
        auto run = provider.run("gear ratio research", "agent_cpp", ro);
        run_id = run.id();
        observability::log_options at;
        at.node = "controller";
        run.log("thought", {{"text", "splitting the question into " + std::to_string(task_count) + " tasks"}}, at);
        std::vector<std::string> tasks;
        for (int i = 0; i < task_count; ++i) tasks.push_back("gear ratio question " + std::to_string(i));
        std::mutex mu;
        std::vector<std::thread> workers;
        for (int w = 1; w <= 3; ++w)
            workers.emplace_back([&, w] { worker(run, "worker-" + std::to_string(w), tasks, mu); });
        for (auto& t : workers) t.join();
        run.log("log", {{"level", "info"}, {"message", "all workers done"}}, at);
        run.artifact("report.md", "# Gear ratios\n\n" + std::to_string(task_count) + " tasks answered.\n",
                     "text/markdown");
    }  // run_finished: succeeded (or failed, had an exception left the scope)
    provider.close();
    const auto s = provider.stats();
    std::printf("run %s: sent %llu, duplicates %llu, dropped %llu, rejected %llu, queued %llu\n", run_id.c_str(),
                static_cast<unsigned long long>(s.sent), static_cast<unsigned long long>(s.duplicates),
                static_cast<unsigned long long>(s.dropped), static_cast<unsigned long long>(s.rejected),
                static_cast<unsigned long long>(s.queued));
    return s.queued == 0 && s.dropped == 0 ? 0 : 1;
}
