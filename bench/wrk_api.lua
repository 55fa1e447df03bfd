-- wrk script for bench/api.py: send each prepared request once, count what came back.
--
-- BENCH_WRK_ITEMS names a file of requests, one a line: METHOD \t PATH \t AUTHORIZATION \t BODY
-- (empty AUTHORIZATION or BODY: none). BENCH_WRK_THREADS is wrk's -t. Thread t of T sends
-- items t, t+T, t+2T, ... (0-based), so no item is sent twice while the file lasts; past its
-- end the thread starts over and counts `wrapped` (fine for GET /healthz, a flaw for writes).
-- done() prints one line `BENCH_RESULT {json}` for the bench to parse, and the first non-2xx
-- answer as `BENCH_FIRST_ERROR ...`.

local items = {}
do
  local items_path = os.getenv("BENCH_WRK_ITEMS")
  assert(items_path, "BENCH_WRK_ITEMS is not set")
  local file = assert(io.open(items_path, "r"))
  for line in file:lines() do
    local method, path, auth, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    items[#items + 1] = {method, path, auth, body}
  end
  file:close()
end
local stride = tonumber(os.getenv("BENCH_WRK_THREADS") or "1")

-- Globals, so that done() can read them from each thread's state with thread:get().
tid, sent, wrapped, first_error = 0, 0, 0, ""
statuses = {}

local threads = {}
local prepared = nil
-- wrk 4's main() calls request() once in thread 0's state, after init and before the thread
-- runs, to check the request parses: that call must not use up an item.
local dry_run_pending = true

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  -- Formatted here, in the thread, after wrk.init has set the Host header.
  prepared = {}
  for i, item in ipairs(items) do
    local headers = {}
    if item[3] ~= "" then headers["Authorization"] = item[3] end
    local body = nil
    if item[4] ~= "" then
      headers["Content-Type"] = "application/json"
      body = item[4]
    end
    prepared[i] = wrk.format(item[1], item[2], headers, body)
  end
end

function request()
  if prepared == nil then
    return wrk.format()  -- a state that never sends (no init ran)
  end
  if tid == 0 and dry_run_pending then
    dry_run_pending = false
    return prepared[1]
  end
  local i = sent * stride + tid
  if i >= #prepared then
    wrapped = wrapped + 1
    i = i % #prepared
  end
  sent = sent + 1
  return prepared[i + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if (status < 200 or status > 299) and first_error == "" then
    first_error = status .. " " .. (body or ""):sub(1, 400):gsub("%s+", " ")
  end
end

function done(summary, latency, requests)
  local total_wrapped, by_thread, counts, first = 0, {}, {}, ""
  for _, thread in ipairs(threads) do
    by_thread[thread:get("tid") + 1] = thread:get("sent")
    total_wrapped = total_wrapped + thread:get("wrapped")
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
    if first == "" then first = thread:get("first_error") end
  end
  local status_parts = {}
  for status, n in pairs(counts) do
    status_parts[#status_parts + 1] = string.format('"%d":%d', status, n)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"sent_by_thread":[%s],"wrapped":%d,"statuses":{%s},"requests":%d,' ..
    '"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    table.concat(by_thread, ","), total_wrapped, table.concat(status_parts, ","),
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
  if first ~= "" then io.write("BENCH_FIRST_ERROR " .. first .. "\n") end
end
