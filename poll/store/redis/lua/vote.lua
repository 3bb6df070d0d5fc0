-- KEYS: room status subs resp mine counts respondents texts hidden deadlines
-- ARGV: vote (JSON: q question, p participant, k keys, t text, at ms, s submission,
--       m mode, n max_entries, a allow_change), channel. The vote JSON is stored as
--       the response: one argument to send keeps redis-py's packing cost low.
local meta = redis.call('HMGET', KEYS[1], 'version', 'ended_at', 'current_question')
if not meta[1] then return {'not_found', 0} end
local version = tonumber(meta[1])
if meta[2] then return {'room_ended', version} end
local v = cjson.decode(ARGV[1])
local qid = v['q']
if meta[3] ~= qid then return {'not_current', version} end
if redis.call('HGET', KEYS[2], qid) ~= 'open' then return {'closed', version} end
local sub = v['p'] .. '\31' .. v['s']
if redis.call('SISMEMBER', KEYS[3], sub) == 1 then return {'duplicate', version} end
local deadline = redis.call('HGET', KEYS[10], qid)
if deadline and v['at'] >= tonumber(deadline) then return {'too_late', version} end
local mine = qid .. '\31' .. v['p']
local old = redis.call('HGET', KEYS[5], mine)
local refs = {}
if old then refs = cjson.decode(old) end
local had = #refs > 0

-- Takes back one stored entry: its counters, its text, its moderation.
local function drop(ref, keys)
  for _, key in ipairs(keys) do
    local field = qid .. '\31' .. key
    if redis.call('HINCRBY', KEYS[6], field, -1) <= 0 then redis.call('HDEL', KEYS[6], field) end
  end
  redis.call('HDEL', KEYS[4], ref)
  redis.call('ZREM', KEYS[8], ref)
  redis.call('SREM', KEYS[9], ref)
end

local function same(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do if a[i] ~= b[i] then return false end end
  return true
end

if v['m'] == 'toggle' then
  for i, ref in ipairs(refs) do
    local raw = redis.call('HGET', KEYS[4], ref)
    if raw then
      local keys = cjson.decode(raw)['k']
      if same(keys, v['k']) then
        drop(ref, keys)
        table.remove(refs, i)
        if #refs == 0 then
          redis.call('HDEL', KEYS[5], mine)
          redis.call('HINCRBY', KEYS[7], qid, -1)
        else
          redis.call('HSET', KEYS[5], mine, cjson.encode(refs))
        end
        redis.call('SADD', KEYS[3], sub)
        version = redis.call('HINCRBY', KEYS[1], 'version', 1)
        redis.call('PUBLISH', ARGV[2], version)
        return {'saved', version}
      end
    end
  end
elseif v['m'] == 'replace' then
  if had then
    if v['a'] ~= 1 then return {'no_change', version} end
    for _, ref in ipairs(refs) do
      local raw = redis.call('HGET', KEYS[4], ref)
      if raw then drop(ref, cjson.decode(raw)['k']) end
    end
    refs = {}
  end
else
  -- append: only entries with a text count against the limit
  local texts = 0
  for _, ref in ipairs(refs) do
    if redis.call('ZSCORE', KEYS[8], ref) then texts = texts + 1 end
  end
  if texts >= v['n'] then return {'too_many', version} end
end
local ref = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('HSET', KEYS[4], ref, ARGV[1])
for _, key in ipairs(v['k']) do
  redis.call('HINCRBY', KEYS[6], qid .. '\31' .. key, 1)
end
if v['t'] ~= cjson.null then redis.call('ZADD', KEYS[8], ref, ref) end
if not had then redis.call('HINCRBY', KEYS[7], qid, 1) end
refs[#refs + 1] = ref
redis.call('HSET', KEYS[5], mine, cjson.encode(refs))
redis.call('SADD', KEYS[3], sub)
version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PUBLISH', ARGV[2], version)
return {'saved', version}
