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
elseif mode ~= "get" and mode ~= "mix" then
  error("BENCH_MODE must be get, post or mix, not " .. mode)
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
