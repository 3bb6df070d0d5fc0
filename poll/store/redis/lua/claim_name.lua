-- KEYS: room names namekeys; ARGV: participant name key
-- Replies {'ok', name} with the participant's name after the call, {'taken'}, or {'not_found'}.
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found'} end
local had = redis.call('HGET', KEYS[2], ARGV[1])
if had then return {'ok', had} end
if redis.call('HSETNX', KEYS[3], ARGV[3], ARGV[1]) == 0 then return {'taken'} end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return {'ok', ARGV[2]}
