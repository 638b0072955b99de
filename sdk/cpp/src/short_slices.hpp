// A scheduling hint for the provider's background thread: it runs in short
// bursts (take a batch, send it, read the answer) and then sleeps, and every
// millisecond it waits for a CPU after the server answered is a millisecond
// the server has nothing to do. On a core shared with the agent's busy
// threads it waited 3-4 ms per batch for their time slice to end
// (perf sched timehist, scripts/bench-sdk's 4-thread phase). Linux's EEVDF
// scheduler (6.12 and later) lets a task ask for a shorter slice, without
// privileges, and a waking task with a shorter slice may preempt the running
// one: the thread then runs when its answer arrives.
#pragma once

namespace observability::detail {

// Asks for the shortest time slice (0.1 ms) for the calling thread when it
// runs under the normal policy; keeps its nice value. Best effort: older
// kernels ignore the slice, and any refusal is ignored.
void ask_for_short_slices();

}  // namespace observability::detail
