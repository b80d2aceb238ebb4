"""Write the design's Verilog: the datapath core (a hand-written template, ``templates/core.v``, with
the design's widths and its program table filled in), behavioural memories and a top level.

Plain Verilog-2005 rather than a Python HDL: the datapath is one small fixed engine and only its
constants change per design, so a template reads better than generated code and needs no extra
dependency; any ASIC or FPGA flow, Verilator, Icarus and Yosys take it as it is.

Files written into the output folder:
    hwcae_encoder.v   hwcae_encoder (top) = hwcae_encoder_core + hwcae_rom (weights, biases) + hwcae_ram
    weights.hex   weight ROM, one word of ``lanes`` elements per line (lane 0 in the low bits)
    biases.hex    bias ROM (biases and the search's -||e||^2 terms at the accumulator's exponent)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from hwcae.fileio import write_text_atomic
from hwcae.rtl.schedule import EWISE_MODES, OPCODES, Program

TEMPLATE = Path(__file__).with_name("templates") / "core.v"
FILE_MARK = "// ==== file: "  # the template holds several modules; each goes to its own file
#: The datapath's Verilog files, top first: what simulation reads (synthesis reads all but the memories).
SOURCES = ("hwcae_encoder.v", "hwcae_encoder_core.v", "hwcae_mac.v", "hwcae_requant.v", "hwcae_argmax.v",
           "hwcae_rom.v", "hwcae_ram.v")

MEMORIES = """
// Behavioural memories: a synchronous-read ROM and a one-read one-write RAM. Replace them with the
// target's macros (SRAM compiler, FPGA block RAM); their bit counts are in synth.json.
module hwcae_rom #(parameter W = 8, parameter DEPTH = 2, parameter A = 1, parameter FILE = "rom.hex") (
    input wire clk, input wire [A-1:0] addr, output reg [W-1:0] data);
  reg [W-1:0] mem [0:DEPTH-1];
  initial $readmemh(FILE, mem);
  always @(posedge clk) data <= mem[addr];
endmodule

module hwcae_ram #(parameter W = 8, parameter DEPTH = 2, parameter A = 1) (
    input wire clk, input wire we, input wire [A-1:0] waddr, input wire [W-1:0] wdata,
    input wire [A-1:0] raddr, output reg [W-1:0] rdata);
  reg [W-1:0] mem [0:DEPTH-1];
  always @(posedge clk) begin
    if (we) mem[waddr] <= wdata;
    rdata <= mem[raddr];
  end
endmodule
"""

TOP = """
// Top level: the core and its memories. Ports as hwcae_encoder_core's stream ports.
module hwcae_encoder #(parameter WEIGHTS = "weights.hex", parameter BIASES = "biases.hex") (
    input wire clk, input wire rst,
    input wire in_valid, output wire in_ready, input wire [@IW@-1:0] in_data,
    output wire out_valid, input wire out_ready, output wire [@OB@-1:0] out_index,
    output wire lat_valid, output wire [@DW@-1:0] lat_data);
  wire ram_we;
  wire [@RA@-1:0] ram_waddr, ram_raddr;
  wire [@DW@-1:0] ram_wdata, ram_rdata;
  wire [@WA@-1:0] wrom_addr;
  wire [@LANES@*@WW@-1:0] wrom_data;
  wire [@BA@-1:0] brom_addr;
  wire [@LANES@*@AW@-1:0] brom_data;
  hwcae_encoder_core core (.clk(clk), .rst(rst), .in_valid(in_valid), .in_ready(in_ready), .in_data(in_data),
    .out_valid(out_valid), .out_ready(out_ready), .out_index(out_index), .lat_valid(lat_valid),
    .lat_data(lat_data), .ram_we(ram_we), .ram_waddr(ram_waddr), .ram_wdata(ram_wdata),
    .ram_raddr(ram_raddr), .ram_rdata(ram_rdata), .wrom_addr(wrom_addr), .wrom_data(wrom_data),
    .brom_addr(brom_addr), .brom_data(brom_data));
  hwcae_rom #(.W(@LANES@*@WW@), .DEPTH(@WDEPTH@), .A(@WA@), .FILE(WEIGHTS)) wrom (.clk(clk), .addr(wrom_addr), .data(wrom_data));
  hwcae_rom #(.W(@LANES@*@AW@), .DEPTH(@BDEPTH@), .A(@BA@), .FILE(BIASES)) brom (.clk(clk), .addr(brom_addr), .data(brom_data));
  hwcae_ram #(.W(@DW@), .DEPTH(@RDEPTH@), .A(@RA@)) ram (.clk(clk), .we(ram_we), .waddr(ram_waddr),
    .wdata(ram_wdata), .raddr(ram_raddr), .rdata(ram_rdata));
endmodule
"""


def _bits(n: int) -> int:
    """Address / counter bits for values 0 .. n - 1 (at least 1)."""
    return max(1, int(n - 1).bit_length())


def widths(prog: Program) -> dict[str, int]:
    """Every width the Verilog needs, by the template's names."""
    counts = [prog.lanes + 1]
    for ins in prog.instrs:
        counts += [ins.positions + 1, ins.cin + 1, ins.taps + 1, ins.groups + 1, ins.groups * prog.lanes + 1]
    shift = max([max(i.rshift, i.lshift) for i in prog.instrs]
                + ([prog.gain["shift0"], 2 ** prog.gain["bits"]] if prog.gain else []))
    lshift = max(i.lshift for i in prog.instrs)
    return {"LANES": prog.lanes, "IW": prog.input_bits, "DW": prog.data_bits, "WW": prog.weight_bits,
            "AW": prog.acc_bits, "EW": prog.acc_bits + lshift + 1, "RA": _bits(prog.ram_words),
            "WA": _bits(len(prog.weight_rom)), "BA": _bits(len(prog.bias_rom)), "CW": _bits(max(counts)),
            "SW": _bits(shift + 2), "XB": _bits(prog.codebook_size), "PCW": _bits(len(prog.instrs)),
            "NI": len(prog.instrs), "PSH": prog.search_shift, "INPUT_BASE": prog.input_base,
            "WDEPTH": len(prog.weight_rom), "BDEPTH": len(prog.bias_rom), "RDEPTH": prog.ram_words,
            "POSITIONS": prog.latent_positions, **_gain_widths(prog)}


def _gain_widths(prog: Program) -> dict:
    g = prog.gain
    gb = g["bits"] if g else 1
    xb = _bits(prog.codebook_size)
    return {"GAIN": int(g is not None), "GB": gb, "OB": max(xb, gb), "S0": g["shift0"] if g else 0,
            "GIDX": g["index"] if g else 0,
            "IN_LO": _hex(prog.input_lo, prog.data_bits + 1), "IN_HI": _hex(prog.input_hi, prog.data_bits + 1)}


def _zext(name: str, bits: int, width: int) -> str:
    return name if bits == width else f"{{{width - bits}'d0, {name}}}"


def gain_logic(prog: Program, w: dict) -> dict[str, str]:
    """The gain code from the trough word (a comparison per threshold, summed) and the zero-extended
    output symbols."""
    g, gb = prog.gain, w["GB"]
    if g is None:
        block = ("  wire signed [DW-1:0] x = x_ram;   // no gain stage\n  wire [GB-1:0] gain_code_next = 1'b0;\n"
                 "  wire unused_f_gain = f_gain;")
    else:
        reach = [t for t in g["thresholds"] if t < 2 ** w["DW"]]  # beyond: no trough word reaches it
        lits = [_hex(t, w["DW"] + 1).replace("'h", "'sh") for t in reach]  # signed: a positive word is no trough
        terms = [f"{{{gb - 1}'d0, (trough >= {t})}}" if gb > 1 else f"(trough >= {t})" for t in lits] or [f"{gb}'d0"]
        block = _fill(GAIN_BLOCK, {**{k: w[k] for k in ("S0", "IN_LO", "IN_HI")}, "G_EXT": _zext("gcode", gb, w["SW"]),
                                   "SUM": "\n      + ".join(terms)})
    return {"GAIN_BLOCK": block, "OUT_GAIN": _zext("gcode", gb, w["OB"]), "OUT_INDEX": _zext("bidx", w["XB"], w["OB"])}


GAIN_BLOCK = """  // the gain stage on the fly: input words x 2^(S0 - gcode), round half even, saturate to the input word;
  // gcode = how many of the thresholds (min trough x 2^k, in ADC codes) the trough word reaches
  localparam [SW-1:0] S0 = @S0@;  // log2(target / min trough): the shift of gain code 0
  localparam signed [DW:0] IN_LO = @IN_LO@, IN_HI = @IN_HI@;  // the encoder's input word
  wire [SW-1:0] g_ext = @G_EXT@;
  wire [DW-1:0] x_gain;
  hwcae_requant #(.AW(DW+2), .EW(DW+3+S0), .DW(DW), .SW(SW)) gain_shift (.v({{2{x_ram[DW-1]}}, x_ram}),
    .relu(1'b0), .rsh(g_ext > S0 ? g_ext - S0 : {SW{1'b0}}), .lsh(S0 > g_ext ? S0 - g_ext : {SW{1'b0}}),
    .lo(IN_LO), .hi(IN_HI), .q(x_gain));
  wire signed [DW-1:0] x = f_gain ? $signed(x_gain) : x_ram;
  wire signed [DW:0] trough = -{ram_rdata[DW-1], ram_rdata};
  wire [GB-1:0] gain_code_next = @SUM@;"""


def _hex(value: int, bits: int) -> str:
    return f"{bits}'h{value & ((1 << bits) - 1):x}"


def program_table(prog: Program, w: dict) -> str:
    """The ``case (pc)`` body: one line of field assignments per instruction."""
    lines = []
    for i, ins in enumerate(prog.instrs):
        f = {"f_op": _hex(OPCODES[ins.op], 2), "f_mode": _hex(EWISE_MODES[ins.mode], 2),
             "f_src": _hex(ins.src, w["RA"]), "f_srcb": _hex(ins.src_b, w["RA"]), "f_dst": _hex(ins.dst, w["RA"]),
             "f_padoff": _hex(ins.pad * ins.cin, w["RA"]), "f_cinra": _hex(ins.cin, w["RA"]), "f_pos": _hex(ins.positions, w["CW"]),
             "f_cin": _hex(ins.cin, w["CW"]), "f_taps": _hex(ins.taps, w["CW"]), "f_pad": _hex(ins.pad, w["CW"]),
             "f_groups": _hex(ins.groups, w["CW"]), "f_cout": _hex(ins.cout, w["CW"]),
             "f_wbase": _hex(ins.wbase, w["WA"]), "f_bbase": _hex(ins.bbase, w["BA"]),
             "f_rsh": _hex(ins.rshift, w["SW"]), "f_lsh": _hex(ins.lshift, w["SW"]), "f_relu": _hex(int(ins.relu), 1),
             "f_gain": _hex(int(ins.gain), 1),
             "f_lo": _hex(ins.lo, w["DW"] + 1), "f_hi": _hex(ins.hi, w["DW"] + 1)}
        body = " ".join(f"{k} = {v};" for k, v in f.items())
        lines.append(f"      {i}: begin  // {ins.label}\n        {body}\n      end")
    return "\n".join(lines)


def argmax_tree(lanes: int, cw: int) -> str:
    """The search's one-cycle argmax over the lanes as a binary tree of explicit nodes t<n> (heap
    order, root t0): each keeps the left (lower-index) child unless the right one is valid and larger."""
    n = 1 << (lanes - 1).bit_length()
    lines = []
    for i in range(2 * n - 2, -1, -1):
        t = f"t{i}"
        if i >= n - 1:
            lane = i - (n - 1)
            if lane < lanes:
                lines += [f"  wire [CW:0] {t}_c = {{1'b0, ch}} + {cw + 1}'d{lane};",
                          f"  wire {t}_v = ({t}_c < {{1'b0, cout}});",
                          f"  wire signed [AW-1:0] {t}_s = acc[{lane} * AW +: AW];", f"  wire [XB-1:0] {t}_k = {t}_c[XB-1:0];"]
            else:
                lines += [f"  wire {t}_v = 1'b0;", f"  wire signed [AW-1:0] {t}_s = {{AW{{1'b0}}}};",
                          f"  wire [XB-1:0] {t}_k = {{XB{{1'b0}}}};"]
            continue
        left, right = f"t{2 * i + 1}", f"t{2 * i + 2}"
        lines += [f"  wire {t}_r = {right}_v && (!{left}_v || {right}_s > {left}_s);",
                  f"  wire {t}_v = {left}_v || {right}_v;",
                  f"  wire signed [AW-1:0] {t}_s = {t}_r ? {right}_s : {left}_s;",
                  f"  wire [XB-1:0] {t}_k = {t}_r ? {right}_k : {left}_k;"]
    return "\n".join(lines)


def _fill(text: str, values: dict) -> str:
    for k, v in values.items():
        text = text.replace(f"@{k}@", str(v))
    return text


def core_verilog(prog: Program, design: str) -> str:
    w = widths(prog)
    return _fill(TEMPLATE.read_text(), {**w, **gain_logic(prog, w), "DESIGN": design, "PROGRAM": program_table(prog, w),
                                         "ARGMAX_TREE": argmax_tree(prog.lanes, w["CW"])})


def rom_lines(words: np.ndarray, bits: int) -> str:
    """One hex line per ROM word; element l of a word sits in bits [l*bits, (l+1)*bits)."""
    mask = (1 << bits) - 1
    out = []
    for row in words:
        v = 0
        for lane, e in enumerate(row.tolist()):
            v |= (int(e) & mask) << (lane * bits)
        out.append(f"{v:x}")
    return "\n".join(out) + "\n"


def write_verilog(prog: Program, design: str, out_dir: str | Path) -> dict[str, Path]:
    """Write the Verilog files and the two ROM images; returns their paths by role."""
    out = Path(out_dir)
    w = widths(prog)
    rom, ram = MEMORIES.split("\nmodule hwcae_ram")
    files = {"top": out / "hwcae_encoder.v", "rom": out / "hwcae_rom.v", "ram": out / "hwcae_ram.v",
             "weights": out / "weights.hex", "biases": out / "biases.hex"}
    write_text_atomic(files["top"], _fill(TOP, w).lstrip())
    for part in core_verilog(prog, design).split(FILE_MARK)[1:]:
        name, text = part.split("\n", 1)
        files[name.strip().removesuffix(".v").removeprefix("hwcae_").replace("encoder_core", "core")] = out / name.strip()
        write_text_atomic(out / name.strip(), text)
    write_text_atomic(files["rom"], rom.lstrip())
    write_text_atomic(files["ram"], "// One-read one-write RAM (behavioural).\nmodule hwcae_ram" + ram)
    write_text_atomic(files["weights"], rom_lines(prog.weight_rom, prog.weight_bits))
    write_text_atomic(files["biases"], rom_lines(prog.bias_rom, prog.acc_bits))
    return files
