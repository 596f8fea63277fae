"""nextpnr-ice40 --post-route hook: dumps cells (type, DFF_ENABLE, CARRY_ENABLE, the
SB_MAC16 register parameters) and every
net's driver and sinks with its routed delay (sum of pip delays) to the JSON file named by
the environment variable NEXTPNR_DUMP (default nextpnr_dump.json). nextpnr 0.4 prints only
the single worst path per clock; sta.py uses this dump to list every failing endpoint.

Usage (in a `neurofab build` output directory, same options as the flow, so the same
placement and routing):
  NEXTPNR_DUMP=dump.json nextpnr-ice40 --up5k --package sg48 --pcf neurofab_board.pcf \
      --json design.json --asc /tmp/x.asc --freq 24 --timing-allow-fail --seed 1 \
      --post-route scripts/ice40-sta/nextpnr_dump.py
  python3 scripts/ice40-sta/sta.py dump.json 41.0
"""
import os
import json
out = {"cells": {}, "nets": {}}
# Logic cells: whether the flip-flop and the carry are used. SB_MAC16: which of its registers
# are used (sta.py times a multiplier by them).
KEPT_PARAMS = ("DFF_ENABLE", "CARRY_ENABLE", "A_REG", "B_REG", "C_REG", "D_REG",
               "TOP_8x8_MULT_REG", "BOT_8x8_MULT_REG", "PIPELINE_16x16_MULT_REG1",
               "PIPELINE_16x16_MULT_REG2", "TOPOUTPUT_SELECT", "BOTOUTPUT_SELECT")
for cname, cell in ctx.cells:
    params = {}
    for k, v in cell.params:
        params[str(k)] = str(v)
    out["cells"][cname] = {"type": str(cell.type), "params": {k: params[k] for k in KEPT_PARAMS if k in params}}
errs = 0
first_err = None
for nname, net in ctx.nets:
    d = net.driver
    wires = {}
    for w, pm in net.wires:
        wires[w] = pm
    users = []
    for u in net.users:
        dl = -1
        try:
            bel = u.cell.bel
            sw = ctx.getBelPinWire(bel, u.port)
            total = 0.0
            cur = sw
            steps = 0
            while True:
                pm = wires.get(cur)
                if pm is None:
                    break
                pip = pm.pip
                if str(pip) in ("", "None") or not ctx.getPipName(pip) if False else False:
                    break
                try:
                    src = ctx.getPipSrcWire(pip)
                except Exception:
                    break
                total += ctx.getDelayNS(ctx.getPipDelay(pip).maxDelay())
                if src == cur:
                    break
                cur = src
                steps += 1
                if steps > 200: break
            dl = total
        except Exception as e:
            errs += 1
            if first_err is None: first_err = repr(e)
        users.append([u.cell.name if u.cell else None, str(u.port), dl])
    out["nets"][nname] = {"driver": [d.cell.name if d.cell else None, str(d.port)], "users": users}
json.dump(out, open(os.environ.get("NEXTPNR_DUMP", "nextpnr_dump.json"), "w"))
print("DUMPED", len(out["cells"]), len(out["nets"]), "errors", errs, first_err)
