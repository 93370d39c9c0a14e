/**
 * Lua scripts of the compact Redis label join. Each call handles a chunk of
 * one model's events, so a chunk costs one round trip, and each event's
 * check-take-count runs atomically: a label and its inference can never both
 * miss each other, and a replay can never count twice.
 *
 * Every key of a model lives under one hash tag, `P{<modelId>}:` (B below),
 * so a script's keys share a Redis Cluster slot; KEYS[1] is B and routes the
 * call. Models spread over the masters of a cluster; one model's join runs on
 * one master.
 *
 * Pending entries are not a key each. An event is an 8-byte fingerprint of its
 * eventId (the field) in a small hash (the bucket), so Redis keeps it in its
 * listpack encoding: about 26 bytes per pending prediction instead of a key's
 * ~100 bytes of overhead. Buckets belong to a generation: processing time cut
 * into slices of a quarter of the label horizon; a generation's buckets all
 * expire together, one horizon after the generation ends (TTL by bucket), so
 * an entry lives between one and one and a quarter horizons. Inserts go to the
 * current generation, lookups probe the live ones, newest first. Within a
 * generation the buckets grow by linear hashing: when the generation holds
 * more than SPLIT entries per bucket, the next bucket in turn is split in
 * two (rewritten, so both stay listpacks), which keeps buckets near SPLIT
 * entries and under Redis's `hash-max-listpack-entries` (128) at any volume.
 *
 * Keys under B:
 *   B g                  meta hash: `t:<gen>` -> `<level>:<split>:<entries>` of a generation,
 *                        `spec:<id>` / `sid:<json>` the model specs records refer to, `nspec`
 *   B b:<gen>:<bucket>   bucket hash: fingerprint -> entry
 *   B c:<paneMs>:<start> performance counters of a pane (hash), TTL refreshed on change
 *   B x:<paneMs>         pane starts holding counters (sorted set)
 *   B w                  waiting labels (sorted set of `<fingerprint><gen>`, score = when the wait ends)
 *   B d                  panes changed since last taken (set of `<paneMs>:<paneStart>`)
 *   B s                  join counts of the model (hash; `f` first inference, `ll` last label, ms)
 *
 * An entry is one of:
 *   an inference: byte spec id (0-63), byte flags, then event time (int32 ms
 *     from the generation start, or a double when flags bit 7 says so), score
 *     (none, uint16 in 1e-4, or double: flags bits 2-3), predicted value (none,
 *     float or double: bits 5-6), predicted class (the rest, when bit 4);
 *     bits 0-1 predicted positive (0 unknown, 1 no, 2 yes). All little-endian.
 *   a waiting label: `L`, double event time, byte (1: numeric value follows),
 *     double value, then the label class;
 *   `J` once joined: a replay of either side then counts as a duplicate.
 * The spec (kind, positive class, pane lengths, `o` = `c` when the score is
 * the predicted class's confidence) is per model, kept once in
 * the meta hash and referred to by its id.
 *
 * The increments mirror predictionIncrements / labelIncrements in
 * src/core/performance/counters.ts field for field. The caller sends the
 * prediction increments of a chunk already summed per pane; the script
 * subtracts those of the rare duplicates.
 */

const COMMON = `
local B = KEYS[1]
local HORIZON = tonumber(ARGV[1])
local COUNTER_TTL = tonumber(ARGV[2])
local NOW = tonumber(ARGV[3])
local GEN_MS = tonumber(ARGV[4])
local MODEL = ARGV[5]
local NULL = cjson.null
local FLOAT = { ss = true, sq = true, he = true, bs = true, ra = true, rq = true, re = true }
local LOG_GAMMA = math.log(1.05)
local SCORE_BINS = 1000
local MAX_PANES = 20000
local SPLIT = 48
local META = B .. 'g'
local GEN = math.floor(NOW / GEN_MS)
local OLDEST = math.floor((NOW - HORIZON) / GEN_MS)

local panes, paneOrder, stats = {}, {}, {}
local stored, joined, dups = 0, 0, 0

local function stat(field, d) stats[field] = (stats[field] or 0) + d end
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

local DELAY_KEYS, HIST_KEYS = {}, { [0] = {}, [1] = {} }
local function delayKey(b)
  local k = DELAY_KEYS[b]
  if not k then k = 'd:' .. fmt(b); DELAY_KEYS[b] = k end
  return k
end
local function histKey(y, b)
  local k = HIST_KEYS[y][b]
  if not k then k = 'h' .. y .. ':' .. fmt(b); HIST_KEYS[y][b] = k end
  return k
end

-- Adds the increments of a labelled pair to a pane's fields (labelIncrements in counters.ts).
local function applyLabel(t, r, l)
  add(t, 'n', 1)
  add(t, 'dn', 1)
  local delay = l[3] - r[1]
  if delay < 0 then delay = 0 end
  add(t, delayKey(delayBin(delay)), 1)
  if r[2] == 'r' then
    if r[6] ~= NULL and l[2] ~= NULL then
      local e = r[6] - l[2]
      add(t, 'rn', 1); add(t, 'ra', math.abs(e)); add(t, 'rq', e * e); add(t, 're', e)
    end
    return
  end
  local y = 0
  if l[1] == r[7] then y = 1 end
  local pb = r[3]
  if pb ~= NULL then
    if pb == 1 then
      if y == 1 then add(t, 'tp', 1) else add(t, 'fp', 1) end
    else
      if y == 1 then add(t, 'fn', 1) else add(t, 'tn', 1) end
    end
  end
  -- The score's outcome: the positive class, or (a confidence of the predicted class) whether the prediction was right.
  local o = y
  if r[9] == 'c' then
    if r[5] == NULL then o = nil elseif r[5] == l[1] then o = 1 else o = 0 end
  end
  local s = r[4]
  if s ~= NULL and o ~= nil then
    local d = s - o
    add(t, 'bn', 1); add(t, 'bs', d * d)
    add(t, histKey(o, scoreBin(s)), 1)
  end
  if r[2] == 'c' then
    add(t, 'ca:' .. l[1], 1)
    if r[5] ~= NULL then
      add(t, 'cp:' .. r[5], 1)
      if r[5] == l[1] then add(t, 'ok', 1); add(t, 'ct:' .. l[1], 1) end
    end
  elseif pb ~= NULL and pb == y then
    add(t, 'ok', 1)
  end
end

-- Generations: their linear-hashing state, read once per call.
local gens = {}
do
  local fields = {}
  for g = OLDEST, GEN do fields[#fields + 1] = 't:' .. fmt(g) end
  local vals = redis.call('HMGET', META, unpack(fields))
  for i, v in ipairs(vals) do
    if v then
      local l, s, n = string.match(v, '^(%d+):(%d+):(%d+)$')
      gens[OLDEST + i - 1] = { l = tonumber(l), s = tonumber(s), n = tonumber(n) }
    end
  end
end

local function expireAt(g) return (g + 1) * GEN_MS + HORIZON end
local function hashOf(fp) return struct.unpack('>I4', fp) end
local bucketKeys = {}
local function bucketKey(g, b)
  local byGen = bucketKeys[g]
  if not byGen then byGen = {}; bucketKeys[g] = byGen end
  local k = byGen[b]
  if not k then k = B .. 'b:' .. fmt(g) .. ':' .. fmt(b); byGen[b] = k end
  return k
end
local function address(h, t)
  local n = 2 ^ t.l
  local b = h % n
  if b < t.s then b = h % (n * 2) end
  return b
end

-- The entry of a fingerprint in the live generations: value, generation, bucket key.
local function lookup(fp)
  local h = hashOf(fp)
  for g = GEN, OLDEST, -1 do
    local t = gens[g]
    if t then
      local key = bucketKey(g, address(h, t))
      local v = redis.call('HGET', key, fp)
      if v then return v, g, key end
    end
  end
  return nil
end

local function rewrite(key, flat, g)
  if #flat == 0 then flat = { '', '' } end
  redis.call('HSET', key, unpack(flat))
  redis.call('PEXPIREAT', key, expireAt(g))
end

-- Splits the next bucket of generation g in two (linear hashing); both are written afresh.
local function split(g, t)
  local n = 2 ^ t.l
  local old = bucketKey(g, t.s)
  local all = redis.call('HGETALL', old)
  local keep, move = {}, {}
  for i = 1, #all, 2 do
    local f = all[i]
    if #f == 8 then
      local dest = keep
      if hashOf(f) % (n * 2) ~= t.s then dest = move end
      dest[#dest + 1] = f
      dest[#dest + 1] = all[i + 1]
    end
  end
  redis.call('DEL', old)
  rewrite(old, keep, g)
  rewrite(bucketKey(g, t.s + n), move, g)
  t.s = t.s + 1
  if t.s == n then t.l = t.l + 1; t.s = 0 end
end

local function insert(fp, v)
  local t = gens[GEN]
  if not t then
    t = { l = 0, s = 0, n = 0, new = true }
    gens[GEN] = t
  end
  t.changed = true
  local key = bucketKey(GEN, address(hashOf(fp), t))
  redis.call('HSET', key, fp, v)
  if t.n == 0 then redis.call('PEXPIREAT', key, expireAt(GEN)) end
  t.n = t.n + 1
  if t.n > SPLIT * (2 ^ t.l + t.s) then split(GEN, t) end
end

local function saveGenerations()
  local t = gens[GEN]
  if not (t and t.changed) then return end
  if t.new then
    -- A new generation: forget the state of the dead ones.
    local old = {}
    for _, f in ipairs(redis.call('HKEYS', META)) do
      if string.sub(f, 1, 2) == 't:' and tonumber(string.sub(f, 3)) < OLDEST then old[#old + 1] = f end
    end
    if #old > 0 then redis.call('HDEL', META, unpack(old)) end
  end
  redis.call('HSET', META, 't:' .. fmt(GEN), t.l .. ':' .. t.s .. ':' .. t.n)
  redis.call('PEXPIRE', META, 2 * HORIZON + 2 * GEN_MS)
end

-- Model specs by id, read on demand.
local specs = {}
local function specOf(id)
  local s = specs[id]
  if not s then
    local json = redis.call('HGET', META, 'spec:' .. id)
    if json then s = cjson.decode(json) else s = { k = 's', p = '1', z = {} } end
    specs[id] = s
  end
  return s
end

local function u8(v, pos) return string.byte(v, pos), pos + 1 end

-- An inference entry as the increments read it: {ts, kind, predictedPositive, score, class, value, positiveClass, panes, scoreOf}.
local function decodeInference(v, g)
  local spec = specOf(string.byte(v, 1))
  local flags = string.byte(v, 2)
  local pos = 3
  local ts, score, value, class = 0, NULL, NULL, NULL
  if flags >= 128 then ts, pos = struct.unpack('<d', v, pos)
  else
    local d
    d, pos = struct.unpack('<i4', v, pos)
    ts = g * GEN_MS + d
  end
  local sc = bit.band(bit.rshift(flags, 2), 3)
  if sc == 1 then
    local k
    k, pos = struct.unpack('<I2', v, pos)
    score = k / 10000
  elseif sc == 2 then score, pos = struct.unpack('<d', v, pos) end
  local vc = bit.band(bit.rshift(flags, 5), 3)
  if vc == 1 then value, pos = struct.unpack('<f', v, pos)
  elseif vc == 2 then value, pos = struct.unpack('<d', v, pos) end
  if bit.band(flags, 16) ~= 0 then class = string.sub(v, pos) end
  local pp = bit.band(flags, 3)
  local positive = NULL
  if pp > 0 then positive = pp - 1 end
  return { ts, spec.k, positive, score, class, value, spec.p, spec.z, spec.o }
end

-- A waiting label entry (starting with L): {class, value, ts}.
local function decodeLabel(v)
  local ts, pos = struct.unpack('<d', v, 2)
  local has
  has, pos = u8(v, pos)
  local value = NULL
  if has == 1 then value, pos = struct.unpack('<d', v, pos) end
  return { string.sub(v, pos), value, ts }
end

local function paneFields(size, start)
  local key = B .. 'c:' .. size .. ':' .. start
  local p = panes[key]
  if not p then
    p = { f = {}, size = size, start = start }
    panes[key] = p
    paneOrder[#paneOrder + 1] = key
  end
  return p.f
end

local paneCache = {}
local function paneOf(size, start)
  local bySize = paneCache[size]
  if not bySize then bySize = {}; paneCache[size] = bySize end
  local f = bySize[start]
  if not f then f = paneFields(fmt(size), fmt(start)); bySize[start] = f end
  return f
end

local function addTo(r, incs)
  local ts = r[1]
  for _, size in ipairs(r[8]) do
    local f = paneOf(size, ts - (ts % size))
    for field, d in pairs(incs) do add(f, field, d) end
  end
end

local function addLabel(r, l)
  local ts = r[1]
  for _, size in ipairs(r[8]) do applyLabel(paneOf(size, ts - (ts % size)), r, l) end
end

local function countJoin()
  joined = joined + 1
  stat('joined', 1)
end

local function waitMember(fp, g) return fp .. fmt(g) end

-- The events of a chunk argument: per event an 8-byte fingerprint, the entry's length (uint32 LE), the entry.
local function chunkEvents(data, n)
  local pos, i = 1, 0
  return function()
    if i == n then return nil end
    i = i + 1
    local len = struct.unpack('<I4', data, pos + 8)
    local fp, entry = string.sub(data, pos, pos + 7), string.sub(data, pos + 12, pos + 11 + len)
    pos = pos + 12 + len
    return fp, entry
  end
end

local function flush()
  saveGenerations()
  for _, key in ipairs(paneOrder) do
    local p = panes[key]
    for f, d in pairs(p.f) do
      if d ~= 0 then
        if FLOAT[f] then redis.call('HINCRBYFLOAT', key, f, d) else redis.call('HINCRBY', key, f, d) end
      end
    end
    redis.call('PEXPIRE', key, COUNTER_TTL)
    local xkey = B .. 'x:' .. p.size
    redis.call('ZADD', xkey, p.start, p.start)
    redis.call('PEXPIRE', xkey, COUNTER_TTL)
    if redis.call('ZCARD', xkey) > MAX_PANES then redis.call('ZREMRANGEBYRANK', xkey, 0, -(MAX_PANES + 1)) end
    redis.call('SADD', B .. 'd', p.size .. ':' .. p.start)
    redis.call('PEXPIRE', B .. 'd', COUNTER_TTL)
  end
  for f, d in pairs(stats) do redis.call('HINCRBY', B .. 's', f, d) end
  return { stored, joined, dups }
end
`;

/**
 * KEYS: B. ARGV: horizonMs, counterTtlMs, nowMs, generationMs, modelId, spec
 * (JSON `{k, p, z}`), count, the chunk (per inference its fingerprint, entry
 * length and entry without the spec id, in one argument); then the number of panes, and per pane paneMs,
 * paneStart, field count and that many field, delta pairs: the prediction
 * increments of the whole chunk. Stores each new inference (or joins the
 * label waiting for it); a duplicate's prediction increments are taken back
 * out, so each inference counts once. Returns {stored, joined, duplicates}.
 */
export const RECORD_INFERENCES = `${COMMON}
local function specId(json)
  local id = redis.call('HGET', META, 'sid:' .. json)
  if id then return tonumber(id) end
  local n = (redis.call('HINCRBY', META, 'nspec', 1) - 1) % 64
  local previous = redis.call('HGET', META, 'spec:' .. n)
  if previous then redis.call('HDEL', META, 'sid:' .. previous) end
  redis.call('HSET', META, 'spec:' .. n, ARGV[6], 'sid:' .. ARGV[6], n)
  return n
end
local sid = string.char(specId(ARGV[6]))
local n = tonumber(ARGV[7])
local a = 9
local groups = tonumber(ARGV[a]); a = a + 1
for _ = 1, groups do
  local f = paneFields(ARGV[a], ARGV[a + 1])
  local k = tonumber(ARGV[a + 2]); a = a + 3
  for _ = 1, k do
    add(f, ARGV[a], tonumber(ARGV[a + 1])); a = a + 2
  end
end
redis.call('HSETNX', B .. 's', 'f', NOW)
for fp, entry in chunkEvents(ARGV[8], n) do
  local rec = sid .. entry
  local old, g, key = lookup(fp)
  if not old then
    insert(fp, rec)
    stored = stored + 1
    stat('inferences', 1)
  elseif string.byte(old, 1) == 76 then
    -- 'L': its label is waiting.
    stat('inferences', 1)
    redis.call('HSET', key, fp, 'J')
    redis.call('ZREM', B .. 'w', waitMember(fp, g))
    local r = decodeInference(rec, GEN)
    addLabel(r, decodeLabel(old))
    countJoin()
  else
    dups = dups + 1
    stat('inferenceDuplicates', 1)
    local r = decodeInference(rec, GEN)
    local t = predictionIncs(r)
    for f, d in pairs(t) do t[f] = -d end
    addTo(r, t)
  end
end
return flush()
`;

/**
 * KEYS: B. ARGV: horizonMs, counterTtlMs, nowMs, generationMs, modelId, count,
 * then the chunk (per label its fingerprint, entry length and entry `L...`,
 * in one argument). Takes each label's
 * inference entry and counts the pair (the entry becomes the joined marker),
 * or leaves the label waiting. Returns {stored, joined, duplicates}.
 */
export const RECORD_LABELS = `${COMMON}
local n = tonumber(ARGV[6])
redis.call('HSET', B .. 's', 'll', NOW)
stat('labels', n)
for fp, lab in chunkEvents(ARGV[7], n) do
  local old, g, key = lookup(fp)
  if not old then
    insert(fp, lab)
    redis.call('ZADD', B .. 'w', NOW + HORIZON, waitMember(fp, GEN))
    redis.call('PEXPIRE', B .. 'w', 2 * HORIZON + GEN_MS)
    stored = stored + 1
    stat('waited', 1)
  elseif string.byte(old, 1) < 64 then
    redis.call('HSET', key, fp, 'J')
    local r = decodeInference(old, g)
    addLabel(r, decodeLabel(lab))
    countJoin()
  else
    -- A replay, or a second label: a label already waiting stays waiting.
    dups = dups + 1
    stat('labelDuplicates', 1)
  end
end
return flush()
`;

/**
 * KEYS: B. ARGV: nowMs, max, generationMs. Counts and drops the model's
 * labels whose wait ended; returns how many.
 */
export const EXPIRE_WAITING = `
local B = KEYS[1]
local GEN_MS = tonumber(ARGV[3])
local members = redis.call('ZRANGEBYSCORE', B .. 'w', '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, m in ipairs(members) do
  redis.call('ZREM', B .. 'w', m)
  local fp, g = string.sub(m, 1, 8), string.sub(m, 9)
  local t = redis.call('HGET', B .. 'g', 't:' .. g)
  if t then
    local l, s = string.match(t, '^(%d+):(%d+):')
    local h = struct.unpack('>I4', fp)
    local n = 2 ^ tonumber(l)
    local b = h % n
    if b < tonumber(s) then b = h % (n * 2) end
    local key = B .. 'b:' .. g .. ':' .. string.format('%d', b)
    local v = redis.call('HGET', key, fp)
    if v and string.byte(v, 1) == 76 then redis.call('HDEL', key, fp) end
  end
end
if #members > 0 then redis.call('HINCRBY', B .. 's', 'expired', #members) end
return #members
`;
