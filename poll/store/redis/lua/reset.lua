-- KEYS: room resp mine counts respondents texts hidden marks; ARGV: question channel
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local prefix = ARGV[1] .. '\31'
local n = #prefix
local mine = redis.call('HGETALL', KEYS[3])
for i = 1, #mine, 2 do
  if string.sub(mine[i], 1, n) == prefix then
    for _, ref in ipairs(cjson.decode(mine[i + 1])) do
      redis.call('HDEL', KEYS[2], ref)
      redis.call('ZREM', KEYS[6], ref)
      redis.call('SREM', KEYS[7], ref)
    end
    redis.call('HDEL', KEYS[3], mine[i])
  end
end
for _, key in ipairs({KEYS[4], KEYS[8]}) do
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, n) == prefix then redis.call('HDEL', key, field) end
  end
end
redis.call('HDEL', KEYS[5], ARGV[1])
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PUBLISH', ARGV[2], version)
return version
