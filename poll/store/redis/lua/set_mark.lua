-- KEYS: room marks; ARGV: question key value set(1|0) channel
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local field = ARGV[1] .. '\31' .. ARGV[2]
if ARGV[4] == '1' then
  redis.call('HSET', KEYS[2], field, ARGV[3])
else
  redis.call('HDEL', KEYS[2], field)
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PUBLISH', ARGV[5], version)
return version
