"""The ``load`` section's closed-loop client when wrk is installed (``apt-get install wrk``): a
C client costs the shared machine far less than the Python one, so more of the CPU goes to the
server being measured.

A Lua script (written per run) sends, per request, one of a few hundred pre-built answers (the
same mix as the Python client: 1-3 jittered boxes, 30% with a stray box, 30% with a tick) for the
next resident round-robin, with a fresh idempotency key made in Lua (a UUID v4 from a per-thread
seeded generator). Each 201's attempt id is kept, so the caller can check that every
acknowledged attempt is in the table; every other status counts as an error.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ANSWERS = 400  # pre-built bodies, each sent with a fresh key

LUA = r"""
local users = {%(users)s}
local bodies = {%(bodies)s}
local threads = {}
local counter = 1

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(%(seed)d * 7919 + tid * 104729 + os.time())
  turn = tid
  ok, bad, ids, errors = 0, 0, {}, {}
end

local function hex(n)
  local out = {}
  for i = 1, n do out[i] = string.format("%%x", math.random(0, 15)) end
  return table.concat(out)
end

local function uuid4()
  local variant = string.format("%%x", math.random(8, 11))
  return hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-" .. variant .. hex(3) .. "-" .. hex(12)
end

function request()
  turn = turn + 1
  local user = users[(turn %% #users) + 1]
  local body = bodies[math.random(1, #bodies)]
  local headers = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
    ["X-CSRFToken"] = user[2],
    ["Cookie"] = "sessionid=" .. user[1] .. "; csrftoken=" .. user[2],
  }
  return wrk.format("POST", body[1], headers, string.format(body[2], uuid4()))
end

function response(status, headers, body)
  if status == 201 then
    ok = ok + 1
    local id = string.match(body, '"id":%%s*(%%d+)')
    if id then ids[#ids + 1] = id end
  else
    bad = bad + 1
    if #errors < 3 then errors[#errors + 1] = status .. ": " .. string.sub(body, 1, 160) end
  end
end

function done(summary, latency, requests)
  local out = io.open("%(out)s", "w")
  local all_ids, all_errors, total_ok, total_bad = {}, {}, 0, 0
  for _, thread in ipairs(threads) do
    total_ok = total_ok + thread:get("ok")
    total_bad = total_bad + thread:get("bad")
    for _, id in ipairs(thread:get("ids")) do all_ids[#all_ids + 1] = id end
    for _, e in ipairs(thread:get("errors")) do all_errors[#all_errors + 1] = e end
  end
  out:write("ok " .. total_ok .. "\n", "bad " .. total_bad .. "\n")
  out:write("socket " .. summary.errors.connect + summary.errors.read + summary.errors.write
            + summary.errors.timeout .. "\n")
  out:write("requests " .. summary.requests .. "\n", "seconds " .. summary.duration / 1e6 .. "\n")
  for _, p in ipairs({50, 95, 99}) do
    out:write("p" .. p .. " " .. latency:percentile(p) / 1000 .. "\n")
  end
  out:write("max " .. latency.max / 1000 .. "\n")
  out:write("ids " .. table.concat(all_ids, ",") .. "\n")
  for _, e in ipairs(all_errors) do out:write("error " .. e .. "\n") end
  out:close()
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def script(load: Any, out: Path, seed: int) -> str:
    """The Lua script for this run: ``load`` is the Python client (localize_load.Load), whose
    answer generator and residents are reused so both clients send the same mix."""
    bodies = []
    for _ in range(ANSWERS):
        url, _headers, raw = load.request()
        body = json.loads(raw)
        body["idempotency_key"] = "KEY"
        text = json.dumps(body).replace("%", "%%").replace('"KEY"', '"%s"')
        bodies.append("{" + _lua_string(url) + ", " + _lua_string(text) + "}")
    users = [
        "{" + _lua_string(session) + ", " + _lua_string(csrf) + "}"
        for session, csrf in zip(load.sessions, load.csrf, strict=True)
    ]
    load.sent_keys.clear()  # the generator's keys were never sent
    return LUA % {
        "users": ",\n".join(users),
        "bodies": ",\n".join(bodies),
        "seed": seed,
        "out": str(out),
    }


@dataclass
class WrkRun:
    ok: int = 0
    bad: int = 0
    socket_errors: int = 0
    requests: int = 0
    seconds: float = 0.0
    percentiles: dict[str, float] = field(default_factory=dict)  # ms
    ids: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def run(base: str, load: Any, connections: int, seconds: float, seed: int) -> WrkRun:
    """One closed-loop run of ``connections`` connections (as many wrk threads as connections,
    at most 2: the machine has 2 cores to share with the server)."""
    with tempfile.TemporaryDirectory(prefix="radgame-wrk-") as tmp:
        out = Path(tmp) / "out.txt"
        lua = Path(tmp) / "submit.lua"
        lua.write_text(script(load, out, seed))
        threads = min(2, connections)
        subprocess.run(
            ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s",
             "-s", str(lua), base],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return _parse(out.read_text())


def _parse(text: str) -> WrkRun:
    result = WrkRun()
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("ok", "bad", "requests"):
            setattr(result, name, int(value))
        elif name == "socket":
            result.socket_errors = int(value)
        elif name == "seconds":
            result.seconds = float(value)
        elif re.fullmatch(r"p\d+|max", name):
            result.percentiles[name] = float(value)
        elif name == "ids" and value:
            result.ids = [int(v) for v in value.split(",")]
        elif name == "error":
            result.errors.append(value)
    return result
