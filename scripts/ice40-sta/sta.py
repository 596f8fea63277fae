"""Static timing of a routed iCE40 design from nextpnr_dump.py's JSON: arrival time at
every register, block-RAM and SPRAM input, with the dump's routed net delays and UP5K
logic-cell delays read off nextpnr's path reports (LUT input I0..I3 1.3/1.25/1.2/0.9 ns,
carry 0.3 ns, clock-to-Q 1.4 ns; RAM clock-to-out assumed 2.5 ns). Agrees with nextpnr's
worst path within a few tenths of a ns.

Unlike nextpnr 0.4 (and later: every SB_MAC16 port is a register port with no delay to
it), it times the multipliers, from the iCEcube2 timing library that fpga-icestorm-chipdb
ships (timings_up5k.txt, slow corner, the column nextpnr's logic delays come from):
  * combinational 16 x 16 multiply, A/B to O: MAC_NS = 9.05 ns (SB_MAC16_MUL_U_16X16_BYPASS);
  * a registered output half (TOP/BOTOUTPUT_SELECT = 1): A/B are endpoints MAC_NS after
    their arrival (through the multiplier into the register), O starts 2.0 ns after the
    clock (SB_MAC16_MUL_U_16X16_IM_BYPASS clock-to-O);
  * A_REG/B_REG: that input is an endpoint, and O is MAC_NS after the clock (1.4 + MAC_NS);
  * 8 x 8 pipeline registers with a combinational output: A/B endpoints as for a registered
    output, O conservatively MAC_NS after the clock;
  * control inputs (CE, the holds, ADDSUB...): endpoints, 0.5 ns setup.

Usage: python3 sta.py DUMP.json [THRESHOLD_NS=41.5] [-v] [--mac NS] [--worst]
--mac NS replaces MAC_NS (NS = 0 shows the logic alone). Prints the worst endpoints (one per
register/source group), the number of endpoints over the threshold, and the groups
(endpoint register, path source) by count. --worst prints one line instead,
`worst NS ENDPOINT <- SOURCE` (what `neurofab build` reads).
"""
import json, sys, collections
d = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "nextpnr_dump.json"))
thr = float(sys.argv[2]) if len(sys.argv) > 2 and not sys.argv[2].startswith("-") else 41.5
MAC = float(sys.argv[sys.argv.index("--mac") + 1]) if "--mac" in sys.argv else 9.05
MAC_CLK_O = 2.0  # registered output: clock to O
MAC_SETUP = 0.5  # control inputs
def pval(prm, k):
    v = str(prm.get(k, "0")).strip()
    if v and set(v) <= {"0", "1"}:
        return int(v, 2)
    try:
        return int(v, 0)
    except ValueError:
        return 0
def mac_regs(prm):
    return dict(a=pval(prm, "A_REG"), b=pval(prm, "B_REG"),
                top=pval(prm, "TOPOUTPUT_SELECT") == 1, bot=pval(prm, "BOTOUTPUT_SELECT") == 1,
                pipe=any(pval(prm, k) for k in ("TOP_8x8_MULT_REG", "BOT_8x8_MULT_REG",
                                                "PIPELINE_16x16_MULT_REG1", "PIPELINE_16x16_MULT_REG2")))
def mac_data_port(ip):
    return ip.split("_")[0] in ("A", "B", "C", "D")
def mac_input_registered(r, ip):
    return (ip.startswith("A_") and r["a"]) or (ip.startswith("B_") and r["b"])
cells, nets = d["cells"], d["nets"]
LUT = {"I0": 1.3, "I1": 1.25, "I2": 1.2, "I3": 0.9}
CO = {"I1": 0.7, "I2": 0.6, "CIN": 0.3}
# net lookup: (cell, port) -> (net, delay) for inputs; (cell, port) -> net for outputs
inp = {}
drv = {}
for nn, n in nets.items():
    dc, dp = n["driver"]
    if dc: drv[(dc, dp)] = nn
    for uc, up, dl in n["users"]:
        inp[(uc, up)] = (nn, dl, dc, dp)
cell_inputs = collections.defaultdict(list)
for (uc, up) in inp:
    cell_inputs[uc].append(up)
sys.setrecursionlimit(1000000)
memo = {}
def out_arr(c, p):
    # arrival at output port p of cell c
    key = (c, p)
    if key in memo: return memo[key]
    memo[key] = (0.0, None)
    t = cells[c]["type"]; prm = cells[c]["params"]
    res = (0.0, None)
    if t == "ICESTORM_LC":
        dff = prm.get("DFF_ENABLE", "0") not in ("0", "0x0", "00000000000000000000000000000000", None)
        if p == "O":
            if dff: res = (1.4, None)
            else:
                for ip, dl in LUT.items():
                    a = in_arr(c, ip)
                    if a[0] + dl > res[0]: res = (a[0] + dl, (c, ip))
        elif p == "COUT":
            for ip, dl in CO.items():
                a = in_arr(c, ip)
                if a[0] + dl > res[0]: res = (a[0] + dl, (c, ip))
    elif t in ("ICESTORM_RAM", "ICESTORM_SPRAM"):
        res = (2.5, None)
    elif t == "ICESTORM_DSP":
        r = mac_regs(prm)
        idx = int(p.split("_")[1]) if p.startswith("O_") else 0
        if (r["top"] and idx >= 16) or (r["bot"] and idx < 16):
            res = (MAC_CLK_O, None)
        elif r["pipe"]:
            res = (MAC, None)
        else:
            if r["a"] or r["b"]:
                res = (1.4 + MAC, None)
            for ip in cell_inputs[c]:
                if not mac_data_port(ip): continue
                if mac_input_registered(r, ip): continue
                a = in_arr(c, ip)
                if a[0] + MAC > res[0]: res = (a[0] + MAC, (c, ip))
    else:
        res = (0.0, None)
    memo[key] = res
    return res
def in_arr(c, p):
    x = inp.get((c, p))
    if not x or not x[2]: return (0.0, None)
    nn, dl, dc, dp = x
    if "PACKER_VCC" in nn or "PACKER_GND" in nn: return (0.0, None)
    a = out_arr(dc, dp)
    return (a[0] + max(dl, 0), (dc, dp))
ends = []
for c, cell in cells.items():
    t = cell["type"]; prm = cell["params"]
    if t == "ICESTORM_LC":
        dff = prm.get("DFF_ENABLE", "0") not in ("0", "0x0", "00000000000000000000000000000000", None)
        if dff:
            for ip, dl in LUT.items():
                a = in_arr(c, ip)
                if (c, ip) in inp: ends.append((a[0] + dl, c, ip))
            for ip in ("CEN", "SR"):
                if (c, ip) in inp: ends.append((in_arr(c, ip)[0], c, ip))
    elif t in ("ICESTORM_RAM", "ICESTORM_SPRAM"):
        for ip in cell_inputs[c]:
            if "CLK" in ip: continue
            ends.append((in_arr(c, ip)[0] + 0.3, c, ip))
    elif t == "ICESTORM_DSP":
        r = mac_regs(prm)
        through = r["top"] or r["bot"] or r["pipe"]
        for ip in cell_inputs[c]:
            if "CLK" in ip: continue
            if not mac_data_port(ip):
                ends.append((in_arr(c, ip)[0] + MAC_SETUP, c, ip))
            elif mac_input_registered(r, ip):
                ends.append((in_arr(c, ip)[0] + 0.1, c, ip))
            elif through:
                ends.append((in_arr(c, ip)[0] + MAC, c, ip))
ends.sort(reverse=True)
def trace(c, ip):
    path = []
    cur = (c, ip)
    while cur:
        cc, pp = cur
        x = inp.get((cc, pp))
        if not x or not x[2]: break
        nn, dl, dc, dp = x
        path.append(nn)
        a = out_arr(dc, dp)
        cur = a[1]
    return path
if "--worst" in sys.argv:
    a, c, ip = ends[0]
    p = trace(c, ip)
    print(f"worst {a:.2f} {c}.{ip} <- {p[-1] if p else '?'}")
    sys.exit(0)
groups = collections.Counter()
shown = 0
for a, c, ip in ends:
    if a < thr: break
    p = trace(c, ip)
    src = p[-1] if p else "?"
    key = (c.split("$")[0].split("_SB_")[0][:50], src.split("_SB_")[0][:50])
    groups[key] += 1
    if groups[key] == 1 and shown < 40:
        shown += 1
        print(f"{a:5.1f} {c[:60]}.{ip} <- {src[:70]}  [{len(p)} nets]")
        if "-v" in sys.argv:
            print("     ", " <- ".join(s.split("_SB_")[0][:40] for s in p))
print("failing endpoints:", sum(1 for e in ends if e[0] >= thr), "of", len(ends))
for k, v in groups.most_common(30): print(v, k)
