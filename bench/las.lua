-- wrk script of bench/run.sh; configured through the environment.
--
--   BENCH_TOKEN, BENCH_API_KEY  sent as "Authorization: Bearer ..." and
--                               "x-api-key" on every request (the reference
--                               servers ignore them; they are sent anyway so
--                               that every server gets the same bytes)
--   BENCH_MODE  get  (default) GET the URL given to wrk
--               post POST the contents of BENCH_BODY_FILE (JSON) to the URL's path
--               mix  per request: 20 % POST BENCH_BODY_FILE to /documents,
--                    40 % GET BENCH_MODEL_PATH, 40 % GET /documents/<id> with
--                    <id> drawn from BENCH_IDS_FILE (one id a line)
--               memory  (bench/memory.sh) per request: 25 % GET /documents/<id>,
--                    20 % GET BENCH_MODEL_PATH, 15 % GET /documents?maxResults=100,
--                    10 % POST BENCH_BODY_FILE, 10 % PATCH /documents/<id>,
--                    20 % 4xx: unknown document (404), unknown path (404),
--                    malformed and invalid bodies (400), a bad token (403)
--   BENCH_PREFIX  path prefix of the mix's paths (default empty)
--
-- get and post are static requests (wrk's fastest path); mix defines
-- request() and so formats nothing per request: all requests are prebuilt.

local mode = os.getenv("BENCH_MODE") or "get"

local function slurp(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. tostring(path))
  local s = f:read("*a")
  f:close()
  return s
end

local function base_headers()
  local h = {}
  local token = os.getenv("BENCH_TOKEN")
  local key = os.getenv("BENCH_API_KEY")
  if token and token ~= "" then h["Authorization"] = "Bearer " .. token end
  if key and key ~= "" then h["x-api-key"] = key end
  return h
end

for k, v in pairs(base_headers()) do wrk.headers[k] = v end

if mode == "post" then
  wrk.method = "POST"
  wrk.body = slurp(os.getenv("BENCH_BODY_FILE"))
  wrk.headers["Content-Type"] = "application/json"
elseif mode ~= "get" and mode ~= "mix" and mode ~= "memory" then
  error("BENCH_MODE must be get, post, mix or memory, not " .. mode)
end

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_no", threads)
end

if mode == "mix" then
  local post_req, model_req
  local doc_reqs = {}

  function init(args)
    math.randomseed(os.time() * 100 + (thread_no or 0))
    local prefix = os.getenv("BENCH_PREFIX") or ""
    local body = slurp(os.getenv("BENCH_BODY_FILE"))
    local ph = base_headers()
    ph["Content-Type"] = "application/json"
    post_req = wrk.format("POST", prefix .. "/documents", ph, body)
    model_req = wrk.format("GET", prefix .. os.getenv("BENCH_MODEL_PATH"),
                           base_headers(), nil)
    for id in slurp(os.getenv("BENCH_IDS_FILE")):gmatch("[^\r\n]+") do
      doc_reqs[#doc_reqs + 1] =
        wrk.format("GET", prefix .. "/documents/" .. id, base_headers(), nil)
    end
    assert(#doc_reqs > 0, "BENCH_IDS_FILE holds no ids")
  end

  function request()
    local r = math.random(100)
    if r <= 20 then
      return post_req
    elseif r <= 60 then
      return model_req
    end
    return doc_reqs[math.random(#doc_reqs)]
  end
end

if mode == "memory" then
  local reqs = {}

  local function add(weight, req)
    for _ = 1, weight do reqs[#reqs + 1] = req end
  end

  function init(args)
    math.randomseed(os.time() * 100 + (thread_no or 0))
    local prefix = os.getenv("BENCH_PREFIX") or ""
    local body = slurp(os.getenv("BENCH_BODY_FILE"))
    local jh = base_headers()
    jh["Content-Type"] = "application/json"
    local ids = {}
    for id in slurp(os.getenv("BENCH_IDS_FILE")):gmatch("[^\r\n]+") do
      ids[#ids + 1] = id
    end
    assert(#ids >= 5, "BENCH_IDS_FILE holds too few ids")
    for i = 1, 5 do
      local path = prefix .. "/documents/" .. ids[math.random(#ids)]
      add(5, wrk.format("GET", path, base_headers(), nil))
      add(2, wrk.format("PATCH", path, jh,
        '{"groundTruth":[{"label":"total","value":"' .. i .. '.00"}]}'))
    end
    add(20, wrk.format("GET", prefix .. os.getenv("BENCH_MODEL_PATH"), base_headers(), nil))
    add(15, wrk.format("GET", prefix .. "/documents?maxResults=100", base_headers(), nil))
    add(10, wrk.format("POST", prefix .. "/documents", jh, body))
    add(5, wrk.format("GET", prefix .. "/documents/las:document:00000000000000000000000000000000",
      base_headers(), nil))
    add(4, wrk.format("GET", prefix .. "/no/such/path", base_headers(), nil))
    add(4, wrk.format("POST", prefix .. "/documents", jh, '{"content": '))
    add(4, wrk.format("POST", prefix .. "/documents", jh, '{"content":"JVBERi0=","contentType":"text/plain"}'))
    local bad = base_headers()
    bad["Authorization"] = "Bearer not-a-token"
    add(3, wrk.format("GET", prefix .. "/documents?maxResults=100", bad, nil))
    assert(#reqs == 100)
  end

  function request()
    return reqs[math.random(#reqs)]
  end
end
