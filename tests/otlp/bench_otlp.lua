-- wrk script of scripts/bench-ingest's OTLP phase: POSTs the protobuf body
-- written by obs_otlp_bench_body (path given after `--`) to /v1/traces,
-- with its trace id marker replaced per request by a unique 16-byte id
-- (a per-run nonce from the clock, thread number and request counter), so
-- every request is a new trace, in later rounds of the same database too.
-- Prints one RESULT line as the batch phase's script does.
local template
local counter = 0
local nonce = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

function init(args)
  local f = assert(io.open(args[1], "rb"))
  template = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-protobuf"
  nonce = os.time() % 0x10000
end

function request()
  counter = counter + 1
  local id = string.format("%04x%04x%08x", nonce, thread_number, counter)
  local body = template:gsub("OBSBENCHTRACEIDX", id)
  return wrk.format(nil, nil, nil, body)
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %d %.0f %.0f\n", summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
