-- Connect JSON POSTs for wrk, cycling through pre-built request bodies.
--
--   wrk ... -s rotate.lua http://127.0.0.1:PORT/pkg.Service/Method -- BODIES THREADS
--
-- BODIES holds one JSON request body per line. Every request is formatted
-- once in init, so the load generator spends its CPU on sending, not on Lua.
-- Each thread walks the list in order from its own offset (thread k of n
-- starts at k/n of the list). done prints one machine-readable RESULT line.

local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  local path, threads = args[1], tonumber(args[2] or "1")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  prepared = {}
  for line in io.lines(path) do
    if line ~= "" then
      prepared[#prepared + 1] = wrk.format(nil, nil, nil, line)
    end
  end
  if #prepared == 0 then
    error("no request bodies in " .. path)
  end
  cursor = math.floor(id * #prepared / threads) % #prepared
end

function request()
  cursor = cursor % #prepared + 1
  return prepared[cursor]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
