-- A code claim is released or taken over only by who holds it (compare and set).
-- KEYS: code; ARGV: expected holder, new holder ('' deletes)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1
