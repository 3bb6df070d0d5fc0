-- KEYS: room mine resp; ARGV: participant. Replies ref, record, ref, record, …
local order = redis.call('HGET', KEYS[1], 'qorder')
if not order then return false end
local out = {}
for _, qid in ipairs(cjson.decode(order)) do
  local refs = redis.call('HGET', KEYS[2], qid .. '\31' .. ARGV[1])
  if refs then
    for _, ref in ipairs(cjson.decode(refs)) do
      local record = redis.call('HGET', KEYS[3], ref)
      if record then
        out[#out + 1] = tostring(ref)
        out[#out + 1] = record
      end
    end
  end
end
return {'ok', out}
