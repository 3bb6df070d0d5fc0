-- KEYS: room resp hidden; ARGV: ref question hidden channel
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw or cjson.decode(raw)['q'] ~= ARGV[2] then return 0 end
if ARGV[3] == '1' then
  redis.call('SADD', KEYS[3], ARGV[1])
else
  redis.call('SREM', KEYS[3], ARGV[1])
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PUBLISH', ARGV[4], version)
return 1
