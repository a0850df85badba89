-- SPDX-License-Identifier: Apache-2.0
-- wrk script for bench/soak.sh: a mix of state, publish and invoke requests through outrigd A, with
-- bad requests among them (malformed JSON, unknown stores, oversize bodies, bad escapes, NULs).
--
--   wrk ... -s soak.lua http://127.0.0.1:PORT -- INVOKE_APP DELAY_MS OVERSIZE_BYTES
--
-- done() prints one line "SOAK requests=N 2xx=.. 4xx=.. 5xx=.. other=.." for the script to read.

local invoke_app, pause, oversize
local bad = {}
local threads = {}
-- Per-thread status counts; plain numbers, as wrk copies only those between a thread and done().
s2, s4, s5, other = 0, 0, 0, 0

function setup(thread)
   table.insert(threads, thread)
   thread:set("tid", #threads)
end

local function post(path, body, ctype)
   return wrk.format("POST", path, { ["Content-Type"] = ctype or "application/json" }, body)
end

function init(args)
   invoke_app, pause, oversize = args[1], tonumber(args[2]) or 1, tonumber(args[3]) or 300000
   math.randomseed(os.time() * 100 + tid)
   local big = string.rep("x", oversize)
   bad = {
      post("/v1.0/state/statestore", '[{"key":"a","value":'),                 -- malformed JSON
      post("/v1.0/state/nosuchstore", '[{"key":"a","value":1}]'),             -- unknown store
      post("/v1.0/state/statestore", '[{"key":"a","value":"' .. big .. '"}]'), -- over --max-body-size
      wrk.format("GET", "/v1.0/state/statestore/%zz"),                         -- bad escape
      wrk.format("DELETE", "/v1.0/state/statestore/acct%00z"),                 -- NUL in a key
      post("/v1.0/state/statestore", '[{"key":"acct\\u0000evil","value":1}]'), -- NUL in JSON
      post("/v1.0/publish/nosuchpubsub/soak", '{"n":1}'),                      -- unknown pub/sub
      post("/v1.0-alpha1/publish/bulk/pubsub/soak", '{"entries":'),            -- malformed bulk
      post("/v1.0/state/statestore/transaction", '{"operations":[{"operation":"merge"}]}'),
      post("/v1.0/state/statestore/bulk", '{"keys":[1,2,3]}'),
      wrk.format("GET", "/v1.0/nosuchapi/x"),
      post("/v1.0/publish/pubsub/soak?metadata.ttlInSeconds=soon", '{"n":1}'),
   }
end

function delay()
   return pause
end

local function value(n)
   return '{"n":' .. n .. ',"pad":"' .. string.rep("v", math.random(0, 1024)) .. '"}'
end

function request()
   local r, key = math.random(100), "k" .. tid .. "-" .. math.random(2000)
   if r <= 25 then
      return post("/v1.0/state/statestore", '[{"key":"' .. key .. '","value":' .. value(r) .. '}]')
   elseif r <= 40 then
      return wrk.format("GET", "/v1.0/state/statestore/" .. key)
   elseif r <= 48 then
      return wrk.format("DELETE", "/v1.0/state/statestore/" .. key)
   elseif r <= 52 then
      return post("/v1.0/state/statestore/transaction",
         '{"operations":[{"operation":"upsert","request":{"key":"' .. key .. '","value":1}},' ..
         '{"operation":"delete","request":{"key":"' .. key .. 'x"}}]}')
   elseif r <= 68 then
      return post("/v1.0/publish/pubsub/soak", value(r))
   elseif r <= 72 then
      return post("/v1.0-alpha1/publish/bulk/pubsub/soak",
         '[{"entryId":"1","event":{"a":1},"contentType":"application/json"},' ..
         '{"entryId":"2","event":"hi","contentType":"text/plain"}]')
   elseif r <= 90 then
      return post("/v1.0/invoke/" .. invoke_app .. "/method/echo", value(r))
   else
      return bad[math.random(#bad)]
   end
end

function response(status, headers, body)
   if status >= 200 and status < 300 then s2 = s2 + 1
   elseif status >= 400 and status < 500 then s4 = s4 + 1
   elseif status >= 500 and status < 600 then s5 = s5 + 1
   else other = other + 1 end
end

function done(summary, latency, requests)
   local t = { s2 = 0, s4 = 0, s5 = 0, other = 0 }
   for _, thread in ipairs(threads) do
      for k in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
   end
   io.write(string.format("SOAK requests=%d 2xx=%d 4xx=%d 5xx=%d other=%d socket_errors=%d\n",
      summary.requests, t.s2, t.s4, t.s5, t.other,
      summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
