/**
 * Lua scripts of the Redis label join. Each call handles a whole batch, so a
 * batch costs one round trip, and each event's check-take-count runs
 * atomically: a label and its inference can never both miss each other, and a
 * replay can never count twice.
 *
 * Keys (P is the configured prefix; <id> is `<byte length of modelId>:<modelId>`
 * so that any model and event ids stay unambiguous):
 *   P e:<id>:<eventId>     one key per event, TTL = label horizon, holding
 *                          the inference record (JSON, starts with `[`) while it waits for its label,
 *                          or `L` + the label (JSON) while a label waits for its inference,
 *                          or `J` once joined: a replay of either side then counts as a duplicate
 *   P c:<id>:<paneMs>:<paneStart>   performance counters of a pane (hash), TTL refreshed on change
 *   P x:<id>:<paneMs>      pane starts holding counters (sorted set)
 *   P w                    waiting labels (sorted set of `<id>:<eventId>`, score = when the wait ends)
 *   P dirty                panes changed since last taken (set of `<paneMs>:<paneStart>:<modelId>`)
 *   P s:<id>               join counts of a model (hash)
 *
 * The scripts use SET with GET (and NX), so they need Redis 7.0 or later.
 * Keys are derived inside the scripts, so they need a single Redis (or all
 * keys in one cluster slot, e.g. a prefix with a hash tag like `ds:{labels}:`).
 *
 * The increments mirror predictionIncrements / labelIncrements in
 * src/core/performance/counters.ts field for field. On the hot path (every
 * inference) the caller sends the prediction increments of a chunk already
 * summed per pane; the script subtracts those of the rare duplicates, so an
 * inference costs a GET and a SET. An inference record is
 * `[ts, kind ('s'|'c'|'r'), predictedPositive, score, predictedClass,
 * predictedValue, positiveClass, [paneMs...]]`; a label is
 * `[labelClass, labelValue, ts]`; absent values are JSON null.
 */

const COMMON = `
local P = ARGV[1]
local HORIZON = tonumber(ARGV[2])
local COUNTER_TTL = tonumber(ARGV[3])
local NOW = tonumber(ARGV[4])
local NULL = cjson.null
local FLOAT = { ss = true, sq = true, he = true, bs = true, ra = true, rq = true, re = true }
local LOG_GAMMA = math.log(1.05)
local SCORE_BINS = 1000
local MAX_PANES = 20000

local panes, paneOrder, stats, statOrder = {}, {}, {}, {}
local joinedByModel = {}
local stored, joined, dups = 0, 0, 0

local function id(model) return #model .. ':' .. model end

local function stat(model, field, d)
  local s = stats[model]
  if not s then s = {}; stats[model] = s; statOrder[#statOrder + 1] = model end
  s[field] = (s[field] or 0) + d
end

local function add(t, f, d) t[f] = (t[f] or 0) + d end

local function binaryEntropy(p)
  if p <= 0 or p >= 1 then return 0 end
  return -(p * math.log(p) + (1 - p) * math.log(1 - p))
end

local function scoreBin(s)
  local b = math.floor(s * SCORE_BINS)
  if b < 0 then return 0 end
  if b >= SCORE_BINS then return SCORE_BINS - 1 end
  return b
end

local function delayBin(d)
  if not (d >= 1) then return 0 end
  local b = math.ceil(math.log(d) / LOG_GAMMA)
  if b < 1 then return 1 end
  return b
end

local function fmt(x) return string.format('%d', x) end

local function predictionIncs(r)
  local t = { pn = 1 }
  local pb = r[3]
  if pb ~= NULL then
    t.pk = 1
    if pb == 1 then t.pp = 1 end
  end
  if r[5] ~= NULL then t['pc:' .. r[5]] = 1 end
  local v
  if r[2] == 'r' then v = r[6] else v = r[4] end
  if v ~= NULL then
    t.sn = 1; t.ss = v; t.sq = v * v
    if r[2] ~= 'r' then t.he = binaryEntropy(v) end
  end
  return t
end

local function labelIncs(r, l)
  local t = { n = 1, dn = 1 }
  local delay = l[3] - r[1]
  if delay < 0 then delay = 0 end
  t['d:' .. fmt(delayBin(delay))] = 1
  if r[2] == 'r' then
    if r[6] ~= NULL and l[2] ~= NULL then
      local e = r[6] - l[2]
      t.rn = 1; t.ra = math.abs(e); t.rq = e * e; t.re = e
    end
    return t
  end
  local y = 0
  if l[1] == r[7] then y = 1 end
  local pb = r[3]
  if pb ~= NULL then
    if pb == 1 then
      if y == 1 then t.tp = 1 else t.fp = 1 end
    else
      if y == 1 then t.fn = 1 else t.tn = 1 end
    end
  end
  local s = r[4]
  if s ~= NULL then
    local d = s - y
    t.bn = 1; t.bs = d * d
    t['h' .. y .. ':' .. fmt(scoreBin(s))] = 1
  end
  if r[2] == 'c' then
    add(t, 'ca:' .. l[1], 1)
    if r[5] ~= NULL then
      add(t, 'cp:' .. r[5], 1)
      if r[5] == l[1] then t.ok = 1; add(t, 'ct:' .. l[1], 1) end
    end
  elseif pb ~= NULL and pb == y then
    t.ok = 1
  end
  return t
end

-- size and start are decimal strings.
local function paneFields(model, size, start)
  local key = P .. 'c:' .. id(model) .. ':' .. size .. ':' .. start
  local p = panes[key]
  if not p then
    p = { f = {}, model = model, size = size, start = start }
    panes[key] = p
    paneOrder[#paneOrder + 1] = key
  end
  return p.f
end

local function addTo(r, model, incs)
  local ts = r[1]
  for _, size in ipairs(r[8]) do
    local f = paneFields(model, fmt(size), fmt(ts - (ts % size)))
    for field, d in pairs(incs) do add(f, field, d) end
  end
end

local function countJoin(model)
  joined = joined + 1
  joinedByModel[model] = (joinedByModel[model] or 0) + 1
  stat(model, 'joined', 1)
end

local function flush()
  for _, key in ipairs(paneOrder) do
    local p = panes[key]
    for f, d in pairs(p.f) do
      if d ~= 0 then
        if FLOAT[f] then redis.call('HINCRBYFLOAT', key, f, d) else redis.call('HINCRBY', key, f, d) end
      end
    end
    redis.call('PEXPIRE', key, COUNTER_TTL)
    local xkey = P .. 'x:' .. id(p.model) .. ':' .. p.size
    redis.call('ZADD', xkey, p.start, p.start)
    redis.call('PEXPIRE', xkey, COUNTER_TTL)
    if redis.call('ZCARD', xkey) > MAX_PANES then redis.call('ZREMRANGEBYRANK', xkey, 0, -(MAX_PANES + 1)) end
    redis.call('SADD', P .. 'dirty', p.size .. ':' .. p.start .. ':' .. p.model)
  end
  for _, model in ipairs(statOrder) do
    for f, d in pairs(stats[model]) do redis.call('HINCRBY', P .. 's:' .. id(model), f, d) end
  end
  return cjson.encode({ stored = stored, joined = joined, duplicates = dups, joinedByModel = joinedByModel })
end
`;

/**
 * ARGV: prefix, horizonMs, counterTtlMs, nowMs, count, then per inference
 * modelId, eventId, record; then the number of panes, and per pane modelId,
 * paneMs, paneStart, field count and that many field, delta pairs: the
 * prediction increments of the whole chunk. Stores each new inference (or
 * joins the label waiting for it); a duplicate's prediction increments are
 * taken back out, so each inference counts once.
 */
export const RECORD_INFERENCES = `${COMMON}
local n = tonumber(ARGV[5])
local a = 6 + n * 3
local groups = tonumber(ARGV[a]); a = a + 1
for _ = 1, groups do
  local f = paneFields(ARGV[a], ARGV[a + 1], ARGV[a + 2])
  local k = tonumber(ARGV[a + 3]); a = a + 4
  for _ = 1, k do
    add(f, ARGV[a], tonumber(ARGV[a + 1])); a = a + 2
  end
end
for i = 0, n - 1 do
  local model, eid, rec = ARGV[6 + i * 3], ARGV[7 + i * 3], ARGV[8 + i * 3]
  local sfx = id(model) .. ':' .. eid
  local key = P .. 'e:' .. sfx
  -- One call: stores the record unless the key holds something, and says what it held.
  local old = redis.call('SET', key, rec, 'NX', 'PX', HORIZON, 'GET')
  if not old then
    stored = stored + 1
    stat(model, 'inferences', 1)
  elseif string.byte(old, 1) == 76 then
    -- 'L': its label is waiting.
    stat(model, 'inferences', 1)
    redis.call('SET', key, 'J', 'PX', HORIZON)
    redis.call('ZREM', P .. 'w', sfx)
    local r = cjson.decode(rec)
    addTo(r, model, labelIncs(r, cjson.decode(string.sub(old, 2))))
    countJoin(model)
  else
    dups = dups + 1
    stat(model, 'inferenceDuplicates', 1)
    local r = cjson.decode(rec)
    local t = predictionIncs(r)
    for f, d in pairs(t) do t[f] = -d end
    addTo(r, model, t)
  end
end
return flush()
`;

/**
 * ARGV: prefix, horizonMs, counterTtlMs, nowMs, count, then per label
 * modelId, eventId, label. Takes each label's inference record and counts
 * the pair (the key becomes the joined marker), or leaves the label waiting.
 */
export const RECORD_LABELS = `${COMMON}
local n = tonumber(ARGV[5])
for i = 0, n - 1 do
  local model, eid, lab = ARGV[6 + i * 3], ARGV[7 + i * 3], ARGV[8 + i * 3]
  local sfx = id(model) .. ':' .. eid
  local key = P .. 'e:' .. sfx
  stat(model, 'labels', 1)
  -- One call in the common case: the key becomes the joined marker, and says what it held.
  local old = redis.call('SET', key, 'J', 'PX', HORIZON, 'GET')
  if not old then
    redis.call('SET', key, 'L' .. lab, 'PX', HORIZON)
    redis.call('ZADD', P .. 'w', NOW + HORIZON, sfx)
    stored = stored + 1
    stat(model, 'waited', 1)
  elseif string.byte(old, 1) == 91 then
    -- '[': the inference record.
    local r = cjson.decode(old)
    addTo(r, model, labelIncs(r, cjson.decode(lab)))
    countJoin(model)
  else
    dups = dups + 1
    stat(model, 'labelDuplicates', 1)
    -- A label already waiting stays waiting (its wait still ends when the sweep says).
    if string.byte(old, 1) == 76 then redis.call('SET', key, old, 'PX', HORIZON) end
  end
end
return flush()
`;

/**
 * ARGV: prefix, nowMs, max. Counts and drops labels whose wait ended; returns
 * JSON `{modelId: expired}`.
 */
export const EXPIRE_WAITING = `
local P = ARGV[1]
local members = redis.call('ZRANGEBYSCORE', P .. 'w', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local byModel = {}
for _, m in ipairs(members) do
  redis.call('ZREM', P .. 'w', m)
  local v = redis.call('GET', P .. 'e:' .. m)
  if v and string.byte(v, 1) == 76 then redis.call('DEL', P .. 'e:' .. m) end
  local colon = string.find(m, ':', 1, true)
  local len = tonumber(string.sub(m, 1, colon - 1))
  local model = string.sub(m, colon + 1, colon + len)
  byModel[model] = (byModel[model] or 0) + 1
  redis.call('HINCRBY', P .. 's:' .. len .. ':' .. model, 'expired', 1)
end
return cjson.encode(byModel)
`;
