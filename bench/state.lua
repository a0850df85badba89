-- SPDX-License-Identifier: Apache-2.0
-- wrk script for bench/state_bench.sh: one scenario per run, chosen by the arguments after `--`.
--
--   wrk ... -s state.lua http://127.0.0.1:PORT -- healthz
--   wrk ... -s state.lua http://127.0.0.1:PORT -- get  STORE KEY
--   wrk ... -s state.lua http://127.0.0.1:PORT -- save STORE KEYSPACE [random]
--   wrk ... -s state.lua http://127.0.0.1:PORT -- invoke APP METHOD
--
-- Every scenario goes through request(), even the fixed ones, so that the floor (healthz) pays the same
-- per-request Lua cost on the client side as the state scenarios and the ratios compare like with like.
-- done() prints one machine-readable line that the shell script parses instead of wrk's human output.

local mode, store, arg3, order
local fixed        -- the pre-formatted request of the fixed scenarios
local prefix = ""  -- per-thread key prefix, so threads do not write the same keys in lockstep
local counter = 0
local keyspace = 10000

local next_id = 0

function setup(thread)
   next_id = next_id + 1
   thread:set("tid", next_id)
end

function init(args)
   mode, store, arg3, order = args[1], args[2], args[3], args[4]
   if mode == "healthz" then
      fixed = wrk.format("GET", "/v1.0/healthz")
   elseif mode == "get" then
      fixed = wrk.format("GET", "/v1.0/state/" .. store .. "/" .. arg3)
   elseif mode == "invoke" then
      -- Service invocation of app STORE's method ARG3 (bench/metrics_overhead.sh), a small JSON body.
      fixed = wrk.format("POST", "/v1.0/invoke/" .. store .. "/method/" .. arg3,
                         { ["Content-Type"] = "application/json" }, '{"n":1}')
   elseif mode == "save" then
      keyspace = tonumber(arg3) or keyspace
      prefix = "bench-t" .. tostring(tid) .. "-"
      -- Seeded per thread, or every thread would draw the same keys.
      math.randomseed(os.time() * 100 + tid)
   else
      error("state.lua: unknown scenario '" .. tostring(mode) .. "' (healthz, get, save or invoke)")
   end
end

local save_headers = { ["Content-Type"] = "application/json" }

function request()
   if fixed then
      return fixed
   end
   -- Cycle through a bounded key set: the first pass inserts, later ones overwrite, so the store's size
   -- (and with it memory and the SQLite file) stays bounded however long the run.
   -- With "random", keys are drawn uniformly like the direct clients of state_remote_bench.sh draw theirs,
   -- rather than in turn, which makes concurrent saves touch neighbouring keys (and a database's pages).
   counter = counter + 1
   local n = counter % keyspace
   if order == "random" then
      n = math.random(0, keyspace - 1)
   end
   local key = prefix .. tostring(n)
   local body = '[{"key":"' .. key .. '","value":{"n":' .. counter .. ',"s":"bench"}}]'
   return wrk.format("POST", "/v1.0/state/" .. store, save_headers, body)
end

function done(summary, latency, requests)
   local e = summary.errors
   local secs = summary.duration / 1e6
   -- Latencies are in microseconds. status = responses outside 2xx/3xx; they make a run invalid.
   io.write(string.format(
      "RESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d max_us=%d "
         .. "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
end
