-- KEYS: room presence; ARGV: process count now_ms ttl_ms channel
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return -1 end
local now, ttl = tonumber(ARGV[3]), tonumber(ARGV[4])
local function total()
  local sum = 0
  local all = redis.call('HGETALL', KEYS[2])
  for i = 1, #all, 2 do
    local count, seen = string.match(all[i + 1], '^(%d+):(%d+)$')
    if tonumber(seen) >= now - ttl then
      sum = sum + tonumber(count)
    else
      redis.call('HDEL', KEYS[2], all[i])
    end
  end
  return sum
end
local before = total()
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
if total() ~= before then redis.call('PUBLISH', ARGV[5], version) end
return 1
