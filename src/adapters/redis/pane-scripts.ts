/**
 * Lua scripts of the Redis pane coordinator. Each runs atomically on the
 * server, so "is this pane complete, and who evaluates it" has exactly one
 * answer however many detector processes report at the same moment.
 *
 * Keys are built inside the scripts from a base prefix that holds the consumer
 * group's hash tag (`P{panes:<group>}:`), so every key of a call shares one
 * cluster slot; the base comes as KEYS[1] (routing the call) and as ARGV[1].
 *
 * Layout under `base`:
 *   pane:<id>     HASH  p:<topic>:<partition> -> partial, m/s/e -> model/start/end,
 *                       st -> pending | claimed | done, v -> version (bumped per changed partial),
 *                       r -> retention once complete (the largest asked for by a partial)
 *   pending       ZSET  pane ids waiting for completeness, scored by pane end
 *   claims        ZSET  claimed, unsettled pane ids, scored by lease expiry
 *   idx:<model>   ZSET  complete pane ids of a model, scored by pane start
 *   wm:<topic>    HASH  partition -> watermark (monotonic)
 *   idle:<topic>  HASH  partition -> 1 when idle
 */

/**
 * ARGV: base, topic, partition, partitionCount, watermark ('' = none yet), idle ('1'|'0'),
 * now, leaseMs (0: done at election), retentionMs (default), nPartials, then per partial: id,
 * model, start, end, state, retention ('' = default). Returns { {id, version, {field, value, ...}}, ... } for the panes the
 * caller must evaluate.
 */
export const REPORT_SCRIPT = `
local base = ARGV[1]
local topic = ARGV[2]
local partition = ARGV[3]
local count = tonumber(ARGV[4])
local now = tonumber(ARGV[7])
local lease = tonumber(ARGV[8])
local retention = tonumber(ARGV[9])
local wmKey = base .. 'wm:' .. topic
local idleKey = base .. 'idle:' .. topic

if ARGV[5] ~= '' then
  local wm = tonumber(ARGV[5])
  local old = redis.call('HGET', wmKey, partition)
  if (not old) or tonumber(old) < wm then redis.call('HSET', wmKey, partition, ARGV[5]) end
end
redis.call('HSET', idleKey, partition, ARGV[6])

local elected = {}
local order = {}
local function elect(id)
  if not elected[id] then
    elected[id] = true
    order[#order + 1] = id
  end
end

local field = 'p:' .. topic .. ':' .. partition
local i = 11
for n = 1, tonumber(ARGV[10]) do
  local id, model, s, e, state, keep = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  i = i + 6
  local pk = base .. 'pane:' .. id
  if keep ~= '' then
    local had = tonumber(redis.call('HGET', pk, 'r') or '0')
    if tonumber(keep) > had then redis.call('HSET', pk, 'r', keep) end
  end
  -- Replays send the same partial again: only a changed partial is news.
  if redis.call('HGET', pk, field) ~= state then
    redis.call('HSET', pk, field, state, 'm', model, 's', s, 'e', e)
    redis.call('HINCRBY', pk, 'v', 1)
    local st = redis.call('HGET', pk, 'st')
    if not st then
      redis.call('HSET', pk, 'st', 'pending')
      redis.call('ZADD', base .. 'pending', e, id)
    elseif st ~= 'pending' then
      -- A late partial of a pane already evaluated: evaluate it again, with it.
      elect(id)
    end
  end
end

-- The frontier: every partition has passed it, or is idle. A partition that never reported holds it back.
local wms = redis.call('HGETALL', wmKey)
local idles = redis.call('HGETALL', idleKey)
local wmOf, idleOf = {}, {}
for j = 1, #wms, 2 do wmOf[wms[j]] = tonumber(wms[j + 1]) end
for j = 1, #idles, 2 do idleOf[idles[j]] = idles[j + 1] end
local frontier = nil
local blocked = false
for q = 0, count - 1 do
  local qs = tostring(q)
  if idleOf[qs] ~= '1' then
    local w = wmOf[qs]
    if not w then
      blocked = true
      break
    end
    if (not frontier) or w < frontier then frontier = w end
  end
end

if not blocked then
  local upper = '+inf'
  if frontier then upper = string.format('%.17g', frontier) end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', base .. 'pending', '-inf', upper)) do elect(id) end
end
-- Claims whose evaluator did not settle in time (it crashed): someone else takes them.
if lease > 0 then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', base .. 'claims', '-inf', tostring(now))) do elect(id) end
end

local out = {}
for _, id in ipairs(order) do
  local pk = base .. 'pane:' .. id
  if redis.call('EXISTS', pk) == 1 then
    redis.call('ZREM', base .. 'pending', id)
    local model = redis.call('HGET', pk, 'm')
    local s = tonumber(redis.call('HGET', pk, 's'))
    local keep = tonumber(redis.call('HGET', pk, 'r') or retention)
    local idx = base .. 'idx:' .. model
    redis.call('ZADD', idx, s, id)
    -- The index outlives the panes it names by at most the longest retention asked for.
    redis.call('ZREMRANGEBYSCORE', idx, '-inf', '(' .. string.format('%.17g', s - math.max(keep, retention)))
    if redis.call('PTTL', idx) < keep then redis.call('PEXPIRE', idx, keep) end
    if lease > 0 then
      redis.call('HSET', pk, 'st', 'claimed')
      redis.call('ZADD', base .. 'claims', now + lease, id)
    else
      redis.call('HSET', pk, 'st', 'done')
    end
    redis.call('PEXPIRE', pk, keep)
    out[#out + 1] = { id, redis.call('HGET', pk, 'v'), redis.call('HGETALL', pk) }
  else
    redis.call('ZREM', base .. 'claims', id)
  end
end
return out
`;

/**
 * ARGV: base, then pairs of id, version. Marks claimed panes done when the
 * evaluation of that version is durable; a pane that received a partial since
 * stays claimed for whoever evaluates the newer version.
 */
export const SETTLE_SCRIPT = `
local base = ARGV[1]
local settled = 0
for i = 2, #ARGV, 2 do
  local id, v = ARGV[i], ARGV[i + 1]
  local pk = base .. 'pane:' .. id
  if redis.call('HGET', pk, 'st') == 'claimed' and redis.call('HGET', pk, 'v') == v then
    redis.call('HSET', pk, 'st', 'done')
    redis.call('ZREM', base .. 'claims', id)
    settled = settled + 1
  end
end
return settled
`;
