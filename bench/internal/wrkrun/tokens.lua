-- Authenticated Connect JSON POSTs for wrk: each request is one logged-in
-- citizen's, picked at random.
--
--   wrk ... -s tokens.lua http://127.0.0.1:PORT/pkg.Service/Method -- LINES THREADS
--
-- LINES holds one "ACCESS_TOKEN<TAB>JSON_BODY" per line. Every request is
-- formatted once in init, so the load generator spends its CPU on sending,
-- not on Lua; request() only draws a random number. Each thread seeds its
-- own generator. done prints the same RESULT line as rotate.lua.

local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  local path = args[1]
  prepared = {}
  for line in io.lines(path) do
    local tok, body = line:match("^([^\t]+)\t(.*)$")
    if tok then
      prepared[#prepared + 1] = wrk.format("POST", nil, {
        ["Content-Type"] = "application/json",
        ["Authorization"] = "Bearer " .. tok,
      }, body)
    end
  end
  if #prepared == 0 then
    error("no token lines in " .. path)
  end
  math.randomseed(os.time() * 1000 + id * 7919)
end

function request()
  return prepared[math.random(#prepared)]
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
