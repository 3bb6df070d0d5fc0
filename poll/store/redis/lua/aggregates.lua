-- KEYS: room respondents counts texts resp hidden marks; read-only, atomic snapshot
local order = redis.call('HGET', KEYS[1], 'qorder')
if not order then return false end
local refs = redis.call('ZRANGE', KEYS[4], 0, -1)
local records = {}
for i, ref in ipairs(refs) do records[i] = redis.call('HGET', KEYS[5], ref) end
return {order, redis.call('HGETALL', KEYS[2]), redis.call('HGETALL', KEYS[3]), refs, records,
        redis.call('SMEMBERS', KEYS[6]), redis.call('HGETALL', KEYS[7])}
