-- KEYS: room joined; ARGV: participant channel
-- Replies 1 when the participant joined now (the version bumped and published),
-- 0 when she had joined before, -1 when there is no room.
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PUBLISH', ARGV[2], version)
return 1
