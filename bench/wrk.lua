-- Distinct ~900-byte incoming_message bodies: ids seeded by the run's prefix and a counter, over
-- 5000 contacts. Arguments: prefix, secret, path.
local counter = 0
local prefix, secret, path = "run", "secret", "/webhook"
local filler = string.rep("lorem+ipsum+dolor+sit+amet+", 14)

function init(args)
  prefix = args[1] or prefix
  secret = args[2] or secret
  path = args[3] or path
end

function request()
  counter = counter + 1
  local c = counter % 5000
  local body = "event=incoming_message&id=SM" .. prefix .. counter
    .. "&message_type=sms&direction=incoming&status=received"
    .. "&content=Benchmark+message+" .. counter .. "+" .. filler
    .. "&from_number=%2B1650555" .. string.format("%04d", c)
    .. "&to_number=%2B16505550100&time_created=" .. (1767225600 + counter)
    .. "&contact_id=CTbench" .. c .. "&phone_id=PNbench0000000001"
    .. "&project_id=PJbench0000000001&service_id=SVbench0000000001&route_id=PNbench0000000001"
    .. "&contact%5Bname%5D=Bench+" .. c .. "&contact%5Bvars%5D%5Bplan%5D=gold"
    .. "&contact%5Bphone_number%5D=%2B1650555" .. string.format("%04d", c)
    .. "&state%5Bid%5D=&secret=" .. secret
  return wrk.format("POST", path, { ["Content-Type"] = "application/x-www-form-urlencoded" }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p99":%d,"p999":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
