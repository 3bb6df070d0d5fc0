-- KEYS: room status shown opened deadlines unshown; ARGV: patch (JSON) now_ms channel
if redis.call('EXISTS', KEYS[1]) == 0 then return {'not_found', ''} end
local p = cjson.decode(ARGV[1])
for qid, _ in pairs(p['statuses']) do
  if redis.call('HEXISTS', KEYS[2], qid) == 0 then return {'unknown', qid} end
end
for qid, _ in pairs(p['shown']) do
  if redis.call('HEXISTS', KEYS[2], qid) == 0 then return {'unknown', qid} end
end
if p['set_current'] == 1 then
  redis.call('HSET', KEYS[1], 'current', p['current'])
  if p['current_question'] == '' then
    redis.call('HDEL', KEYS[1], 'current_question')
  else
    redis.call('HSET', KEYS[1], 'current_question', p['current_question'])
  end
end
local now = tonumber(ARGV[2])
for qid, status in pairs(p['statuses']) do
  redis.call('HSET', KEYS[2], qid, status)
  redis.call('HDEL', KEYS[5], qid)
  if status == 'open' then
    redis.call('HSET', KEYS[4], qid, now)
    local seconds = p['timers'][qid]
    if seconds then redis.call('HSET', KEYS[5], qid, now + math.floor(seconds * 1000 + 0.5)) end
  end
end
for qid, shown in pairs(p['shown']) do
  if shown == 1 then
    redis.call('SADD', KEYS[3], qid)
    redis.call('SREM', KEYS[6], qid)
  else
    redis.call('SREM', KEYS[3], qid)
    redis.call('SADD', KEYS[6], qid)
  end
end
local join = p['join_screen']
if join == 'auto' then
  redis.call('HDEL', KEYS[1], 'join_screen')
elseif join == 'on' then
  redis.call('HSET', KEYS[1], 'join_screen', '1')
elseif join == 'off' then
  redis.call('HSET', KEYS[1], 'join_screen', '0')
end
if p['end'] == 1 and redis.call('HEXISTS', KEYS[1], 'ended_at') == 0 then
  redis.call('HSET', KEYS[1], 'ended_at', ARGV[2])
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PUBLISH', ARGV[3], version)
return {'ok', tostring(version)}
