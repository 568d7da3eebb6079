-- The request mix of bench/soak.sh (wrk -s). SOAK_PATH set: that one GET with the passport (the
-- network queries). Otherwise the Beacon mix over the two variants of SOAK_VARIANTS ("POS REF ALT;
-- POS REF ALT", 0-based POS): a boolean GET with the operator token, a count GET with a phenotype
-- filter with the passport, a count POST with the token. SOAK_DELAY_MS holds the rate; SOAK_ONCE
-- sends the mix once (one connection) and stops.
local token, passport = os.getenv("SOAK_TOKEN"), os.getenv("SOAK_PASSPORT")
local delay_ms = tonumber(os.getenv("SOAK_DELAY_MS") or "0")
local requests = {}
local path = os.getenv("SOAK_PATH")
if path then
  requests[1] = wrk.format("GET", path, { Authorization = "Bearer " .. passport })
else
  for pos, ref, alt in string.gmatch(os.getenv("SOAK_VARIANTS"), "(%d+) (%a+) (%a+)") do
    local query = "/g_variants?referenceName=22&start=" .. pos .. "&referenceBases=" .. ref .. "&alternateBases=" .. alt
    requests[#requests + 1] = wrk.format("GET", query, { Authorization = "Bearer " .. token })
    requests[#requests + 1] = wrk.format("GET", query .. "&requestedGranularity=count&filters=HP:0000707",
      { Authorization = "Bearer " .. passport })
    local body = '{"meta":{"apiVersion":"2.0"},"query":{"requestedGranularity":"count","requestParameters":'
      .. '{"referenceName":"22","start":[' .. pos .. '],"referenceBases":"' .. ref .. '","alternateBases":"' .. alt .. '"}}}'
    requests[#requests + 1] = wrk.format("POST", "/g_variants",
      { Authorization = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
  end
end

local next_request = 0
request = function()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

delay = function()
  return delay_ms
end

if os.getenv("SOAK_ONCE") then
  local answered = 0
  response = function(status)
    answered = answered + 1
    if status ~= 200 then
      io.stderr:write("soak.lua: a request of the mix got " .. status .. "\n")
    end
    if answered >= #requests then
      wrk.thread:stop()
    end
  end
end
