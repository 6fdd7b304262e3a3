package leadstore

import "github.com/redis/go-redis/v9"

// The scripts below keep one entity (a lead or an anonymous visitor) in
// at most two keys that share a hash tag:
//
//	state    hash: S (stage), E (epoch), I (identified), C (clock),
//	         P (the hour and day of the last bucket prune), and coded
//	         fields (names.go): c<signal> lifetime counts, d<signal>:<day>
//	         and h<signal>:<hour> buckets, s<score> (value and at_ms as two
//	         big-endian doubles),
//	         t<trait>; for leads a:<anonymous id> for every visitor merged
//	         in; and the event ids already counted: "~" (how many were
//	         ever added) and ~<slot> fields of up to five packed 12-byte
//	         records
//	pending  hash of transition id to the encoded transition record
//
// A record is an 8-byte event id digest and the entity's clock, in unix
// seconds, when the id was added (4 bytes, big endian). Id number n goes
// to slot n/5; a new slot drops the one `slots` before it, so at most
// slots*5 ids are remembered. Keeping them in the state hash, in values
// of at most 60 bytes, spares a key per entity and keeps the hash in
// Redis' compact listpack encoding.
//
// Visitors also have "link" (the lead they were linked to). Every script
// touches the keys of one entity only, so each runs on one Redis Cluster
// slot.

// luaHelpers is shared by the scripts that update scores. decay mirrors
// the rules engine: 2^(-dt/h), and no decay without a half-life.
const luaHelpers = `
local function decay(dt, h)
  if h <= 0 or dt <= 0 then return 1 end
  return 2 ^ (-dt / h)
end
local function score_at(v, t, h, at)
  if at <= t then return v end
  return v * decay(at - t, h)
end
-- A score is kept as two big-endian doubles, its value and the event
-- time in ms it is valued at: exact, and half the bytes of the text.
local function parse_score(raw)
  if not raw then return 0, 0 end
  return struct.unpack('>d>d', raw)
end
local function fmt_score(v, t)
  return struct.pack('>d>d', v, t)
end
-- holds reports whether v, packed 12-byte records, has one whose digest
-- is d.
local function holds(v, d)
  local pos = 1
  while true do
    local at = string.find(v, d, pos, true)
    if not at then return false end
    if (at - 1) % 12 == 0 then return true end
    pos = at + 1
  end
end
-- since keeps of v, packed 12-byte records, those added at cut (unix
-- seconds) or later.
local function since(v, cut)
  local keep = ''
  for pos = 1, #v - 11, 12 do
    if struct.unpack('>I4', v, pos + 8) >= cut then
      keep = keep .. string.sub(v, pos, pos + 11)
    end
  end
  return keep
end
local function seen_has(key, d, slots)
  local n = tonumber(redis.call('HGET', key, '~') or '0')
  if n == 0 then return false end
  local last = math.floor((n - 1) / 5)
  local fields = {}
  for slot = math.max(0, last - slots + 1), last do
    fields[#fields + 1] = '~' .. slot
  end
  for _, v in ipairs(redis.call('HMGET', key, unpack(fields))) do
    if v and holds(v, d) then return true end
  end
  return false
end
local function seen_add(key, d, secs, slots)
  local n = tonumber(redis.call('HGET', key, '~') or '0')
  local slot = math.floor(n / 5)
  local f, cur = '~' .. slot, ''
  if n % 5 ~= 0 then cur = redis.call('HGET', key, f) or '' end
  if secs < 0 then secs = 0 end
  redis.call('HSET', key, f, cur .. d .. struct.pack('>I4', secs), '~', n + 1)
  if n % 5 == 0 and slot >= slots then
    redis.call('HDEL', key, '~' .. (slot - slots))
  end
end
-- trim_seen drops the ids older than the window and the slots past the bound.
local function trim_seen(key, clock, window, slots)
  local n = tonumber(redis.call('HGET', key, '~') or '0')
  local first = math.floor((n - 1) / 5) - slots + 1
  local cut = math.floor((clock - window) / 1000)
  for _, f in ipairs(redis.call('HKEYS', key)) do
    local slot = tonumber(string.match(f, '^~(%d+)$') or '')
    if slot then
      local keep = ''
      if slot >= first then
        local v = redis.call('HGET', key, f)
        keep = since(v, cut)
        if keep ~= '' and #keep < #v then redis.call('HSET', key, f, keep) end
      end
      if keep == '' then redis.call('HDEL', key, f) end
    end
  end
end
`

// applyScript deduplicates a run of events of one entity, in order, and
// counts each that is new. One call for several events of a device that
// arrive together (a visit's page views, say) saves Redis most of what a
// call costs beyond its counting.
//
// KEYS: state, pending, link. The link key matters for visitors only:
// once the visitor is linked to a lead, nothing more counts for it, and
// the script answers with the lead instead. Checking in the same script
// closes the gap between looking the link up and counting.
// ARGV: dedupe window ms, dedupe slots, the state version the caller
// knows (empty for none), the version to set if anything is counted, the
// number of events, n and n prune triples (signal code, days kept, hours
// kept), then for each event the number of its arguments and: its id
// digest, event time, identified (0|1), then n and n hash fields to
// increment, then n and n score triples (field, half-life ms, points),
// then n and n trait pairs (field, value), then the event's day, hour and
// prune mark. The prune triples are the rules' and come once per call,
// not once per event: they were half of an event's arguments.
// Buckets and remembered ids are scanned for pruning only when the mark
// differs from the one stored in P: with the same hour and day no bucket
// can have left its window since the last scan, and ids leave theirs at
// most an hour late.
//
// NOTE: after a rules reload that shortens a window, the buckets the new
// rules no longer need stay until the hour or day changes; they are
// outside every window, so they only cost memory meanwhile.
//
// Returns {one '0' or '1' per event, '1' for a duplicate; the state
// before the run as a flat list (remembered ids included: filtering them
// out in Lua costs Redis more than sending them), or nil when the state
// is at the version the caller knows; pending as a flat list; the
// state's version after the run}, or {2, lead id} when the visitor is
// linked. The caller replays the new events on the state before to
// evaluate after each of them.
//
// Every script that changes a state sets its version field V to a new
// token the caller makes up: a caller that keeps a state with its version
// is then told, with no state in the reply, when nothing else changed it.
// Tokens are never reused, so a state Redis lost and rebuilt cannot pass
// for one a caller knows.
var applyScript = redis.NewScript(luaHelpers + `
local linked = redis.call('GET', KEYS[3])
if linked then return {2, linked} end
local window, slots = tonumber(ARGV[1]), tonumber(ARGV[2])
local version = redis.call('HGET', KEYS[1], 'V') or ''

-- prune drops the buckets and remembered ids out of their windows at the
-- event's day and hour, once per new mark; i is the event's day argument.
local nprune = tonumber(ARGV[6])
local function prune(i, clock)
  local day, hour, mark = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), ARGV[i + 2]
  if redis.call('HGET', KEYS[1], 'P') == mark then return end
  redis.call('HSET', KEYS[1], 'P', mark)
  trim_seen(KEYS[1], clock, window, slots)
  local cut = {}
  for j = 7, 6 + 3 * nprune, 3 do
    cut[ARGV[j]] = {day - tonumber(ARGV[j + 1]), hour - tonumber(ARGV[j + 2])}
  end
  for _, f in ipairs(redis.call('HKEYS', KEYS[1])) do
    local kind, sig, b = string.match(f, '^([dh])(%w+):(%-?%d+)$')
    if kind then
      local c, limit = cut[sig], day
      if kind == 'h' then limit = hour end
      if c then
        if kind == 'd' then limit = c[1] else limit = c[2] end
      end
      if tonumber(b) <= limit then redis.call('HDEL', KEYS[1], f) end
    end
  end
end

-- count counts the event whose arguments start at i unless its id was
-- counted before, and reports '1' for a duplicate.
local function count(i)
  local id, at = ARGV[i], tonumber(ARGV[i + 1])
  if id ~= '' and seen_has(KEYS[1], id, slots) then return '1' end
  local clock = tonumber(redis.call('HGET', KEYS[1], 'C') or at)
  if at > clock then clock = at end
  redis.call('HSET', KEYS[1], 'C', string.format('%.0f', clock))
  if id ~= '' then seen_add(KEYS[1], id, math.floor(clock / 1000), slots) end
  if ARGV[i + 2] == '1' then redis.call('HSET', KEYS[1], 'I', '1') end

  i = i + 3
  local n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    redis.call('HINCRBY', KEYS[1], ARGV[i], 1); i = i + 1
  end
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    local f, h, pts = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
    i = i + 3
    local v, t = parse_score(redis.call('HGET', KEYS[1], f))
    if at >= t then
      v, t = score_at(v, t, h, at) + pts, at
    else
      v = v + pts * decay(t - at, h)
    end
    redis.call('HSET', KEYS[1], f, fmt_score(v, t))
  end
  n = tonumber(ARGV[i]); i = i + 1
  for _ = 1, n do
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]); i = i + 2
  end
  prune(i, clock)
  return '0'
end

local before = false
if ARGV[3] == '' or ARGV[3] ~= version then before = redis.call('HGETALL', KEYS[1]) end
local dups, i, counted = {}, 7 + 3 * nprune, false
for e = 1, tonumber(ARGV[5]) do
  dups[e] = count(i + 1)
  if dups[e] == '0' then counted = true end
  i = i + 1 + tonumber(ARGV[i])
end
if counted then
  version = ARGV[4]
  redis.call('HSET', KEYS[1], 'V', version)
end
return {table.concat(dups), before, redis.call('HGETALL', KEYS[2]), version}
`)

// readScript returns an entity's state and pending transitions.
//
// KEYS: state, pending. Returns {state, pending} as flat lists.
var readScript = redis.NewScript(`
return {redis.call('HGETALL', KEYS[1]), redis.call('HGETALL', KEYS[2])}
`)

// advanceScript moves an entity to a new stage if its epoch is still the
// one the caller evaluated, and records the transitions still to publish
// in the same step.
//
// KEYS: state, pending. ARGV: expected epoch, stage, epoch, the version
// the caller evaluated, the new version, then pairs of transition id and
// record. Returns 1; 2 when it advanced but the state had moved past the
// caller's version (other events counted meanwhile); or 0 when the epoch
// moved on.
var advanceScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'E') or '0')
if cur ~= tonumber(ARGV[1]) then return 0 end
local was = redis.call('HGET', KEYS[1], 'V') or ''
redis.call('HSET', KEYS[1], 'S', ARGV[2], 'E', ARGV[3], 'V', ARGV[5])
for i = 6, #ARGV, 2 do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
if ARGV[4] == '' or was ~= ARGV[4] then return 2 end
return 1
`)

// linkScript links an anonymous id to a lead unless it is linked already
// (the first link wins), and returns the visitor's history to merge. On
// the first link the history gets a time to live: no event counts for
// the visitor any more, and the merge guard makes a second merge a no-op.
//
// KEYS: link, state of the visitor. ARGV: lead id, ttl ms (0: none).
// Returns {linked lead id, state as a flat list, remembered ids
// included}.
var linkScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur then
  cur = ARGV[1]
  redis.call('SET', KEYS[1], cur)
  local ttl = tonumber(ARGV[2])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
end
return {cur, redis.call('HGETALL', KEYS[2])}
`)

// mergeScript adds a visitor's history to a lead exactly once, guarded by
// an a:<anonymous id> field in the lead's state: counts and buckets are
// added, scores decayed to the later time and added, the lead's traits
// win, and the visitor's remembered event ids join the lead's so a
// redelivered event of the visitor stays a duplicate.
//
// It reads the lead's fields it needs in one HMGET and writes them in one
// HSET: a visitor brings some twenty fields, and a command per field and
// per remembered id made the merge cost Redis twice an apply. Remembered
// ids are merged and trimmed on a copy of the lead's slots as seen_add
// and trim_seen would; slots outside the window that a smaller bound left
// behind are dropped by the next prune of an apply.
//
// KEYS: state of the lead. ARGV: anonymous id, dedupe window ms, dedupe
// slots, the new version, n and n pairs (score field, half-life ms), n and
// n pairs (field, value) of the visitor's state. Returns 1, or 0 when
// already merged.
var mergeScript = redis.NewScript(luaHelpers + `
if redis.call('HSETNX', KEYS[1], 'a:' .. ARGV[1], '1') == 0 then return 0 end
local window, slots = tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'V', ARGV[4])
local i = 5
local half = {}
local n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  half[ARGV[i]] = tonumber(ARGV[i + 1]); i = i + 2
end

-- Coded fields are a lower-case kind and a code; the rest are single
-- capitals, the merge guards (a:) and the remembered ids (~).
local names, vals, ids = {}, {}, {}
local vclock
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local f, val = ARGV[i], ARGV[i + 1]
  i = i + 2
  local kind = ''
  if #f > 1 and string.sub(f, 2, 2) ~= ':' then kind = string.sub(f, 1, 1) end
  if kind == 'c' or kind == 'd' or kind == 'h' or kind == 's' or kind == 't' then
    names[#names + 1], vals[#vals + 1] = f, val
  elseif f == 'C' then
    vclock = tonumber(val)
  elseif string.match(f, '^~%d+$') then
    ids[#ids + 1] = val
  end
end

local seen = tonumber(redis.call('HGET', KEYS[1], '~') or '0')
local seen0 = seen
local from = math.max(0, math.floor((seen - 1) / 5) - slots + 1)
local fields = {'C'}
for _, f in ipairs(names) do fields[#fields + 1] = f end
local first_slot = #fields + 1
if seen > 0 then
  for slot = from, math.floor((seen - 1) / 5) do fields[#fields + 1] = '~' .. slot end
end
-- Commands take their fields in chunks: unpack has a bound (some
-- thousands) that a visitor with many buckets could reach.
local function chunked(cmd, list, step)
  local got = {}
  for c = 1, #list, step do
    local r = redis.call(cmd, KEYS[1], unpack(list, c, math.min(c + step - 1, #list)))
    if type(r) == 'table' then
      for _, v in ipairs(r) do got[#got + 1] = v end
    end
  end
  return got
end
local cur = chunked('HMGET', fields, 1000)

local out = {}
local function put(f, v) out[#out + 1] = f; out[#out + 1] = v end
for j, f in ipairs(names) do
  local have, val, kind = cur[j + 1], vals[j], string.sub(f, 1, 1)
  if kind == 't' then
    if not have then put(f, val) end
  elseif kind == 's' then
    if have then
      local h = half[f] or 0
      local av, at = parse_score(have)
      local bv, bt = parse_score(val)
      local t = math.max(at, bt)
      put(f, fmt_score(score_at(av, at, h, t) + score_at(bv, bt, h, t), t))
    else
      put(f, val)
    end
  else
    put(f, string.format('%d', (tonumber(have) or 0) + tonumber(val)))
  end
end
local clock = tonumber(cur[1] or '0')
if vclock then
  clock = math.max(tonumber(cur[1] or vclock), vclock)
  put('C', string.format('%.0f', clock))
end

-- The lead's remembered ids by slot, as seen_has and seen_add keep them.
local recs, changed = {}, {}
for slot = from, from + #cur - first_slot do
  recs[slot] = cur[first_slot + slot - from] or ''
end
local function has(d)
  local last = math.floor((seen - 1) / 5)
  for slot = math.max(0, last - slots + 1), last do
    if recs[slot] and holds(recs[slot], d) then return true end
  end
  return false
end
for _, v in ipairs(ids) do
  for pos = 1, #v - 11, 12 do
    local d = string.sub(v, pos, pos + 7)
    if not has(d) then
      local slot = math.floor(seen / 5)
      if seen % 5 == 0 then
        recs[slot] = ''
        if slot >= slots then recs[slot - slots] = nil; changed[slot - slots] = true end
      end
      recs[slot] = recs[slot] .. string.sub(v, pos, pos + 11)
      changed[slot] = true
      seen = seen + 1
    end
  end
end

-- Drop the ids older than the window, as trim_seen does.
local keep_from = math.floor((seen - 1) / 5) - slots + 1
local cut = math.floor((clock - window) / 1000)
for slot, v in pairs(recs) do
  local keep = ''
  if slot >= keep_from then keep = since(v, cut) end
  if keep ~= v then recs[slot] = keep; changed[slot] = true end
end
local gone = {}
for slot in pairs(changed) do
  local v = recs[slot]
  if v and v ~= '' then put('~' .. slot, v) else gone[#gone + 1] = '~' .. slot end
end
if seen ~= seen0 then put('~', seen) end
chunked('HSET', out, 1000)
chunked('HDEL', gone, 1000)
return 1
`)
