-- KEYS: room link; ARGV: digest nonce created expires in_room(1|0) set(1|0) channel
-- Replaces (or with set=0 deletes) the room's results link; returns the digest of the
-- link it replaced ('' when none), or -1 when there is no such room.
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local old = redis.call('HGET', KEYS[2], 'digest') or ''
redis.call('DEL', KEYS[2])
if ARGV[6] == '1' then
  redis.call('HSET', KEYS[2], 'digest', ARGV[1], 'nonce', ARGV[2], 'created', ARGV[3],
    'expires', ARGV[4], 'in_room', ARGV[5])
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PUBLISH', ARGV[7], version)
return old
