// hwcae RTL testbench (Verilator): streams spikes into hwcae_encoder, collects latent codes and indices.
// usage: sim INPUTS OUTPUTS   INPUTS: first line N, then N lines of 256 signed ADC codes (t x 4 + c).
// OUTPUTS: per spike one line: cycles, the latent codes (channels last), the symbols (indices, then
// the gain code if the design has a gain stage).
#include <cstdio>
#include <cstdlib>
#include <vector>
#include "Vhwcae_encoder.h"
#include "verilated.h"

static const int DW = @DW@, IW = @IW@, POSITIONS = @POSITIONS@, LATENT = @LATENT@, SYMBOLS = @POSITIONS@ + @GAIN@;
static const long MAX_CYCLES = 100000000L;

static long sext(unsigned long v, int bits) {
  unsigned long m = 1UL << (bits - 1);
  v &= (1UL << bits) - 1;
  return (long)(v ^ m) - (long)m;
}

int main(int argc, char** argv) {
  if (argc < 3) { std::fprintf(stderr, "usage: sim INPUTS OUTPUTS\n"); return 2; }
  Verilated::commandArgs(argc - 2, argv + 2);
  FILE* in = std::fopen(argv[1], "r");
  FILE* out = std::fopen(argv[2], "w");
  if (!in || !out) { std::fprintf(stderr, "sim: cannot open %s or %s\n", argv[1], argv[2]); return 2; }
  long n = 0;
  if (std::fscanf(in, "%ld", &n) != 1) { std::fprintf(stderr, "sim: bad input header\n"); return 2; }
  Vhwcae_encoder* top = new Vhwcae_encoder;
  auto tick = [&]() { top->clk = 1; top->eval(); top->clk = 0; top->eval(); };
  top->clk = 0; top->rst = 1; top->in_valid = 0; top->out_ready = 1; top->eval();
  tick(); tick();
  top->rst = 0;
  std::vector<long> x(256);
  long total = 0;
  for (long s = 0; s < n; ++s) {
    for (int k = 0; k < 256; ++k)
      if (std::fscanf(in, "%ld", &x[k]) != 1) { std::fprintf(stderr, "sim: short input\n"); return 2; }
    std::vector<long> lat, idx;
    int sent = 0;
    long cycles = 0;
    while ((int)idx.size() < SYMBOLS) {
      top->in_valid = sent < 256;
      top->in_data = (unsigned)(x[sent < 256 ? sent : 255] & ((1L << IW) - 1));
      top->eval();
      bool accept = top->in_valid && top->in_ready;
      if (top->lat_valid) lat.push_back(sext(top->lat_data, DW));
      if (top->out_valid && top->out_ready) idx.push_back(top->out_index);
      tick();
      if (accept) ++sent;
      if (++cycles > MAX_CYCLES) { std::fprintf(stderr, "sim: no output after %ld cycles\n", cycles); return 3; }
    }
    if ((int)lat.size() != POSITIONS * LATENT) { std::fprintf(stderr, "sim: %zu latent codes\n", lat.size()); return 3; }
    total += cycles;
    std::fprintf(out, "%ld", cycles);
    for (long v : lat) std::fprintf(out, " %ld", v);
    for (long v : idx) std::fprintf(out, " %ld", v);
    std::fprintf(out, "\n");
  }
  std::fclose(out);
  top->final();
  delete top;
  return 0;
}
