-- wrk script for bench/suite.py: counts every response that is not 2xx as an error
-- (wrk itself counts only 4xx/5xx) and prints one machine-readable summary line.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_2xx = 0
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    not_2xx = not_2xx + 1
  end
end

function done(summary, latency, requests)
  local not_2xx_total = 0
  for _, thread in ipairs(threads) do
    not_2xx_total = not_2xx_total + thread:get("not_2xx")
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d not_2xx=%d connect=%d read=%d write=%d timeout=%d latency_p50_us=%d latency_p99_us=%d\n",
    summary.requests, summary.duration, summary.bytes, not_2xx_total, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
