// The `runs` view of a write group (see group_commit.hpp): a run's row is
// loaded once per group (its prior state saved once per request, for the
// request's undo), every event of the group applied to it in memory, and
// the row written once before COMMIT (only its counters when nothing else
// changed).
#include "persistence/group_commit.hpp"
#include "persistence/group_commit_support.hpp"

#include <algorithm>

namespace obs::persistence {

using namespace group_commit_support;

group_commit::run_state& group_commit::touch_run_(const std::string& run_id) {
    if (last_run_ == nullptr || last_run_->first != run_id) {
        auto it = runs_.find(run_id);
        if (it == runs_.end()) {
            it = runs_.emplace(run_id, load_run_(run_id)).first;
            // Not in the group before this request: undone by forgetting it.
            it->second.saved_by = request_serial_;
            undo_.emplace_back(run_id, std::nullopt);
        }
        last_run_ = &*it;
    }
    run_state& run = last_run_->second;
    if (run.saved_by != request_serial_) {
        run.saved_by = request_serial_;
        undo_.emplace_back(run_id, run);
    }
    return run;
}

group_commit::run_state group_commit::load_run_(const std::string& run_id) {
    sqlite3_stmt* s = select_run_.get();
    reset_on_exit guard{s};
    bind_text(s, 1, std::string_view{run_id});
    const int rc = sqlite3_step(s);
    check(db_, rc, sql_select_run);
    run_state run;
    if (rc != SQLITE_ROW) return run;  // a new run: its first event fills it
    run.in_table = true;
    run.name = column_optional_text(s, 0);
    run.agent = column_optional_text(s, 1);
    run.status = column_optional_text(s, 2).value_or("running");
    run.parent_run_id = column_optional_text(s, 3);
    run.tags = column_optional_text(s, 4).value_or("[]");
    run.metadata = column_optional_text(s, 5).value_or("{}");
    run.started_ms = sqlite3_column_int64(s, 6);
    if (sqlite3_column_type(s, 7) != SQLITE_NULL) run.ended_ms = sqlite3_column_int64(s, 7);
    run.last_event_ms = sqlite3_column_int64(s, 8);
    run.last_seq = sqlite3_column_int64(s, 9);
    run.step_count = sqlite3_column_int64(s, 10);
    run.error_count = sqlite3_column_int64(s, 11);
    run.input_tokens = sqlite3_column_int64(s, 12);
    run.output_tokens = sqlite3_column_int64(s, 13);
    run.cost_usd = sqlite3_column_double(s, 14);
    run.last_received_ms = sqlite3_column_int64(s, 15);
    return run;
}

// The runs view of API.md: a run exists from its first event; run_started
// fills it, run_finished closes it; every other event is a step.
void group_commit::apply_event_(run_state& run, const domain::event& ev, std::int64_t seq) {
    using domain::event_type;
    if (run.last_seq == 0) {
        run.started_ms = ev.ts_ms;
        run.last_event_ms = ev.ts_ms;
        run.identity_dirty = true;
    }
    run.last_seq = seq;
    run.last_event_ms = std::max(run.last_event_ms, ev.ts_ms);
    run.last_received_ms = std::max(run.last_received_ms, ev.received_ms);
    run.dirty = true;
    const domain::run_facts& f = ev.facts;
    switch (ev.type) {
    case event_type::run_started:
        if (f.name) run.name = f.name;
        if (f.agent) run.agent = f.agent;
        if (f.parent_run_id) run.parent_run_id = f.parent_run_id;
        if (f.tags_json) run.tags = *f.tags_json;
        if (f.metadata_json) run.metadata = *f.metadata_json;
        run.started_ms = ev.ts_ms;
        run.identity_dirty = true;
        break;
    case event_type::run_finished:
        if (f.final_status) run.status = *f.final_status;
        run.ended_ms = ev.ts_ms;
        run.identity_dirty = true;
        break;
    default:
        ++run.step_count;
        if (ev.type == event_type::error) ++run.error_count;
        if (ev.type == event_type::llm_call) {
            run.input_tokens += f.input_tokens;
            run.output_tokens += f.output_tokens;
            run.cost_usd += f.cost_usd;
        }
        break;
    }
}

void group_commit::write_runs_() {
    for (const auto& [id, run] : runs_) {
        if (!run.dirty) continue;
        if (run.in_table && !run.identity_dirty) {
            write_run_counters_(id, run);
            continue;
        }
        sqlite3_stmt* s = upsert_run_.get();
        reset_on_exit guard{s};
        bind_text(s, 1, std::string_view{id});
        bind_text(s, 2, run.name);
        bind_text(s, 3, run.agent);
        bind_text(s, 4, std::string_view{run.status});
        bind_text(s, 5, run.parent_run_id);
        bind_text(s, 6, std::string_view{run.tags});
        bind_text(s, 7, std::string_view{run.metadata});
        sqlite3_bind_int64(s, 8, run.started_ms);
        if (run.ended_ms) {
            sqlite3_bind_int64(s, 9, *run.ended_ms);
        } else {
            sqlite3_bind_null(s, 9);
        }
        bind_counters_(s, 10, run);
        check(db_, sqlite3_step(s), "upsert run");
    }
}

void group_commit::write_run_counters_(const std::string& id, const run_state& run) {
    sqlite3_stmt* s = update_run_counters_.get();
    reset_on_exit guard{s};
    bind_text(s, 1, std::string_view{id});
    bind_counters_(s, 2, run);
    check(db_, sqlite3_step(s), "update run counters");
}

// Both run statements list the counters in the same order from `first` on.
void group_commit::bind_counters_(sqlite3_stmt* s, int first, const run_state& run) {
    sqlite3_bind_int64(s, first, run.last_event_ms);
    sqlite3_bind_int64(s, first + 1, run.last_seq);
    sqlite3_bind_int64(s, first + 2, run.step_count);
    sqlite3_bind_int64(s, first + 3, run.error_count);
    sqlite3_bind_int64(s, first + 4, run.input_tokens);
    sqlite3_bind_int64(s, first + 5, run.output_tokens);
    sqlite3_bind_double(s, first + 6, run.cost_usd);
    sqlite3_bind_int64(s, first + 7, run.last_received_ms);
}

}  // namespace obs::persistence
